use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::*;
use crate::deploy::{hash, walk};

/// A tiny deterministic generator (xorshift), so corpus secrets are the same on every run.
struct Random(u64);

impl Random {
    fn new(seed: &str) -> Random {
        // FNV-1a of the seed; never zero.
        let hash = seed.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        Random(hash | 1)
    }

    fn pick(&mut self, alphabet: &[u8]) -> char {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        let len = alphabet.len() as u64;
        char::from(alphabet[usize::try_from(self.0 % len).expect("small")])
    }

    fn string(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len).map(|_| self.pick(alphabet)).collect()
    }
}

const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const DIGITS: &[u8] = b"0123456789";

fn alphabet(kind: &str) -> Vec<u8> {
    match kind {
        "alnum" => [UPPER, LOWER, DIGITS].concat(),
        "upper" => [UPPER, DIGITS].concat(),
        "lower" => [LOWER, DIGITS].concat(),
        "base32" => [UPPER, b"234567"].concat(),
        "digits" => DIGITS.to_vec(),
        "hex" => b"0123456789abcdef".to_vec(),
        "b64" => [UPPER, LOWER, DIGITS, b"+/"].concat(),
        "urlsafe" => [UPPER, LOWER, DIGITS, b"-_"].concat(),
        _ => panic!("unknown corpus placeholder `{kind}`"),
    }
}

/// Expands the corpus placeholders (see `tests/corpus/guard/README.md`): `{{cat:a|b}}` joins
/// its parts, `{{alnum:36}}` (and `upper`, `lower`, `base32`, `digits`, `hex`, `b64`, `urlsafe`)
/// is that many random characters, `{{b64lines:64x5}}` five lines of 64 base64 characters.
fn expand(text: &str, seed: &str) -> String {
    let mut random = Random::new(seed);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let close = rest[open..].find("}}").expect("placeholder is closed") + open;
        let (kind, arg) = rest[open + 2..close]
            .split_once(':')
            .expect("placeholder is `kind:argument`");
        match kind {
            "cat" => out.extend(arg.split('|')),
            "b64lines" => {
                let (width, lines) = arg.split_once('x').expect("b64lines:WIDTHxLINES");
                let b64 = alphabet("b64");
                let lines: Vec<String> = (0..lines.parse().unwrap())
                    .map(|_| random.string(&b64, width.parse().unwrap()))
                    .collect();
                out.push_str(&lines.join("\n"));
            }
            _ => out.push_str(&random.string(&alphabet(kind), arg.parse().unwrap())),
        }
        rest = &rest[close + 2..];
    }
    out.push_str(rest);
    out
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/guard")
}

/// Copies `from` to `to` with placeholders expanded (seeded by each file's relative path).
fn materialise(from: &Path, to: &Path) {
    for entry in walkdir(from) {
        let relative = entry.strip_prefix(from).unwrap();
        let target = to.join(relative);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        let text = std::fs::read_to_string(&entry).unwrap();
        std::fs::write(&target, expand(&text, &relative.to_string_lossy())).unwrap();
    }
}

fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walkdir(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The guard as a deploy runs it over a folder (names, then content read while hashing, every
/// file but recognised media): each finding's key and rule id.
fn guard_folder(dir: &Path) -> BTreeMap<String, &'static str> {
    let (files, _) = walk::walk(dir, &GlobSet::empty()).unwrap();
    let mut found: BTreeMap<String, &'static str> = check_names(&files, &GlobSet::empty())
        .into_iter()
        .map(|f| (f.key, rule_of(f.reason).unwrap().id))
        .collect();
    let digests = hash::digest_all(&files, 2, &|_| true, &hash::cache::Cache::none()).unwrap();
    for (file, digest) in files.iter().zip(digests) {
        if let Some(reason) = digest.secret {
            found
                .entry(file.key.clone())
                .or_insert(rule_of(reason).unwrap().id);
        }
    }
    found
}

fn scan_in_chunks(bytes: &[u8], key: &str, chunk: usize) -> Option<&'static str> {
    let mut scanner = ContentScanner::for_key(key);
    for piece in bytes.chunks(chunk) {
        scanner.feed(piece);
    }
    scanner.finish_rule().map(|r| r.id)
}

/// `names.txt`: `<rule-id> <key>` must match that rule, `pass <key>` none.
fn name_cases() -> Vec<(String, String)> {
    std::fs::read_to_string(corpus().join("names.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (rule, key) = l.split_once(' ').expect("`<rule-id|pass> <key>`");
            (rule.to_owned(), key.trim().to_owned())
        })
        .collect()
}

#[test]
fn rule_ids_are_unique_and_every_reason_names_its_rule() {
    let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), RULES.len());
    assert!(RULES.len() >= 30, "{} rules", RULES.len());
    for rule in RULES {
        assert!(
            rule.reason.ends_with(&format!(" [{}]", rule.id)),
            "{rule:?}"
        );
        assert_eq!(rule_of(rule.reason), Some(*rule));
    }
}

#[test]
fn corpus_names_match_exactly_their_rule() {
    for (rule, key) in name_cases() {
        let got = name_rule(&key).map(|r| r.id);
        if rule == "pass" {
            assert_eq!(got, None, "`{key}` should pass");
        } else {
            assert_eq!(got, Some(rule.as_str()), "`{key}`");
        }
    }
}

#[test]
fn corpus_positives_trigger_exactly_their_rule_and_negatives_pass() {
    let dir = tempfile::tempdir().unwrap();
    materialise(&corpus().join("positive"), &dir.path().join("positive"));
    materialise(&corpus().join("negative"), &dir.path().join("negative"));

    let mut expected = BTreeMap::new();
    for rule_dir in std::fs::read_dir(dir.path().join("positive")).unwrap() {
        let rule_dir = rule_dir.unwrap().path();
        let rule = rule_dir.file_name().unwrap().to_str().unwrap().to_owned();
        for file in walkdir(&rule_dir) {
            let key = file.strip_prefix(dir.path().join("positive")).unwrap();
            expected.insert(key.to_str().unwrap().to_owned(), rule.clone());
        }
    }
    let found: BTreeMap<String, String> = guard_folder(&dir.path().join("positive"))
        .into_iter()
        .map(|(k, v)| (k, v.to_owned()))
        .collect();
    assert_eq!(found, expected);

    assert_eq!(
        guard_folder(&dir.path().join("negative")),
        BTreeMap::new(),
        "false positives"
    );
    // The example sites pass too.
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    assert_eq!(guard_folder(&examples), BTreeMap::new());

    // Every rule has a true positive, by content (a folder) or by name (`names.txt`).
    let by_name: Vec<String> = name_cases().into_iter().map(|(rule, _)| rule).collect();
    for rule in RULES {
        assert!(
            expected.values().any(|r| r == rule.id) || by_name.iter().any(|r| r == rule.id),
            "no true positive for `{}`",
            rule.id
        );
    }
}

#[test]
fn corpus_content_is_found_whatever_the_chunk_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    materialise(&corpus().join("positive"), dir.path());
    for file in walkdir(dir.path()) {
        let key = file.strip_prefix(dir.path()).unwrap().to_str().unwrap();
        let rule = key.split('/').next().unwrap();
        let bytes = std::fs::read(&file).unwrap();
        for chunk in [1, 2, 7, 64, 333, 1024, 1025, 5000, 1 << 20] {
            assert_eq!(
                scan_in_chunks(&bytes, key, chunk),
                Some(rule),
                "{key} in chunks of {chunk}"
            );
        }
    }
}

#[test]
fn negatives_stay_negative_whatever_the_chunk_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    materialise(&corpus().join("negative"), dir.path());
    for file in walkdir(dir.path()) {
        let key = file.strip_prefix(dir.path()).unwrap().to_str().unwrap();
        let bytes = std::fs::read(&file).unwrap();
        for chunk in [1, 5, 100, 1024, 4099] {
            assert_eq!(scan_in_chunks(&bytes, key, chunk), None, "{key} / {chunk}");
        }
    }
}

fn fake_github_token() -> String {
    expand("{{cat:gh|p_}}{{alnum:36}}", "unit")
}

#[test]
fn a_token_split_at_every_position_is_found_once_padded_or_not() {
    for padding in [0, 10, 1500] {
        let text = format!(
            "{}const t = \"{}\";{}",
            "x".repeat(padding),
            fake_github_token(),
            "y".repeat(padding)
        );
        for split in 0..text.len() {
            let mut s = ContentScanner::default();
            s.feed(&text.as_bytes()[..split]);
            s.feed(&text.as_bytes()[split..]);
            assert_eq!(
                s.finish_rule().map(|r| r.id),
                Some("github-pat"),
                "split at {split}"
            );
        }
    }
}

#[test]
fn a_token_cut_by_a_chunk_end_is_judged_on_the_whole_run() {
    // 36 characters fit the shape at the end of the first chunk, but the run goes on.
    let token = fake_github_token();
    let mut s = ContentScanner::default();
    s.feed(format!("a = '{token}").as_bytes());
    s.feed(b"MORE';");
    assert_eq!(s.finish_rule(), None);
    // And at the true end of the file it is a token.
    let mut s = ContentScanner::default();
    s.feed(token.as_bytes());
    assert_eq!(s.finish_rule().map(|r| r.id), Some("github-pat"));
}

#[test]
fn shapes_reject_lookalikes() {
    let scan = |text: &str| {
        let mut s = ContentScanner::default();
        s.feed(expand(text, "lookalike").as_bytes());
        s.finish_rule().map(|r| r.id)
    };
    // Placeholders, wrong lengths, longer identifiers, base64 context.
    assert_eq!(
        scan("{{cat:gh|p_}}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
        None
    );
    assert_eq!(scan("{{cat:gh|p_}}{{alnum:35}}"), None);
    assert_eq!(scan("{{cat:gh|p_}}{{alnum:37}}"), None);
    assert_eq!(scan("x{{cat:gh|p_}}{{alnum:36}}"), None);
    assert_eq!(scan("{{cat:gh|p_}}{{alnum:36}}_v2"), None);
    assert_eq!(scan("iVBOR+{{cat:AI|za}}{{alnum:35}}"), None);
    assert_eq!(scan("key={{cat:AI|za}}{{alnum:35}}/x"), None);
    assert_eq!(scan("{{cat:sk|_test_}}{{alnum:24}}"), None);
    assert_eq!(scan("{{cat:xo|xb-}}your-bot-token-here"), None);
    assert_eq!(scan("xoxo, {{cat:xo|xp-}}"), None);
    assert_eq!(scan("process.env.{{cat:np|m_}}package_version"), None);
    // An access key id alone, or with AWS's documented example secret.
    assert_eq!(scan("id: {{cat:AK|IA}}{{base32:16}}"), None);
    assert_eq!(
        scan("{{cat:AK|IA}}{{base32:16}} wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        None
    );
    assert_eq!(
        scan("{{cat:AK|IA}}{{base32:16}} {{b64:40}}"),
        Some("aws-access-key")
    );
    // A hex digest (no upper case) next to an id is not its secret.
    assert_eq!(scan("{{cat:AK|IA}}{{base32:16}} {{hex:40}}"), None);
    // Headers without a body.
    assert_eq!(scan("<h2>-----BEGIN PRIVATE KEY-----</h2>"), None);
    assert_eq!(
        scan("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA...\n-----END RSA PRIVATE KEY-----"),
        None
    );
    assert_eq!(
        scan("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n{{b64lines:64x3}}"),
        None
    );
    assert_eq!(
        scan("\"-----BEGIN {{cat:PRIV|ATE KEY}}-----\\n{{b64lines:64x3}}\""),
        Some("pem-private-key")
    );
}

#[test]
fn recognised_media_is_skipped_and_everything_else_is_read() {
    let token = fake_github_token();
    let png = [&b"\x89PNG\r\n\x1a\n"[..], token.as_bytes()].concat();
    assert_eq!(scan_in_chunks(&png, "img/logo.png", 1 << 20), None);
    // A text file named like an image, an unknown extension, no extension: read.
    for key in ["img/notes.png", "data.xyz", "bin/deploy", "fonts/x.woff2"] {
        assert_eq!(
            scan_in_chunks(token.as_bytes(), key, 1 << 20),
            Some("github-pat"),
            "{key}"
        );
    }
    let is_media = |key: &str, bytes: &[u8]| media::signature(key).is_some_and(|is| is(bytes));
    assert!(is_media("a/b.WOFF2", b"wOF2...."));
    assert!(!is_media("a/b.js", b"wOF2...."));
    assert!(!is_media("a/b.woff2", b"@font-face"));
}

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
            reason: KEY_FILE.reason,
        }]
    );
}

#[test]
fn a_finding_names_the_file_its_rule_and_the_allow_entry_that_lets_it_through() {
    let finding = |key: &str| Finding {
        key: key.into(),
        reason: TERRAFORM_STATE.reason,
    };
    assert_eq!(
        finding("infra/terraform.tfstate").to_string(),
        "infra/terraform.tfstate: Terraform state, which records every secret it manages \
         (*.tfstate*, .terraform/) [terraform-state]; to publish it on purpose: \
         `deploy.allow = [\"infra/terraform.tfstate\"]`"
    );
    // The suggested glob matches exactly that key, however odd, and is valid TOML.
    for key in [
        "a[1]/*b?.tfstate",
        "q\"uote\\s.tfstate",
        "tab\there.tfstate",
    ] {
        let line = finding(key).to_string();
        let entry = line.split("`deploy.allow = ").nth(1).unwrap();
        let toml_text = format!("allow = {}", entry.trim_end_matches('`'));
        let parsed: toml::Table = toml::from_str(&toml_text).unwrap();
        let glob = parsed["allow"][0].as_str().unwrap();
        let matcher = globset::GlobBuilder::new(glob)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .unwrap()
            .compile_matcher();
        assert!(matcher.is_match(key), "{glob} should match {key}");
        assert!(!matcher.is_match(format!("{key}x")), "{glob}");
    }
}
