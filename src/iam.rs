//! `sitewarden iam-policy`: the least-privilege IAM policy for deploying (CI) or provisioning a
//! site, from `templates/iam-*-policy.json`, filled in with the site's names.
//!
//! Every provisioning statement names this site's resources (bucket, function, delivery and alias
//! ARNs by name; the origin access control, response headers policy and hosted zone by the id
//! [`discover`] looks up) or is conditioned on the site: `aws:ResourceTag/sitewarden:site` for
//! what sitewarden tags on create (key, certificate, distribution, log deliveries),
//! `kms:ResourceAliases` for the key, `aws:RequestTag/sitewarden:site` with `aws:TagKeys` for
//! creating and tagging, record names for Route53 changes. The statements that cannot name the
//! site are listed in [`UNSCOPED`] with the reason.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::config::DnsMode;
use crate::names::SiteNames;
use crate::policy;
use crate::provision::{Ctx, dns};

pub const DEPLOY_POLICY: &str = include_str!("../templates/iam-deploy-policy.json");
pub const PROVISION_POLICY: &str = include_str!("../templates/iam-provision-policy.json");
pub const CI_POLICY: &str = include_str!("../templates/iam-ci-policy.json");

/// Statements that do not name this site's resources, by `Sid`, and why (Service Authorization
/// Reference: the actions have no resource type, or the ARN is by an id nobody knows in advance).
/// Each is read-only, or creates something new: none changes a resource that exists.
pub const UNSCOPED: &[(&str, &str)] = &[
    (
        "ListOnlyNoResourceLevel",
        "List/Describe calls with no resource type (`Resource` must be `*`); sitewarden filters \
         their answers by name",
    ),
    (
        "CreateOnlyNoResourceLevelTaggedForTheSite",
        "CreateKey, RequestCertificate, CreateDistribution(WithTags), CreateFunction have no \
         resource type; allowed only with the request tag `sitewarden:site=<site>` and no other tag",
    ),
    (
        "CreateOnlyNoResourceLevelNoTagSupport",
        "CreateOriginAccessControl and CreateResponseHeadersPolicy have no resource type and take \
         no tags; they create a new object, which only a distribution this policy may update (its \
         own) can use",
    ),
    (
        "ReadOnlyTagsToFindTheSite",
        "the tags decide whether a distribution or certificate found by comment or domain is the \
         site's, so they are read before that is known",
    ),
    (
        "ReadOnlyChangeStatusIdsPerRequest",
        "GetChange: Route53 assigns the change id per request",
    ),
    (
        "SharedGitHubOidcProviderNoTagSupport",
        "the account has one OIDC provider for GitHub Actions, shared by every site and \
         repository: read, or created untagged when missing (adding an audience to an existing \
         one is left to an administrator)",
    ),
    (
        "ReadOnlyTheConfiguredWebAcl",
        "GetWebACL of the `waf` web ACL the config names, before it is attached",
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Purpose {
    /// `deploy`, `history`, `rollback`: publish content and invalidate (for CI)
    Deploy,
    /// `up`, `plan`, `destroy`: everything the site is made of
    Provision,
    /// `ci github`: the provisioning policy, plus writing the CI roles' permissions boundary (for
    /// an IAM administrator: whoever writes the boundary decides what the CI roles may do)
    Ci,
}

/// What the provisioning policy names besides the site's names: ids AWS assigns on create, and
/// the DNS names the site writes records at. `None` ids (not created yet) become `*` of that
/// resource type; `iam-policy` run again after the first `up` names them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub zone_id: Option<String>,
    pub origin_access_control_id: Option<String>,
    pub headers_policy_id: Option<String>,
    /// The site's names when sitewarden writes its records in Route53 (`dns.mode = "route53"`);
    /// empty: no Route53 statements.
    pub record_names: Vec<String>,
    /// The user's alert topics (`monitoring.sns_topic_arn`), which `up` and `audit` read.
    pub alert_topics: Vec<String>,
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

/// Looks up (read-only) the ids the provisioning policy names: the hosted zone, the origin
/// access control and the response headers policy `sitewarden-<site>`. What cannot be found (not
/// created yet, or not readable with the caller's rights) is left `None`, with a warning.
pub async fn discover(ctx: &Ctx<'_>) -> Scope {
    let scope = find_scope(ctx).await;
    let route53 = !scope.record_names.is_empty();
    let mut unnamed = Vec::new();
    if route53 && scope.zone_id.is_none() {
        unnamed.push("the hosted zone (record names still limit the changes)");
    }
    if scope.origin_access_control_id.is_none() {
        unnamed.push("the origin access control");
    }
    if scope.headers_policy_id.is_none() {
        unnamed.push("the response headers policy");
    }
    if !unnamed.is_empty() {
        ctx.printer.warn(format_args!(
            "not found yet, so the policy allows any of its type: {}; run `sitewarden \
             iam-policy --for provision` again after the first `sitewarden up` to name them",
            unnamed.join(", ")
        ));
    }
    scope
}

/// [`discover`] without the warning.
pub async fn find_scope(ctx: &Ctx<'_>) -> Scope {
    let route53 = ctx.config.dns.mode == DnsMode::Route53 && ctx.config.site.domain.is_some();
    let record_names = if route53 {
        dns::site_names(ctx.config)
            .iter()
            .map(|n| n.as_str().to_owned())
            .collect()
    } else {
        Vec::new()
    };
    let name = format!("sitewarden-{}", ctx.names.site);
    let zone_id = if route53 {
        dns::find_zone(ctx).await.ok().flatten()
    } else {
        None
    };
    Scope {
        zone_id,
        origin_access_control_id: origin_access_control_id(ctx, &name).await,
        headers_policy_id: headers_policy_id(ctx, &name).await,
        record_names,
        alert_topics: ctx
            .config
            .monitoring
            .sns_topic_arn
            .iter()
            .map(|t| t.as_str().to_owned())
            .collect(),
    }
}

/// Whether an IAM action only reads: `Get*`, `List*`, `Describe*`, `Head*`, and `kms:Decrypt`
/// (reading the site's encrypted manifest). What a pull request's `plan` role may do.
pub fn reads_only(action: &str) -> bool {
    let op = action.split_once(':').map_or(action, |(_, op)| op);
    ["Get", "List", "Describe", "Head"]
        .iter()
        .any(|p| op.starts_with(p))
        || action == "kms:Decrypt"
}

/// Object reads the pull request role keeps: the deploy manifest `plan` compares with, nothing
/// else (not the published files' earlier versions, not the access logs, not the deploy records).
const PLAN_READS_OBJECTS: &str = ".sitewarden/manifest.json";

/// The pull request role's policy: the read-only part of the provisioning policy `doc` (each
/// statement keeps its [`reads_only`] actions; Deny statements and statements left with none are
/// dropped), with object reads narrowed to the content bucket's manifest and `kms:Decrypt` to
/// what S3 decrypts for it.
pub fn read_only(doc: &Value, names: &SiteNames, region: &str) -> Value {
    let mut doc = doc.clone();
    let object_level = |a: &str| a.starts_with("s3:GetObject") || a == "s3:ListBucketVersions";
    let mut decrypts = Vec::new();
    if let Some(statements) = doc["Statement"].as_array_mut() {
        statements.retain_mut(|s| {
            if s["Effect"] != "Allow" {
                return false;
            }
            let actions: Vec<Value> = match &s["Action"] {
                Value::String(a) => vec![Value::from(a.as_str())],
                Value::Array(a) => a.clone(),
                _ => Vec::new(),
            };
            let kept: Vec<Value> = actions
                .into_iter()
                .filter_map(|a| a.as_str().map(str::to_owned))
                .filter(|a| reads_only(a) && !object_level(a))
                .map(Value::from)
                .collect();
            if kept.is_empty() {
                return false;
            }
            if kept.iter().any(|a| a == "kms:Decrypt") {
                // Decrypting only what S3 decrypts for a GetObject (of the manifest, below).
                let mut decrypt = s.clone();
                decrypt["Action"] = Value::from("kms:Decrypt");
                decrypt["Condition"]["StringEquals"]["kms:ViaService"] =
                    Value::from(format!("s3.{region}.amazonaws.com"));
                if let Some(sid) = s["Sid"].as_str() {
                    decrypt["Sid"] = Value::from(format!("DecryptThroughS3{sid}"));
                }
                decrypts.push(decrypt);
            }
            let kept: Vec<Value> = kept.into_iter().filter(|a| a != "kms:Decrypt").collect();
            if kept.is_empty() {
                return false;
            }
            s["Action"] = Value::Array(kept);
            if let Some(sid) = s["Sid"].as_str() {
                s["Sid"] = Value::from(format!("Read{sid}"));
            }
            true
        });
        statements.append(&mut decrypts);
        statements.push(serde_json::json!({
            "Sid": "ReadTheDeployManifest",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": format!("arn:aws:s3:::{}/{PLAN_READS_OBJECTS}", names.content_bucket),
        }));
    }
    doc
}

/// The OAC's id, if it is there and may be listed (a denied listing leaves the type unnamed).
async fn origin_access_control_id(ctx: &Ctx<'_>, name: &str) -> Option<String> {
    crate::observe::cloudfront::origin_access_control(ctx.aws, name)
        .await
        .ok()
        .flatten()
        .map(|o| o.id)
}

/// The response headers policy's id, if it is there and may be listed.
async fn headers_policy_id(ctx: &Ctx<'_>, name: &str) -> Option<String> {
    crate::observe::cloudfront::headers_policy_named(ctx.aws, name)
        .await
        .ok()
        .flatten()
        .map(|p| p.id)
}

/// Route53 record names the site may change: each of its names and the `_…` validation names
/// below it (`ChangeResourceRecordSetsNormalizedRecordNames`: lower case, no final dot).
fn record_name_patterns(names: &[String]) -> Vec<Value> {
    names
        .iter()
        .flat_map(|n| {
            let n = n.trim_end_matches('.').to_ascii_lowercase();
            [Value::from(n.clone()), Value::from(format!("_*.{n}"))]
        })
        .collect()
}

/// The policy for `purpose`. `key_arn`: the site's existing key (`kms.key_arn`), which the
/// deploy policy then names instead of the site's own alias. `scope`: see [`Scope`] (provision).
pub fn policy_for(
    purpose: Purpose,
    names: &SiteNames,
    account: &str,
    region: &str,
    key_arn: Option<&str>,
    scope: &Scope,
) -> PolicyDocument {
    let template = match purpose {
        Purpose::Deploy => DEPLOY_POLICY,
        Purpose::Provision | Purpose::Ci => PROVISION_POLICY,
    };
    let any = |id: &Option<String>| id.clone().unwrap_or_else(|| "*".to_owned());
    let (zone, oac, headers) = (
        any(&scope.zone_id),
        any(&scope.origin_access_control_id),
        any(&scope.headers_policy_id),
    );
    let mut doc = policy::render(
        template,
        &[
            ("bucket", Some(&names.content_bucket)),
            ("log_bucket", Some(&names.log_bucket)),
            ("site", Some(&names.site)),
            ("account", Some(account)),
            ("region", Some(region)),
            ("zone", Some(&zone)),
            ("origin_access_control", Some(&oac)),
            ("headers_policy", Some(&headers)),
        ],
    );
    if purpose == Purpose::Ci {
        let extra = policy::render(
            CI_POLICY,
            &[("site", Some(&names.site)), ("account", Some(account))],
        );
        if let (Some(statements), Some(more)) = (
            doc["Statement"].as_array_mut(),
            extra["Statement"].as_array(),
        ) {
            statements.extend(more.iter().cloned());
        }
    }
    let Some(statements) = doc["Statement"].as_array_mut() else {
        return PolicyDocument(doc);
    };
    if scope.record_names.is_empty() {
        // No records to write: no Route53 statement at all.
        statements.retain(|s| {
            !s["Action"]
                .as_str()
                .is_some_and(|a| a.starts_with("route53:"))
        });
    }
    if !scope.alert_topics.is_empty() {
        statements.push(serde_json::json!({
            "Sid": "ReadTheConfiguredAlertTopics",
            "Effect": "Allow",
            "Action": "sns:GetTopicAttributes",
            "Resource": scope.alert_topics,
        }));
    }
    for statement in statements.iter_mut() {
        if statement["Sid"] == "DnsRecordsOfTheSite" {
            statement["Condition"]["ForAllValues:StringLike"]["route53:ChangeResourceRecordSetsNormalizedRecordNames"] =
                Value::Array(record_name_patterns(&scope.record_names));
        }
        if let Some(arn) = key_arn
            && statement["Sid"] == "EncryptWithTheSiteKey"
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

    const ACCOUNT: &str = "123456789012";

    fn names() -> SiteNames {
        let config = crate::config::Config::parse(
            "[site]\nname = \"docs\"\nsource = \"dist\"\n",
            std::path::Path::new("t.toml"),
        )
        .unwrap();
        SiteNames::new(&config, ACCOUNT)
    }

    fn provision(scope: &Scope) -> Value {
        policy_for(
            Purpose::Provision,
            &names(),
            ACCOUNT,
            "eu-west-1",
            None,
            scope,
        )
        .0
    }

    fn found() -> Scope {
        Scope {
            zone_id: Some("Z0123456789ABC".to_owned()),
            origin_access_control_id: Some("E2OAC".to_owned()),
            headers_policy_id: Some("5f6e-headers".to_owned()),
            record_names: vec!["docs.example.com".to_owned(), "WWW.Example.com.".to_owned()],
            alert_topics: vec!["arn:aws:sns:us-east-1:123456789012:ops".to_owned()],
        }
    }

    fn statement<'a>(doc: &'a Value, sid: &str) -> &'a Value {
        doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Sid"] == sid)
            .unwrap_or_else(|| panic!("no statement {sid} in {doc:#}"))
    }

    fn resources(statement: &Value) -> Vec<&str> {
        match &statement["Resource"] {
            Value::String(r) => vec![r.as_str()],
            Value::Array(r) => r.iter().map(|r| r.as_str().unwrap()).collect(),
            other => panic!("Resource {other}"),
        }
    }

    #[test]
    fn deploy_policy_is_scoped_to_the_site() {
        let doc = policy_for(
            Purpose::Deploy,
            &names(),
            ACCOUNT,
            "eu-west-1",
            None,
            &Scope::default(),
        )
        .0;
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
            ACCOUNT,
            "eu-west-1",
            Some(arn),
            &Scope::default(),
        )
        .0;
        let key = &doc["Statement"][2];
        assert_eq!(key["Resource"], arn);
        assert!(key.get("Condition").is_none(), "{key}");
    }

    #[test]
    fn provision_policy_names_both_buckets() {
        let doc = provision(&found());
        assert!(!doc.to_string().contains("{{"), "{doc:#}");
        let buckets = resources(statement(&doc, "SiteBuckets"));
        assert!(buckets.contains(&"arn:aws:s3:::docs-logs-123456789012/*"));
        assert!(buckets.contains(&"arn:aws:s3:::docs-site-123456789012"));
        assert!(doc.to_string().contains("cloudfront:CreateInvalidation"));
    }

    /// Every statement of both policies names a resource other than `*` or has a condition,
    /// unless its Sid is one of the documented exceptions; and each exception is read-only or
    /// creates only.
    #[test]
    fn every_statement_is_scoped_or_a_documented_exception() {
        let deploy = policy_for(
            Purpose::Deploy,
            &names(),
            ACCOUNT,
            "eu-west-1",
            None,
            &Scope::default(),
        )
        .0;
        for doc in [provision(&found()), provision(&Scope::default()), deploy] {
            for s in doc["Statement"].as_array().unwrap() {
                let sid = s["Sid"].as_str().expect("every statement has a Sid");
                let star = resources(s).contains(&"*");
                let documented = UNSCOPED.iter().any(|(u, _)| *u == sid);
                if documented {
                    let actions: Vec<&str> = match &s["Action"] {
                        Value::String(a) => vec![a.as_str()],
                        Value::Array(a) => a.iter().map(|a| a.as_str().unwrap()).collect(),
                        other => panic!("Action {other}"),
                    };
                    for action in actions {
                        let op = action.split(':').nth(1).unwrap();
                        let read = ["List", "Describe", "Get"]
                            .iter()
                            .any(|p| op.starts_with(p));
                        let create = op.starts_with("Create") || op.starts_with("Request");
                        assert!(read || create, "{sid}: {action} neither reads nor creates");
                        if create && !sid.ends_with("NoTagSupport") {
                            assert_eq!(
                                s["Condition"]["StringEquals"]["aws:RequestTag/sitewarden:site"],
                                "docs",
                                "{sid}: {action} creates without the site's request tag"
                            );
                        }
                    }
                } else {
                    assert!(
                        !star || s.get("Condition").is_some(),
                        "statement {sid} allows `*` without a condition: {s:#}"
                    );
                }
            }
        }
        // The documented list has no stale entries.
        let provision = provision(&found());
        for (sid, reason) in UNSCOPED {
            assert!(!reason.is_empty());
            assert!(
                provision["Statement"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|s| s["Sid"] == *sid),
                "{sid} is documented but not in the provisioning policy"
            );
        }
    }

    #[test]
    fn ids_found_are_named_and_unknown_ones_are_any_of_their_type() {
        let doc = provision(&found());
        assert_eq!(
            statement(&doc, "SiteOriginAccessControl")["Resource"],
            "arn:aws:cloudfront::123456789012:origin-access-control/E2OAC"
        );
        assert_eq!(
            statement(&doc, "SiteResponseHeadersPolicy")["Resource"],
            "arn:aws:cloudfront::123456789012:response-headers-policy/5f6e-headers"
        );
        assert_eq!(
            statement(&doc, "SiteFunction")["Resource"],
            serde_json::json!([
                "arn:aws:cloudfront::123456789012:function/sitewarden-docs",
                "arn:aws:cloudfront::123456789012:function/sitewarden-docs-csp"
            ])
        );
        let records = statement(&doc, "DnsRecordsOfTheSite");
        assert_eq!(
            records["Resource"],
            "arn:aws:route53:::hostedzone/Z0123456789ABC"
        );
        assert_eq!(
            records["Condition"]["ForAllValues:StringLike"]["route53:ChangeResourceRecordSetsNormalizedRecordNames"],
            serde_json::json!([
                "docs.example.com",
                "_*.docs.example.com",
                "www.example.com",
                "_*.www.example.com"
            ])
        );

        let before = provision(&Scope {
            record_names: vec!["docs.example.com".to_owned()],
            ..Scope::default()
        });
        assert_eq!(
            statement(&before, "SiteOriginAccessControl")["Resource"],
            "arn:aws:cloudfront::123456789012:origin-access-control/*"
        );
        // Without the zone id, the record names still limit what may change.
        let records = statement(&before, "DnsRecordsOfTheSite");
        assert_eq!(records["Resource"], "arn:aws:route53:::hostedzone/*");
        assert_eq!(
            records["Condition"]["ForAllValues:StringLike"]["route53:ChangeResourceRecordSetsNormalizedRecordNames"],
            serde_json::json!(["docs.example.com", "_*.docs.example.com"])
        );
    }

    #[test]
    fn no_route53_statement_without_records_to_write() {
        let doc = provision(&Scope::default());
        let text = doc.to_string();
        for action in [
            "route53:ChangeResourceRecordSets",
            "route53:ListResourceRecordSets",
            "route53:GetChange",
        ] {
            assert!(!text.contains(action), "{action} in {doc:#}");
        }
        assert!(text.contains("cloudfront:CreateDistribution"));
    }

    #[test]
    fn key_statements_need_the_site_alias_or_tag() {
        let doc = provision(&found());
        let by_alias = statement(&doc, "SiteKeyByAlias");
        assert_eq!(
            by_alias["Condition"]["ForAnyValue:StringEquals"]["kms:ResourceAliases"],
            "alias/sitewarden/docs"
        );
        assert!(
            by_alias["Action"]
                .as_array()
                .unwrap()
                .contains(&Value::from("kms:PutKeyPolicy"))
        );
        let before_alias = statement(&doc, "SiteKeyBeforeItsAlias");
        assert_eq!(
            before_alias["Condition"]["StringEquals"]["aws:ResourceTag/sitewarden:site"],
            "docs"
        );
        assert_eq!(
            before_alias["Condition"]["Null"]["kms:ResourceAliases"],
            "true"
        );
        // CreateAlias needs the alias ARN too, and only the site's alias is named.
        assert_eq!(
            statement(&doc, "SiteKeyAlias")["Resource"],
            "arn:aws:kms:eu-west-1:123456789012:alias/sitewarden/docs"
        );
        // Tags can only be the site's, and never replace another site's.
        let tag = statement(&doc, "TagWithTheSiteTagOnly");
        assert_eq!(
            tag["Condition"]["StringEqualsIfExists"]["aws:ResourceTag/sitewarden:site"],
            "docs"
        );
        assert_eq!(
            tag["Condition"]["ForAllValues:StringEquals"]["aws:TagKeys"],
            serde_json::json!(["sitewarden:site"])
        );
    }
}
