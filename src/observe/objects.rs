//! Objects in the content bucket as they are: sitewarden's own state (manifest, deploy records,
//! the lease) read whole, the published objects listed, and one object's headers. Deploy, history,
//! rollback and the lease read through these, so "not there" is recognised one way.

use aws_sdk_s3::Client;
use aws_sdk_s3::operation::head_object::HeadObjectOutput;

use crate::error::{AwsResultExt as _, Error, Result, code};

/// An object read whole, with the ETag it had.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub body: Vec<u8>,
    pub etag: String,
}

/// The `GetObject` answer, body unread; `None` when the key is not there.
async fn get_object(
    s3: &Client,
    bucket: &str,
    key: &str,
    resource: &str,
) -> Result<Option<aws_sdk_s3::operation::get_object::GetObjectOutput>> {
    s3.get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .or_missing(&[code::NO_SUCH_KEY], "GetObject", resource)
}

/// One `GetObject`; `None` when the key is not there. `resource` names it in errors.
pub async fn get(s3: &Client, bucket: &str, key: &str, resource: &str) -> Result<Option<Fetched>> {
    let Some(out) = get_object(s3, bucket, key, resource).await? else {
        return Ok(None);
    };
    let etag = out.e_tag.clone().unwrap_or_default();
    let body = out
        .body
        .collect()
        .await
        .map_err(|e| anyhow::anyhow!("reading {key}: {e}"))?
        .into_bytes()
        .to_vec();
    Ok(Some(Fetched { body, etag }))
}

/// One `GetObject` of a JSON document, parsed as its body arrives: the body is never held whole
/// (at 100,000 files the manifest is some 30 MB, and its parsed form is as large again). `None`
/// when the key is not there; otherwise the ETag and what parsing gave (a document that does not
/// parse is the caller's to judge, an interrupted read is an error).
pub async fn get_json<T>(
    s3: &Client,
    bucket: &str,
    key: &str,
    resource: &str,
) -> Result<Option<(std::result::Result<T, serde_json::Error>, String)>>
where
    T: serde::de::DeserializeOwned + Send + 'static,
{
    let Some(mut out) = get_object(s3, bucket, key, resource).await? else {
        return Ok(None);
    };
    let etag = out.e_tag.clone().unwrap_or_default();
    // A few chunks in flight between the network and the parser thread.
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let parser = tokio::task::spawn_blocking(move || {
        let chunks = Chunks {
            rx,
            current: bytes::Bytes::new(),
        };
        serde_json::from_reader::<_, T>(std::io::BufReader::with_capacity(64 * 1024, chunks))
    });
    let mut failed = None;
    loop {
        match out.body.next().await {
            Some(Ok(chunk)) => {
                if tx.send(Ok(chunk)).await.is_err() {
                    break; // the parser stopped early (a syntax error): its answer says why
                }
            }
            Some(Err(e)) => {
                failed = Some(format!("reading {key}: {e}"));
                let _ = tx
                    .send(Err(std::io::Error::other("body interrupted")))
                    .await;
                break;
            }
            None => break,
        }
    }
    drop(tx);
    let parsed = parser
        .await
        .map_err(|e| anyhow::anyhow!("parsing {key}: {e}"))?;
    if let Some(message) = failed {
        return Err(anyhow::anyhow!(message).into());
    }
    Ok(Some((parsed, etag)))
}

/// The chunks of a body as one `Read`, for a parser on a blocking thread.
struct Chunks {
    rx: tokio::sync::mpsc::Receiver<std::io::Result<bytes::Bytes>>,
    current: bytes::Bytes,
}

impl std::io::Read for Chunks {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(chunk) => self.current = chunk?,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// An object as S3 serves it to a reader: the bytes and the headers S3 answers with.
#[derive(Debug, Clone, Default)]
pub struct Served {
    pub body: Vec<u8>,
    pub content_type: Option<String>,
    pub cache_control: Option<String>,
    /// User metadata (`x-amz-meta-<name>`), by name without the prefix.
    pub metadata: std::collections::BTreeMap<String, String>,
    pub etag: Option<String>,
    /// As an HTTP date.
    pub last_modified: Option<String>,
}

/// One `GetObject` of the current version with its headers; `None` when the key is not there.
pub async fn served(s3: &Client, bucket: &str, key: &str) -> Result<Option<Served>> {
    let resource = format!("s3 object {bucket}/{key}");
    let Some(out) = get_object(s3, bucket, key, &resource).await? else {
        return Ok(None);
    };
    let last_modified = out
        .last_modified
        .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::HttpDate).ok());
    let body = out
        .body
        .collect()
        .await
        .map_err(|e| anyhow::anyhow!("reading {resource}: {e}"))?
        .into_bytes()
        .to_vec();
    Ok(Some(Served {
        body,
        content_type: out.content_type,
        cache_control: out.cache_control,
        metadata: out.metadata.unwrap_or_default().into_iter().collect(),
        etag: out.e_tag,
        last_modified,
    }))
}

/// An object as `ListObjectsV2` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub key: String,
    pub etag: String,
    pub size: u64,
}

/// Every object under `prefix` (all of them for `None`), one paginated `ListObjectsV2` pass.
pub async fn list(s3: &Client, bucket: &str, prefix: Option<&str>) -> Result<Vec<Listed>> {
    list_range(s3, bucket, prefix.map(ToOwned::to_owned), None, None).await
}

/// Keys per `ListObjectsV2` page (S3's maximum, and its default).
pub const PAGE: usize = 1000;
/// Key ranges listed at once by [`list_ranges`].
pub const RANGES: usize = 8;

/// Split points for [`list_ranges`] from keys the caller expects (sorted, e.g. the manifest's):
/// every range but the last holds a whole number of pages of them, so that the listing costs the
/// pages one sequential pass would, plus at most one per range; none for a single page.
pub fn split_points<'a>(sorted: impl ExactSizeIterator<Item = &'a str>) -> Vec<String> {
    let pages = sorted.len().div_ceil(PAGE);
    if pages < 2 {
        return Vec::new();
    }
    let (count, per_range) = (sorted.len(), pages.div_ceil(RANGES) * PAGE);
    sorted
        .enumerate()
        .filter(|(i, _)| (i + 1) % per_range == 0 && i + 1 < count)
        .map(|(_, key)| key.to_owned())
        .take(RANGES - 1)
        .collect()
}

/// Every object in the bucket, as one sequential [`list`] would return it (same keys, same order),
/// with the key ranges `(-∞, s₁]`, `(s₁, s₂]`, …, `(sₙ, ∞)` listed concurrently: each range starts
/// after its split point (`StartAfter`) and stops at the first page that reaches the next one.
/// Keys added anywhere since the split points were chosen fall in some range and are listed; the
/// split points need not exist in the bucket.
pub async fn list_ranges(s3: &Client, bucket: &str, splits: &[String]) -> Result<Vec<Listed>> {
    let mut splits = splits.to_vec();
    splits.sort();
    splits.dedup();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..=splits.len() {
        let start = i.checked_sub(1).map(|j| splits[j].clone());
        let end = splits.get(i).cloned();
        let (s3, bucket) = (s3.clone(), bucket.to_owned());
        tasks.spawn(async move { (i, list_range(&s3, &bucket, None, start, end).await) });
    }
    let mut ranges = vec![Vec::new(); splits.len() + 1];
    while let Some(done) = tasks.join_next().await {
        let (i, listed) = done.map_err(|e| Error::Other(e.into()))?;
        ranges[i] = listed?;
    }
    Ok(ranges.into_iter().flatten().collect())
}

/// The objects under `prefix` after `start` up to and including `end` (`None`: unbounded).
async fn list_range(
    s3: &Client,
    bucket: &str,
    prefix: Option<String>,
    start: Option<String>,
    end: Option<String>,
) -> Result<Vec<Listed>> {
    let resource = format!("bucket `{bucket}`");
    let mut out = Vec::new();
    let mut pages = s3
        .list_objects_v2()
        .bucket(bucket)
        .set_prefix(prefix)
        .set_start_after(start)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for object in page
            .op("ListObjectsV2", &resource)?
            .contents
            .unwrap_or_default()
        {
            let Some(key) = object.key else { continue };
            if end.as_ref().is_some_and(|end| key > *end) {
                return Ok(out);
            }
            let done = end.as_ref() == Some(&key);
            out.push(Listed {
                key,
                etag: object.e_tag.unwrap_or_default(),
                size: object.size.and_then(|s| u64::try_from(s).ok()).unwrap_or(0),
            });
            if done {
                return Ok(out);
            }
        }
    }
    Ok(out)
}

/// One `HeadObject` of the current version, or of `version`; `None` when it is not there.
pub async fn head(
    s3: &Client,
    bucket: &str,
    key: &str,
    version: Option<&str>,
    resource: &str,
) -> Result<Option<HeadObjectOutput>> {
    s3.head_object()
        .bucket(bucket)
        .key(key)
        .set_version_id(version.map(ToOwned::to_owned))
        .send()
        .await
        .or_missing(
            &[code::NOT_FOUND, code::NO_SUCH_KEY, code::NO_SUCH_VERSION],
            "HeadObject",
            resource,
        )
}

/// Where a listing of versions goes on (`ListObjectVersions` has no SDK paginator).
#[derive(Debug, Clone, Default)]
pub struct VersionMarker {
    key: Option<String>,
    version: Option<String>,
}

/// One page of every version and delete marker: `(key, version id)`, and where the next page
/// starts (`None`: this was the last).
#[derive(Debug, Default)]
pub struct Versions {
    pub versions: Vec<(String, Option<String>)>,
    pub next: Option<VersionMarker>,
}

/// One `ListObjectVersions` page from `marker`.
pub async fn versions(s3: &Client, bucket: &str, marker: VersionMarker) -> Result<Versions> {
    let page = s3
        .list_object_versions()
        .bucket(bucket)
        .set_key_marker(marker.key)
        .set_version_id_marker(marker.version)
        .send()
        .await
        .op("ListObjectVersions", &format!("bucket `{bucket}`"))?;
    let versions = page.versions().iter().map(|v| (v.key(), v.version_id()));
    let markers = page
        .delete_markers()
        .iter()
        .map(|m| (m.key(), m.version_id()));
    let listed = versions
        .chain(markers)
        .filter_map(|(key, version)| Some((key?.to_owned(), version.map(str::to_owned))))
        .collect();
    let next = (page.is_truncated() == Some(true)).then(|| VersionMarker {
        key: page.next_key_marker.clone(),
        version: page.next_version_id_marker.clone(),
    });
    Ok(Versions {
        versions: listed,
        next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("k{i:06}")).collect()
    }

    #[test]
    fn split_points_cut_whole_pages_into_at_most_eight_ranges() {
        assert!(split_points(keys(0).iter().map(String::as_str)).is_empty());
        assert!(split_points(keys(1000).iter().map(String::as_str)).is_empty());
        // 2 pages: two ranges of one page each.
        let two = keys(1001);
        assert_eq!(split_points(two.iter().map(String::as_str)), ["k000999"]);
        // 10 pages over 8 ranges: 2 pages a range, so 5 ranges.
        let ten = keys(10_000);
        assert_eq!(
            split_points(ten.iter().map(String::as_str)),
            ["k001999", "k003999", "k005999", "k007999"]
        );
        // 100 pages: 13 pages a range, the last range takes the rest.
        let hundred = keys(100_000);
        let points = split_points(hundred.iter().map(String::as_str));
        assert_eq!(points.len(), RANGES - 1);
        assert_eq!(points[0], "k012999");
        assert_eq!(points[6], "k090999");
    }
}
