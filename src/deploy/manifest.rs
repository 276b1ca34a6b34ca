//! Stage 4, remote state: the private manifest plus one listing of the bucket (its key ranges
//! listed concurrently, split where the manifest's keys say the pages fall).
//!
//! `.sitewarden/manifest.json` maps each key to its SHA-256, size, headers, ETag and version id.
//! One ListObjectsV2 pass checks that every ETag still matches the manifest, so an object changed
//! or deleted out of band is seen (and restored) without a HEAD per object, and without ever
//! comparing a local MD5 with an ETag (SSE-KMS and multipart ETags are not MD5 digests). Only when
//! the manifest is missing or unreadable is it rebuilt from each object's `x-amz-meta-sha256`.

use std::collections::BTreeMap;

use aws_sdk_s3::Client;
use serde::{Deserialize, Serialize};

use aws_sdk_s3::error::ProvideErrorMetadata as _;

use crate::deploy::etag::Etag;
use crate::deploy::interned::{self, Shared};
use crate::deploy::sha::Sha;
use crate::error::{AwsResultExt as _, Error, Result, code};
use crate::observe::objects;

pub use crate::names::STATE_PREFIX;
pub const MANIFEST_KEY: &str = ".sitewarden/manifest.json";
/// User metadata holding each object's SHA-256 (`x-amz-meta-sha256`).
pub const SHA256_META: &str = "sha256";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub sha256: Sha,
    pub size: u64,
    #[serde(with = "interned")]
    pub content_type: Shared,
    #[serde(with = "interned")]
    pub cache_control: Shared,
    pub etag: Etag,
    pub version_id: Option<String>,
    /// CSP `"auto"`: the page's own policy, as its `x-amz-meta-csp` carries it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csp: Option<String>,
    /// CSP `"auto"`: why the page is on a fallback, if it is (kept so that an unchanged page is
    /// still listed without being analysed again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csp_fallback: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    /// The deploy that wrote this manifest.
    pub deploy_id: Option<String>,
    pub files: crate::deploy::files::Files,
    /// What the stored policies were computed under (mode and analysis version): another basis
    /// means every page is analysed again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csp_basis: Option<String>,
}

/// An object as listed: its ETag and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub etag: Etag,
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
    /// The ETag of the manifest object as read (`None`: there was none). The next manifest is
    /// written only over this one (`If-Match`), or only where there is none (`If-None-Match: *`).
    pub manifest_etag: Option<String>,
}

pub async fn load(s3: &Client, bucket: &str, warn: &dyn Fn(String)) -> Result<Remote> {
    let (manifest, manifest_etag) = read_with_etag(s3, bucket, warn).await?;
    // The key ranges of the listing come from what the manifest says is there.
    let splits = manifest.as_ref().map_or_else(Vec::new, |m| {
        objects::split_points(m.files.keys().map(String::as_str))
    });
    let listing = by_key(objects::list_ranges(s3, bucket, &splits).await?);
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
        manifest_etag,
    })
}

/// The manifest alone (one `GetObject`); `None` when there is none or it cannot be read.
pub async fn read(s3: &Client, bucket: &str, warn: &dyn Fn(String)) -> Result<Option<Manifest>> {
    Ok(read_with_etag(s3, bucket, warn).await?.0)
}

/// The manifest and the ETag of its object (set when the object exists, readable or not).
async fn read_with_etag(
    s3: &Client,
    bucket: &str,
    warn: &dyn Fn(String),
) -> Result<(Option<Manifest>, Option<String>)> {
    let resource = format!("bucket `{bucket}`");
    let Some((parsed, etag)) =
        objects::get_json::<Manifest>(s3, bucket, MANIFEST_KEY, &resource).await?
    else {
        return Ok((None, None));
    };
    match parsed {
        Ok(m) => Ok((Some(m), Some(etag))),
        Err(e) => {
            warn(format!(
                "{MANIFEST_KEY} in `{bucket}` is unreadable ({e}); rebuilding it from object metadata"
            ));
            Ok((None, Some(etag)))
        }
    }
}

/// Every published object (sitewarden's own state excluded), one ListObjectsV2 pass.
pub async fn list(s3: &Client, bucket: &str) -> Result<BTreeMap<String, Listed>> {
    Ok(by_key(objects::list(s3, bucket, None).await?))
}

/// The listed objects that are published (sitewarden's own state left out), by key.
fn by_key(objects: Vec<objects::Listed>) -> BTreeMap<String, Listed> {
    objects
        .into_iter()
        .filter(|o| !o.key.starts_with(STATE_PREFIX))
        .map(|o| {
            let listed = Listed {
                etag: Etag::from(o.etag),
                size: o.size,
            };
            (o.key, listed)
        })
        .collect()
}

/// The manifest from each object's metadata (one HEAD per object: only when the manifest is lost).
async fn rebuild(
    s3: &Client,
    bucket: &str,
    listing: &BTreeMap<String, Listed>,
) -> Result<Manifest> {
    let mut files = crate::deploy::files::Files::default();
    for (key, listed) in listing {
        // Deleted since the listing: nothing to record.
        let Some(head) = objects::head(s3, bucket, key, None, &format!("object `{key}`")).await?
        else {
            continue;
        };
        files.insert(
            key.clone(),
            Entry {
                // No recorded digest (uploaded by something else): empty, so it is uploaded again.
                sha256: head
                    .metadata
                    .as_ref()
                    .and_then(|m| m.get(SHA256_META))
                    .and_then(|hex| Sha::parse(hex))
                    .unwrap_or(Sha::UNKNOWN),
                size: listed.size,
                content_type: interned::intern(head.content_type.as_deref().unwrap_or_default()),
                cache_control: interned::intern(head.cache_control.as_deref().unwrap_or_default()),
                etag: listed.etag.clone(),
                version_id: head.version_id,
                csp: head
                    .metadata
                    .as_ref()
                    .and_then(|m| m.get(crate::csp::METADATA_KEY))
                    .cloned(),
                csp_fallback: None,
            },
        );
    }
    // No basis: every page is analysed again.
    Ok(Manifest {
        version: 1,
        deploy_id: None,
        files,
        csp_basis: None,
    })
}

/// Replaces the manifest only if it is still the one this run read (`read_etag`; `None`: there
/// was none), so a run that lost its lease can never overwrite a newer state.
pub async fn save(
    s3: &Client,
    bucket: &str,
    manifest: &Manifest,
    read_etag: Option<&str>,
) -> Result<()> {
    // Compact JSON, held once (the request shares the bytes): at 100,000 files the document is
    // some 25 MB.
    let body = bytes::Bytes::from(serde_json::to_vec(manifest).map_err(anyhow::Error::from)?);
    let request = json_request(s3, bucket, MANIFEST_KEY, body.clone());
    let request = match read_etag {
        Some(etag) => request.if_match(etag),
        None => request.if_none_match("*"),
    };
    match request.send().await {
        Ok(_) => Ok(()),
        Err(e) if e.code().is_some_and(|c| CONDITION_LOST.contains(&c)) => {
            // A retried write whose first attempt took effect (its answer lost) fails its own
            // condition: the manifest then is, byte for byte, the one this run wrote.
            let resource = format!("object `{MANIFEST_KEY}` in `{bucket}`");
            let current = objects::get(s3, bucket, MANIFEST_KEY, &resource).await?;
            if current.is_some_and(|current| current.body == body[..]) {
                return Ok(());
            }
            Err(Error::failure_with_hint(
                format!(
                    "`{MANIFEST_KEY}` in `{bucket}` changed since this run read it: another run \
                     published in between, so this run's state is not written over it"
                ),
                "run the deploy again: it starts from what is live now",
            ))
        }
        Err(e) => Err(Error::aws(
            "PutObject",
            format!("object `{MANIFEST_KEY}`"),
            e,
        )),
    }
}

/// The answers of a conditional write whose condition no longer holds: 412, 409 while another
/// write is in flight, or 404 for `If-Match` on a key that is gone.
pub(super) const CONDITION_LOST: &[&str] = &[
    code::PRECONDITION_FAILED,
    code::CONDITIONAL_REQUEST_CONFLICT,
    code::NO_SUCH_KEY,
];

/// A `PutObject` of one private JSON document (`no-store`, with its SHA-256 checksum); the caller
/// adds any condition.
pub(super) fn json_request(
    s3: &Client,
    bucket: &str,
    key: &str,
    body: bytes::Bytes,
) -> aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder {
    use sha2::Digest as _;
    let checksum = aws_smithy_types::base64::encode(sha2::Sha256::digest(&body));
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .content_type("application/json")
        .cache_control("no-store")
        .checksum_sha256(checksum)
        .body(body.into())
}

/// Writes one private JSON document with a SHA-256 checksum.
pub async fn put_json(s3: &Client, bucket: &str, key: &str, body: Vec<u8>) -> Result<()> {
    json_request(s3, bucket, key, body.into())
        .send()
        .await
        .op("PutObject", &format!("object `{key}`"))?;
    Ok(())
}
