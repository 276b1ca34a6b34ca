//! The log bucket and the content bucket: private, ACL-free, encrypted, versioned, with lifecycle
//! rules, TLS-only policies and (for the content bucket) server access logs to the log bucket.
//!
//! Each property is one aspect with the four steps: observe it, compute the desired value, compare,
//! and apply the difference. A bucket created in this run gets every aspect as part of its `create`
//! change instead of one change per property.

mod access;
mod destroy;
mod encryption;
mod lifecycle;
mod logging;
mod policy;
mod tags;

use aws_sdk_s3::Client;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration, ObjectOwnership};
use serde_json::Value;

pub use access::{diff_public_access_block, observe_public_access_block};
pub use destroy::destroy;
use encryption::Encryption;
use lifecycle::Lifecycle;
pub use policy::{content_policy, observe_policy, reconcile_content_policy};

use super::{Action, Ctx, Known, Plan};
use crate::aws::Aws;
use crate::error::{AwsResultExt as _, Error, Result, code};
use crate::names::{Kind, Resource};
use crate::observe::bucket::{self as observe, Location, LogTarget};

/// Prefix of S3 server access logs in the log bucket.
pub const ACCESS_LOG_PREFIX: &str = "s3-access/";
/// Prefix of CloudFront standard logs (v2) in the log bucket.
pub const CLOUDFRONT_LOG_PREFIX: &str = "cloudfront/";
const ABORT_MULTIPART_DAYS: i32 = 7;

struct Desired<'a> {
    name: &'a str,
    encryption: Encryption,
    lifecycle: Lifecycle,
    logging: Option<LogTarget>,
    /// Written with the other aspects (log bucket) or later in `reconcile_content_policy`.
    policy: Option<Value>,
    /// `adopt` before the DNS switch: leave public access, ownership and encryption as they are.
    keep_public: bool,
}

pub async fn reconcile_log_bucket(
    ctx: &Ctx<'_>,
    _known: &mut Known,
    plan: &mut Plan,
) -> Result<()> {
    let names = ctx.names;
    let desired = Desired {
        name: &names.log_bucket,
        encryption: Encryption::S3,
        lifecycle: Lifecycle {
            id: "sitewarden-log-retention",
            expiration_days: Some(to_i32(ctx.config.logging.retention_days)),
            noncurrent_days: 1,
            abort_multipart_days: ABORT_MULTIPART_DAYS,
        },
        logging: None,
        keep_public: false,
        policy: Some(policy::log_policy(names, ctx.account)),
    };
    reconcile_bucket(
        ctx,
        &desired,
        plan,
        "log bucket (SSE-S3: S3 access logs cannot use SSE-KMS)",
    )
    .await
}

pub async fn reconcile_content_bucket(
    ctx: &Ctx<'_>,
    known: &mut Known,
    plan: &mut Plan,
) -> Result<()> {
    let desired = Desired {
        name: &ctx.names.content_bucket,
        encryption: Encryption::Kms(known.key_arn.clone()),
        lifecycle: Lifecycle {
            id: "sitewarden-noncurrent-versions",
            expiration_days: None,
            noncurrent_days: to_i32(ctx.config.logging.noncurrent_version_days),
            abort_multipart_days: ABORT_MULTIPART_DAYS,
        },
        logging: Some(LogTarget {
            bucket: ctx.names.log_bucket.clone(),
            prefix: ACCESS_LOG_PREFIX.to_owned(),
        }),
        policy: None,
        keep_public: ctx.adopt.as_ref().is_some_and(|a| a.keep_public),
    };
    reconcile_bucket(ctx, &desired, plan, "content bucket (SSE-KMS)").await
}

async fn reconcile_bucket(
    ctx: &Ctx<'_>,
    desired: &Desired<'_>,
    plan: &mut Plan,
    what: &str,
) -> Result<()> {
    let s3 = &ctx.aws.s3;
    let name = desired.name;
    let resource = Resource::new(Kind::Bucket, name);
    let created = if exists(ctx.aws, name).await? {
        false
    } else {
        ctx.change(
            plan,
            &resource,
            Action::Create,
            format!(
                "create {what}: Block Public Access, ACLs disabled, versioning, lifecycle{}",
                if desired.logging.is_some() {
                    ", access logs"
                } else {
                    ""
                }
            ),
        );
        if !ctx.apply {
            return Ok(());
        }
        create(s3, name, &ctx.aws.region).await?;
        true
    };
    // A bucket created just now is covered by its `create` change; otherwise each drift is a change.
    let mut update = |detail: String| {
        if !created {
            ctx.change(plan, &resource, Action::Update, detail);
        }
    };
    reconcile_properties(ctx, desired, &mut update).await?;
    ctx.settled(plan, &resource);
    Ok(())
}

/// Each property in turn, `update` receiving the drift of each; the order is the request order.
async fn reconcile_properties(
    ctx: &Ctx<'_>,
    desired: &Desired<'_>,
    update: &mut impl FnMut(String),
) -> Result<()> {
    let name = desired.name;
    if !desired.keep_public {
        access::reconcile_public_access_block(ctx, name, update).await?;
        access::reconcile_ownership(ctx, name, update).await?;
        encryption::reconcile(ctx, name, &desired.encryption, update).await?;
    }
    lifecycle::reconcile_versioning(ctx, name, update).await?;
    lifecycle::reconcile(ctx, name, &desired.lifecycle, update).await?;
    if let Some(target) = &desired.logging {
        logging::reconcile(ctx, name, target, update).await?;
    }
    if let Some(desired_policy) = &desired.policy {
        policy::reconcile(ctx, name, desired_policy, update).await?;
    }
    tags::reconcile(ctx, name, update).await
}

fn to_i32(days: u32) -> i32 {
    i32::try_from(days).unwrap_or(i32::MAX)
}

// ---- existence -------------------------------------------------------------------------------

/// Whether the bucket exists and is ours (one `HeadBucket`).
pub async fn exists(aws: &Aws, bucket: &str) -> Result<bool> {
    usable(&observe::locate(aws, bucket).await?, bucket, &aws.region)
}

/// A bucket this account cannot use (most likely another account's) is an error, and so is one
/// in another region than the site's: the site's clients cannot configure it.
fn usable(location: &Location, bucket: &str, site_region: &str) -> Result<bool> {
    match location {
        Location::Missing => Ok(false),
        Location::Refused { .. } => Err(Location::refused(
            bucket,
            "set `site.bucket` or choose another `site.name`",
        )),
        Location::Ours {
            region: Some(region),
        } if region != site_region => Err(Error::Aws {
            operation: "HeadBucket",
            resource: format!("bucket `{bucket}`"),
            code: "PermanentRedirect".to_owned(),
            message: format!(
                "the bucket is in `{region}`, not in the site's region `{site_region}`"
            ),
            hint: Some(format!(
                "set `site.region = \"{region}\"`: the site's buckets and key live in one region"
            )),
        }),
        Location::Ours { .. } => Ok(true),
    }
}

async fn create(s3: &Client, bucket: &str, region: &str) -> Result<()> {
    let mut request = s3
        .create_bucket()
        .bucket(bucket)
        .object_ownership(ObjectOwnership::BucketOwnerEnforced);
    // us-east-1 is the one region that must not be named as a location constraint.
    if region != crate::aws::US_EAST_1 {
        request = request.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        );
    }
    // A retried create whose first attempt took effect (its answer lost) is told the bucket is
    // already this account's: it is the one just made.
    request.send().await.or_missing(
        &[code::BUCKET_ALREADY_OWNED_BY_YOU],
        "CreateBucket",
        &format!("bucket `{bucket}`"),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_is_usable_only_when_ours_and_in_the_site_region() {
        let ours = |region: Option<&str>| Location::Ours {
            region: region.map(str::to_owned),
        };
        assert!(!usable(&Location::Missing, "b", "eu-west-1").unwrap());
        assert!(usable(&ours(Some("eu-west-1")), "b", "eu-west-1").unwrap());
        assert!(usable(&ours(None), "b", "eu-west-1").unwrap());
        let elsewhere = usable(&ours(Some("us-east-2")), "b", "eu-west-1").unwrap_err();
        assert_eq!(
            elsewhere.to_string(),
            "HeadBucket failed for bucket `b`: PermanentRedirect: the bucket is in `us-east-2`, \
             not in the site's region `eu-west-1`"
        );
        let refused = usable(&Location::Refused { region: None }, "b", "eu-west-1").unwrap_err();
        assert!(
            refused.hint().unwrap().contains("another account"),
            "{refused}"
        );
        assert!(
            refused
                .hint()
                .unwrap()
                .ends_with("choose another `site.name`")
        );
    }
}
