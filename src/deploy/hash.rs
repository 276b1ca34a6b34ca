//! Stage 3, hash: SHA-256 of every file, streaming, on all cores; the guard's content rules
//! read the same bytes (see `guard::ContentScanner`: every file but recognised media). A file
//! unchanged since it was last hashed keeps its digest from the [`cache`] and is not read.

pub mod cache;

use std::io::Read as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context as _;
use sha2::{Digest as _, Sha256};

use self::cache::{Cache, Kept, Stamp};
use super::guard::ContentScanner;
use super::sha::Sha;
use super::upload::{MULTIPART_THRESHOLD, PART_SIZE};
use super::walk::LocalFile;
use crate::error::Result;

const CHUNK: usize = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    /// The SHA-256 of the content.
    pub sha256: Sha,
    /// Why the content looks like a secret, if it does (scanned files only).
    pub secret: Option<&'static str>,
    /// Taken from the cache: the file was not read.
    pub cached: bool,
    /// For a file uploaded in parts (above `upload::MULTIPART_THRESHOLD`): the SHA-256 of each
    /// `upload::PART_SIZE` part, taken in the same pass, so the upload hashes nothing again.
    pub parts: Vec<Sha>,
}

/// Hashes `files` on `threads` threads; `scan(i)` says whether the guard may read file `i`'s
/// content (false for files allowed on purpose); the guard itself skips recognised media.
/// Results are in the order of `files`, and `cache` is saved with what this run learnt.
pub fn digest_all(
    files: &[LocalFile],
    threads: usize,
    scan: &(dyn Fn(usize) -> bool + Sync),
    cache: &Cache,
) -> Result<Vec<FileDigest>> {
    type Slot = Option<(FileDigest, Option<Kept>)>;
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Slot>> = Mutex::new(vec![None; files.len()]);
    let first_error: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..threads.clamp(1, files.len().max(1)) {
            s.spawn(|| {
                let mut buffer = vec![0u8; CHUNK];
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= files.len() || first_error.lock().expect("lock").is_some() {
                        break;
                    }
                    match digest_cached(&files[i], scan(i), cache, &mut buffer) {
                        Ok(d) => results.lock().expect("lock")[i] = Some(d),
                        Err(e) => {
                            first_error.lock().expect("lock").get_or_insert(e);
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().expect("lock") {
        return Err(e.into());
    }
    let (digests, kept): (Vec<FileDigest>, Vec<Option<Kept>>) = results
        .into_inner()
        .expect("lock")
        .into_iter()
        .map(|d| d.expect("every file hashed"))
        .unzip();
    cache.save(
        files
            .iter()
            .zip(&kept)
            .filter_map(|(f, k)| Some((f.key.as_str(), k.as_ref()?))),
    );
    Ok(digests)
}

/// The file's digest from the cache when its stamp is unchanged, else read and hashed; with the
/// entry to keep for it.
fn digest_cached(
    file: &LocalFile,
    scan: bool,
    cache: &Cache,
    buffer: &mut [u8],
) -> anyhow::Result<(FileDigest, Option<Kept>)> {
    let Ok(stamp) = Stamp::of(&file.path) else {
        return Ok((digest_file(file, scan, buffer)?, None));
    };
    if let Some((sha256, parts)) = cache.get(&file.key, &stamp, scan) {
        let digest = FileDigest {
            sha256,
            secret: None,
            cached: true,
            parts,
        };
        return Ok((digest, cache.kept(&file.key, &stamp)));
    }
    let digest = digest_file(file, scan, buffer)?;
    let kept = digest
        .secret
        .is_none()
        .then(|| cache.entry(stamp, digest.sha256, &digest.parts, scan))
        .flatten();
    Ok((digest, kept))
}

fn digest_file(file: &LocalFile, scan: bool, buffer: &mut [u8]) -> anyhow::Result<FileDigest> {
    let mut reader = std::fs::File::open(&file.path)
        .with_context(|| format!("cannot open `{}`", file.path.display()))?;
    let mut hasher = Sha256::new();
    let mut scanner = scan.then(|| ContentScanner::for_key(&file.key));
    let mut parts = (file.size > MULTIPART_THRESHOLD).then(Parts::default);
    loop {
        let n = reader
            .read(buffer)
            .with_context(|| format!("cannot read `{}`", file.path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        if let Some(p) = parts.as_mut() {
            p.feed(&buffer[..n]);
        }
        if let Some(s) = scanner.as_mut() {
            s.feed(&buffer[..n]);
        }
    }
    Ok(FileDigest {
        sha256: Sha(hasher.finalize().into()),
        secret: scanner.and_then(ContentScanner::finish),
        cached: false,
        parts: parts.map(Parts::finish).unwrap_or_default(),
    })
}

/// The SHA-256 of each `PART_SIZE` part of a stream, fed in reads of any size.
#[derive(Default)]
struct Parts {
    done: Vec<Sha>,
    current: Sha256,
    filled: u64,
}

impl Parts {
    fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let room = usize::try_from(PART_SIZE - self.filled).unwrap_or(usize::MAX);
            let (now, rest) = bytes.split_at(room.min(bytes.len()));
            self.current.update(now);
            self.filled += now.len() as u64;
            if self.filled == PART_SIZE {
                self.done
                    .push(Sha(std::mem::take(&mut self.current).finalize().into()));
                self.filled = 0;
            }
            bytes = rest;
        }
    }

    fn finish(mut self) -> Vec<Sha> {
        if self.filled > 0 {
            self.done.push(Sha(self.current.finalize().into()));
        }
        self.done
    }
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_known_values_in_order_and_every_file_but_media_is_scanned() {
        // Assembled here so that the source does not look like it leaks a token.
        let token = ["gh", "p_", "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"].concat();
        let png = [&b"\x89PNG\r\n\x1a\n"[..], token.as_bytes()].concat();
        let dir = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        for (name, body) in [
            ("a.txt", &b"abc"[..]),
            ("b.bin", b""),
            ("c.js", format!("k='{token}'").as_bytes()),
            ("d.png", token.as_bytes()),
            ("e.png", &png),
            ("deploy", token.as_bytes()),
            ("f.xyz", token.as_bytes()),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, body).unwrap();
            files.push(LocalFile {
                key: name.into(),
                path,
                size: body.len() as u64,
            });
        }
        // File 3 is allowed on purpose: not read.
        let digests = digest_all(&files, 3, &|i| i != 3, &Cache::none()).unwrap();
        assert_eq!(
            digests[0].sha256.hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            digests[1].sha256.hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let secrets: Vec<bool> = digests.iter().map(|d| d.secret.is_some()).collect();
        // A real PNG is skipped; a text file, whatever its extension or none, is read.
        assert_eq!(secrets, [false, false, true, false, false, true, true]);
    }

    #[test]
    fn large_files_stream_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.bin");
        let body = vec![7u8; CHUNK * 2 + 17];
        std::fs::write(&path, &body).unwrap();
        let files = [LocalFile {
            key: "big.bin".into(),
            path,
            size: body.len() as u64,
        }];
        let digests = digest_all(&files, 2, &|_| false, &Cache::none()).unwrap();
        assert_eq!(digests[0].sha256, Sha::of(&body));
    }

    #[test]
    fn a_multipart_file_gets_the_digest_of_each_part_in_the_same_pass() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.bin");
        let size = usize::try_from(MULTIPART_THRESHOLD).unwrap() + 5;
        let body: Vec<u8> = (0..size).map(|i| u8::try_from(i % 251).unwrap()).collect();
        std::fs::write(&path, &body).unwrap();
        let files = [LocalFile {
            key: "big.bin".into(),
            path,
            size: body.len() as u64,
        }];
        let digest = &digest_all(&files, 1, &|_| false, &Cache::none()).unwrap()[0];
        let part = usize::try_from(PART_SIZE).unwrap();
        let expected: Vec<Sha> = body.chunks(part).map(Sha::of).collect();
        assert_eq!(expected.len(), 3);
        assert_eq!(digest.parts, expected);
        // Reads of any size cut the same parts.
        let mut parts = Parts::default();
        for chunk in body.chunks(1_000_003) {
            parts.feed(chunk);
        }
        assert_eq!(parts.finish(), expected);
    }
}
