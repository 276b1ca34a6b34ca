//! Server access logs of the content bucket, delivered to the log bucket.

use aws_sdk_s3::Client;
use aws_sdk_s3::types::{BucketLoggingStatus, LoggingEnabled};

use super::Ctx;
use crate::error::{AwsResultExt as _, Result};
use crate::observe::bucket::{self as observe, LogTarget};

/// `target` is the log bucket and the key prefix.
pub(super) async fn reconcile(
    ctx: &Ctx<'_>,
    bucket: &str,
    target: &LogTarget,
    update: &mut impl FnMut(String),
) -> Result<()> {
    let s3 = &ctx.aws.s3;
    if let Some(detail) = diff_logging(observe::logging(s3, bucket).await?.as_ref(), target) {
        update(detail);
        if ctx.apply {
            put_logging(s3, bucket, target).await?;
        }
    }
    Ok(())
}

fn diff_logging(observed: Option<&LogTarget>, desired: &LogTarget) -> Option<String> {
    (observed != Some(desired)).then(|| {
        format!(
            "server access logs to s3://{}/{}",
            desired.bucket, desired.prefix
        )
    })
}

async fn put_logging(s3: &Client, bucket: &str, target: &LogTarget) -> Result<()> {
    s3.put_bucket_logging()
        .bucket(bucket)
        .bucket_logging_status(
            BucketLoggingStatus::builder()
                .logging_enabled(
                    LoggingEnabled::builder()
                        .target_bucket(&target.bucket)
                        .target_prefix(&target.prefix)
                        .build()?,
                )
                .build(),
        )
        .send()
        .await
        .op("PutBucketLogging", &format!("bucket `{bucket}`"))?;
    Ok(())
}
