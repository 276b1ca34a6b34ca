//! KMS key controls: rotation, a key policy that grants no one outside the account (CloudFront
//! only for one distribution), and a key that is enabled and not pending deletion.

use aws_sdk_kms::types::{KeyManagerType, KeyMetadata, KeyState};
use serde_json::Value;

use super::controls::{KMS_NOT_DELETED, KMS_NOT_PUBLIC, KMS_ROTATION};
use super::policy;
use super::{Audited, Finding, Kind, Outcome, Resource, Sink};
use crate::aws::Aws;
use crate::error::Result;
use crate::observe::key as observe;

/// Evaluates the key `key_id` (id, ARN or alias). `expected`: the key belongs to the configured
/// site, so its absence fails; otherwise (a key found in a bucket's encryption) an absent or
/// AWS-managed key is left to the bucket's S3.17 finding.
pub async fn audit(
    aws: &Aws,
    key_id: &str,
    expected: bool,
    distribution_arn: Option<&str>,
    findings: &mut Vec<Finding>,
) -> Result<()> {
    let resource = Resource::new(Kind::Key, key_id).to_string();
    let kms = observe::client_for(aws, key_id);
    let metadata = match observe::key(&kms, key_id, &resource).await {
        Ok(found) => found,
        Err(e) => {
            Sink::new(findings, key_resource(key_id, None)).unreadable(&e);
            return Ok(());
        }
    };
    let Some(key) = metadata else {
        // The site's key, or the key a bucket encrypts new objects with: either way, gone.
        let why = if expected {
            format!("key `{key_id}` does not exist (run `sitewarden up`)")
        } else {
            format!("key `{key_id}` named by the bucket's default encryption does not exist")
        };
        Sink::new(findings, key_resource(key_id, None)).missing(&why);
        return Ok(());
    };
    if key.key_manager == Some(KeyManagerType::Aws) {
        return Ok(()); // an AWS-managed key is the bucket's S3.17 finding
    }
    let mut sink = Sink::new(findings, key_resource(key_id, key.arn.clone()));
    let rotation = observe::rotation(&kms, &key.key_id, &resource).await;
    sink.check(
        KMS_ROTATION,
        rotation.as_ref().map(|on| rotation_enabled(*on)),
    );
    let key_policy = observe::policy(&kms, &key.key_id, &resource).await;
    sink.check(
        KMS_NOT_PUBLIC,
        key_policy
            .as_ref()
            .map(|p| not_public(p.as_ref(), distribution_arn)),
    );
    sink.check(KMS_NOT_DELETED, Ok(enabled(&key)));
    Ok(())
}

fn key_resource(key_id: &str, arn: Option<String>) -> Audited {
    Audited::new(Kind::Key, key_id.to_owned(), arn)
}

fn rotation_enabled(on: bool) -> Outcome {
    if on {
        Outcome::pass("rotation enabled")
    } else {
        Outcome::fail("rotation disabled")
    }
}

/// No one outside the account; CloudFront only by `AWS:SourceArn`, and (`distribution_arn`: the
/// distribution in front of the bucket) for that distribution.
fn not_public(doc: Option<&Value>, distribution_arn: Option<&str>) -> Outcome {
    let Some(doc) = doc else {
        return Outcome::fail("the key policy could not be read as JSON");
    };
    let mut problems = Vec::new();
    for s in policy::statements(doc).into_iter().filter(|s| s.allows()) {
        if s.everyone() && !s.restricted() {
            problems.push(format!(
                "statement `{}` allows `*` without a restricting condition",
                s.sid()
            ));
        }
        let cloudfront = s.services().contains(&"cloudfront.amazonaws.com");
        if cloudfront && policy::source_arns(s).is_empty() {
            problems.push(format!(
                "statement `{}` allows CloudFront without `AWS:SourceArn`",
                s.sid()
            ));
        }
    }
    if let Some(arn) = distribution_arn
        && !policy::allows_cloudfront(doc, "kms:Decrypt", arn)
    {
        problems.push(format!(
            "no statement lets CloudFront decrypt for distribution {arn}: it cannot serve the \
             bucket's objects"
        ));
    }
    Outcome::unless(
        &problems,
        "no public statement; CloudFront limited by AWS:SourceArn",
    )
}

fn enabled(key: &KeyMetadata) -> Outcome {
    match &key.key_state {
        Some(KeyState::Enabled) => Outcome::pass("Enabled"),
        Some(KeyState::PendingDeletion) => Outcome::fail(format!(
            "pending deletion{}",
            key.deletion_date
                .map(|d| format!(" on {d}"))
                .unwrap_or_default()
        )),
        Some(state) => Outcome::fail(format!("key state {}", state.as_str())),
        None => Outcome::fail("no key state"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Status;
    use serde_json::json;

    #[test]
    fn the_sitewarden_key_policy_is_not_public() {
        let doc = crate::policy::render(
            crate::policy::KEY_POLICY,
            &[
                ("site", Some("docs")),
                ("account", Some("123456789012")),
                (
                    "distribution_arn",
                    Some("arn:aws:cloudfront::123456789012:distribution/E1"),
                ),
            ],
        );
        assert_eq!(
            not_public(
                Some(&doc),
                Some("arn:aws:cloudfront::123456789012:distribution/E1")
            )
            .status,
            Status::Pass
        );
        // Scoped to another distribution: this one cannot decrypt, that one can.
        assert_eq!(
            not_public(
                Some(&doc),
                Some("arn:aws:cloudfront::123456789012:distribution/E2")
            )
            .evidence,
            "no statement lets CloudFront decrypt for distribution \
             arn:aws:cloudfront::123456789012:distribution/E2: it cannot serve the bucket's objects"
        );
    }

    #[test]
    fn unconditioned_star_and_cloudfront_fail() {
        let doc = json!({"Statement": [
            {"Sid": "Anyone", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt"},
            {"Sid": "AnyDistribution", "Effect": "Allow",
             "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "kms:Decrypt"}
        ]});
        assert_eq!(
            not_public(Some(&doc), None).evidence,
            "statement `Anyone` allows `*` without a restricting condition; statement \
             `AnyDistribution` allows CloudFront without `AWS:SourceArn`"
        );
    }

    #[test]
    fn pending_deletion_and_disabled_rotation_fail() {
        let key = KeyMetadata::builder()
            .key_id("k")
            .key_state(KeyState::PendingDeletion)
            .build()
            .unwrap();
        assert_eq!(enabled(&key).status, Status::Fail);
        assert_eq!(rotation_enabled(false).status, Status::Fail);
    }
}
