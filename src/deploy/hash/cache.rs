//! The digest cache: a file whose inode, size, modification and change times are what they were
//! when it was last hashed keeps its SHA-256, so an unchanged file is not read again (the no-op
//! deploy's main cost was hashing every byte of the site).
//!
//! Why it is safe:
//! - The change time (`ctime`) moves on every write and every metadata change, and no tool can set
//!   it back (`touch -d`, `cp -p` and `rsync -a` set the modification time only): a file edited in
//!   any way no longer matches its entry.
//! - A file changed within [`RACY`] of being hashed is not cached (a change within the
//!   filesystem's timestamp granularity could leave its times as they were), so its next deploy
//!   hashes it again.
//! - Only files the guard scanned and found clean are cached, under a fingerprint of sitewarden's
//!   version and the guard's rules: a new rule, or a file `deploy.allow` stopped exempting, is read
//!   again.
//! - Every upload carries its SHA-256 (`x-amz-checksum-sha256`), so even a wrong entry could not
//!   publish bytes other than the ones hashed: S3 refuses the body.
//!
//! The cache lives outside the site, in `$SITEWARDEN_CACHE_DIR`, `$XDG_CACHE_HOME/sitewarden` or
//! `~/.cache/sitewarden`, one file per source folder; it is only an optimisation, so a cache that
//! cannot be read or written is ignored.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::deploy::sha::Sha;

/// A file changed this close to being hashed is hashed again next time.
pub const RACY: i64 = 2_000_000_000;

/// What identifies a version of a file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    /// Nanoseconds since the epoch.
    mtime: i64,
    ctime: i64,
}

impl Stamp {
    /// The stamp of the file at `path` (following a symlink, as the hash reads it).
    #[cfg(unix)]
    pub fn of(path: &Path) -> std::io::Result<Stamp> {
        use std::os::unix::fs::MetadataExt as _;
        let m = std::fs::metadata(path)?;
        Ok(Stamp {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: m.mtime() * 1_000_000_000 + m.mtime_nsec(),
            ctime: m.ctime() * 1_000_000_000 + m.ctime_nsec(),
        })
    }

    #[cfg(not(unix))]
    pub fn of(_: &Path) -> std::io::Result<Stamp> {
        Err(std::io::Error::other(
            "the digest cache needs Unix file times",
        ))
    }

    /// Whether the file changed within [`RACY`] of `now` (nanoseconds since the epoch).
    fn racy(&self, now: i64) -> bool {
        self.mtime.max(self.ctime) > now - RACY
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    stamp: Stamp,
    sha256: Sha,
    /// Whether the guard read the content (and found nothing).
    scanned: bool,
    /// The digests of its parts, for a file uploaded in parts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    parts: Vec<Sha>,
}

#[derive(Debug, Default, Deserialize)]
struct Stored {
    fingerprint: String,
    files: HashMap<String, Entry>,
}

/// What [`Cache::save`] writes: [`Stored`], with the keys borrowed from the walk.
#[derive(Serialize)]
struct Saved<'a> {
    fingerprint: String,
    files: std::collections::BTreeMap<&'a str, &'a Entry>,
}

/// The digests known from the last deploy of a source folder, and the ones this run learns.
#[derive(Debug)]
pub struct Cache {
    path: Option<PathBuf>,
    known: HashMap<String, Entry>,
    /// Nanoseconds since the epoch when this run started hashing.
    now: i64,
}

impl Cache {
    /// The cache of the folder `source` (empty when there is none, or it is unreadable or from
    /// another version of sitewarden or its rules).
    pub fn open(source: &Path) -> Cache {
        Cache::open_at(location(source))
    }

    /// The cache stored at `path` (`None`: no cache).
    pub fn open_at(path: Option<PathBuf>) -> Cache {
        // Parsed as it is read: the file is never held whole beside what it holds.
        let known = path
            .as_deref()
            .and_then(|p| std::fs::File::open(p).ok())
            .and_then(|file| {
                serde_json::from_reader::<_, Stored>(std::io::BufReader::with_capacity(
                    256 * 1024,
                    file,
                ))
                .ok()
            })
            .filter(|stored| stored.fingerprint == fingerprint())
            .map(|stored| stored.files)
            .unwrap_or_default();
        Cache {
            path,
            known,
            now: now(),
        }
    }

    /// A cache that is neither read nor written.
    pub fn none() -> Cache {
        Cache {
            path: None,
            known: HashMap::new(),
            now: now(),
        }
    }

    /// The digest of `key` and of its parts when its file still has `stamp`, and was scanned if
    /// `scan` asks for it.
    pub fn get(&self, key: &str, stamp: &Stamp, scan: bool) -> Option<(Sha, Vec<Sha>)> {
        let entry = self
            .known
            .get(key)
            .filter(|e| e.stamp == *stamp && (e.scanned || !scan))?;
        Some((entry.sha256, entry.parts.clone()))
    }

    /// What to keep of a file hashed now (`None`: nothing, it changed too recently to trust).
    pub fn entry(&self, stamp: Stamp, sha256: Sha, parts: &[Sha], scanned: bool) -> Option<Kept> {
        (!stamp.racy(self.now)).then(|| {
            Kept::New(Box::new(Entry {
                stamp,
                sha256,
                scanned,
                parts: parts.to_vec(),
            }))
        })
    }

    /// Writes the entries of this run's files (those of files gone are dropped), atomically; not
    /// at all when they are exactly the ones read (a no-op deploy writes nothing here either).
    pub fn save<'a>(&'a self, kept: impl Iterator<Item = (&'a str, &'a Kept)>) {
        let Some(path) = &self.path else { return };
        let mut same = 0;
        let files: std::collections::BTreeMap<&str, &Entry> = kept
            .filter_map(|(key, kept)| match kept {
                Kept::Same => {
                    same += 1;
                    self.known.get(key).map(|entry| (key, entry))
                }
                Kept::New(entry) => Some((key, &**entry)),
            })
            .collect();
        if same == self.known.len() && same == files.len() {
            return;
        }
        let stored = Saved {
            fingerprint: fingerprint(),
            files,
        };
        let write = || -> std::io::Result<()> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let partial = path.with_extension(format!("{}.partial", std::process::id()));
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            // The site's file names and digests are the user's business only.
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut out = std::io::BufWriter::new(options.open(&partial)?);
            serde_json::to_writer(&mut out, &stored)?;
            std::io::Write::flush(&mut out)?;
            std::fs::rename(&partial, path)
        };
        // An optimisation only: a cache that cannot be written leaves the next run to hash again.
        let _ = write();
    }

    /// An entry from the last run that still holds for `stamp` (the file was not read).
    pub fn kept(&self, key: &str, stamp: &Stamp) -> Option<Kept> {
        self.known
            .get(key)
            .filter(|e| e.stamp == *stamp)
            .map(|_| Kept::Same)
    }
}

/// One file's entry, for [`Cache::save`]: the one read (not copied: a no-op deploy keeps every
/// entry), or a new one.
#[derive(Debug, Clone)]
pub enum Kept {
    Same,
    New(Box<Entry>),
}

/// Where the cache of `source` lives, or `None` without a cache folder.
fn location(source: &Path) -> Option<PathBuf> {
    let dir = match std::env::var_os("SITEWARDEN_CACHE_DIR") {
        Some(dir) if dir.is_empty() => return None,
        Some(dir) => PathBuf::from(dir),
        None => match std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
            Some(dir) => PathBuf::from(dir).join("sitewarden"),
            None => PathBuf::from(std::env::var_os("HOME")?).join(".cache/sitewarden"),
        },
    };
    let source = std::fs::canonicalize(source).ok()?;
    let id = super::hex(&Sha256::digest(source.as_os_str().as_encoded_bytes()));
    Some(dir.join(format!("digests-{}.json", &id[..16])))
}

/// sitewarden's version and the guard's rules: what a cached "scanned and clean" depends on.
fn fingerprint() -> String {
    let mut rules = Sha256::new();
    for rule in crate::deploy::guard::RULES {
        rules.update(rule.reason.as_bytes());
        rules.update(b"\n");
    }
    format!(
        "{} {}",
        env!("CARGO_PKG_VERSION"),
        &super::hex(&rules.finalize())[..16]
    )
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_nanos()).ok())
        .unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::super::{LocalFile, digest_all};
    use super::*;

    /// A cache at `path` as a run `ahead` nanoseconds from now would see it.
    fn at(path: &Path, ahead: i64) -> Cache {
        let mut cache = Cache::open_at(Some(path.to_owned()));
        cache.now += ahead;
        cache
    }

    fn files(dir: &Path, bodies: &[(&str, &str)]) -> Vec<LocalFile> {
        bodies
            .iter()
            .map(|(name, body)| {
                let path = dir.join(name);
                std::fs::write(&path, body).unwrap();
                LocalFile {
                    key: (*name).to_owned(),
                    path,
                    size: body.len() as u64,
                }
            })
            .collect()
    }

    fn run(files: &[LocalFile], cache: &Cache, scan: bool) -> Vec<(Sha, bool)> {
        digest_all(files, 2, &|_| scan, cache)
            .unwrap()
            .into_iter()
            .map(|d| (d.sha256, d.cached))
            .collect()
    }

    #[test]
    fn unchanged_files_keep_their_digest_and_a_rewrite_is_read_again_whatever_its_times() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("cache/digests.json");
        let files = files(dir.path(), &[("a.html", "<p>a</p>"), ("b.css", "p{}")]);
        let first = run(&files, &at(&store, 3 * RACY), true);
        assert!(first.iter().all(|(_, cached)| !cached));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&store).unwrap().permissions().mode();
            assert_eq!(
                mode & 0o777,
                0o600,
                "the cache is readable by its owner only"
            );
        }
        #[cfg(unix)]
        let written = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&store).unwrap());
        let second = run(&files, &at(&store, 3 * RACY), true);
        assert_eq!(
            second,
            first.iter().map(|(s, _)| (*s, true)).collect::<Vec<_>>()
        );
        #[cfg(unix)]
        assert_eq!(
            std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&store).unwrap()),
            written,
            "a run that learnt nothing new leaves the cache file as it was"
        );

        // Same size, modification time put back: the change time still moved.
        let mtime = std::fs::metadata(&files[0].path)
            .unwrap()
            .modified()
            .unwrap();
        std::fs::write(&files[0].path, "<p>A</p>").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&files[0].path)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        let third = run(&files, &at(&store, 3 * RACY), true);
        assert!(!third[0].1, "the rewritten file is read");
        assert_ne!(third[0].0, first[0].0);
        assert_eq!(third[1], (first[1].0, true));
    }

    #[test]
    fn files_changed_just_now_unscanned_ones_and_other_versions_are_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("digests.json");
        let files = files(dir.path(), &[("a.js", "let a = 1;")]);
        // Hashed right after it was written: not kept.
        run(&files, &at(&store, 0), true);
        assert!(!run(&files, &at(&store, 3 * RACY), true)[0].1);
        assert!(run(&files, &at(&store, 3 * RACY), true)[0].1);

        // Kept as not scanned (allowed on purpose): a run that must scan it reads it.
        let other = dir.path().join("unscanned.json");
        run(&files, &at(&other, 3 * RACY), false);
        assert!(run(&files, &at(&other, 3 * RACY), false)[0].1);
        assert!(!run(&files, &at(&other, 3 * RACY), true)[0].1);

        // Another version of sitewarden or its rules: nothing is trusted.
        let text = std::fs::read_to_string(&store).unwrap();
        std::fs::write(&store, text.replace(&fingerprint(), "0.0.0 0000")).unwrap();
        assert!(!run(&files, &at(&store, 3 * RACY), true)[0].1);
        // Unreadable or garbage: an empty cache.
        std::fs::write(&store, "{").unwrap();
        assert!(!run(&files, &at(&store, 3 * RACY), true)[0].1);
    }

    #[test]
    fn a_file_the_guard_flags_is_never_cached() {
        let token = ["gh", "p_", "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"].concat();
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("digests.json");
        let files = files(dir.path(), &[("k.txt", &format!("t={token}"))]);
        let cache = at(&store, 3 * RACY);
        assert!(
            digest_all(&files, 1, &|_| true, &cache).unwrap()[0]
                .secret
                .is_some()
        );
        let again = digest_all(&files, 1, &|_| true, &at(&store, 3 * RACY)).unwrap();
        assert!(again[0].secret.is_some() && !again[0].cached);
    }
}
