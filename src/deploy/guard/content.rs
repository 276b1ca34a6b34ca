//! Content rules: secrets with a recognisable shape, found in the bytes while they are hashed.
//!
//! One multi-pattern search (aho-corasick, SIMD prefilter) finds the fixed prefixes (`ghp_`,
//! `AKIA`, `-----BEGIN `...); only around those hits is a token's shape checked: length, charset,
//! what may touch it on either side, and that it looks random (placeholders such as
//! `ghp_xxxx...` do not). The stream is read in chunks; the bytes around each chunk boundary are
//! searched again, and a check that runs off the end of what it sees says so (`NeedMore`)
//! rather than guess, so a secret split across two reads is found exactly as if read whole.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

use super::media;
use super::{
    AWS_ACCESS_KEY, GITHUB_APP_TOKEN, GITHUB_FINE_GRAINED_PAT, GITHUB_OAUTH, GITHUB_PAT,
    GITHUB_REFRESH_TOKEN, GITLAB_PAT, GOOGLE_API_KEY, NPM_TOKEN, OPENSSH_PRIVATE_KEY,
    PEM_PRIVATE_KEY, PGP_PRIVATE_KEY, PUTTY_PRIVATE_KEY, Rule, SLACK_TOKEN, SLACK_WEBHOOK,
    STRIPE_RESTRICTED_KEY, STRIPE_SECRET_KEY,
};

/// The most bytes any check looks at around a hit, context included (the AWS rule looks 200
/// bytes either side of a key id; a private key rule up to ~500 bytes past the header). Every
/// boundary is searched with this much on each side.
const WINDOW: usize = 1024;

/// How far from an AWS access key id its secret key may be.
const AWS_NEAR: usize = 200;

/// A check needs bytes before or after what it was given (a chunk boundary, not the file's).
#[derive(Debug)]
struct NeedMore;

type Verdict = Result<Option<&'static Rule>, NeedMore>;
type Check = fn(&View<'_>, usize) -> Verdict;

/// Prefixes, each with the check of what follows it.
static MARKERS: &[(&str, Check)] = &[
    ("-----BEGIN ", private_key),
    ("PuTTY-User-Key-File-", putty_key),
    ("AKIA", aws_access_key),
    ("ASIA", aws_access_key),
    ("ghp_", github_classic),
    ("gho_", github_classic),
    ("ghu_", github_classic),
    ("ghs_", github_classic),
    ("ghr_", github_classic),
    ("github_pat_", github_fine_grained),
    ("glpat-", gitlab),
    ("xoxb-", slack_token),
    ("xoxp-", slack_token),
    ("xoxa-", slack_token),
    ("xoxr-", slack_token),
    ("xoxs-", slack_token),
    ("hooks.slack.com/", slack_webhook),
    ("sk_live_", stripe),
    ("rk_live_", stripe),
    ("AIza", google_api_key),
    ("npm_", npm_token),
];

static SEARCH: LazyLock<AhoCorasick> = LazyLock::new(|| {
    // Leftmost-first lets the packed SIMD searcher (Teddy) run; standard semantics would not.
    AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::LeftmostFirst)
        .build(MARKERS.iter().map(|(prefix, _)| prefix))
        .expect("static patterns")
});

/// Streaming detector, fed chunk by chunk; see the module docs.
#[derive(Debug, Default)]
pub struct ContentScanner {
    /// The last `WINDOW` bytes fed (fewer at the start).
    tail: Vec<u8>,
    fed: u64,
    found: Option<&'static Rule>,
    /// The last feed left a check undecided for want of the following bytes.
    undecided: bool,
    /// Skip the file if its first bytes carry this media signature.
    media: Option<media::Signature>,
    skipped: bool,
}

impl ContentScanner {
    /// A scanner for the file published as `key`: skips it if it is recognised media.
    pub fn for_key(key: &str) -> ContentScanner {
        ContentScanner {
            media: media::signature(key),
            ..ContentScanner::default()
        }
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        if self.found.is_some() || self.skipped || chunk.is_empty() {
            return;
        }
        if self.fed == 0 && self.media.is_some_and(|is_media| is_media(chunk)) {
            self.skipped = true;
            return;
        }
        let mut undecided = false;
        let tail_starts_file = self.fed == self.tail.len() as u64;
        let mut junction = std::mem::take(&mut self.tail);
        let searched_before = !junction.is_empty();
        junction.extend_from_slice(&chunk[..chunk.len().min(WINDOW)]);
        if searched_before {
            let (found, more) = scan(&View {
                bytes: &junction,
                file_start: tail_starts_file,
                file_end: false,
            });
            self.found = found;
            undecided |= more;
        }
        if self.found.is_none() {
            let (found, more) = scan(&View {
                bytes: chunk,
                file_start: self.fed == 0,
                file_end: false,
            });
            self.found = found;
            undecided |= more;
        }
        self.fed += chunk.len() as u64;
        self.undecided = undecided;
        self.tail = if chunk.len() >= WINDOW {
            chunk[chunk.len() - WINDOW..].to_vec()
        } else {
            let keep = junction.len().saturating_sub(WINDOW);
            junction.split_off(keep)
        };
    }

    /// The rule the content matched, if any.
    pub fn finish_rule(self) -> Option<&'static Rule> {
        if self.found.is_none() && self.undecided {
            // What the last checks could not decide, now that the end of the file is known.
            return scan(&View {
                bytes: &self.tail,
                file_start: self.fed == self.tail.len() as u64,
                file_end: true,
            })
            .0;
        }
        self.found
    }

    /// Why the content looks like a secret, if it does.
    pub fn finish(self) -> Option<&'static str> {
        self.finish_rule().map(|r| r.reason)
    }
}

/// Every hit in `view`, checked: the first matching rule, and whether some check was undecided.
fn scan(view: &View<'_>) -> (Option<&'static Rule>, bool) {
    let mut undecided = false;
    for hit in SEARCH.find_iter(view.bytes) {
        match (MARKERS[hit.pattern().as_usize()].1)(view, hit.start()) {
            Ok(Some(rule)) => return (Some(rule), undecided),
            Ok(None) => {}
            Err(NeedMore) => undecided = true,
        }
    }
    (None, undecided)
}

/// Bytes being searched, and whether they start or end the file (else the bytes beyond are
/// unknown here, and a check that needs them answers `NeedMore`).
struct View<'a> {
    bytes: &'a [u8],
    file_start: bool,
    file_end: bool,
}

impl View<'_> {
    /// The byte before `at` (`None` at the start of the file).
    fn before(&self, at: usize) -> Result<Option<u8>, NeedMore> {
        match at.checked_sub(1) {
            Some(i) => Ok(Some(self.bytes[i])),
            None if self.file_start => Ok(None),
            None => Err(NeedMore),
        }
    }

    /// The byte at `at` (`None` past the end of the file).
    fn at(&self, at: usize) -> Result<Option<u8>, NeedMore> {
        match self.bytes.get(at) {
            Some(&b) => Ok(Some(b)),
            None if self.file_end => Ok(None),
            None => Err(NeedMore),
        }
    }

    fn is(&self, at: usize, class: fn(u8) -> bool) -> Result<bool, NeedMore> {
        Ok(self.at(at)?.is_some_and(class))
    }

    /// How many `class` bytes follow from `from`, counting no further than `max + 1`.
    fn run(&self, from: usize, class: fn(u8) -> bool, max: usize) -> Result<usize, NeedMore> {
        let mut n = 0;
        while n <= max && self.is(from + n, class)? {
            n += 1;
        }
        Ok(n)
    }

    fn has(&self, at: usize, literal: &[u8]) -> Result<bool, NeedMore> {
        for (i, &want) in literal.iter().enumerate() {
            if self.at(at + i)? != Some(want) {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

fn alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

fn word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// What may not touch a token on either side: it would be part of a longer identifier.
fn word_or_dash(b: u8) -> bool {
    word(b) || b == b'-'
}

fn url_safe(b: u8) -> bool {
    word_or_dash(b)
}

fn base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// Random tokens use many different characters; placeholders (`xxxx`, `0000`) do not.
fn looks_random(body: &[u8]) -> bool {
    let mut seen = [false; 256];
    let mut distinct = 0;
    for &b in body {
        if !seen[usize::from(b)] {
            seen[usize::from(b)] = true;
            distinct += 1;
        }
    }
    distinct >= (body.len() / 3).min(10)
}

/// `prefix` bytes at `at`, then a run of `class` whose length is in `lengths`, with no `fence`
/// byte touching it on either side, that looks random: the run.
fn token<'a>(
    view: &View<'a>,
    at: usize,
    prefix: usize,
    class: fn(u8) -> bool,
    lengths: std::ops::RangeInclusive<usize>,
    fence: fn(u8) -> bool,
) -> Result<Option<&'a [u8]>, NeedMore> {
    if view.before(at)?.is_some_and(fence) {
        return Ok(None);
    }
    let start = at + prefix;
    let n = view.run(start, class, *lengths.end())?;
    if !lengths.contains(&n) || view.is(start + n, fence)? {
        return Ok(None);
    }
    let body = &view.bytes[start..start + n];
    Ok(looks_random(body).then_some(body))
}

/// `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` + 36 letters and digits.
fn github_classic(view: &View<'_>, at: usize) -> Verdict {
    let rule = match view.bytes[at + 2] {
        b'p' => &GITHUB_PAT,
        b'o' => &GITHUB_OAUTH,
        b'r' => &GITHUB_REFRESH_TOKEN,
        _ => &GITHUB_APP_TOKEN,
    };
    Ok(token(view, at, 4, alnum, 36..=36, word_or_dash)?.map(|_| rule))
}

/// `github_pat_` + 22 letters and digits + `_` + 59 letters and digits.
fn github_fine_grained(view: &View<'_>, at: usize) -> Verdict {
    let body = token(view, at, 11, word, 82..=82, word_or_dash)?;
    Ok(body
        .filter(|b| b[22] == b'_' && b[..22].iter().chain(&b[23..]).all(|&c| alnum(c)))
        .map(|_| &GITHUB_FINE_GRAINED_PAT))
}

/// `glpat-` + 20 URL-safe characters, or the routable form (GitLab 17+): 27 to 300 of them,
/// `.` (or `.01.`), 9 lower-case letters and digits.
fn gitlab(view: &View<'_>, at: usize) -> Verdict {
    if view.before(at)?.is_some_and(word_or_dash) {
        return Ok(None);
    }
    let start = at + 6;
    let n = view.run(start, url_safe, 300)?;
    let end = start + n;
    let body = &view.bytes[start..end];
    let shaped = if view.at(end)? == Some(b'.') {
        let lower = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        let suffix = if view.has(end + 1, b"01.")? {
            end + 4
        } else {
            end + 1
        };
        (27..=300).contains(&n)
            && view.run(suffix, lower, 9)? == 9
            && !view.is(suffix + 9, |b| word_or_dash(b) || b == b'.')?
    } else {
        n == 20
    };
    Ok((shaped && looks_random(body)).then_some(&GITLAB_PAT))
}

/// `xox[bpars]-` + dash-separated parts: digits first, one part of 8+ digits (team or user
/// id), and a random last part of 8+ letters and digits.
fn slack_token(view: &View<'_>, at: usize) -> Verdict {
    let is_token_char = |b: u8| alnum(b) || b == b'-';
    let Some(body) = token(view, at, 5, is_token_char, 20..=250, word_or_dash)? else {
        return Ok(None);
    };
    let parts: Vec<&[u8]> = body.split(|&b| b == b'-').collect();
    let digits = |p: &&[u8]| !p.is_empty() && p.iter().all(u8::is_ascii_digit);
    let last = parts.last().copied().unwrap_or_default();
    let shaped = parts.len() >= 3
        && digits(&parts[0])
        && parts.iter().any(|p| digits(p) && p.len() >= 8)
        && last.len() >= 8
        && looks_random(last);
    Ok(shaped.then_some(&SLACK_TOKEN))
}

/// `hooks.slack.com/services/T…/B…/secret` (or `workflows/`, `triggers/`): 43 to 56 path
/// characters, a random last segment.
fn slack_webhook(view: &View<'_>, at: usize) -> Verdict {
    if view
        .before(at)?
        .is_some_and(|b| alnum(b) || b == b'.' || b == b'-')
    {
        return Ok(None);
    }
    let mut start = at + 16;
    let mut kind = false;
    for path in [&b"services/"[..], b"workflows/", b"triggers/"] {
        if view.has(start, path)? {
            start += path.len();
            kind = true;
            break;
        }
    }
    if !kind {
        return Ok(None);
    }
    let n = view.run(start, base64, 56)?;
    if !(43..=56).contains(&n) || view.is(start + n, word_or_dash)? {
        return Ok(None);
    }
    let body = &view.bytes[start..start + n];
    let last = body.rsplit(|&b| b == b'/').next().unwrap_or_default();
    let shaped =
        memchr::memchr_iter(b'/', body).count() >= 2 && last.len() >= 16 && looks_random(last);
    Ok(shaped.then_some(&SLACK_WEBHOOK))
}

/// `sk_live_` / `rk_live_` + 20 or more letters and digits.
fn stripe(view: &View<'_>, at: usize) -> Verdict {
    let rule = if view.bytes[at] == b's' {
        &STRIPE_SECRET_KEY
    } else {
        &STRIPE_RESTRICTED_KEY
    };
    Ok(token(view, at, 8, alnum, 20..=247, word_or_dash)?.map(|_| rule))
}

/// `AIza` + 35 URL-safe characters, not inside base64 (`+`, `/` around it).
fn google_api_key(view: &View<'_>, at: usize) -> Verdict {
    let fence = |b: u8| url_safe(b) || b == b'+' || b == b'/';
    Ok(token(view, at, 4, url_safe, 35..=35, fence)?.map(|_| &GOOGLE_API_KEY))
}

/// `npm_` + 36 letters and digits.
fn npm_token(view: &View<'_>, at: usize) -> Verdict {
    Ok(token(view, at, 4, alnum, 36..=36, word_or_dash)?.map(|_| &NPM_TOKEN))
}

/// `AKIA`/`ASIA` + 16 base-32 characters (not inside base64), and a secret key (40 base64 characters, mixed)
/// within `AWS_NEAR` bytes before or after it. An id alone is not a secret, and AWS's
/// documentation examples (`...EXAMPLE`) are not keys.
fn aws_access_key(view: &View<'_>, at: usize) -> Verdict {
    let base32 = |b: u8| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b);
    if view.before(at)?.is_some_and(base64)
        || view.run(at + 4, base32, 16)? != 16
        || view.is(at + 20, base64)?
        || view.bytes[at..at + 20].ends_with(b"EXAMPLE")
    {
        return Ok(None);
    }
    let bytes = view.bytes;
    let lo = at.saturating_sub(AWS_NEAR);
    let want_hi = at + 20 + AWS_NEAR + 41;
    let hi = want_hi.min(bytes.len());
    let mut i = lo;
    // A run that started before the window is not near enough.
    if lo > 0 && base64(bytes[lo - 1]) {
        while i < hi && base64(bytes[i]) {
            i += 1;
        }
    }
    while i < hi {
        if !base64(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < hi && base64(bytes[i]) {
            i += 1;
        }
        let closed = match bytes.get(i) {
            Some(&b) => !base64(b) && b != b'=',
            None => view.file_end,
        };
        let open_start = start == 0 && !view.file_start;
        if i - start == 40 && closed && !open_start && is_aws_secret(&bytes[start..i]) {
            return Ok(Some(&AWS_ACCESS_KEY));
        }
    }
    let cut = (at < AWS_NEAR && !view.file_start) || (want_hi > bytes.len() && !view.file_end);
    if cut { Err(NeedMore) } else { Ok(None) }
}

fn is_aws_secret(run: &[u8]) -> bool {
    run.iter().any(u8::is_ascii_lowercase)
        && run.iter().any(u8::is_ascii_uppercase)
        && run
            .iter()
            .any(|b| b.is_ascii_digit() || *b == b'+' || *b == b'/')
        && looks_random(run)
        && memchr::memmem::find(run, b"EXAMPLE").is_none()
}

/// A private key header followed by a key body: optional `Name: value` header lines (PEM
/// `Proc-Type`, PGP `Version`), then a run of 40+ base64 characters. Line breaks may be real
/// or escaped (`\n` in a JSON or JS string), so a key embedded in a bundle is found; a header
/// shown as a heading or in prose is not followed by a body and passes.
fn private_key(view: &View<'_>, at: usize) -> Verdict {
    const LABELS: [(&[u8], &Rule); 7] = [
        (b"PRIVATE KEY-----", &PEM_PRIVATE_KEY),
        (b"RSA PRIVATE KEY-----", &PEM_PRIVATE_KEY),
        (b"EC PRIVATE KEY-----", &PEM_PRIVATE_KEY),
        (b"DSA PRIVATE KEY-----", &PEM_PRIVATE_KEY),
        (b"ENCRYPTED PRIVATE KEY-----", &PEM_PRIVATE_KEY),
        (b"OPENSSH PRIVATE KEY-----", &OPENSSH_PRIVATE_KEY),
        (b"PGP PRIVATE KEY BLOCK-----", &PGP_PRIVATE_KEY),
    ];
    let from = at + "-----BEGIN ".len();
    let mut found = None;
    for (label, rule) in LABELS {
        if view.has(from, label)? {
            found = Some((from + label.len(), rule));
            break;
        }
    }
    let Some((mut i, rule)) = found else {
        return Ok(None);
    };
    i = skip_breaks(view, i)?;
    for _ in 0..4 {
        match header_line(view, i)? {
            Some(end) => i = skip_breaks(view, end)?,
            None => break,
        }
    }
    let body_char = |b: u8| base64(b) || b == b'=';
    Ok((view.run(i, body_char, 40)? >= 40).then_some(rule))
}

/// Past line breaks and blanks (real, or escaped as `\n`, `\r`, `\\n`), at most 16 bytes.
fn skip_breaks(view: &View<'_>, mut i: usize) -> Result<usize, NeedMore> {
    let limit = i + 16;
    while i < limit {
        match view.at(i)? {
            Some(b'\r' | b'\n' | b' ' | b'\t') => i += 1,
            Some(b'\\') => {
                let mut j = i;
                while j < limit && view.at(j)? == Some(b'\\') {
                    j += 1;
                }
                if matches!(view.at(j)?, Some(b'n' | b'r')) {
                    i = j + 1;
                } else {
                    break;
                }
            }
            _ => break,
        }
    }
    Ok(i)
}

/// A `Name: value` line at `i` (at most 80 bytes): where its line break starts.
fn header_line(view: &View<'_>, i: usize) -> Result<Option<usize>, NeedMore> {
    let name = view.run(i, |b| b.is_ascii_alphabetic() || b == b'-', 32)?;
    if !(1..=32).contains(&name) || !view.has(i + name, b": ")? {
        return Ok(None);
    }
    for end in i + name + 2..i + 80 {
        if matches!(view.at(end)?, None | Some(b'\r' | b'\n' | b'\\')) {
            return Ok(Some(end));
        }
    }
    Ok(None)
}

/// `PuTTY-User-Key-File-<version>: <algorithm>` then, on the next line, `Encryption: `.
fn putty_key(view: &View<'_>, at: usize) -> Verdict {
    let mut i = at + "PuTTY-User-Key-File-".len();
    let version = view.run(i, |b| b.is_ascii_digit(), 2)?;
    if !(1..=2).contains(&version) || !view.has(i + version, b": ")? {
        return Ok(None);
    }
    i += version + 2;
    let algorithm = |b: u8| b.is_ascii_alphanumeric() || b"-@.".contains(&b);
    let n = view.run(i, algorithm, 40)?;
    if !(3..=40).contains(&n) {
        return Ok(None);
    }
    i += n;
    let next = skip_breaks(view, i)?;
    Ok((next > i && view.has(next, b"Encryption: ")?).then_some(&PUTTY_PRIVATE_KEY))
}
