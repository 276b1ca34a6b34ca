//! Versions and their expiry: versioning on, and the one lifecycle rule sitewarden owns (earlier
//! versions expire, incomplete uploads are aborted, log objects expire). Other rules stay.

use aws_sdk_s3::Client;
use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, BucketVersioningStatus,
    ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter,
    NoncurrentVersionExpiration, VersioningConfiguration,
};

use super::Ctx;
use crate::error::{AwsResultExt as _, Result};
use crate::observe::bucket as observe;

/// The lifecycle rule sitewarden owns on a bucket, reduced to the values it sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Lifecycle {
    pub(super) id: &'static str,
    pub(super) expiration_days: Option<i32>,
    pub(super) noncurrent_days: i32,
    pub(super) abort_multipart_days: i32,
}

pub(super) async fn reconcile_versioning(
    ctx: &Ctx<'_>,
    bucket: &str,
    update: &mut impl FnMut(String),
) -> Result<()> {
    let s3 = &ctx.aws.s3;
    if let Some(detail) = diff_versioning(observe::versioning(s3, bucket).await?.as_ref()) {
        update(detail);
        if ctx.apply {
            put_versioning(s3, bucket).await?;
        }
    }
    Ok(())
}

pub(super) async fn reconcile(
    ctx: &Ctx<'_>,
    bucket: &str,
    desired: &Lifecycle,
    update: &mut impl FnMut(String),
) -> Result<()> {
    let s3 = &ctx.aws.s3;
    if let Some(detail) = diff_lifecycle(&observe::lifecycle(s3, bucket).await?, desired) {
        update(detail);
        if ctx.apply {
            put_lifecycle(s3, bucket, desired).await?;
        }
    }
    Ok(())
}

// ---- Versioning --------------------------------------------------------------------------------

fn diff_versioning(observed: Option<&BucketVersioningStatus>) -> Option<String> {
    match observed {
        Some(BucketVersioningStatus::Enabled) => None,
        Some(other) => Some(format!("versioning {} → Enabled", other.as_str())),
        None => Some("enable versioning".to_owned()),
    }
}

async fn put_versioning(s3: &Client, bucket: &str) -> Result<()> {
    s3.put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .op("PutBucketVersioning", &format!("bucket `{bucket}`"))?;
    Ok(())
}

// ---- Lifecycle ---------------------------------------------------------------------------------

fn summarize_rule(rule: &LifecycleRule, id: &'static str) -> Option<Lifecycle> {
    if rule.status != ExpirationStatus::Enabled {
        return None;
    }
    Some(Lifecycle {
        id,
        expiration_days: rule.expiration.as_ref().and_then(|e| e.days),
        noncurrent_days: rule
            .noncurrent_version_expiration
            .as_ref()?
            .noncurrent_days?,
        abort_multipart_days: rule
            .abort_incomplete_multipart_upload
            .as_ref()?
            .days_after_initiation?,
    })
}

fn diff_lifecycle(observed: &[LifecycleRule], desired: &Lifecycle) -> Option<String> {
    let current = observed
        .iter()
        .find(|r| r.id.as_deref() == Some(desired.id))
        .and_then(|r| summarize_rule(r, desired.id));
    if current.as_ref() == Some(desired) {
        return None;
    }
    let mut parts = Vec::new();
    if let Some(days) = desired.expiration_days {
        parts.push(format!("expire objects after {days} days"));
    }
    parts.push(format!(
        "expire earlier versions after {} days",
        desired.noncurrent_days
    ));
    parts.push(format!(
        "abort incomplete uploads after {} days",
        desired.abort_multipart_days
    ));
    Some(format!(
        "lifecycle rule `{}`: {}",
        desired.id,
        parts.join(", ")
    ))
}

async fn put_lifecycle(s3: &Client, bucket: &str, desired: &Lifecycle) -> Result<()> {
    let resource = format!("bucket `{bucket}`");
    // Keep the bucket's other rules: sitewarden owns only its own rule id.
    let mut rules: Vec<LifecycleRule> = observe::lifecycle(s3, bucket)
        .await?
        .into_iter()
        .filter(|r| r.id.as_deref() != Some(desired.id))
        .collect();
    let mut rule = LifecycleRule::builder()
        .id(desired.id)
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .noncurrent_version_expiration(
            NoncurrentVersionExpiration::builder()
                .noncurrent_days(desired.noncurrent_days)
                .build(),
        )
        .abort_incomplete_multipart_upload(
            AbortIncompleteMultipartUpload::builder()
                .days_after_initiation(desired.abort_multipart_days)
                .build(),
        );
    if let Some(days) = desired.expiration_days {
        rule = rule.expiration(LifecycleExpiration::builder().days(days).build());
    }
    rules.push(rule.build()?);
    s3.put_bucket_lifecycle_configuration()
        .bucket(bucket)
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .set_rules(Some(rules))
                .build()?,
        )
        .send()
        .await
        .op("PutBucketLifecycleConfiguration", &resource)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_compares_only_the_owned_rule() {
        let desired = Lifecycle {
            id: "r",
            expiration_days: None,
            noncurrent_days: 90,
            abort_multipart_days: 7,
        };
        let rule = |noncurrent: i32| {
            LifecycleRule::builder()
                .id("r")
                .status(ExpirationStatus::Enabled)
                .noncurrent_version_expiration(
                    NoncurrentVersionExpiration::builder()
                        .noncurrent_days(noncurrent)
                        .build(),
                )
                .abort_incomplete_multipart_upload(
                    AbortIncompleteMultipartUpload::builder()
                        .days_after_initiation(7)
                        .build(),
                )
                .build()
                .unwrap()
        };
        let other = LifecycleRule::builder()
            .id("theirs")
            .status(ExpirationStatus::Disabled)
            .build()
            .unwrap();
        assert_eq!(diff_lifecycle(&[other.clone(), rule(90)], &desired), None);
        assert_eq!(
            diff_lifecycle(&[other, rule(30)], &desired).unwrap(),
            "lifecycle rule `r`: expire earlier versions after 90 days, abort incomplete uploads after 7 days"
        );
    }

    #[test]
    fn versioning_suspended_is_drift() {
        assert_eq!(
            diff_versioning(Some(&BucketVersioningStatus::Suspended)).unwrap(),
            "versioning Suspended → Enabled"
        );
        assert_eq!(
            diff_versioning(Some(&BucketVersioningStatus::Enabled)),
            None
        );
    }
}
