//! `sitewarden iam-policy`: the least-privilege IAM policy for deploying (CI) or provisioning a
//! site, from `templates/iam-*-policy.json`, filled in with the site's names.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::names::SiteNames;
use crate::provision::policy;

pub const DEPLOY_POLICY: &str = include_str!("../templates/iam-deploy-policy.json");
pub const PROVISION_POLICY: &str = include_str!("../templates/iam-provision-policy.json");

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Purpose {
    /// `deploy`, `history`, `rollback`: publish content and invalidate (for CI)
    Deploy,
    /// `up`, `plan`, `destroy`: everything the site is made of
    Provision,
}

/// The policy document; prints as JSON in text mode too (it is meant to be pasted or piped).
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct PolicyDocument(pub Value);

impl fmt::Display for PolicyDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_string_pretty(&self.0).map_err(|_| fmt::Error)?;
        writeln!(f, "{text}")
    }
}

/// The policy for `purpose`. `key_arn`: the site's existing key (`kms.key_arn`), which the
/// deploy policy then names instead of the site's own alias.
pub fn policy_for(
    purpose: Purpose,
    names: &SiteNames,
    account: &str,
    region: &str,
    key_arn: Option<&str>,
) -> PolicyDocument {
    let template = match purpose {
        Purpose::Deploy => DEPLOY_POLICY,
        Purpose::Provision => PROVISION_POLICY,
    };
    let mut doc = policy::render(
        template,
        &[
            ("bucket", Some(&names.content_bucket)),
            ("log_bucket", Some(&names.log_bucket)),
            ("site", Some(&names.site)),
            ("account", Some(account)),
            ("region", Some(region)),
        ],
    );
    if let Some(arn) = key_arn
        && let Some(statements) = doc["Statement"].as_array_mut()
    {
        for statement in statements
            .iter_mut()
            .filter(|s| s["Sid"] == "EncryptWithTheSiteKey")
        {
            statement["Resource"] = Value::from(arn);
            if let Some(fields) = statement.as_object_mut() {
                fields.remove("Condition");
            }
        }
    }
    PolicyDocument(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> SiteNames {
        let config = crate::config::Config::parse(
            "[site]\nname = \"docs\"\nsource = \"dist\"\n",
            std::path::Path::new("t.toml"),
        )
        .unwrap();
        SiteNames::new(&config, "123456789012")
    }

    #[test]
    fn deploy_policy_is_scoped_to_the_site() {
        let doc = policy_for(Purpose::Deploy, &names(), "123456789012", "eu-west-1", None).0;
        let text = doc.to_string();
        assert!(!text.contains("{{"), "every placeholder filled: {text}");
        let statements = doc["Statement"].as_array().unwrap();
        assert_eq!(
            statements[1]["Resource"],
            "arn:aws:s3:::docs-site-123456789012/*"
        );
        assert_eq!(
            statements[2]["Condition"]["ForAnyValue:StringEquals"]["kms:ResourceAliases"],
            "alias/sitewarden/docs"
        );
        // A deploy identity can neither change bucket settings nor delete old versions.
        assert!(!text.contains("PutBucket") && !text.contains("DeleteObjectVersion"));

        // With `kms.key_arn`, the deploy identity uses exactly that key.
        let arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        let doc = policy_for(
            Purpose::Deploy,
            &names(),
            "123456789012",
            "eu-west-1",
            Some(arn),
        )
        .0;
        let key = &doc["Statement"][2];
        assert_eq!(key["Resource"], arn);
        assert!(key.get("Condition").is_none(), "{key}");
    }

    #[test]
    fn provision_policy_names_both_buckets() {
        let doc = policy_for(
            Purpose::Provision,
            &names(),
            "123456789012",
            "eu-west-1",
            None,
        )
        .0;
        let resources = doc["Statement"][0]["Resource"].as_array().unwrap();
        assert!(resources.contains(&Value::from("arn:aws:s3:::docs-logs-123456789012/*")));
        assert!(
            doc.to_string().contains("cloudfront:CreateInvalidation")
                || doc.to_string().contains("cloudfront:*Invalidation*")
        );
    }
}
