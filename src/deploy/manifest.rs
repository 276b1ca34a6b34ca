//! Stage 4, remote state: the private manifest plus one listing of the bucket.
//!
//! `.sitewarden/manifest.json` maps each key to its SHA-256, size, headers, ETag and version id.
//! One ListObjectsV2 pass checks that every ETag still matches the manifest, so an object changed
//! or deleted out of band is seen (and restored) without a HEAD per object, and without ever
//! comparing a local MD5 with an ETag (SSE-KMS and multipart ETags are not MD5 digests). Only when
//! the manifest is missing or unreadable is it rebuilt from each object's `x-amz-meta-sha256`.

use std::collections::BTreeMap;

use aws_sdk_s3::Client;
use serde::{Deserialize, Serialize};

use crate::error::{AwsResultExt as _, Result};

/// Prefix of sitewarden's private state in the content bucket (denied to CloudFront).
pub const STATE_PREFIX: &str = ".sitewarden/";
pub const MANIFEST_KEY: &str = ".sitewarden/manifest.json";
/// User metadata holding each object's SHA-256 (`x-amz-meta-sha256`).
pub const SHA256_META: &str = "sha256";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
    pub cache_control: String,
    pub etag: String,
    pub version_id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    /// The deploy that wrote this manifest.
    pub deploy_id: Option<String>,
    pub files: BTreeMap<String, Entry>,
}

/// An object as listed: its ETag and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub etag: String,
    pub size: u64,
}

#[derive(Debug, Default)]
pub struct Remote {
    pub manifest: Manifest,
    /// Whether the site was published before: a manifest or any object was there. A first deploy
    /// has nothing cached to invalidate; a bucket whose manifest was lost, or one `adopt` took
    /// over with its objects, has.
    pub published: bool,
    pub listing: BTreeMap<String, Listed>,
}

pub async fn load(s3: &Client, bucket: &str, warn: &dyn Fn(String)) -> Result<Remote> {
    let manifest = read(s3, bucket, warn).await?;
    let listing = list(s3, bucket).await?;
    let published = manifest.is_some() || !listing.is_empty();
    let manifest = match manifest {
        Some(m) => m,
        None if listing.is_empty() => Manifest::default(),
        None => rebuild(s3, bucket, &listing).await?,
    };
    Ok(Remote {
        manifest,
        published,
        listing,
    })
}

/// The manifest alone (one `GetObject`); `None` when there is none or it cannot be read.
pub async fn read(s3: &Client, bucket: &str, warn: &dyn Fn(String)) -> Result<Option<Manifest>> {
    let resource = format!("bucket `{bucket}`");
    let Some(out) = s3
        .get_object()
        .bucket(bucket)
        .key(MANIFEST_KEY)
        .send()
        .await
        .or_missing(&["NoSuchKey"], "GetObject", &resource)?
    else {
        return Ok(None);
    };
    let bytes = out
        .body
        .collect()
        .await
        .map_err(|e| anyhow::anyhow!("reading {MANIFEST_KEY}: {e}"))?
        .into_bytes();
    match serde_json::from_slice::<Manifest>(&bytes) {
        Ok(m) => Ok(Some(m)),
        Err(e) => {
            warn(format!(
                "{MANIFEST_KEY} in `{bucket}` is unreadable ({e}); rebuilding it from object metadata"
            ));
            Ok(None)
        }
    }
}

/// Every published object (sitewarden's own state excluded), one ListObjectsV2 pass.
pub async fn list(s3: &Client, bucket: &str) -> Result<BTreeMap<String, Listed>> {
    let resource = format!("bucket `{bucket}`");
    let mut listing = BTreeMap::new();
    let mut pages = s3.list_objects_v2().bucket(bucket).into_paginator().send();
    while let Some(page) = pages.next().await {
        for object in page
            .op("ListObjectsV2", &resource)?
            .contents
            .unwrap_or_default()
        {
            let Some(key) = object.key else { continue };
            if key.starts_with(STATE_PREFIX) {
                continue;
            }
            let etag = object.e_tag.unwrap_or_default();
            let size = object.size.and_then(|s| u64::try_from(s).ok()).unwrap_or(0);
            listing.insert(key, Listed { etag, size });
        }
    }
    Ok(listing)
}

/// The manifest from each object's metadata (one HEAD per object: only when the manifest is lost).
async fn rebuild(
    s3: &Client,
    bucket: &str,
    listing: &BTreeMap<String, Listed>,
) -> Result<Manifest> {
    let mut files = BTreeMap::new();
    for (key, listed) in listing {
        let head = s3
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .op("HeadObject", &format!("object `{key}`"))?;
        files.insert(
            key.clone(),
            Entry {
                // No recorded digest (uploaded by something else): empty, so it is uploaded again.
                sha256: head
                    .metadata
                    .as_ref()
                    .and_then(|m| m.get(SHA256_META))
                    .cloned()
                    .unwrap_or_default(),
                size: listed.size,
                content_type: head.content_type.unwrap_or_default(),
                cache_control: head.cache_control.unwrap_or_default(),
                etag: listed.etag.clone(),
                version_id: head.version_id,
            },
        );
    }
    Ok(Manifest {
        version: 1,
        deploy_id: None,
        files,
    })
}

pub async fn save(s3: &Client, bucket: &str, manifest: &Manifest) -> Result<()> {
    put_json(
        s3,
        bucket,
        MANIFEST_KEY,
        &serde_json::to_vec_pretty(manifest).map_err(anyhow::Error::from)?,
    )
    .await
}

/// Writes one private JSON document with a SHA-256 checksum.
pub async fn put_json(s3: &Client, bucket: &str, key: &str, body: &[u8]) -> Result<()> {
    use sha2::Digest as _;
    let checksum = aws_smithy_types::base64::encode(sha2::Sha256::digest(body));
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .content_type("application/json")
        .cache_control("no-store")
        .checksum_sha256(checksum)
        .body(body.to_vec().into())
        .send()
        .await
        .op("PutObject", &format!("object `{key}`"))?;
    Ok(())
}
