//! Stage 5, diff: what to upload (new content, changed content, changed headers, objects changed
//! out of band), what to delete, and what is unchanged.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::manifest::{Listed, Manifest};

/// A local file ready to publish.
#[derive(Debug, Clone)]
pub struct Local {
    pub key: String,
    pub path: std::path::PathBuf,
    pub size: u64,
    pub sha256: String,
    pub content_type: String,
    pub cache_control: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    New,
    Content,
    /// Only Content-Type or Cache-Control changed.
    Headers,
    /// The object was changed or deleted outside sitewarden.
    Drift,
}

#[derive(Debug, Default)]
pub struct Diff {
    /// Indexes into the local files, with why.
    pub uploads: Vec<(usize, Reason)>,
    pub deletes: Vec<String>,
    pub unchanged: Vec<usize>,
}

pub fn diff(local: &[Local], manifest: &Manifest, listing: &BTreeMap<String, Listed>) -> Diff {
    let mut out = Diff::default();
    let local_keys: BTreeSet<&str> = local.iter().map(|l| l.key.as_str()).collect();
    for (i, file) in local.iter().enumerate() {
        let reason = match manifest.files.get(&file.key) {
            None => Some(Reason::New),
            Some(entry) if entry.sha256 != file.sha256 => Some(Reason::Content),
            Some(entry)
                if entry.content_type != file.content_type
                    || entry.cache_control != file.cache_control =>
            {
                Some(Reason::Headers)
            }
            Some(entry) if listing.get(&file.key).is_none_or(|l| l.etag != entry.etag) => {
                Some(Reason::Drift)
            }
            Some(_) => None,
        };
        match reason {
            Some(r) => out.uploads.push((i, r)),
            None => out.unchanged.push(i),
        }
    }
    out.deletes = listing
        .keys()
        .filter(|k| !local_keys.contains(k.as_str()))
        .cloned()
        .collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::manifest::Entry;

    fn local(key: &str, sha: &str, cc: &str) -> Local {
        Local {
            key: key.into(),
            path: key.into(),
            size: 1,
            sha256: sha.into(),
            content_type: "text/html".into(),
            cache_control: cc.into(),
        }
    }

    fn entry(sha: &str, cc: &str, etag: &str) -> Entry {
        Entry {
            sha256: sha.into(),
            size: 1,
            content_type: "text/html".into(),
            cache_control: cc.into(),
            etag: etag.into(),
            version_id: None,
        }
    }

    #[test]
    fn each_kind_of_change_is_detected() {
        let manifest = Manifest {
            version: 1,
            deploy_id: None,
            files: BTreeMap::from([
                ("same".into(), entry("1", "c", "e1")),
                ("content".into(), entry("old", "c", "e2")),
                ("headers".into(), entry("3", "old", "e3")),
                ("edited".into(), entry("4", "c", "e4")),
                ("vanished".into(), entry("5", "c", "e5")),
                ("removed".into(), entry("6", "c", "e6")),
            ]),
        };
        let listed = |etag: &str| Listed {
            etag: etag.into(),
            size: 1,
        };
        let listing = BTreeMap::from([
            ("same".into(), listed("e1")),
            ("content".into(), listed("e2")),
            ("headers".into(), listed("e3")),
            ("edited".into(), listed("out-of-band")),
            ("removed".into(), listed("e6")),
            ("stray".into(), listed("e7")),
        ]);
        let files = [
            local("same", "1", "c"),
            local("content", "2", "c"),
            local("headers", "3", "new"),
            local("edited", "4", "c"),
            local("vanished", "5", "c"),
            local("new", "8", "c"),
        ];
        let d = diff(&files, &manifest, &listing);
        assert_eq!(
            d.uploads,
            [
                (1, Reason::Content),
                (2, Reason::Headers),
                (3, Reason::Drift),
                (4, Reason::Drift),
                (5, Reason::New)
            ]
        );
        assert_eq!(d.unchanged, [0]);
        assert_eq!(d.deletes, ["removed", "stray"]);
    }
}
