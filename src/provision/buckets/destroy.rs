//! `destroy`: the buckets hold the site's data, so they are emptied and deleted only with
//! `--delete-content`, and an adopted bucket (the user's own) never.

use aws_sdk_s3::Client;

use super::{Action, Ctx, Plan, exists};
use crate::error::{AwsResultExt as _, Error, Result};
use crate::names::{Kind, Resource};

/// `destroy --delete-content`: empties (every version) and deletes both buckets. Without it the
/// buckets and their data stay.
pub async fn destroy(ctx: &Ctx<'_>, plan: &mut Plan, delete_content: bool) -> Result<()> {
    for bucket in [&ctx.names.content_bucket, &ctx.names.log_bucket] {
        if !exists(ctx.aws, bucket).await? {
            continue;
        }
        if ctx
            .config
            .site
            .bucket
            .as_ref()
            .is_some_and(|b| b.as_str() == bucket.as_str())
        {
            continue; // an adopted bucket is the user's: never deleted
        }
        let resource = Resource::new(Kind::Bucket, bucket);
        if !delete_content {
            ctx.printer.info(format_args!(
                "keeping {resource} and its data (pass --delete-content to delete it)"
            ));
            continue;
        }
        ctx.change(
            plan,
            &resource,
            Action::Delete,
            "delete every object version and the bucket",
        );
        if ctx.apply {
            empty_and_delete(&ctx.aws.s3, bucket).await?;
        }
    }
    Ok(())
}

async fn empty_and_delete(s3: &Client, bucket: &str) -> Result<()> {
    use aws_sdk_s3::types::{Delete, ObjectIdentifier};
    let resource = format!("bucket `{bucket}`");
    let mut batch: Vec<ObjectIdentifier> = Vec::new();
    let flush = |batch: Vec<ObjectIdentifier>| async {
        if batch.is_empty() {
            return Ok::<(), Error>(());
        }
        s3.delete_objects()
            .bucket(bucket)
            .delete(
                Delete::builder()
                    .set_objects(Some(batch))
                    .quiet(true)
                    .build()?,
            )
            .send()
            .await
            .op("DeleteObjects", &resource)?;
        Ok(())
    };
    // One page of versions at a time, deleted in batches of 1000 (DeleteObjects' limit).
    let mut next = Some(crate::observe::objects::VersionMarker::default());
    while let Some(marker) = next {
        let page = crate::observe::objects::versions(s3, bucket, marker).await?;
        for (key, version) in page.versions {
            batch.push(
                ObjectIdentifier::builder()
                    .key(key)
                    .set_version_id(version)
                    .build()?,
            );
            if batch.len() == 1000 {
                flush(std::mem::take(&mut batch)).await?;
            }
        }
        next = page.next;
    }
    flush(batch).await?;
    s3.delete_bucket()
        .bucket(bucket)
        .send()
        .await
        .op("DeleteBucket", &resource)?;
    Ok(())
}
