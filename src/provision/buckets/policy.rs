//! The bucket policies: the log bucket's (written with its other properties) and the content
//! bucket's, which names the distribution and so is reconciled after CloudFront.

use aws_sdk_s3::Client;
use serde_json::Value;

use super::{Action, Ctx, Known, Plan, exists};
use crate::error::{AwsResultExt as _, Result};
use crate::names::SiteNames;
use crate::observe::bucket as observe;
use crate::provision::policy as template;

/// The content bucket's policy names the distribution, so it is reconciled after CloudFront.
pub async fn reconcile_content_policy(ctx: &Ctx<'_>, known: &Known, plan: &mut Plan) -> Result<()> {
    let bucket = &ctx.names.content_bucket;
    let mut desired = content_policy(bucket, known.distribution.as_ref().map(|d| d.arn.as_str()));
    if let Some(adoption) = ctx.adopt.as_ref().filter(|a| a.keep_public) {
        desired = while_public(desired, &adoption.public_statements);
    }
    let resource = Resource::new(Kind::Bucket, bucket);
    let observed = if exists(ctx.aws, bucket).await? {
        observe::policy(&ctx.aws.s3, bucket).await?
    } else {
        None
    };
    if let Some(detail) = diff_policy(observed.as_ref(), &desired) {
        ctx.change(plan, &resource, Action::Update, detail);
        if ctx.apply {
            put_policy(&ctx.aws.s3, bucket, &desired).await?;
        }
    }
    ctx.settled(plan, &resource);
    Ok(())
}

/// The policy of a bucket still served by its website endpoint during `adopt`: the public read
/// stays and the TLS-only deny waits (the website endpoint is HTTP only), the rest is in place.
fn while_public(mut desired: Value, public_statements: &[Value]) -> Value {
    if let Some(statements) = desired["Statement"].as_array_mut() {
        statements.retain(|s| s["Sid"] != "DenyInsecureTransport");
        statements.extend(public_statements.iter().cloned());
    }
    desired
}

pub fn content_policy(bucket: &str, distribution_arn: Option<&str>) -> Value {
    template::render(
        template::CONTENT_BUCKET_POLICY,
        &[
            ("bucket", Some(bucket)),
            ("distribution_arn", distribution_arn),
        ],
    )
}

pub(super) fn log_policy(names: &SiteNames, account: &str) -> Value {
    template::render(
        template::LOG_BUCKET_POLICY,
        &[
            ("log_bucket", Some(&names.log_bucket)),
            ("content_bucket", Some(&names.content_bucket)),
            ("account", Some(account)),
        ],
    )
}

/// The log bucket's policy, as one of its properties.
pub(super) async fn reconcile(
    ctx: &Ctx<'_>,
    bucket: &str,
    desired: &Value,
    update: &mut impl FnMut(String),
) -> Result<()> {
    let s3 = &ctx.aws.s3;
    if let Some(detail) = diff_policy(observe::policy(s3, bucket).await?.as_ref(), desired) {
        update(detail);
        if ctx.apply {
            put_policy(s3, bucket, desired).await?;
        }
    }
    Ok(())
}

use crate::names::{Kind, Resource};
/// The policy reader, under the name adopt used before it moved to `observe`.
pub use observe::policy as observe_policy;

fn diff_policy(observed: Option<&Value>, desired: &Value) -> Option<String> {
    if observed.is_some_and(|o| template::same(o, desired)) {
        return None;
    }
    let sids: Vec<&str> = desired["Statement"]
        .as_array()
        .map(|s| s.iter().filter_map(|s| s["Sid"].as_str()).collect())
        .unwrap_or_default();
    Some(format!("bucket policy: {}", sids.join(", ")))
}

async fn put_policy(s3: &Client, bucket: &str, desired: &Value) -> Result<()> {
    s3.put_bucket_policy()
        .bucket(bucket)
        .policy(desired.to_string())
        .send()
        .await
        .op("PutBucketPolicy", &format!("bucket `{bucket}`"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_adopted_bucket_keeps_its_public_read_until_the_switch() {
        let public = serde_json::json!({
            "Sid": "PublicReadGetObject", "Effect": "Allow", "Principal": "*",
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::www.example.com/*",
        });
        let arn = "arn:aws:cloudfront::123456789012:distribution/E1";
        let policy = while_public(
            content_policy("www.example.com", Some(arn)),
            std::slice::from_ref(&public),
        );
        let sids: Vec<&str> = policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Sid"].as_str().unwrap())
            .collect();
        // The website endpoint is HTTP only: the TLS-only deny would take the site down.
        assert_eq!(
            sids,
            [
                "AllowCloudFrontRead",
                "DenyCloudFrontPrivateState",
                "PublicReadGetObject"
            ]
        );
    }
}
