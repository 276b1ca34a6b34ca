//! Deploy: publish the source folder to the content bucket, in data-flow order
//! walk → guard → hash → remote state → diff → upload → record → invalidate,
//! plus `history` and `rollback` over the recorded deploys.
//!
//! Safe order: non-HTML assets first, then HTML (a page never references an asset that is not
//! there yet), then the manifest, then deletes. An interrupted deploy converges on the next run:
//! the manifest is written only after the uploads, and uploads are idempotent.

pub mod csp;
pub mod diff;
pub mod etag;
pub mod files;
pub mod guard;
pub mod hash;
pub mod headers;
pub mod history;
pub mod interned;
pub mod invalidate;
pub mod lock;
pub mod manifest;
mod markdown;
mod rollback;
pub mod sha;
pub mod upload;
pub mod walk;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use globset::{GlobSet, GlobSetBuilder};
use serde::Serialize;

use crate::config::Glob;
use crate::error::{Error, Result, code};
use crate::output::{Printer, escape};
use crate::site::Session;
use diff::{Local, Reason};
use history::DeployRecord;
use manifest::{Entry, Manifest};
pub use rollback::{History, HistoryEntry, history, rollback};

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub dry_run: bool,
    pub invalidate: bool,
    pub allow_mass_delete: bool,
    pub wait: bool,
    /// How long to wait for another run's lease on the site before giving up (exit 1).
    pub wait_for_lock: std::time::Duration,
}

#[derive(Debug, Serialize)]
pub struct Invalidation {
    pub id: Option<String>,
    pub paths: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub key: String,
    pub reason: Reason,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub deploy_id: Option<String>,
    pub dry_run: bool,
    pub uploaded: usize,
    pub deleted: usize,
    pub unchanged: usize,
    pub bytes: u64,
    pub uploads: Vec<Change>,
    pub deletes: Vec<String>,
    pub invalidation: Option<Invalidation>,
    /// CSP `"auto"`: pages analysed, pages with their own policy, distinct hashes, fallbacks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csp: Option<csp::Report>,
    /// Empty when the deploy is part of `up` (whose summary has the requests).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub requests: BTreeMap<String, u64>,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.dry_run {
            "would upload"
        } else {
            "uploaded"
        };
        for c in &self.uploads {
            writeln!(
                f,
                "{} {} ({})",
                if self.dry_run { "+" } else { "↑" },
                escape(&c.key),
                reason_text(c.reason)
            )?;
        }
        for key in &self.deletes {
            writeln!(f, "- {}", escape(key))?;
        }
        writeln!(
            f,
            "{}{verb} {} file(s) ({} bytes), {} {} deleted, {} unchanged",
            self.deploy_id
                .as_ref()
                .map_or(String::new(), |id| format!("deploy {id}: ")),
            self.uploaded,
            self.bytes,
            self.deleted,
            if self.dry_run { "would be" } else { "were" },
            self.unchanged
        )?;
        if let Some(report) = &self.csp {
            writeln!(
                f,
                "content security policy: {} page(s) with their own, {} distinct inline hash(es), \
                 {} analysed in this run",
                report.per_page, report.hashes, report.analysed
            )?;
            for fallback in &report.fallbacks {
                writeln!(
                    f,
                    "! {} is on a CSP fallback: {}",
                    escape(&fallback.key),
                    fallback.reason
                )?;
            }
        }
        if let Some(inv) = &self.invalidation {
            writeln!(
                f,
                "invalidated {} path(s){}",
                inv.paths.len(),
                inv.id
                    .as_ref()
                    .map_or(String::new(), |id| format!(" ({id})"))
            )?;
        }
        Ok(())
    }
}

pub(crate) fn reason_text(reason: Reason) -> &'static str {
    match reason {
        Reason::New => "new",
        Reason::Content => "changed",
        Reason::Headers => "headers changed",
        Reason::Drift => "changed outside sitewarden",
    }
}

fn glob_set(globs: &[Glob]) -> GlobSet {
    let mut builder = GlobSetBuilder::new();
    for g in globs {
        builder.add(g.matcher().glob().clone());
    }
    builder.build().expect("globs validated with the config")
}

/// Walk, guard and hash the source folder (no AWS calls): bad input stops here, before any change.
pub fn prepare(
    session: &Session,
    source_dir: &std::path::Path,
    printer: &Printer,
) -> Result<Vec<Local>> {
    let deploy = &session.config.deploy;
    let (files, skipped) = walk::walk(source_dir, &glob_set(&deploy.exclude))?;
    check_walk(&files, &skipped, deploy, printer)?;
    let allow = glob_set(&deploy.allow);
    let mut findings = guard::check_names(&files, &allow);
    let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let started = std::time::Instant::now();
    let cache = hash::cache::Cache::open(source_dir);
    let digests = hash::digest_all(&files, threads, &|i| !allow.is_match(&files[i].key), &cache)?;
    let seconds = started.elapsed().as_secs_f64();
    let read: Vec<&walk::LocalFile> = files
        .iter()
        .zip(&digests)
        .filter(|(_, d)| !d.cached)
        .map(|(f, _)| f)
        .collect();
    #[allow(clippy::cast_precision_loss)] // a rate for people
    let megabytes = read.iter().map(|f| f.size).sum::<u64>() as f64 / 1e6;
    printer.debug(format_args!(
        "hashed {} files, {megabytes:.1} MB in {seconds:.2} s ({:.0} MB/s on {threads} threads); \
         {} unchanged since they were last hashed",
        read.len(),
        megabytes / seconds.max(1e-9),
        files.len() - read.len()
    ));
    for (file, digest) in files.iter().zip(&digests) {
        if let Some(reason) = digest.secret
            && !findings.iter().any(|f| f.key == file.key)
        {
            findings.push(guard::Finding {
                key: file.key.clone(),
                reason,
            });
        }
    }
    if !findings.is_empty() {
        let list: Vec<String> = findings.iter().map(|f| format!("  {f}")).collect();
        return Err(Error::usage_with_hint(
            format!(
                "refusing to publish {} file(s) that look like secrets:\n{}",
                findings.len(),
                list.join("\n")
            ),
            "remove them from the source folder, add them to `deploy.exclude`, or list them in `deploy.allow` if they are meant to be public",
        ));
    }
    // Headers are worked out per file here, each value shared (`interned`), so that no per-file
    // copy of them is held beside the digests.
    let rules = &session.config.cache;
    let matchers: Vec<_> = rules.iter().map(|r| r.glob.matcher()).collect();
    Ok(files
        .into_iter()
        .zip(digests)
        .map(|(file, digest)| {
            let published = headers::published(&file.key, rules, &matchers);
            Local {
                cache_control: interned::intern(&published.cache_control),
                key: file.key,
                path: file.path,
                size: file.size,
                sha256: digest.sha256,
                content_type: interned::intern(&published.content_type),
                // Set against the remote state (`csp::assign`): only changed pages are analysed.
                csp: None,
                csp_fallback: None,
                parts: digest.parts,
            }
        })
        .collect())
}

/// What the walk found that is not published as is: files under the state prefix are refused;
/// skipped links and extensionless files the site cannot serve are reported.
fn check_walk(
    files: &[walk::LocalFile],
    skipped: &walk::Skipped,
    deploy: &crate::config::Deploy,
    printer: &Printer,
) -> Result<()> {
    let reserved: Vec<String> = files
        .iter()
        .filter(|f| f.key.starts_with(manifest::STATE_PREFIX))
        .map(|f| escape(&f.key).into_owned())
        .collect();
    if !reserved.is_empty() {
        return Err(Error::usage_with_hint(
            format!(
                "`{}` is reserved for sitewarden's own state (manifest, deploy records), yet the \
                 source folder has files there: {}",
                manifest::STATE_PREFIX,
                reserved.join(", ")
            ),
            format!(
                "rename the folder, or add `{}**` to `deploy.exclude`",
                manifest::STATE_PREFIX
            ),
        ));
    }
    for link in &skipped.outside_links {
        printer.warn(format_args!(
            "skipping `{}`: a symlink to outside the source folder",
            escape(link)
        ));
    }
    if deploy.spa_fallback.is_none() {
        for file in files
            .iter()
            .filter(|f| unreachable_without_extension(&f.key))
        {
            printer.warn(format_args!(
                "`{key}` has no extension: the site redirects `/{key}` to `/{key}/` (a folder), \
                 so it cannot be fetched; give it an extension or move it under `.well-known/`",
                key = escape(&file.key)
            ));
        }
    }
    for link in &skipped.folder_links {
        printer.warn(format_args!(
            "skipping `{}`: a symlink to a folder (folder links are not followed; the folder \
             itself is published)",
            escape(link)
        ));
    }
    Ok(())
}

/// The viewer-request function takes a last path segment without a dot for a folder (`/docs` →
/// `/docs/`), except under `/.well-known/`: such a file is published but not reachable.
fn unreachable_without_extension(key: &str) -> bool {
    let name = key.rsplit('/').next().unwrap_or(key);
    !name.contains('.') && !key.starts_with(".well-known/")
}

/// The summary of a diff, before anything is uploaded.
fn summary_of(local: &[Local], diff: &diff::Diff, dry_run: bool) -> Summary {
    let uploads: Vec<Change> = diff
        .uploads
        .iter()
        .map(|(i, r)| Change {
            key: local[*i].key.clone(),
            reason: *r,
        })
        .collect();
    Summary {
        deploy_id: None,
        dry_run,
        uploaded: uploads.len(),
        deleted: diff.deletes.len(),
        unchanged: diff.unchanged.len(),
        bytes: diff.uploads.iter().map(|(i, _)| local[*i].size).sum(),
        uploads,
        deletes: diff.deletes.clone(),
        invalidation: None,
        csp: None,
        requests: BTreeMap::new(),
    }
}

/// What a deploy of prepared files would change, for `plan`: `deploy --dry-run`, except that a
/// content bucket `up` has yet to create means every file is new. Reads only.
pub async fn preview(session: &Session, local: &[Local], printer: &Printer) -> Result<Summary> {
    let mut local = local.to_vec();
    let s3 = &session.aws.s3;
    let bucket = &session.names.content_bucket;
    let remote = match manifest::load(s3, bucket, &|w| printer.warn(w)).await {
        Err(Error::Aws { code, .. }) if code == code::NO_SUCH_BUCKET => manifest::Remote::default(),
        other => other?,
    };
    let report = assign_policies(session, &mut local, &remote.manifest, printer)?;
    let diff = diff::diff(&local, &remote.manifest, &remote.listing);
    let mut summary = summary_of(&local, &diff, true);
    summary.csp = report;
    Ok(summary)
}

/// Publishes prepared files (see [`prepare`]) to the content bucket. A deploy with nothing to
/// change only reads; one with changes takes the site's lease first and reads the remote state
/// again under it, so two deploys never interleave.
pub async fn deploy(
    session: &Session,
    local: Vec<Local>,
    source_dir: &std::path::Path,
    printer: &Printer,
    options: Options,
) -> Result<Summary> {
    let mut local = local;
    let remote = load_for_deploy(session, printer).await?;
    let report = assign_policies(session, &mut local, &remote.manifest, printer)?;
    let diff = diff::diff(&local, &remote.manifest, &remote.listing);
    // A real deploy decides on deletes under the lease, on a state no other run is changing.
    if options.dry_run {
        check_mass_delete(
            diff.deletes.len(),
            remote.listing.len(),
            session.config.deploy.mass_delete_threshold,
            options.allow_mass_delete,
        )?;
    }
    let mut summary = summary_of(&local, &diff, options.dry_run);
    summary.csp.clone_from(&report);
    if options.dry_run || (diff.uploads.is_empty() && diff.deletes.is_empty()) {
        summary.requests = session.aws.requests.snapshot();
        return Ok(summary);
    }
    let lease = take_lease(session, printer, "deploy", options).await?;
    let result = deploy_leased(session, &local, source_dir, printer, options, &lease).await;
    let mut summary = end_lease(lease, result, printer).await?;
    summary.csp = report;
    Ok(summary)
}

/// Each page's policy (CSP `"auto"`), analysing only what the manifest cannot answer.
fn assign_policies(
    session: &Session,
    local: &mut [Local],
    manifest: &Manifest,
    printer: &Printer,
) -> Result<Option<csp::Report>> {
    let started = std::time::Instant::now();
    let report = csp::assign(&session.config, local, manifest)?;
    if let Some(report) = &report {
        printer.debug(format_args!(
            "analysed {} pages for their content security policy in {:.3} s",
            report.analysed,
            started.elapsed().as_secs_f64()
        ));
    }
    Ok(report)
}

/// The content bucket's state; a bucket that is not there yet is the user's to create.
async fn load_for_deploy(session: &Session, printer: &Printer) -> Result<manifest::Remote> {
    let bucket = &session.names.content_bucket;
    // No HeadBucket first: reading the manifest answers NoSuchBucket just as well, one call less.
    match manifest::load(&session.aws.s3, bucket, &|w| printer.warn(w)).await {
        Err(Error::Aws { code, .. }) if code == code::NO_SUCH_BUCKET => {
            Err(Error::usage_with_hint(
                format!("the content bucket `{bucket}` does not exist"),
                "run `sitewarden up` first to create the site",
            ))
        }
        other => other,
    }
}

async fn take_lease(
    session: &Session,
    printer: &Printer,
    operation: &str,
    options: Options,
) -> Result<lock::Lease> {
    lock::acquire(
        &session.aws.s3,
        &session.names.content_bucket,
        operation,
        options.wait_for_lock,
        &|held| {
            printer.info(format_args!(
                "waiting for the site's lease: {}",
                escape(&held.describe())
            ));
        },
    )
    .await
}

/// Releases the lease whatever the run's outcome; a lease that cannot be released expires.
async fn end_lease<T>(lease: lock::Lease, result: Result<T>, printer: &Printer) -> Result<T> {
    if let Err(e) = lease.release().await {
        printer.warn(format_args!(
            "the site's lease was not released ({e}); it expires within {} s",
            lock::LEASE_TTL.as_secs()
        ));
    }
    result
}

/// The deploy under the lease: the remote state read again, then uploads and the commit.
async fn deploy_leased(
    session: &Session,
    local: &[Local],
    source_dir: &std::path::Path,
    printer: &Printer,
    options: Options,
    lease: &lock::Lease,
) -> Result<Summary> {
    let remote = load_for_deploy(session, printer).await?;
    let diff = diff::diff(local, &remote.manifest, &remote.listing);
    check_mass_delete(
        diff.deletes.len(),
        remote.listing.len(),
        session.config.deploy.mass_delete_threshold,
        options.allow_mass_delete,
    )?;
    let mut summary = summary_of(local, &diff, false);
    if diff.uploads.is_empty() && diff.deletes.is_empty() {
        // Another run published exactly this build while this one waited.
        summary.requests = session.aws.requests.snapshot();
        return Ok(summary);
    }
    let to_upload: Vec<Local> = diff
        .uploads
        .iter()
        .map(|(i, _)| local[*i].clone())
        .collect();
    let uploaded = upload_in_order(session, printer, to_upload).await?;

    // The new manifest: unchanged entries carried over, uploaded ones from the responses.
    let mut files = files::Files::default();
    for file in local {
        let entry = match uploaded.get(&file.key) {
            Some(u) => entry_for(file, etag::Etag::new(&u.etag), u.version_id.clone()),
            // Unchanged, but its fallback reason is this run's (the basis may have changed).
            None => Entry {
                csp_fallback: file.csp_fallback.clone(),
                ..remote.manifest.files[&file.key].clone()
            },
        };
        files.insert(file.key.clone(), entry);
    }
    let record = Recorded {
        files,
        commit: history::source_commit(source_dir),
        rollback_of: None,
        csp_basis: csp::basis(&session.config),
    };
    // The first deploy has nothing cached to invalidate.
    let invalidate = options.invalidate && remote.published;
    let state = Committing {
        lease,
        manifest_etag: remote.manifest_etag.as_deref(),
        invalidate,
        wait: options.wait,
    };
    commit(session, printer, &mut summary, record, &state).await?;
    Ok(summary)
}

/// What a deploy or rollback publishes besides the objects themselves.
struct Recorded {
    files: files::Files,
    commit: Option<String>,
    rollback_of: Option<String>,
    /// The basis of the pages' policies (see `csp::basis`); `None` means: analyse again.
    csp_basis: Option<String>,
}

/// How the commit of a leased run goes.
struct Committing<'a> {
    lease: &'a lock::Lease,
    /// The manifest's ETag when this run read it.
    manifest_etag: Option<&'a str>,
    invalidate: bool,
    wait: bool,
}

/// The tail shared by deploy and rollback, after the objects are in place: the deploy record, then
/// the manifest that names it (only over the one this run read, and only while the lease is
/// still this run's), deletes, invalidation.
async fn commit(
    session: &Session,
    printer: &Printer,
    summary: &mut Summary,
    recorded: Recorded,
    state: &Committing<'_>,
) -> Result<()> {
    let s3 = &session.aws.s3;
    let bucket = &session.names.content_bucket;
    let (id, time) = history::new_id();
    let record = DeployRecord {
        id: id.clone(),
        time,
        commit: recorded.commit,
        rollback_of: recorded.rollback_of,
        files: recorded.files,
    };
    history::save(s3, bucket, &record).await?;
    let manifest = Manifest {
        version: 1,
        deploy_id: Some(id.clone()),
        files: record.files,
        csp_basis: recorded.csp_basis,
    };
    state.lease.verify_held().await?;
    manifest::save(s3, bucket, &manifest, state.manifest_etag).await?;
    if !summary.deletes.is_empty() {
        state.lease.ensure_held()?;
        printer.info(format_args!("deleting {} file(s)", summary.deletes.len()));
        upload::delete_all(s3, bucket, &summary.deletes).await?;
    }
    if state.invalidate {
        let changed = summary
            .uploads
            .iter()
            .map(|c| c.key.as_str())
            .chain(summary.deletes.iter().map(String::as_str));
        summary.invalidation = invalidate_keys(session, changed, &id, state.wait).await?;
    }
    summary.deploy_id = Some(id);
    summary.requests = session.aws.requests.snapshot();
    Ok(())
}

/// Refuses a deploy that would delete more than `threshold` of the published files.
fn check_mass_delete(
    deletes: usize,
    published: usize,
    threshold: f64,
    allowed: bool,
) -> Result<()> {
    #[allow(clippy::cast_precision_loss)] // file counts are far below 2^52
    let share = if published == 0 {
        0.0
    } else {
        deletes as f64 / published as f64
    };
    if deletes == 0 || share <= threshold || allowed {
        return Ok(());
    }
    Err(Error::usage_with_hint(
        format!(
            "this deploy would delete {deletes} of the {published} published files ({:.0}%, more \
             than the {:.0}% allowed by `deploy.mass_delete_threshold`); nothing was changed",
            share * 100.0,
            threshold * 100.0
        ),
        "check `site.source` and the build; pass `--allow-mass-delete` if this is intended",
    ))
}

fn entry_for(file: &Local, etag: etag::Etag, version_id: Option<String>) -> Entry {
    Entry {
        sha256: file.sha256,
        size: file.size,
        content_type: file.content_type.clone(),
        cache_control: file.cache_control.clone(),
        etag,
        version_id,
        csp: file.csp.clone(),
        csp_fallback: file.csp_fallback.clone(),
    }
}

/// Uploads assets, then HTML, with a progress bar on a terminal and plain lines otherwise.
async fn upload_in_order(
    session: &Session,
    printer: &Printer,
    files: Vec<Local>,
) -> Result<BTreeMap<String, upload::Uploaded>> {
    let (html, assets): (Vec<Local>, Vec<Local>) =
        files.into_iter().partition(|f| headers::is_html(&f.key));
    let bar = printer.progress((html.len() + assets.len()) as u64, "uploading");
    let count = Arc::new(AtomicU64::new(0));
    let done: Arc<dyn Fn(&Local) + Send + Sync> = {
        let bar = bar.clone();
        Arc::new(move |_| {
            count.fetch_add(1, Ordering::Relaxed);
            bar.inc(1);
        })
    };
    let mut out = BTreeMap::new();
    for (stage, files) in [("asset", assets), ("HTML", html)] {
        if files.is_empty() {
            continue;
        }
        if !printer.shows_progress() {
            printer.info(format_args!("uploading {} {stage} file(s)", files.len()));
        }
        let concurrency = session.config.deploy.concurrency;
        for u in upload::upload_all(
            &session.aws.s3,
            &session.names.content_bucket,
            files,
            concurrency,
            done.clone(),
        )
        .await?
        {
            out.insert(u.key.clone(), u);
        }
    }
    bar.finish_and_clear();
    Ok(out)
}

/// Invalidates the viewer paths of `keys` on the site's distribution, if it has one.
async fn invalidate_keys<'a>(
    session: &Session,
    keys: impl Iterator<Item = &'a str>,
    reference: &str,
    wait: bool,
) -> Result<Option<Invalidation>> {
    let paths = invalidate::paths(keys, session.config.deploy.invalidation_limit);
    if paths.is_empty() {
        return Ok(None);
    }
    let found = crate::observe::distribution::find_site(&session.aws, &session.names).await?;
    let Some(distribution) = found else {
        return Ok(None);
    };
    let id = invalidate::send(&session.aws, &distribution.id, &paths, reference, wait).await?;
    Ok(Some(Invalidation {
        id: Some(id),
        paths,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mass_delete_guard_counts_the_share_of_published_files() {
        assert!(
            check_mass_delete(5, 10, 0.5, false).is_ok(),
            "exactly the threshold is allowed"
        );
        assert!(
            check_mass_delete(6, 10, 0.5, true).is_ok(),
            "the flag allows it"
        );
        assert!(check_mass_delete(0, 0, 0.5, false).is_ok());
        let err = check_mass_delete(6, 10, 0.5, false).unwrap_err();
        assert_eq!(err.exit(), crate::error::Exit::Usage);
        assert!(
            err.to_string()
                .starts_with("this deploy would delete 6 of the 10 published files (60%"),
            "{err}"
        );
    }
}
