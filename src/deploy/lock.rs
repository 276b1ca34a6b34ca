//! One site, one writer: the deploy lease `.sitewarden/lock`.
//!
//! A deploy or rollback that is about to change the site first creates the lease object with S3's
//! conditional write (`If-None-Match: *`): exactly one of two racing runs succeeds. The lease names
//! its holder (user, host, process, CI run), when it started and when it expires. While the run
//! goes on, a background task renews it (`If-Match` on the lease's own ETag) every third of its
//! lifetime; a run that is killed stops renewing, so its lease expires and the next run takes it
//! over (again with `If-Match`, so two runs taking over a stale lease cannot both win). A lease
//! that was broken (`sitewarden unlock`) or taken over is noticed before the manifest is written,
//! and the manifest itself is replaced only with `If-Match` on the ETag this run read.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_s3::Client;
use aws_sdk_s3::error::ProvideErrorMetadata as _;
use aws_smithy_types::date_time::Format;
use serde::{Deserialize, Serialize};

use super::manifest::{CONDITION_LOST, STATE_PREFIX, json_request};
use crate::error::{AwsResultExt as _, Error, Result};
use crate::observe::objects;

pub const LOCK_KEY: &str = ".sitewarden/lock";
/// How long a lease lasts without renewal: a killed run blocks the site at most this long.
pub const LEASE_TTL: Duration = Duration::from_mins(2);
/// How often a waiting run asks again.
const POLL: Duration = Duration::from_secs(2);

const _: () = assert!(LOCK_KEY.len() > STATE_PREFIX.len());

/// The lease object's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseInfo {
    /// Who holds it: user, host and process, or the CI run.
    pub holder: String,
    /// `deploy` or `rollback`.
    pub operation: String,
    /// RFC 3339, UTC.
    pub started: String,
    /// RFC 3339, UTC; renewed while the holder runs.
    pub expires: String,
    /// Seconds since the Unix epoch of `expires` (what expiry is decided on).
    pub expires_at: u64,
    /// Tells this run's lease from another run's with the same holder text.
    pub token: String,
    /// The holder's process id, and where that id means something ([`process_space`]): a lease
    /// whose process is gone from this very machine is a killed run's, taken over at once.
    #[serde(default)]
    pub pid: u32,
    #[serde(default)]
    pub space: String,
}

impl LeaseInfo {
    pub fn expired(&self, now: u64) -> bool {
        now >= self.expires_at
    }

    /// `deploy by ci@runner pid 42, since 2026-12-01T10:00:00Z (expires 2026-12-01T10:02:00Z)`
    pub fn describe(&self) -> String {
        format!(
            "{} by {}, since {} (lease expires {})",
            self.operation, self.holder, self.started, self.expires
        )
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn rfc3339(secs: u64) -> String {
    aws_smithy_types::DateTime::from_secs(i64::try_from(secs).unwrap_or(i64::MAX))
        .fmt(Format::DateTime)
        .unwrap_or_default()
}

/// The holder as people recognise it: the CI run when there is one, else user@host and the pid.
pub fn holder() -> String {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let pid = std::process::id();
    if let (Some(repo), Some(run)) = (var("GITHUB_REPOSITORY"), var("GITHUB_RUN_ID")) {
        let job = var("GITHUB_JOB").map_or(String::new(), |j| format!(" job {j}"));
        return format!("GitHub Actions {repo} run {run}{job} (pid {pid})");
    }
    if let (Some(project), Some(job)) = (var("CI_PROJECT_PATH"), var("CI_JOB_ID")) {
        return format!("GitLab CI {project} job {job} (pid {pid})");
    }
    let user = var("USER")
        .or_else(|| var("USERNAME"))
        .unwrap_or_else(|| "unknown".to_owned());
    let host = var("HOSTNAME")
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
        })
        .unwrap_or_else(|| "unknown-host".to_owned());
    format!("{user}@{host} pid {pid}")
}

/// Where a process id names one process: this boot of this machine and this pid namespace
/// (Linux: the boot id and `/proc/self/ns/pid`, so two containers on one host differ). Empty
/// where that cannot be told; a lease from an empty space is never taken for a dead run's.
fn process_space() -> String {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id");
    let namespace = std::fs::read_link("/proc/self/ns/pid");
    match (boot, namespace) {
        (Ok(boot), Ok(namespace)) => format!("{}/{}", boot.trim(), namespace.display()),
        _ => String::new(),
    }
}

/// Whether the lease's holder was a process of this machine (same boot, same pid namespace)
/// that no longer exists: a run that was killed, whose lease would otherwise block the next run
/// until it expires.
fn holder_is_gone(info: &LeaseInfo) -> bool {
    !info.space.is_empty()
        && info.space == process_space()
        && info.pid != 0
        && info.pid != std::process::id()
        && !std::path::Path::new(&format!("/proc/{}", info.pid)).exists()
}

fn token() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{:x}-{:x}", nanos, std::process::id())
}

/// What the lease object says now, with its ETag; `None` when there is none.
pub async fn read(s3: &Client, bucket: &str) -> Result<Option<(LeaseInfo, String)>> {
    let resource = format!("object `{LOCK_KEY}` in `{bucket}`");
    let Some(fetched) = objects::get(s3, bucket, LOCK_KEY, &resource).await? else {
        return Ok(None);
    };
    let (bytes, etag) = (fetched.body, fetched.etag);
    // A lease nobody can read is treated as expired: it can only be taken over with `If-Match`.
    let info = serde_json::from_slice(&bytes).unwrap_or_else(|_| LeaseInfo {
        holder: "an unreadable lease".to_owned(),
        operation: "unknown".to_owned(),
        started: String::new(),
        expires: String::new(),
        expires_at: 0,
        token: String::new(),
        pid: 0,
        space: String::new(),
    });
    Ok(Some((info, etag)))
}

enum Condition<'a> {
    Absent,
    Matches(&'a str),
}

/// Writes the lease under `condition`; `Ok(None)` when the condition failed (another run won).
async fn put(
    s3: &Client,
    bucket: &str,
    info: &LeaseInfo,
    condition: Condition<'_>,
) -> Result<Option<String>> {
    let body = serde_json::to_vec_pretty(info).map_err(anyhow::Error::from)?;
    let request = json_request(s3, bucket, LOCK_KEY, body.into());
    let request = match condition {
        Condition::Absent => request.if_none_match("*"),
        Condition::Matches(etag) => request.if_match(etag),
    };
    match request.send().await {
        Ok(out) => Ok(Some(out.e_tag.unwrap_or_default())),
        Err(e) if e.code().is_some_and(|c| CONDITION_LOST.contains(&c)) => {
            // A retried write whose first attempt took effect (the answer was lost) fails its
            // own condition: the lease then holds exactly what this run wrote, token and expiry.
            match read(s3, bucket).await? {
                Some((current, etag)) if current == *info => Ok(Some(etag)),
                _ => Ok(None),
            }
        }
        Err(e) => Err(Error::aws(
            "PutObject",
            format!("object `{LOCK_KEY}` in `{bucket}`"),
            e,
        )),
    }
}

#[derive(Debug)]
struct Held {
    etag: String,
    info: LeaseInfo,
    /// Why the lease is no longer this run's, once it is not.
    lost: Option<String>,
}

/// A lease this run holds, renewed in the background until [`Lease::release`].
pub struct Lease {
    s3: Client,
    bucket: String,
    held: Arc<Mutex<Held>>,
    renewer: tokio::task::JoinHandle<()>,
}

/// Takes the site's lease for `operation`, waiting up to `wait` for a live one to end.
/// Another run's live lease past `wait` is exit 1, naming the holder.
pub async fn acquire(
    s3: &Client,
    bucket: &str,
    operation: &str,
    wait: Duration,
    on_wait: &dyn Fn(&LeaseInfo),
) -> Result<Lease> {
    let deadline = tokio::time::Instant::now() + wait;
    let started = now_secs();
    let mut info = LeaseInfo {
        holder: holder(),
        operation: operation.to_owned(),
        started: rfc3339(started),
        expires: String::new(),
        expires_at: 0,
        token: token(),
        pid: std::process::id(),
        space: process_space(),
    };
    let mut told = None;
    loop {
        set_expiry(&mut info);
        if let Some(etag) = put(s3, bucket, &info, Condition::Absent).await? {
            return Ok(Lease::start(s3, bucket, etag, info));
        }
        let Some((current, etag)) = read(s3, bucket).await? else {
            // Released in between: try again shortly.
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        if current.expired(now_secs()) || holder_is_gone(&current) {
            // A killed run's lease: take it over, unless another run just did.
            if let Some(etag) = put(s3, bucket, &info, Condition::Matches(&etag)).await? {
                return Ok(Lease::start(s3, bucket, etag, info));
            }
            continue;
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Err(Error::failure_with_hint(
                format!(
                    "the site is locked by another run: {} (`{LOCK_KEY}` in `{bucket}`)",
                    current.describe()
                ),
                "wait for that run to finish, or pass `--wait-for-lock 10m`; if it was killed, \
                 its lease expires by itself, or `sitewarden unlock` breaks it",
            ));
        }
        if told.as_ref() != Some(&current.token) {
            on_wait(&current);
            told = Some(current.token.clone());
        }
        tokio::time::sleep(POLL.min(deadline - now)).await;
    }
}

fn set_expiry(info: &mut LeaseInfo) {
    info.expires_at = now_secs() + LEASE_TTL.as_secs();
    info.expires = rfc3339(info.expires_at);
}

impl Lease {
    fn start(s3: &Client, bucket: &str, etag: String, info: LeaseInfo) -> Lease {
        let held = Arc::new(Mutex::new(Held {
            etag,
            info,
            lost: None,
        }));
        let renewer = tokio::spawn(renew(s3.clone(), bucket.to_owned(), held.clone()));
        Lease {
            s3: s3.clone(),
            bucket: bucket.to_owned(),
            held,
            renewer,
        }
    }

    /// Fails (exit 1) when the lease is no longer this run's: broken or taken over.
    pub fn ensure_held(&self) -> Result<()> {
        let held = self.held.lock().expect("lease lock");
        match &held.lost {
            None => Ok(()),
            Some(why) => Err(Error::failure_with_hint(
                format!("this run lost the site's lease ({why}); the live site was not changed"),
                "run it again: it starts from what is live now",
            )),
        }
    }

    /// Reads the lease object and fails (exit 1) unless it is still this run's: the check right
    /// before the manifest is replaced, so a lease broken since the last renewal is seen too.
    pub async fn verify_held(&self) -> Result<()> {
        self.ensure_held()?;
        let token = self.held.lock().expect("lease lock").info.token.clone();
        match read(&self.s3, &self.bucket).await? {
            Some((current, _)) if current.token == token => Ok(()),
            found => {
                let why = found.map_or_else(
                    || "it was broken".to_owned(),
                    |(other, _)| format!("it is now held by {}", other.describe()),
                );
                self.held.lock().expect("lease lock").lost = Some(why);
                self.ensure_held()
            }
        }
    }

    /// Ends the lease: deletes the lease object if it is still this run's (`If-Match`).
    pub async fn release(self) -> Result<()> {
        self.renewer.abort();
        let (etag, lost) = {
            let held = self.held.lock().expect("lease lock");
            (held.etag.clone(), held.lost.is_some())
        };
        if lost {
            return Ok(());
        }
        match self
            .s3
            .delete_object()
            .bucket(&self.bucket)
            .key(LOCK_KEY)
            .if_match(etag)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.code().is_some_and(|c| CONDITION_LOST.contains(&c)) => Ok(()),
            Err(e) => Err(Error::aws(
                "DeleteObject",
                format!("object `{LOCK_KEY}` in `{}`", self.bucket),
                e,
            )),
        }
    }
}

/// Renews the lease every third of its lifetime until aborted or lost.
async fn renew(s3: Client, bucket: String, held: Arc<Mutex<Held>>) {
    loop {
        tokio::time::sleep(LEASE_TTL / 3).await;
        let (etag, mut info) = {
            let h = held.lock().expect("lease lock");
            (h.etag.clone(), h.info.clone())
        };
        set_expiry(&mut info);
        match put(&s3, &bucket, &info, Condition::Matches(&etag)).await {
            Ok(Some(etag)) => {
                let mut h = held.lock().expect("lease lock");
                h.etag = etag;
                h.info = info;
            }
            Ok(None) => {
                held.lock().expect("lease lock").lost =
                    Some("it was broken or taken over by another run".to_owned());
                return;
            }
            // A failed renewal is tried again; the lease is lost only once it has expired.
            Err(e) => {
                let mut h = held.lock().expect("lease lock");
                if h.info.expired(now_secs()) {
                    h.lost = Some(format!("it expired while it could not be renewed: {e}"));
                    return;
                }
            }
        }
    }
}

/// Deletes the lease object whatever it says (`If-Match` on what was read, so a lease taken in
/// between is not broken by mistake). Returns the lease that was broken.
pub async fn break_lease(s3: &Client, bucket: &str, force: bool) -> Result<Option<LeaseInfo>> {
    let Some((info, etag)) = read(s3, bucket).await? else {
        return Ok(None);
    };
    if !info.expired(now_secs()) && !force {
        return Err(Error::usage_with_hint(
            format!("the site's lease is live: {}", info.describe()),
            "a live lease is renewed by a running deploy; pass `--force` only if that run is \
             gone (its next write then fails safely, and the live site stays as it was)",
        ));
    }
    s3.delete_object()
        .bucket(bucket)
        .key(LOCK_KEY)
        .if_match(etag)
        .send()
        .await
        .op(
            "DeleteObject",
            &format!("object `{LOCK_KEY}` in `{bucket}`"),
        )?;
    Ok(Some(info))
}

/// `--wait-for-lock`: `90`, `90s`, `10m`, `1h`.
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (examples: 90s, 10m, 1h)"))?;
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => {
            return Err(format!(
                "`{text}` has an unknown unit `{unit}` (use s, m or h: 90s, 10m, 1h)"
            ));
        }
    };
    value
        .checked_mul(scale)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("`{text}` is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_mins(10)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_hours(1)));
        assert_eq!(
            parse_duration("5d"),
            Err("`5d` has an unknown unit `d` (use s, m or h: 90s, 10m, 1h)".to_owned())
        );
        assert!(parse_duration("").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("99999999999999999999h").is_err());
    }

    #[test]
    fn expiry_is_decided_on_the_epoch_seconds() {
        let info = LeaseInfo {
            holder: "ci".into(),
            operation: "deploy".into(),
            started: rfc3339(100),
            expires: rfc3339(220),
            expires_at: 220,
            token: "t".into(),
            pid: 0,
            space: String::new(),
        };
        assert!(!info.expired(219));
        assert!(info.expired(220));
        assert_eq!(
            info.describe(),
            "deploy by ci, since 1970-01-01T00:01:40Z (lease expires 1970-01-01T00:03:40Z)"
        );
    }

    #[test]
    fn a_lease_of_a_process_gone_from_this_machine_is_a_killed_runs() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let lease = |pid: u32, space: String| LeaseInfo {
            holder: "me".into(),
            operation: "deploy".into(),
            started: String::new(),
            expires: String::new(),
            expires_at: u64::MAX,
            token: "t".into(),
            pid,
            space,
        };
        if process_space().is_empty() {
            return; // not Linux: never taken over early
        }
        assert!(holder_is_gone(&lease(dead, process_space())));
        // This process, another machine or namespace, or a lease without a pid: not gone.
        assert!(!holder_is_gone(&lease(std::process::id(), process_space())));
        assert!(!holder_is_gone(&lease(dead, "another-boot/pid:[1]".into())));
        assert!(!holder_is_gone(&lease(0, process_space())));
        assert!(!holder_is_gone(&lease(dead, String::new())));
    }
}
