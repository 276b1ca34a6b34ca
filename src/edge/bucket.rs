//! The origin of a live distribution: its S3 bucket, read with `GetObject` through `observe`.
//!
//! The reader here is the user, not CloudFront: what the bucket policy denies CloudFront (the
//! state under `.sitewarden/`) is refused here the same way, so the preview answers what a visitor
//! would get.

use super::pipeline::{Object, Origin};
use crate::error::Result;
use crate::names::STATE_PREFIX;

/// An S3 bucket as a distribution's origin.
#[derive(Debug, Clone)]
pub struct Bucket {
    pub s3: aws_sdk_s3::Client,
    pub bucket: String,
}

impl Origin for Bucket {
    async fn get(&self, key: &str) -> Result<Option<Object>> {
        if key.starts_with(STATE_PREFIX) {
            return Ok(None);
        }
        let served = crate::observe::objects::served(&self.s3, &self.bucket, key).await?;
        Ok(served.map(|s| Object {
            body: s.body,
            content_type: s.content_type,
            cache_control: s.cache_control,
            metadata: s.metadata,
            etag: s.etag,
            last_modified: s.last_modified,
        }))
    }
}
