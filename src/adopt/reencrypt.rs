//! Re-encryption of the bucket's existing objects with the site key (step `close`).

use std::sync::Arc;

use aws_sdk_s3::types::ServerSideEncryption;
use tokio::sync::Semaphore;

use crate::error::{AwsResultExt as _, Error, Result};
use crate::output::escape;
use crate::provision::{Action, Ctx, Plan};

use super::survey::list_keys;
use crate::names::{Kind, Resource};

/// Objects re-encrypted at once.
const REENCRYPT_CONCURRENCY: usize = 16;
/// `CopyObject` copies up to 5 GiB; larger objects need a multipart copy.
const COPY_LIMIT: i64 = 5 * 1024 * 1024 * 1024;

/// Existing objects re-encrypted with the site key by copying each onto itself (metadata kept;
/// with versioning the earlier version stays recoverable until the lifecycle expires it).
pub(super) async fn reencrypt(ctx: &Ctx<'_>, key_arn: Option<&str>, plan: &mut Plan) -> Result<()> {
    let s3 = &ctx.aws.s3;
    let bucket = ctx.names.content_bucket.clone();
    let mut todo = Vec::new();
    for (key, size) in list_keys(s3, &bucket).await? {
        let resource = format!("object `{}`", escape(&key));
        // Deleted since the listing: nothing to do for it.
        let Some(head) = crate::observe::objects::head(s3, &bucket, &key, None, &resource).await?
        else {
            continue;
        };
        let encrypted = head.server_side_encryption == Some(ServerSideEncryption::AwsKms)
            && key_arn.is_some_and(|arn| head.ssekms_key_id.as_deref() == Some(arn));
        if !encrypted {
            if size > COPY_LIMIT {
                return Err(Error::failure_with_hint(
                    format!(
                        "object `{}` is larger than 5 GiB and cannot be re-encrypted by CopyObject",
                        escape(&key)
                    ),
                    "re-upload it (`sitewarden deploy`) or run adopt with --no-reencrypt",
                ));
            }
            todo.push((key, head.website_redirect_location));
        }
    }
    if todo.is_empty() {
        return Ok(());
    }
    ctx.change(
        plan,
        &Resource::new(Kind::Bucket, &bucket),
        Action::Update,
        format!(
            "re-encrypt {} existing object(s) with the site key (copy in place; earlier versions kept)",
            todo.len()
        ),
    );
    if !ctx.apply {
        return Ok(());
    }
    let key_arn = key_arn
        .ok_or_else(|| {
            Error::Other(anyhow::anyhow!(
                "the site key is not known after step `prepare`"
            ))
        })?
        .to_owned();
    let limit = Arc::new(Semaphore::new(REENCRYPT_CONCURRENCY));
    let mut tasks = tokio::task::JoinSet::new();
    for (key, redirect) in todo {
        let (s3, bucket, key_arn, limit) =
            (s3.clone(), bucket.clone(), key_arn.clone(), limit.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire().await;
            s3.copy_object()
                .bucket(&bucket)
                .key(&key)
                .copy_source(crate::aws::copy_source_current(&bucket, &key))
                .metadata_directive(aws_sdk_s3::types::MetadataDirective::Copy)
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .ssekms_key_id(&key_arn)
                .bucket_key_enabled(true)
                .set_website_redirect_location(redirect)
                .send()
                .await
                .op("CopyObject", &format!("object `{}`", escape(&key)))
                .map(|_| ())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.map_err(|e| Error::Other(e.into()))??;
    }
    Ok(())
}
