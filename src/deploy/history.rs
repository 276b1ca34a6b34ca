//! Stage 7, record: every deploy is written to `.sitewarden/deploys/<id>.json` with each key's
//! version id, so `history` can list deploys and `rollback` can restore one server-side.

use std::path::Path;

use aws_sdk_s3::Client;
use aws_smithy_types::date_time::Format;
use serde::{Deserialize, Serialize};

use super::manifest::{STATE_PREFIX, put_json};
use crate::error::{Error, Result};
use crate::observe::objects;

pub const DEPLOYS_PREFIX: &str = ".sitewarden/deploys/";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeployRecord {
    pub id: String,
    /// RFC 3339, UTC.
    pub time: String,
    /// The source commit, when known (`GITHUB_SHA` or `git rev-parse HEAD`).
    pub commit: Option<String>,
    /// Set when this deploy restored an earlier one.
    pub rollback_of: Option<String>,
    pub files: super::files::Files,
}

/// A sortable id (`20261122T232519.306Z-ab0c`: UTC time to the millisecond plus a few bits against
/// collisions) and the RFC 3339 time.
pub fn new_id() -> (String, String) {
    let now = std::time::SystemTime::now();
    let since_epoch = now
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let millis = since_epoch.subsec_millis();
    let seconds =
        aws_smithy_types::DateTime::from_secs(i64::try_from(since_epoch.as_secs()).unwrap_or(0));
    let time = seconds.fmt(Format::DateTime).unwrap_or_default(); // 2026-11-22T23:25:19Z
    let compact: String = time
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() && *c != 'Z')
        .collect();
    let salt = (since_epoch.subsec_nanos() ^ std::process::id().rotate_left(16)) & 0xffff;
    (format!("{compact}.{millis:03}Z-{salt:04x}"), time)
}

pub fn source_commit(dir: &Path) -> Option<String> {
    if let Some(sha) = std::env::var("GITHUB_SHA").ok().filter(|s| !s.is_empty()) {
        return Some(sha);
    }
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
}

pub async fn save(s3: &Client, bucket: &str, record: &DeployRecord) -> Result<()> {
    let key = format!("{DEPLOYS_PREFIX}{}.json", record.id);
    put_json(
        s3,
        bucket,
        &key,
        serde_json::to_vec(record).map_err(anyhow::Error::from)?,
    )
    .await
}

/// Recorded deploy ids, oldest first.
pub async fn ids(s3: &Client, bucket: &str) -> Result<Vec<String>> {
    let mut ids: Vec<String> = objects::list(s3, bucket, Some(DEPLOYS_PREFIX))
        .await?
        .iter()
        .filter_map(|o| {
            o.key
                .strip_prefix(DEPLOYS_PREFIX)
                .and_then(|k| k.strip_suffix(".json"))
                .map(ToOwned::to_owned)
        })
        .collect();
    ids.sort();
    Ok(ids)
}

pub async fn read(s3: &Client, bucket: &str, id: &str) -> Result<DeployRecord> {
    if id.contains('/') || id.is_empty() {
        return Err(Error::usage(format!(
            "`{id}` is not a deploy id (see `sitewarden history`)"
        )));
    }
    let key = format!("{DEPLOYS_PREFIX}{id}.json");
    let Some(fetched) = objects::get(s3, bucket, &key, &format!("object `{key}`")).await? else {
        return Err(Error::usage_with_hint(
            format!("no deploy `{id}` in bucket `{bucket}`"),
            "`sitewarden history` lists the recorded deploys",
        ));
    };
    Ok(serde_json::from_slice(&fetched.body)
        .map_err(|e| anyhow::anyhow!("{key} is not a deploy record: {e}"))?)
}

/// `x-amz-copy-source` for one version of a key (the key URL-encoded, `/` kept).
pub fn copy_source(bucket: &str, key: &str, version_id: &str) -> String {
    let version =
        percent_encoding::utf8_percent_encode(version_id, percent_encoding::NON_ALPHANUMERIC);
    format!("{}?versionId={version}", copy_source_current(bucket, key))
}

pub use crate::aws::copy_source_current;

/// Keys outside sitewarden's private state.
pub fn is_site_key(key: &str) -> bool {
    !key.starts_with(STATE_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_time() {
        let (id, time) = new_id();
        assert_eq!(id.len(), "20261122T225500.123Z-abcd".len(), "{id}");
        assert_eq!(&id[..4], &time[..4], "{id} {time}");
        assert_eq!(&id[9..15], time[11..19].replace(':', ""), "{id} {time}");
        assert!(
            time.ends_with('Z') && time.len() == "2026-11-22T22:55:00Z".len(),
            "{time}"
        );
    }

    #[test]
    fn copy_source_encodes_the_key_and_version() {
        assert_eq!(
            copy_source("b", "a b/caf\u{e9}+#?.html", "v/1+"),
            "b/a%20b/caf%C3%A9%2B%23%3F.html?versionId=v%2F1%2B"
        );
    }
}
