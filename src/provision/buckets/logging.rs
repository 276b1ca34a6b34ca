//! Server access logs of the content bucket, delivered to the log bucket.

use aws_sdk_s3::Client;
use aws_sdk_s3::types::{BucketLoggingStatus, LoggingEnabled};

use super::Ctx;
use crate::error::{AwsResultExt as _, Result};

/// `target` is the log bucket and the key prefix.
pub(super) async fn reconcile(
    ctx: &Ctx<'_>,
    bucket: &str,
    target: &(String, String),
    update: &mut impl FnMut(String),
) -> Result<()> {
    let s3 = &ctx.aws.s3;
    if let Some(detail) = diff_logging(observe_logging(s3, bucket).await?.as_ref(), target) {
        update(detail);
        if ctx.apply {
            put_logging(s3, bucket, target).await?;
        }
    }
    Ok(())
}

async fn observe_logging(s3: &Client, bucket: &str) -> Result<Option<(String, String)>> {
    Ok(s3
        .get_bucket_logging()
        .bucket(bucket)
        .send()
        .await
        .op("GetBucketLogging", &format!("bucket `{bucket}`"))?
        .logging_enabled
        .map(|l| (l.target_bucket, l.target_prefix)))
}

fn diff_logging(observed: Option<&(String, String)>, desired: &(String, String)) -> Option<String> {
    (observed != Some(desired))
        .then(|| format!("server access logs to s3://{}/{}", desired.0, desired.1))
}

async fn put_logging(s3: &Client, bucket: &str, (target, prefix): &(String, String)) -> Result<()> {
    s3.put_bucket_logging()
        .bucket(bucket)
        .bucket_logging_status(
            BucketLoggingStatus::builder()
                .logging_enabled(
                    LoggingEnabled::builder()
                        .target_bucket(target)
                        .target_prefix(prefix)
                        .build()?,
                )
                .build(),
        )
        .send()
        .await
        .op("PutBucketLogging", &format!("bucket `{bucket}`"))?;
    Ok(())
}
