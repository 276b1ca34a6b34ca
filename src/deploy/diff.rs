//! Stage 5, diff: what to upload (new content, changed content, changed headers, objects changed
//! out of band), what to delete, and what is unchanged.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::interned::Shared;
use super::manifest::{Listed, Manifest};
use super::sha::Sha;

/// A local file ready to publish.
#[derive(Debug, Clone)]
pub struct Local {
    pub key: String,
    pub path: std::path::PathBuf,
    pub size: u64,
    pub sha256: Sha,
    pub content_type: Shared,
    pub cache_control: Shared,
    /// CSP `"auto"`: the page's own policy (`x-amz-meta-csp`), set by `csp::assign`.
    pub csp: Option<String>,
    /// CSP `"auto"`: why the page is on a fallback.
    pub csp_fallback: Option<String>,
    /// The SHA-256 of each part, for a file uploaded in parts (from the hash pass).
    pub parts: Vec<Sha>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    New,
    Content,
    /// Only Content-Type, Cache-Control or the page's Content-Security-Policy changed.
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
                    || entry.cache_control != file.cache_control
                    || entry.csp != file.csp =>
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
            sha256: Sha::of(sha.as_bytes()),
            content_type: "text/html".into(),
            cache_control: cc.into(),
            csp: None,
            csp_fallback: None,
            parts: Vec::new(),
        }
    }

    fn entry(sha: &str, cc: &str, etag: &str) -> Entry {
        Entry {
            sha256: Sha::of(sha.as_bytes()),
            size: 1,
            content_type: "text/html".into(),
            cache_control: cc.into(),
            etag: etag.into(),
            version_id: None,
            csp: None,
            csp_fallback: None,
        }
    }

    #[test]
    fn each_kind_of_change_is_detected() {
        let mut manifest = Manifest {
            csp_basis: None,
            version: 1,
            deploy_id: None,
            files: [
                ("same".into(), entry("1", "c", "e1")),
                ("content".into(), entry("old", "c", "e2")),
                ("headers".into(), entry("3", "old", "e3")),
                ("edited".into(), entry("4", "c", "e4")),
                ("vanished".into(), entry("5", "c", "e5")),
                ("removed".into(), entry("6", "c", "e6")),
                ("policy".into(), entry("7", "c", "e7")),
            ]
            .into_iter()
            .collect(),
        };
        // A page whose policy changed is a header change; its stored one came from a deploy.
        manifest.files.get_mut("policy").unwrap().csp = Some("default-src 'self'".into());
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
            ("stray".into(), listed("e9")),
            ("policy".into(), listed("e7")),
        ]);
        let files = [
            local("same", "1", "c"),
            local("content", "2", "c"),
            local("headers", "3", "new"),
            local("edited", "4", "c"),
            local("vanished", "5", "c"),
            local("new", "8", "c"),
            Local {
                csp: Some("default-src 'self'; script-src 'self' 'sha256-x'".into()),
                ..local("policy", "7", "c")
            },
        ];
        let d = diff(&files, &manifest, &listing);
        assert_eq!(
            d.uploads,
            [
                (1, Reason::Content),
                (2, Reason::Headers),
                (3, Reason::Drift),
                (4, Reason::Drift),
                (5, Reason::New),
                (6, Reason::Headers)
            ]
        );
        assert_eq!(d.unchanged, [0]);
        assert_eq!(d.deletes, ["removed", "stray"]);
    }
}
