//! `history` and `rollback` over the recorded deploys: a rollback restores a recorded deploy
//! server-side (the recorded versions copied back, extra keys deleted), under the site's lease
//! like a deploy.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use super::diff::Reason;
use super::history::{self, DeployRecord};
use super::manifest;
use super::{
    Change, Committing, Options, Recorded, Summary, commit, end_lease, headers, lock, take_lease,
};
use crate::error::{AwsResultExt as _, Error, Result};
use crate::output::{Printer, escape};
use crate::site::Session;

#[derive(Debug, Serialize)]
pub struct HistoryEntry {
    pub id: String,
    pub time: String,
    pub commit: Option<String>,
    pub rollback_of: Option<String>,
    pub files: usize,
    pub current: bool,
}

#[derive(Debug, Serialize)]
pub struct History {
    pub deploys: Vec<HistoryEntry>,
    pub requests: BTreeMap<String, u64>,
}

impl fmt::Display for History {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.deploys.is_empty() {
            return writeln!(f, "No deploys recorded yet.");
        }
        for d in &self.deploys {
            let commit = d.commit.as_deref().map_or(String::new(), |c| {
                format!(" commit {}", &c[..c.len().min(12)])
            });
            let rollback = d
                .rollback_of
                .as_ref()
                .map_or(String::new(), |r| format!(" (rollback to {r})"));
            let current = if d.current { "  ← current" } else { "" };
            writeln!(
                f,
                "{}  {}  {} files{commit}{rollback}{current}",
                d.id, d.time, d.files
            )?;
        }
        Ok(())
    }
}

pub async fn history(session: &Session) -> Result<History> {
    let s3 = &session.aws.s3;
    let bucket = &session.names.content_bucket;
    let current = current_deploy(session).await?;
    let mut deploys = Vec::new();
    for id in history::ids(s3, bucket).await? {
        let record = history::read(s3, bucket, &id).await?;
        deploys.push(HistoryEntry {
            current: current.as_deref() == Some(id.as_str()),
            id,
            time: record.time,
            commit: record.commit,
            rollback_of: record.rollback_of,
            files: record.files.len(),
        });
    }
    Ok(History {
        deploys,
        requests: session.aws.requests.snapshot(),
    })
}

async fn current_deploy(session: &Session) -> Result<Option<String>> {
    let manifest = manifest::read(&session.aws.s3, &session.names.content_bucket, &|_| {}).await?;
    Ok(manifest.and_then(|m| m.deploy_id))
}

/// Restores a recorded deploy server-side: copies the recorded versions back, deletes keys the
/// deploy did not have, records a new deploy and invalidates what changed. Default target: the
/// deploy before the current one. Like a deploy, it changes the site only under the lease, with
/// the state read again under it.
pub async fn rollback(
    session: &Session,
    target: Option<&str>,
    printer: &Printer,
    options: Options,
) -> Result<Summary> {
    let s3 = &session.aws.s3;
    let bucket = &session.names.content_bucket;
    let remote = manifest::load(s3, bucket, &|w| printer.warn(w)).await?;
    let target_id = match target {
        Some(id) => id.to_owned(),
        None => default_target(session, &remote).await?,
    };
    let planned = plan_rollback(session, &remote, &target_id, options.dry_run).await?;
    // Every version to restore must still exist (the lifecycle expires earlier versions): checked
    // before the first copy, so a deploy that cannot be restored whole is not restored in part.
    check_versions(
        session,
        &planned.record,
        &target_id,
        &planned.summary.uploads,
    )
    .await?;
    if options.dry_run || planned.is_noop() {
        let mut summary = planned.summary;
        summary.requests = session.aws.requests.snapshot();
        return Ok(summary);
    }
    let lease = take_lease(session, printer, "rollback", options).await?;
    let checked = &planned.summary.uploads;
    let result = rollback_leased(session, printer, &target_id, options, &lease, checked).await;
    end_lease(lease, result, printer).await
}

/// The deploy before the live one; after a rollback, the one before the deploy it restored.
async fn default_target(session: &Session, remote: &manifest::Remote) -> Result<String> {
    let s3 = &session.aws.s3;
    let bucket = &session.names.content_bucket;
    let ids = history::ids(s3, bucket).await?;
    let mut current = remote
        .manifest
        .deploy_id
        .clone()
        .or_else(|| ids.last().cloned());
    // After a rollback the live content is the deploy it restored: rolling back again goes
    // one further back, never forward to the deploy just rolled back from.
    if let Some(id) = &current
        && let Some(restored) = history::read(s3, bucket, id).await?.rollback_of
    {
        current = Some(restored);
    }
    let position = current.and_then(|c| ids.iter().position(|i| *i == c));
    let Some(p) = position.filter(|p| *p > 0) else {
        return Err(Error::usage(
            "there is no earlier deploy to roll back to (see `sitewarden history`)",
        ));
    };
    Ok(ids[p - 1].clone())
}

/// A rollback worked out against one read of the remote state.
struct PlannedRollback {
    record: DeployRecord,
    summary: Summary,
}

impl PlannedRollback {
    fn is_noop(&self) -> bool {
        self.summary.uploads.is_empty() && self.summary.deletes.is_empty()
    }
}

async fn plan_rollback(
    session: &Session,
    remote: &manifest::Remote,
    target_id: &str,
    dry_run: bool,
) -> Result<PlannedRollback> {
    let record = history::read(&session.aws.s3, &session.names.content_bucket, target_id).await?;
    let mut restores = Vec::new();
    for (key, entry) in &record.files {
        let live = remote.manifest.files.get(key);
        let same_version = live.is_some_and(|l| {
            l.version_id == entry.version_id
                && remote.listing.get(key).is_some_and(|x| x.etag == l.etag)
        });
        if !same_version {
            restores.push(Change {
                key: key.clone(),
                reason: if live.is_some() {
                    Reason::Content
                } else {
                    Reason::New
                },
            });
        }
    }
    let deletes: Vec<String> = remote
        .listing
        .keys()
        .filter(|k| !record.files.contains_key(k) && history::is_site_key(k))
        .cloned()
        .collect();
    let summary = Summary {
        deploy_id: None,
        dry_run,
        uploaded: restores.len(),
        deleted: deletes.len(),
        unchanged: record.files.len() - restores.len(),
        bytes: restores.iter().map(|c| record.files[&c.key].size).sum(),
        uploads: restores,
        deletes,
        invalidation: None,
        csp: None,
        requests: BTreeMap::new(),
    };
    Ok(PlannedRollback { record, summary })
}

/// The rollback under the lease: planned again on the state read now, then restored.
async fn rollback_leased(
    session: &Session,
    printer: &Printer,
    target_id: &str,
    options: Options,
    lease: &lock::Lease,
    checked: &[Change],
) -> Result<Summary> {
    let remote = manifest::load(&session.aws.s3, &session.names.content_bucket, &|w| {
        printer.warn(w);
    })
    .await?;
    let PlannedRollback {
        record,
        mut summary,
    } = plan_rollback(session, &remote, target_id, false).await?;
    if summary.uploads.is_empty() && summary.deletes.is_empty() {
        summary.requests = session.aws.requests.snapshot();
        return Ok(summary);
    }
    // Versions checked before the lease need no second look; what changed in between does.
    let unchecked: Vec<Change> = summary
        .uploads
        .iter()
        .filter(|c| !checked.iter().any(|d| d.key == c.key))
        .cloned()
        .collect();
    check_versions(session, &record, target_id, &unchecked).await?;
    let files = restore_versions(session, &record, target_id, &summary.uploads).await?;
    let recorded = Recorded {
        files,
        commit: record.commit.clone(),
        rollback_of: Some(target_id.to_owned()),
        // The restored policies may come from another basis: the next deploy analyses again.
        csp_basis: None,
    };
    let state = Committing {
        lease,
        manifest_etag: remote.manifest_etag.as_deref(),
        invalidate: options.invalidate,
        wait: options.wait,
    };
    commit(session, printer, &mut summary, recorded, &state).await?;
    Ok(summary)
}

/// Refuses (exit 2) a rollback whose recorded versions are not all there, naming the missing ones.
/// One `HeadObject` per version, `deploy.concurrency` at a time.
async fn check_versions(
    session: &Session,
    record: &DeployRecord,
    target_id: &str,
    changes: &[Change],
) -> Result<()> {
    let limit = Arc::new(tokio::sync::Semaphore::new(
        session.config.deploy.concurrency,
    ));
    let mut missing = Vec::new();
    let mut heads = tokio::task::JoinSet::new();
    for change in changes {
        let key = change.key.clone();
        let Some(version) = record.files[&key].version_id.clone() else {
            missing.push(format!("{} (no version recorded)", escape(&key)));
            continue;
        };
        let (s3, bucket, limit) = (
            session.aws.s3.clone(),
            session.names.content_bucket.clone(),
            limit.clone(),
        );
        heads.spawn(async move {
            let _permit = limit.acquire().await;
            let resource = format!("object `{}` version `{version}`", escape(&key));
            let found =
                crate::observe::objects::head(&s3, &bucket, &key, Some(&version), &resource)
                    .await?;
            Ok::<_, Error>(found.is_none().then_some(key))
        });
    }
    while let Some(done) = heads.join_next().await {
        if let Some(key) = done.map_err(|e| Error::Other(e.into()))?? {
            missing.push(escape(&key).into_owned());
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    missing.sort();
    Err(Error::usage_with_hint(
        format!(
            "deploy `{target_id}` cannot be restored: {} of its file versions are gone: {}",
            missing.len(),
            missing.join(", ")
        ),
        "earlier versions expire after `logging.noncurrent_version_days` (default 90); roll back \
         to a newer deploy (`sitewarden history`), or deploy that version from source",
    ))
}

/// Copies the recorded versions of `changes` back over the live keys (server-side), assets before
/// HTML like a deploy; returns the record's files with the new ETags and version ids.
async fn restore_versions(
    session: &Session,
    record: &DeployRecord,
    target_id: &str,
    changes: &[Change],
) -> Result<super::files::Files> {
    let s3 = &session.aws.s3;
    let bucket = &session.names.content_bucket;
    let mut files = record.files.clone();
    let (html, assets): (Vec<&Change>, Vec<&Change>) =
        changes.iter().partition(|c| headers::is_html(&c.key));
    for change in assets.into_iter().chain(html) {
        let entry = &record.files[&change.key];
        let version = entry.version_id.as_deref().ok_or_else(|| {
            Error::usage(format!(
                "deploy `{target_id}` has no version id for `{}`",
                escape(&change.key)
            ))
        })?;
        let out = s3
            .copy_object()
            .bucket(bucket)
            .key(&change.key)
            .copy_source(history::copy_source(bucket, &change.key, version))
            .send()
            .await
            .op(
                "CopyObject",
                &format!("object `{}` version `{version}`", escape(&change.key)),
            )?;
        let copied = files
            .get_mut(&change.key)
            .expect("restored key is in the record");
        copied.etag = out
            .copy_object_result
            .and_then(|r| r.e_tag)
            .unwrap_or_default()
            .into();
        copied.version_id = out.version_id;
    }
    Ok(files)
}
