//! CSP `"auto"` at deploy: each HTML page's own policy ([`crate::csp`]), computed only for pages
//! that changed, that have no stored policy, or whose stored policy was computed under another
//! basis (mode and analysis version), and otherwise taken from the manifest: a no-op deploy reads
//! no page twice.
//!
//! The policy travels with the object as `x-amz-meta-csp` (see `upload`), which the
//! viewer-response function turns into the `Content-Security-Policy` header; it joins the header
//! comparison of the diff, so a changed policy re-uploads the page.

use std::collections::BTreeSet;

use serde::Serialize;

use super::diff::Local;
use super::headers::is_html;
use super::manifest::Manifest;
use crate::config::{Config, Csp};
use crate::csp::{ANALYSIS_VERSION, METADATA_ROOM, Outcome};

/// What the policies of this deploy came to.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// HTML pages analysed in this run (changed, new, or under another basis).
    pub analysed: usize,
    /// HTML pages that carry a policy of their own.
    pub per_page: usize,
    /// Distinct inline hashes over every page's policy.
    pub hashes: usize,
    /// Pages on a fallback, with why.
    pub fallbacks: Vec<Fallback>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Fallback {
    pub key: String,
    pub reason: String,
}

/// The basis the stored policies must have been computed under; `None` with a fixed policy.
pub fn basis(config: &Config) -> Option<String> {
    (config.headers.csp() == Csp::Auto).then(|| format!("auto/v{ANALYSIS_VERSION}"))
}

/// Gives every HTML page of `local` its policy: stored ones where still valid, the others analysed
/// (on all cores). `None` with a fixed policy (then no page carries one).
pub fn assign(
    config: &Config,
    local: &mut [Local],
    manifest: &Manifest,
) -> crate::error::Result<Option<Report>> {
    let Some(basis) = basis(config) else {
        for file in local.iter_mut() {
            file.csp = None;
            file.csp_fallback = None;
        }
        return Ok(None);
    };
    let same_basis = manifest.csp_basis.as_deref() == Some(basis.as_str());
    let mut todo = Vec::new();
    for (i, file) in local.iter_mut().enumerate() {
        if !is_html(&file.key) {
            continue;
        }
        let stored = manifest.files.get(&file.key).filter(|e| {
            same_basis && e.sha256 == file.sha256 && (e.csp.is_some() || e.csp_fallback.is_some())
        });
        match stored {
            Some(entry) => {
                file.csp.clone_from(&entry.csp);
                file.csp_fallback.clone_from(&entry.csp_fallback);
            }
            None => todo.push(i),
        }
    }
    let error_page = config.deploy.error_page();
    let outcomes = analyse_all(local, &todo)?;
    for (i, (outcome, as_error_page)) in todo.iter().zip(outcomes) {
        let file = &mut local[*i];
        file.csp = outcome.policy().map(str::to_owned);
        let reasons: Vec<String> = outcome
            .fallback_reason()
            .into_iter()
            .chain(as_error_page.filter(|_| file.key == error_page))
            .collect();
        file.csp_fallback = (!reasons.is_empty()).then(|| reasons.join("; "));
    }
    Ok(Some(report(local, todo.len())))
}

/// The policy a page carries under CSP `"auto"` (`None` for other objects, or with a fixed
/// policy, or when it falls back to the site-wide one): what `deploy` stores as `x-amz-meta-csp`,
/// for `preview` to serve a folder as a deploy would publish it.
pub fn page_policy(config: &Config, key: &str, html: &[u8]) -> Option<String> {
    if basis(config).is_none() || !is_html(key) {
        return None;
    }
    crate::csp::analyse(html)
        .outcome(METADATA_ROOM)
        .policy()
        .map(str::to_owned)
}

/// Each page's outcome, and its fallback reason as the error page (site-wide policy).
fn analyse_all(
    local: &[Local],
    todo: &[usize],
) -> crate::error::Result<Vec<(Outcome, Option<String>)>> {
    let threads = std::thread::available_parallelism()
        .map_or(2, std::num::NonZero::get)
        .clamp(1, todo.len().max(1));
    let chunk = todo.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = todo
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|&i| {
                            let html = std::fs::read(&local[i].path).map_err(|e| {
                                anyhow::anyhow!("cannot read `{}`: {e}", local[i].path.display())
                            })?;
                            let page = crate::csp::analyse(&html);
                            let (_, as_error) = crate::csp::site_policy(Some(&page));
                            Ok((page.outcome(METADATA_ROOM), as_error))
                        })
                        .collect::<anyhow::Result<Vec<_>>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(todo.len());
        for handle in handles {
            out.extend(handle.join().expect("analysis thread")?);
        }
        Ok(out)
    })
}

fn report(local: &[Local], analysed: usize) -> Report {
    let mut hashes = BTreeSet::new();
    let mut per_page = 0;
    let mut fallbacks = Vec::new();
    for file in local.iter().filter(|f| is_html(&f.key)) {
        if let Some(policy) = &file.csp {
            per_page += 1;
            hashes.extend(
                policy
                    .split_ascii_whitespace()
                    .filter(|w| w.starts_with("'sha256-")),
            );
        }
        if let Some(reason) = &file.csp_fallback {
            fallbacks.push(Fallback {
                key: file.key.clone(),
                reason: reason.clone(),
            });
        }
    }
    Report {
        analysed,
        per_page,
        hashes: hashes.len(),
        fallbacks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::manifest::Entry;
    use crate::deploy::sha::Sha;

    fn config(extra: &str) -> Config {
        Config::parse(
            &format!("[site]\nname = \"docs\"\nsource = \"dist\"\n{extra}"),
            std::path::Path::new("sitewarden.toml"),
        )
        .unwrap()
    }

    fn page(dir: &std::path::Path, key: &str, body: &str) -> Local {
        let path = dir.join(key);
        std::fs::write(&path, body).unwrap();
        Local {
            key: key.into(),
            path,
            size: body.len() as u64,
            sha256: Sha::of(body.as_bytes()),
            content_type: "text/html; charset=utf-8".into(),
            cache_control: "no-cache".into(),
            csp: None,
            csp_fallback: None,
            parts: Vec::new(),
        }
    }

    fn stored(file: &Local, csp: &str) -> Entry {
        Entry {
            sha256: file.sha256,
            size: file.size,
            content_type: file.content_type.clone(),
            cache_control: file.cache_control.clone(),
            etag: "e".into(),
            version_id: None,
            csp: Some(csp.into()),
            csp_fallback: None,
        }
    }

    #[test]
    fn only_pages_the_manifest_cannot_answer_are_analysed() {
        let dir = tempfile::tempdir().unwrap();
        let big = (0..40)
            .map(|i| format!("<script>f({i})</script>"))
            .collect::<Vec<_>>()
            .concat();
        let mut local = vec![
            page(dir.path(), "same.html", "<script>alert(1)</script>"),
            page(dir.path(), "changed.html", "<script>alert(1)</script>"),
            page(dir.path(), "404.html", &big),
            page(dir.path(), "app.js", "not a page"),
        ];
        let auto = config("");
        let mut manifest = Manifest {
            csp_basis: basis(&auto),
            ..Manifest::default()
        };
        // Stored under the current basis: taken as is (the file is not even read).
        manifest.files.insert(
            "same.html".into(),
            stored(&local[0], "stored policy 'sha256-a'"),
        );
        let mut old = stored(&local[1], "old");
        old.sha256 = Sha::of(b"before");
        manifest.files.insert("changed.html".into(), old);

        let report = assign(&auto, &mut local, &manifest).unwrap().unwrap();
        assert_eq!(report.analysed, 2, "changed.html and the new 404.html");
        assert_eq!(local[0].csp.as_deref(), Some("stored policy 'sha256-a'"));
        assert!(
            local[1].csp.as_deref().unwrap().contains(
                "script-src 'self' 'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"
            )
        );
        assert_eq!(local[2].csp, None, "over its room");
        assert_eq!(local[3].csp, None, "not HTML");
        assert_eq!(report.per_page, 2);
        assert_eq!(report.hashes, 2);
        let reason = &report.fallbacks[0];
        assert_eq!(reason.key, "404.html");
        assert!(
            reason.reason.contains("over the 1975 bytes"),
            "{}",
            reason.reason
        );
        assert!(
            reason.reason.contains("as the error page"),
            "{}",
            reason.reason
        );

        // Another basis: every page again.
        manifest.csp_basis = Some("auto/v0".into());
        let report = assign(&auto, &mut local, &manifest).unwrap().unwrap();
        assert_eq!(report.analysed, 3);
        assert_ne!(local[0].csp.as_deref(), Some("stored policy 'sha256-a'"));

        // A fixed policy: no page carries one, nothing is read.
        let fixed = config("[headers]\ncontent_security_policy = \"default-src 'self'\"\n");
        assert!(assign(&fixed, &mut local, &manifest).unwrap().is_none());
        assert!(
            local
                .iter()
                .all(|f| f.csp.is_none() && f.csp_fallback.is_none())
        );
    }
}
