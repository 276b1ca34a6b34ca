//! The `sitewarden:site` tag that marks a bucket as the site's. Other tags stay.

use aws_sdk_s3::Client;
use aws_sdk_s3::types::{Tag, Tagging};

use super::Ctx;
use crate::error::{AwsResultExt as _, Result};
use crate::names::SITE_TAG;
use crate::observe::bucket as observe;

pub(super) async fn reconcile(
    ctx: &Ctx<'_>,
    bucket: &str,
    update: &mut impl FnMut(String),
) -> Result<()> {
    let s3 = &ctx.aws.s3;
    if let Some(detail) = diff_tags(&observe::tags(s3, bucket).await?, &ctx.names.site) {
        update(detail);
        if ctx.apply {
            put_tags(s3, bucket, &ctx.names.site).await?;
        }
    }
    Ok(())
}

fn diff_tags(observed: &[Tag], site: &str) -> Option<String> {
    let ok = observed
        .iter()
        .any(|t| t.key == SITE_TAG && t.value == site);
    (!ok).then(|| format!("tag {SITE_TAG}={site}"))
}

async fn put_tags(s3: &Client, bucket: &str, site: &str) -> Result<()> {
    // Keep the bucket's other tags.
    let mut tags: Vec<Tag> = observe::tags(s3, bucket)
        .await?
        .into_iter()
        .filter(|t| t.key != SITE_TAG)
        .collect();
    tags.push(Tag::builder().key(SITE_TAG).value(site).build()?);
    s3.put_bucket_tagging()
        .bucket(bucket)
        .tagging(Tagging::builder().set_tag_set(Some(tags)).build()?)
        .send()
        .await
        .op("PutBucketTagging", &format!("bucket `{bucket}`"))?;
    Ok(())
}
