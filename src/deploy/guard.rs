//! Stage 2, guard: refuse to publish secrets.
//!
//! By name: environment files, keys and certificates, VCS and cloud credential folders, package
//! manager tokens. By content (found while hashing, see `hash`): AWS access key ids and PEM private
//! key blocks in text files. `deploy.allow` globs let a file through on purpose.

use std::fmt;

use globset::GlobSet;

use super::walk::LocalFile;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub key: String,
    pub reason: &'static str,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", crate::output::escape(&self.key), self.reason)
    }
}

/// Why a file name looks like a secret, if it does.
pub fn name_reason(key: &str) -> Option<&'static str> {
    let components: Vec<&str> = key.split('/').collect();
    let (dirs, name) = components.split_at(components.len() - 1);
    let name = name[0];
    if dirs.contains(&".git") {
        return Some("inside a .git folder (repository history and credentials)");
    }
    if dirs
        .iter()
        .any(|d| matches!(*d, ".aws" | ".ssh" | ".gnupg"))
    {
        return Some("inside a credentials folder (.aws, .ssh or .gnupg)");
    }
    let lower = name.to_ascii_lowercase();
    if lower == ".env" || lower.starts_with(".env.") {
        return Some("environment file (.env*)");
    }
    if ["id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"]
        .iter()
        .any(|p| lower.starts_with(p))
    {
        return Some("SSH private key (id_*)");
    }
    let extension = lower.rsplit_once('.').map(|(_, e)| e);
    match extension {
        Some("pem" | "key") => return Some("private key or certificate (*.pem, *.key)"),
        Some("p12" | "pfx") => return Some("certificate bundle with private key (*.p12, *.pfx)"),
        _ => {}
    }
    match lower.as_str() {
        ".npmrc" | ".pypirc" | ".netrc" | ".git-credentials" | ".htpasswd" => {
            Some("credentials file")
        }
        ".git" => Some("git metadata"),
        _ => None,
    }
}

/// Name-based findings for files not allowed on purpose.
pub fn check_names(files: &[LocalFile], allow: &GlobSet) -> Vec<Finding> {
    files
        .iter()
        .filter(|f| !allow.is_match(&f.key))
        .filter_map(|f| {
            name_reason(&f.key).map(|reason| Finding {
                key: f.key.clone(),
                reason,
            })
        })
        .collect()
}

/// Streaming detector for secrets in text: fed chunk by chunk. Each chunk is searched in place
/// (SIMD substring search, so scanning costs little next to hashing); the few bytes around each
/// chunk boundary are searched separately, so a match split across two reads is still found.
#[derive(Debug, Default)]
pub struct ContentScanner {
    tail: Vec<u8>,
    found: Option<&'static str>,
}

const PRIVATE_KEY_MARK: &[u8] = b"PRIVATE KEY-----";
const BEGIN_MARK: &[u8] = b"-----BEGIN ";
/// Longest match the scanner looks for, boundary bytes included: `-----BEGIN ENCRYPTED PRIVATE
/// KEY-----` is 37 bytes; an access key id with its two boundary bytes is 22.
const TAIL: usize = 48;

impl ContentScanner {
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.found.is_some() {
            return;
        }
        let mut junction = std::mem::take(&mut self.tail);
        junction.extend_from_slice(&chunk[..chunk.len().min(TAIL)]);
        self.found = scan(&junction).or_else(|| scan(chunk));
        let keep = junction.len().saturating_sub(TAIL);
        self.tail = if chunk.len() >= TAIL {
            chunk[chunk.len() - TAIL..].to_vec()
        } else {
            junction.split_off(keep)
        };
    }

    pub fn finish(self) -> Option<&'static str> {
        self.found
    }
}

/// One pass over the bytes for every marker (SIMD multi-pattern search); matches are then checked
/// in place.
fn scan(bytes: &[u8]) -> Option<&'static str> {
    static MARKERS: std::sync::LazyLock<aho_corasick::AhoCorasick> =
        std::sync::LazyLock::new(|| {
            aho_corasick::AhoCorasick::new([BEGIN_MARK, b"AKIA", b"ASIA"]).expect("static patterns")
        });
    for found in MARKERS.find_iter(bytes) {
        let at = found.start();
        if found.pattern().as_usize() == 0 {
            let after = &bytes[at..bytes.len().min(at + TAIL)];
            if memchr::memmem::find(after, PRIVATE_KEY_MARK).is_some() {
                return Some("contains a private key block (-----BEGIN ... PRIVATE KEY-----)");
            }
        } else if is_access_key_id_at(bytes, at) {
            return Some("contains an AWS access key id (AKIA/ASIA...)");
        }
    }
    None
}

/// `AKIA`/`ASIA` at `at`, followed by 16 upper-case letters or digits, not inside a longer word.
fn is_access_key_id_at(bytes: &[u8], at: usize) -> bool {
    let id_char = |b: &u8| b.is_ascii_uppercase() || b.is_ascii_digit();
    bytes
        .get(at + 4..at + 20)
        .is_some_and(|rest| rest.iter().all(id_char))
        && (at == 0 || !bytes[at - 1].is_ascii_alphanumeric())
        && bytes
            .get(at + 20)
            .is_none_or(|b| !b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_are_recognised() {
        for key in [
            ".env",
            ".env.production",
            "config/.ENV.local",
            "certs/site.pem",
            "tls.key",
            "keys/id_rsa",
            "id_ed25519.pub",
            "bundle.p12",
            "a/.git/config",
            ".aws/credentials",
            ".npmrc",
        ] {
            assert!(name_reason(key).is_some(), "{key} should be refused");
        }
        for key in [
            "index.html",
            "environment.js",
            "keyboard.png",
            "docs/git/index.html",
            "pem.txt",
            "monkey.js",
        ] {
            assert_eq!(name_reason(key), None, "{key} should pass");
        }
    }

    #[test]
    fn allow_globs_override_name_rules() {
        let file = |key: &str| LocalFile {
            key: key.into(),
            path: key.into(),
            size: 1,
        };
        let mut allow = globset::GlobSetBuilder::new();
        allow.add(globset::Glob::new("keys/public.pem").unwrap());
        let found = check_names(
            &[file("keys/public.pem"), file("keys/private.pem")],
            &allow.build().unwrap(),
        );
        assert_eq!(
            found,
            [Finding {
                key: "keys/private.pem".into(),
                reason: "private key or certificate (*.pem, *.key)"
            }]
        );
    }

    #[test]
    fn content_scanner_finds_keys_across_chunks() {
        let mut s = ContentScanner::default();
        s.feed(b"const id = \"AKIAIOSF");
        s.feed(b"ODNN7EXAMPLE\";");
        assert_eq!(
            s.finish(),
            Some("contains an AWS access key id (AKIA/ASIA...)")
        );

        let mut s = ContentScanner::default();
        s.feed(b"x\n-----BEGIN RSA PRIVATE");
        s.feed(b" KEY-----\nMIIE");
        assert!(s.finish().unwrap().contains("private key block"));

        let mut s = ContentScanner::default();
        s.feed(b"AKIAIOSFODNN7EXAMPLEX is too long; BAKIAIOSFODNN7EXAMPLE too; AKIA short");
        assert_eq!(s.finish(), None);

        // Split at every position of a long chunk: always found, once.
        let text = format!(
            "{}-----BEGIN ENCRYPTED PRIVATE KEY-----{}",
            "x".repeat(100),
            "y".repeat(100)
        );
        for split in 0..text.len() {
            let mut s = ContentScanner::default();
            s.feed(&text.as_bytes()[..split]);
            s.feed(&text.as_bytes()[split..]);
            assert!(s.finish().is_some(), "split at {split}");
        }
    }
}
