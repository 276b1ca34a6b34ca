//! The bad-input corpus: configs, flags, source folders and files that sitewarden must refuse with
//! exit 2, a message naming what and where, and no remote change.
//!
//! Every case runs under its own access key against a site whose infrastructure is up (so a
//! `deploy` or `up` that accepted the input would write), and the emulator's request log then
//! shows no write for that key ([`writes_of`]). Source and file cases also run `up` for a site
//! that does not exist yet: it must refuse before it creates anything.
//!
//! Not exit 2, and so checked apart: links out of the source folder (skipped with a warning), a
//! `chmod 000` file when the tests run as root (root reads it, so it is published), and 100,000
//! empty files (valid: planned by `deploy --dry-run`). A 6 GiB sparse file is accepted for a
//! multipart upload; the walk's unit tests show it (hashing 6 GiB in a debug build would take
//! minutes), and a file over the upload limit is refused here.

use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::faults::control;
use crate::support::{Run, project, site_name};

/// The config of the cases, before what a case adds: the shared site, `dist` as source.
fn base_config(site: &str) -> String {
    format!("[site]\nname = \"{site}\"\nsource = \"dist\"\nregion = \"eu-west-1\"\n")
}

/// The site whose infrastructure is up and whose `index.html` is published, shared by every
/// case (made once per test binary). Making it is the control of the write check: [`writes_of`]
/// sees what `up` creates and what `deploy` uploads.
fn live_site() -> &'static str {
    static SITE: OnceLock<String> = OnceLock::new();
    SITE.get_or_init(|| {
        let name = site_name("badin");
        let dir = project(&name, "");
        let (key, since) = (new_key(), log_length());
        Run::new(dir.path())
            .env("AWS_ACCESS_KEY_ID", &key)
            .args(["up", "--infra-only"])
            .run();
        let writes = writes_of(&key, since);
        for create in [
            "kms POST CreateKey",
            "s3 PUT CreateBucket",
            "cloudfront POST POST",
        ] {
            assert!(
                writes.iter().any(|w| w.starts_with(create)),
                "{create} not in {writes:?}"
            );
        }
        let (key, since) = (new_key(), log_length());
        Run::new(dir.path())
            .env("AWS_ACCESS_KEY_ID", &key)
            .arg("deploy")
            .run();
        let writes = writes_of(&key, since);
        assert!(writes.iter().any(|w| w == "s3 PUT PutObject"), "{writes:?}");
        name
    })
}

/// A new access key, so that the request log tells this run's requests apart.
fn new_key() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "BADIN{}X{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// How many requests the emulator has logged so far.
fn log_length() -> u64 {
    let state: serde_json::Value =
        serde_json::from_str(&control("GET", "faults?scope=bad-input", "")).unwrap();
    state["requests"].as_u64().unwrap()
}

/// The requests signed with `key` from log entry `since` on that can change something: a PUT,
/// POST or DELETE whose operation is not a read (Get/List/Describe/Head: KMS, ACM and Logs send
/// their reads as POSTs naming the operation in `X-Amz-Target`). STS is only ever asked who the
/// caller is (its query protocol puts the action in the POST body, so the log shows `POST /`).
fn writes_of(key: &str, since: u64) -> Vec<String> {
    let log: serde_json::Value =
        serde_json::from_str(&control("GET", &format!("requests?since={since}"), "")).unwrap();
    log.as_array()
        .unwrap()
        .iter()
        .filter(|e| e["access_key"] == key && e["service"] != "sts")
        .filter(|e| {
            let operation = e["operation"].as_str().unwrap_or("");
            matches!(e["method"].as_str(), Some("PUT" | "POST" | "DELETE"))
                && !["Get", "List", "Describe", "Head"]
                    .iter()
                    .any(|p| operation.starts_with(p))
        })
        .map(|e| {
            let field = |name: &str| e[name].as_str().unwrap_or("").to_owned();
            format!(
                "{} {} {}",
                field("service"),
                field("method"),
                field("operation")
            )
        })
        .collect()
}

/// The config file of a case.
#[derive(Clone)]
enum Config {
    /// [`base_config`] followed by this text (inside `[site]` until a header starts another table).
    Extra(String),
    /// The whole file; `{site}` stands for the site name.
    Text(String),
    /// The whole file as bytes, from the site name (another encoding).
    Bytes(fn(&str) -> Vec<u8>),
}

/// One bad input: the config and files it starts from, the command, and the message.
struct Case {
    name: &'static str,
    config: Config,
    /// Changes to the project folder (`dist/index.html` and `sitewarden.toml` are there).
    files: fn(&Path),
    args: Vec<&'static str>,
    /// A line (or part of one) of stderr, exactly.
    expect: String,
    /// Also `up` for a site that does not exist yet: refused before anything is created.
    up_fresh: bool,
}

fn nothing(_: &Path) {}

/// `deploy` with `extra` after the base config.
fn config(name: &'static str, extra: &str, expect: &str) -> Case {
    Case {
        name,
        config: Config::Extra(extra.to_owned()),
        files: nothing,
        args: vec!["deploy"],
        expect: expect.to_owned(),
        up_fresh: false,
    }
}

/// `deploy` with a whole config file.
fn config_text(name: &'static str, text: &str, expect: &str) -> Case {
    Case {
        config: Config::Text(text.to_owned()),
        ..config(name, "", expect)
    }
}

/// The base config and `args`.
fn flags(name: &'static str, args: &[&'static str], expect: &str) -> Case {
    Case {
        args: args.to_vec(),
        ..config(name, "", expect)
    }
}

/// The base config, `files` applied, `deploy` and `up` of a new site.
fn source(name: &'static str, files: fn(&Path), expect: &str) -> Case {
    Case {
        files,
        up_fresh: true,
        ..config(name, "", expect)
    }
}

impl Case {
    fn args(mut self, args: &[&'static str]) -> Case {
        self.args = args.to_vec();
        self
    }
}

/// Sets the case up in a new folder, runs it (and its `up` of a new site), and checks exit 2,
/// the message and that nothing was written.
fn check(case: &Case) {
    let site = live_site();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("dist")).unwrap();
    std::fs::write(dir.path().join("dist/index.html"), "<h1>hello</h1>\n").unwrap();
    let text = |site: &str| -> Vec<u8> {
        match &case.config {
            Config::Extra(extra) => format!("{}{extra}", base_config(site)).into_bytes(),
            Config::Text(text) => text.replace("{site}", site).into_bytes(),
            Config::Bytes(bytes) => bytes(site),
        }
    };
    std::fs::write(dir.path().join("sitewarden.toml"), text(site)).unwrap();
    (case.files)(dir.path());
    let mut runs = vec![case.args.clone()];
    if case.up_fresh {
        let fresh = site_name("badnew");
        std::fs::write(dir.path().join("fresh.toml"), text(&fresh)).unwrap();
        runs.push(vec!["-c", "fresh.toml", "up"]);
    }
    for args in runs {
        let key = new_key();
        let since = log_length();
        Run::new(dir.path())
            .env("AWS_ACCESS_KEY_ID", &key)
            .args(&args)
            .status(2)
            .stderr_contains(case.expect.as_str())
            .run();
        let writes = writes_of(&key, since);
        assert!(
            writes.is_empty(),
            "{} (`{}`): write calls {writes:?}",
            case.name,
            args.join(" ")
        );
    }
}

/// Runs every case (each under its own key), then checks there were at least `minimum`.
fn check_all(cases: &[Case], minimum: usize) {
    let failed: Vec<&str> = cases
        .iter()
        .filter(|case| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(case))).is_err()
        })
        .map(|case| case.name)
        .collect();
    assert!(
        failed.is_empty(),
        "failed cases (each reported above): {failed:?}"
    );
    let mut names: Vec<&str> = cases.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "case names are unique");
    assert!(cases.len() >= minimum, "{} cases", cases.len());
}

const UP_INFRA: &[&str] = &["up", "--infra-only"];

const INVALID: &str = "error: invalid config file `sitewarden.toml`: ";

/// The base config in UTF-16 after its byte-order mark, little- or big-endian.
fn utf16(site: &str, big_endian: bool) -> Vec<u8> {
    let mut out = if big_endian {
        vec![0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE]
    };
    for unit in base_config(site).encode_utf16() {
        out.extend(if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    out
}

fn config_cases() -> Vec<Case> {
    let e = |rest: &str| format!("{INVALID}{rest}");
    vec![
        // Types.
        config_text(
            "site name is a number",
            "[site]\nname = 42\nsource = \"dist\"\n",
            &e("line 2, column 8: invalid type: integer `42`, expected a string"),
        ),
        config(
            "concurrency is a string",
            "[deploy]\nconcurrency = \"many\"\n",
            &e("line 6, column 15: invalid type: string \"many\", expected usize"),
        ),
        config(
            "hsts_preload is a string",
            "[headers]\nhsts_preload = \"yes\"\n",
            &e("line 6, column 16: invalid type: string \"yes\", expected a boolean"),
        ),
        config(
            "aliases is a string",
            "aliases = \"www.example.com\"\n",
            &e("line 5, column 11: invalid type: string \"www.example.com\", expected a sequence"),
        ),
        config(
            "redirects is a table",
            "[redirects]\nfrom = \"/a\"\n",
            &e("line 5, column 1: invalid type: map, expected a sequence"),
        ),
        // Ranges.
        config(
            "concurrency zero",
            "[deploy]\nconcurrency = 0\n",
            &e("`deploy.concurrency`: `0` is out of range 1-256"),
        ),
        config(
            "concurrency too high",
            "[deploy]\nconcurrency = 1000\n",
            &e("`deploy.concurrency`: `1000` is out of range 1-256"),
        ),
        config(
            "concurrency negative",
            "[deploy]\nconcurrency = -1\n",
            &e("line 6, column 15: invalid value: integer `-1`, expected usize"),
        ),
        config(
            "mass delete threshold above one",
            "[deploy]\nmass_delete_threshold = 1.5\n",
            &e(
                "`deploy.mass_delete_threshold`: `1.5` must be a share of the site greater than 0 \
                 and at most 1 (0.5 = half)",
            ),
        ),
        config(
            "invalidation limit too high",
            "[deploy]\ninvalidation_limit = 5000\n",
            &e("`deploy.invalidation_limit`: `5000` is out of range 1-3000"),
        ),
        config(
            "log retention zero",
            "[logging]\nretention_days = 0\n",
            &e("`logging.retention_days`: `0` is out of range 1-3650"),
        ),
        config(
            "noncurrent version days too high",
            "[logging]\nnoncurrent_version_days = 4000\n",
            &e("`logging.noncurrent_version_days`: `4000` is out of range 1-3650"),
        ),
        config(
            "redirect status 404",
            "[[redirects]]\nfrom = \"/a\"\nto = \"/b\"\nstatus = 404\n",
            &e("line 8, column 10: redirect status `404` is not one of 301, 302, 307, 308"),
        ),
        config(
            "tls minimum too old",
            "[tls]\nminimum = \"TLSv1\"\n",
            &e(
                "line 6, column 11: unknown variant `TLSv1`, expected one of `TLSv1.2_2021`, \
                 `TLSv1.2_2025`, `TLSv1.3_2025`",
            ),
        ),
        // Unknown keys, at each level.
        config(
            "unknown section",
            "[sitee]\nname = \"x\"\n",
            &e("line 5, column 2: unknown field `sitee`, expected one of `site`, `dns`, `tls`"),
        ),
        config(
            "unknown key in site",
            "sorce = \"dist\"\n",
            &e("line 5, column 1: unknown field `sorce`, expected one of `name`, `domain`"),
        ),
        config(
            "unknown key in deploy",
            "[deploy]\nexcludes = [\"*.map\"]\n",
            &e("line 6, column 1: unknown field `excludes`, expected one of `exclude`"),
        ),
        config(
            "unknown key in headers",
            "[headers]\ncsp = \"default-src 'self'\"\n",
            &e("line 6, column 1: unknown field `csp`, expected one of `content_security_policy`"),
        ),
        config(
            "unknown key in a redirect",
            "[[redirects]]\nfrom = \"/a\"\nto = \"/b\"\ncode = 301\n",
            &e("line 8, column 1: unknown field `code`, expected one of `from`, `to`, `status`"),
        ),
        config(
            "unknown key in a cache rule",
            "[[cache]]\nglob = \"*.css\"\ncache_control = \"no-cache\"\nttl = 60\n",
            &e("line 8, column 1: unknown field `ttl`, expected `glob` or `cache_control`"),
        ),
        config(
            "unknown key in tls",
            "[tls]\nversion = \"TLSv1.3_2025\"\n",
            &e("line 6, column 1: unknown field `version`, expected `minimum`"),
        ),
        config(
            "unknown key in dns",
            "[dns]\nprovider = \"route53\"\n",
            &e("line 6, column 1: unknown field `provider`, expected `mode` or `zone`"),
        ),
        config(
            "unknown key in cdn",
            "[cdn]\nwaf = true\n",
            &e("line 6, column 1: unknown field `waf`, expected one of `price_class`"),
        ),
        config(
            "unknown key in logging",
            "[logging]\nretention = 30\n",
            &e("line 6, column 1: unknown field `retention`, expected `retention_days` or"),
        ),
        // Globs.
        config(
            "exclude glob with an open class",
            "[deploy]\nexclude = [\"**/[.map\"]\n",
            &e("line 6, column 11: invalid glob `**/[.map`: unclosed character class; missing ']'"),
        ),
        config(
            "absolute exclude glob",
            "[deploy]\nexclude = [\"/assets/**\"]\n",
            &e(
                "line 6, column 11: glob `/assets/**` must be relative to the source folder \
                 (remove the leading `/`)",
            ),
        ),
        config(
            "cache glob with an open alternation",
            "[[cache]]\nglob = \"{a,b\"\ncache_control = \"no-cache\"\n",
            &e("line 6, column 8: invalid glob `{a,b`: unclosed alternate group"),
        ),
        config(
            "empty allow glob",
            "[deploy]\nallow = [\"\"]\n",
            &e("line 6, column 9: glob must not be empty"),
        ),
        // Redirects.
        config(
            "redirect loop a b a",
            "[[redirects]]\nfrom = \"/a\"\nto = \"/b\"\n[[redirects]]\nfrom = \"/b\"\nto = \"/a\"\n",
            &e("`redirects[0]`: redirect loop: /a → /b → /a"),
        ),
        config(
            "redirect loop through three",
            "[[redirects]]\nfrom = \"/a\"\nto = \"/b\"\n[[redirects]]\nfrom = \"/b\"\nto = \"/c\"\n\
             [[redirects]]\nfrom = \"/c\"\nto = \"/a\"\n",
            &e("`redirects[0]`: redirect loop: /a → /b → /c → /a"),
        ),
        config(
            "redirect from equals to",
            "[[redirects]]\nfrom = \"/same\"\nto = \"/same\"\n",
            &e("`redirects[0]`: redirect loop: /same → /same"),
        ),
        config(
            "wildcard redirect into its own pattern",
            "[[redirects]]\nfrom = \"/docs/*\"\nto = \"/docs/v2/:splat\"\n",
            &e("`redirects[0]`: `/docs/*` → `/docs/v2/:splat` redirects into its own pattern"),
        ),
        config(
            "redirect to another host through a path",
            "[[redirects]]\nfrom = \"/go\"\nto = \"//evil.example\"\n",
            &e("`redirects[0].to`: `//evil.example` starts with `//` or `/\\`"),
        ),
        // CSP syntax, through `up`: the headers policy would be updated if it were accepted.
        config(
            "csp directive name with a bad character",
            "[headers]\ncontent_security_policy = \"default-src 'self'; sc@ript-src 'self'\"\n",
            &e(
                "`headers.content_security_policy`: `sc@ript-src` is not a directive name \
                 (letters, digits and `-`); directives are separated by `;`",
            ),
        )
        .args(UP_INFRA),
        config(
            "csp unknown directive",
            "[headers]\ncontent_security_policy = \"default-src 'self'; scirpt-src 'self'\"\n",
            &e("`headers.content_security_policy`: `scirpt-src` is not a \
                 Content-Security-Policy directive"),
        )
        .args(UP_INFRA),
        config(
            "csp with a newline",
            "[headers]\ncontent_security_policy = \"default-src 'self';\\nimg-src 'self'\"\n",
            &e("line 6, column 27: header value contains '\\n'; only printable ASCII is allowed"),
        )
        .args(UP_INFRA),
        config(
            "csp with a non-ascii character",
            "[headers]\ncontent_security_policy = \"default-src 'self' https://café.example\"\n",
            &e("line 6, column 27: header value contains 'é'; only printable ASCII is allowed"),
        )
        .args(UP_INFRA),
        config(
            "csp unquoted self",
            "[headers]\ncontent_security_policy = \"default-src self\"\n",
            &e("`headers.content_security_policy`: `default-src`: `self` without quotes is a host"),
        )
        .args(UP_INFRA),
        config(
            "csp directive twice",
            "[headers]\ncontent_security_policy = \"img-src 'self'; img-src data:\"\n",
            &e("`headers.content_security_policy`: `img-src` appears twice"),
        )
        .args(UP_INFRA),
        // Names.
        config_text(
            "site name too long",
            "[site]\nname = \"a-site-name-that-is-longer-than-forty-chars\"\nsource = \"dist\"\n",
            &e(
                "line 2, column 8: site name `a-site-name-that-is-longer-than-forty-chars` must \
                 be 3-40 characters",
            ),
        ),
        config_text(
            "site name with uppercase",
            "[site]\nname = \"Docs\"\nsource = \"dist\"\n",
            &e("line 2, column 8: site name `Docs` must be 3-40 characters of lowercase letters"),
        ),
        config_text(
            "site name with dots",
            "[site]\nname = \"docs.example\"\nsource = \"dist\"\n",
            &e("line 2, column 8: site name `docs.example` must be 3-40 characters"),
        ),
        config(
            "bucket name too long",
            &format!("bucket = \"{}\"\n", "b".repeat(64)),
            &e(&format!(
                "line 5, column 10: `{}` is not a valid S3 bucket name",
                "b".repeat(64)
            )),
        ),
        config(
            "domain label too long",
            &format!("domain = \"{}.example.com\"\n", "l".repeat(64)),
            &e(&format!(
                "line 5, column 10: `{}.example.com` is not a domain name",
                "l".repeat(64)
            )),
        ),
        config(
            "domain with a scheme",
            "domain = \"https://docs.example.com\"\n",
            &e("line 5, column 10: `https://docs.example.com` is not a domain name"),
        ),
        config(
            "domain with uppercase",
            "domain = \"Docs.Example.com\"\n",
            &e("line 5, column 10: `Docs.Example.com` is not a domain name"),
        ),
        config_text(
            "bad region",
            "[site]\nname = \"{site}\"\nsource = \"dist\"\nregion = \"europe\"\n",
            &e("line 4, column 10: `europe` is not an AWS region code"),
        ),
        config(
            "aliases without a domain",
            "aliases = [\"www.example.com\"]\n",
            &e("`site.aliases`: aliases need `site.domain`"),
        ),
        config(
            "managed header in extra",
            "[headers.extra]\nX-Frame-Options = \"SAMEORIGIN\"\n",
            &e("`headers.extra.X-Frame-Options`: this header is set by the security headers"),
        ),
        config_text(
            "empty source",
            "[site]\nname = \"{site}\"\nsource = \"\"\nregion = \"eu-west-1\"\n",
            &e("`site.source`: must name the folder to publish"),
        ),
        // Encodings and files that are not a config.
        Case {
            config: Config::Bytes(|site| utf16(site, false)),
            ..config(
                "config in utf-16 little-endian",
                "",
                &e(
                    "the file is UTF-16 (little-endian) (it starts with that byte-order mark); \
                    TOML files must be UTF-8",
                ),
            )
        },
        Case {
            config: Config::Bytes(|site| utf16(site, true)),
            ..config(
                "config in utf-16 big-endian",
                "",
                &e("the file is UTF-16 (big-endian)"),
            )
        },
        Case {
            config: Config::Bytes(|site| {
                let mut bytes = base_config(site).into_bytes();
                bytes.extend(b"# caf\xE9\n");
                bytes
            }),
            ..config(
                "config in latin-1",
                "",
                &e(
                    "line 5, column 6: the byte 0xE9 is not UTF-8 (it is `é` in Latin-1 / \
                    ISO-8859-1 and Windows-1252",
                ),
            )
        },
        config_text(
            "config not toml",
            "[site\nname = \"{site}\"\n",
            &e("line 1, column 6: unclosed table, expected `]`"),
        ),
        config(
            "config file missing",
            "",
            "error: cannot read config file `missing.toml`",
        )
        .args(&["-c", "missing.toml", "deploy"]),
        config(
            "config file is a folder",
            "",
            "error: cannot read config file `dist`",
        )
        .args(&["-c", "dist", "deploy"]),
    ]
}

fn flag_cases() -> Vec<Case> {
    vec![
        flags(
            "unknown flag",
            &["deploy", "--bogus"],
            "error: unexpected argument '--bogus' found",
        ),
        flags(
            "unknown command",
            &["deplyo"],
            "error: unrecognized subcommand 'deplyo'",
        ),
        flags(
            "quiet and verbose",
            &["-q", "-v", "deploy"],
            "error: the argument '--quiet' cannot be used with '--verbose'",
        ),
        flags(
            "delete content and keep key",
            &["destroy", "--delete-content", "--keep-key"],
            "error: the argument '--delete-content' cannot be used with '--keep-key'",
        ),
        flags(
            "wait for lock with an unknown unit",
            &["deploy", "--wait-for-lock", "5parsecs"],
            "error: invalid value '5parsecs' for '--wait-for-lock <DURATION>': `5parsecs` has an \
             unknown unit `parsecs` (use s, m or h: 90s, 10m, 1h)",
        ),
        flags(
            "wait for lock negative",
            &["up", "--wait-for-lock=-5s"],
            "error: invalid value '-5s' for '--wait-for-lock <DURATION>'",
        ),
        flags(
            "color sometimes",
            &["--color", "sometimes", "deploy"],
            "error: invalid value 'sometimes' for '--color <WHEN>'",
        ),
        flags(
            "fail on an unknown severity",
            &["audit", "--fail-on", "urgent"],
            "error: invalid value 'urgent' for '--fail-on <SEVERITY>'",
        ),
        flags(
            "audit format xml",
            &["audit", "--format", "xml"],
            "error: invalid value 'xml' for '--format <FORMAT>'",
        ),
        flags(
            "iam policy for admin",
            &["iam-policy", "--for", "admin"],
            "error: invalid value 'admin' for '--for <PURPOSE>'",
        ),
        flags(
            "region flag not a region",
            &["--region", "Mars", "deploy"],
            "error: invalid `--region`: `Mars` is not an AWS region code",
        ),
        flags(
            "switch given a value",
            &["deploy", "--dry-run=yes"],
            "error: unexpected value 'yes' for '--dry-run' found; no more were expected",
        ),
    ]
}

fn is_root() -> bool {
    let out = std::process::Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

fn write(dir: &Path, name: impl AsRef<Path>, body: &str) {
    let path = dir.join("dist").join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
}

fn os(bytes: &[u8]) -> &std::ffi::OsStr {
    std::os::unix::ffi::OsStrExt::from_bytes(bytes)
}

/// The first line of the walk's refusal of `n` files in `dist`.
const ONE: &str = "dist` has 1 file(s) that cannot be published:";

const CONTROL: &str = "the name contains the control character ";
const LISTINGS: &str = ", which URLs and S3 listings cannot carry as is";

fn refused(line: &str) -> String {
    format!("\n  {line}\n")
}

/// The messages name the folder as `<project>/dist`: each expectation is the end of the line.
fn source_cases() -> Vec<Case> {
    vec![
        source(
            "source folder missing",
            |dir| std::fs::remove_dir_all(dir.join("dist")).unwrap(),
            "dist` cannot be read: No such file or directory (os error 2)",
        ),
        source(
            "source folder empty",
            |dir| std::fs::remove_file(dir.join("dist/index.html")).unwrap(),
            "dist` has no files to publish",
        ),
        source(
            "source is a file",
            |dir| {
                std::fs::remove_dir_all(dir.join("dist")).unwrap();
                std::fs::write(dir.join("dist"), "not a folder").unwrap();
            },
            "dist` is not a folder",
        ),
        source(
            "source is a symlink loop",
            |dir| {
                std::fs::remove_dir_all(dir.join("dist")).unwrap();
                std::os::unix::fs::symlink("dist", dir.join("dist")).unwrap();
            },
            "dist` cannot be read: Too many levels of symbolic links (os error 40)",
        ),
        source(
            "source is a dangling symlink",
            |dir| {
                std::fs::remove_dir_all(dir.join("dist")).unwrap();
                std::os::unix::fs::symlink("build", dir.join("dist")).unwrap();
            },
            "dist` cannot be read: No such file or directory (os error 2)",
        ),
        Case {
            config: Config::Extra("[deploy]\nexclude = [\"**\"]\n".to_owned()),
            ..source(
                "every file excluded",
                nothing,
                "dist` has no files to publish",
            )
        },
    ]
}

fn file_cases() -> Vec<Case> {
    let mut cases = vec![
        source(
            "fifo",
            |dir| mkfifo(&dir.join("dist/pipe")),
            &refused("`pipe`: a FIFO (named pipe), not a regular file"),
        ),
        source(
            "socket",
            |dir| {
                std::os::unix::net::UnixListener::bind(dir.join("dist/app.sock")).unwrap();
            },
            &refused("`app.sock`: a socket, not a regular file"),
        ),
        source(
            "symlink loop inside",
            |dir| {
                std::os::unix::fs::symlink("b.html", dir.join("dist/a.html")).unwrap();
                std::os::unix::fs::symlink("a.html", dir.join("dist/b.html")).unwrap();
            },
            "dist` has 2 file(s) that cannot be published:\n  `a.html`: a symlink loop \
             (`a.html` → `b.html` → `a.html`)\n  `b.html`: a symlink loop (`b.html` → `a.html` \
             → `b.html`)\n",
        ),
        source(
            "symlink to itself",
            |dir| std::os::unix::fs::symlink("me.html", dir.join("dist/me.html")).unwrap(),
            &refused("`me.html`: a symlink loop (`me.html` → `me.html`)"),
        ),
        source(
            "symlink to a fifo inside",
            |dir| {
                mkfifo(&dir.join("dist/pipe"));
                std::os::unix::fs::symlink("pipe", dir.join("dist/feed.xml")).unwrap();
            },
            "dist` has 2 file(s) that cannot be published:\n  `feed.xml`: a symlink to \
             `pipe`, a FIFO (named pipe), not a regular file\n  `pipe`: a FIFO (named pipe), \
             not a regular file\n",
        ),
        source(
            "newline in a name",
            |dir| write(dir, "new\nline.html", "n"),
            &refused(
                "`new\\nline.html`: the name contains the control character U+000A, which URLs \
                 and S3 listings cannot carry as is",
            ),
        ),
        source(
            "delete character in a name",
            |dir| write(dir, "del\x7f.html", "d"),
            &refused(&format!("`del\\u{{7f}}.html`: {CONTROL}U+007F{LISTINGS}")),
        ),
        source(
            "escape sequence in a name",
            |dir| write(dir, "\x1b[2Jclear.html", "c"),
            &refused(&format!(
                "`\\u{{1b}}[2Jclear.html`: {CONTROL}U+001B{LISTINGS}"
            )),
        ),
        source(
            "tab in a folder name",
            |dir| write(dir, "a\tb/index.html", "t"),
            &refused(&format!("`a\\tb/index.html`: {CONTROL}U+0009{LISTINGS}")),
        ),
        source(
            "invalid utf-8 file name",
            |dir| write(dir, os(b"caf\xE9.html"), "latin-1 name"),
            &refused(
                "`caf\\xE9.html`: the name is not valid UTF-8, so it cannot be an S3 key or a URL",
            ),
        ),
        source(
            "invalid utf-8 folder name",
            |dir| write(dir, Path::new(os(b"\xFF\xFE")).join("index.html"), "x"),
            &refused(
                "`\\xFF\\xFE/index.html`: the name is not valid UTF-8, so it cannot be an S3 key or a URL",
            ),
        ),
        source(
            "key over 1024 bytes",
            |dir| {
                let deep: std::path::PathBuf =
                    (0..6).map(|i| format!("{i}{}", "d".repeat(199))).collect();
                write(dir, deep.join("index.html"), "deep");
            },
            "dddd/index.html`: its key is 1216 bytes long; S3 keys are at most 1024 bytes (UTF-8)\n",
        ),
        source(
            "names differing only in case",
            |dir| {
                write(dir, "A.html", "upper");
                write(dir, "a.html", "lower");
            },
            "error: `A.html` and `a.html` differ only in letter case: on a case-insensitive file \
             system or path they are one file, so one would hide the other",
        ),
        source(
            "folders differing only in case",
            |dir| {
                write(dir, "Docs/index.html", "upper");
                write(dir, "docs/index.html", "lower");
            },
            "error: `Docs/index.html` and `docs/index.html` differ only in letter case",
        ),
        source(
            "names equal after nfc",
            |dir| {
                write(dir, "caf\u{e9}.html", "precomposed");
                write(dir, "cafe\u{301}.html", "decomposed");
            },
            "error: `cafe\\u{301}.html` and `caf\\u{e9}.html` are both published as `caf\u{e9}.html`",
        ),
        source(
            "file over the upload limit",
            |dir| {
                let file = std::fs::File::create(dir.join("dist/disk.img")).unwrap();
                file.set_len(83_886_080_001).unwrap(); // sparse: no disk used
            },
            &refused(
                "`disk.img`: 83886080001 bytes, over the 83886080000-byte (78.1 GiB) limit of an \
                 upload (10000 parts of 8 MiB)",
            ),
        ),
        source(
            "secret file",
            |dir| write(dir, ".env", "API_TOKEN=x\n"),
            "error: refusing to publish 1 file(s) that look like secrets:\n  .env",
        ),
        source(
            "state prefix in the source",
            |dir| write(dir, ".sitewarden/manifest.json", "{}"),
            "error: `.sitewarden/` is reserved for sitewarden's own state",
        ),
        source(
            "every refusal listed",
            |dir| {
                mkfifo(&dir.join("dist/a-pipe"));
                write(dir, "b\nc.html", "n");
                write(dir, os(b"d\xE9.html"), "x");
            },
            "dist` has 3 file(s) that cannot be published:\n  `a-pipe`: a FIFO (named pipe), not \
             a regular file\n  `b\\nc.html`: the name contains the control character U+000A, \
             which URLs and S3 listings cannot carry as is\n  `d\\xE9.html`: the name is not \
             valid UTF-8, so it cannot be an S3 key or a URL\n",
        ),
    ];
    if is_root() {
        // Only root may make a device node; elsewhere the link to `/dev/null` below is the
        // device case (a link out of the root: skipped with a warning).
        cases.push(source(
            "character device",
            |dir| {
                let status = std::process::Command::new("mknod")
                    .arg(dir.join("dist/null"))
                    .args(["c", "1", "3"])
                    .status()
                    .unwrap();
                assert!(status.success());
            },
            &refused("`null`: a character device, not a regular file"),
        ));
    } else {
        eprintln!("bad_input: not root, so no device node is made (mknod needs root)");
    }
    for case in &mut cases {
        if case.expect.starts_with('\n') {
            case.expect = format!("{ONE}{}", case.expect);
        }
    }
    cases
}

#[test]
fn bad_configs_exit_2_naming_the_key_and_write_nothing() {
    check_all(&config_cases(), 50);
}

#[test]
fn bad_flags_exit_2_naming_the_flag_and_write_nothing() {
    check_all(&flag_cases(), 10);
}

#[test]
fn bad_source_folders_exit_2_and_neither_deploy_nor_up_writes() {
    check_all(&source_cases(), 6);
}

#[test]
fn files_that_cannot_be_published_exit_2_and_neither_deploy_nor_up_writes() {
    check_all(&file_cases(), 19);
}

#[test]
fn the_corpus_has_at_least_60_exit_2_cases() {
    let counts = [
        ("config", config_cases().len()),
        ("flags", flag_cases().len()),
        ("source folder", source_cases().len()),
        ("files", file_cases().len()),
    ];
    let total: usize = counts.iter().map(|(_, n)| n).sum();
    eprintln!("bad-input corpus: {counts:?}, {total} in all");
    assert!(total >= 60, "{total} cases");
}

/// Requests signed with `key` from log entry `since` on, writes or not.
fn requests_of(key: &str, since: u64) -> usize {
    let log: serde_json::Value =
        serde_json::from_str(&control("GET", &format!("requests?since={since}"), "")).unwrap();
    log.as_array()
        .unwrap()
        .iter()
        .filter(|e| e["access_key"] == key)
        .count()
}

/// A dry run reads the bucket (so the log does hold this key's requests) and writes nothing.
#[test]
fn the_write_check_sees_reads_and_no_write_in_a_dry_run() {
    let dir = project_at(live_site());
    write(dir.path(), "new.html", "<p>new</p>");
    let (key, since) = (new_key(), log_length());
    Run::new(dir.path())
        .env("AWS_ACCESS_KEY_ID", &key)
        .args(["deploy", "--dry-run"])
        .stdout_is(
            "+ new.html (new)\nwould upload 1 file(s) (10 bytes), 0 would be deleted, 1 unchanged\n\
             content security policy: 2 page(s) with their own, 0 distinct inline hash(es), 1 \
             analysed in this run\n",
        )
        .run();
    assert_eq!(writes_of(&key, since), Vec::<String>::new());
    assert!(requests_of(&key, since) > 0, "the dry run reads the bucket");
}

/// `deploy --dry-run` of `dir` under a new key: exits 0 with `stderr` and `stdout` lines, and
/// writes nothing.
fn dry_run(dir: &Path, stderr: &[&str], stdout: &str) {
    let (key, since) = (new_key(), log_length());
    let mut run = Run::new(dir)
        .env("AWS_ACCESS_KEY_ID", &key)
        .args(["deploy", "--dry-run"])
        .stdout_contains(stdout);
    for line in stderr {
        run = run.stderr_contains(*line);
    }
    run.run();
    assert_eq!(writes_of(&key, since), Vec::<String>::new());
}

fn project_at(site: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sitewarden.toml"), base_config(site)).unwrap();
    write(dir.path(), "index.html", "<h1>hello</h1>\n");
    dir
}

/// Links out of the source folder (to a secret, to a device, to nowhere) are documented as
/// skipped with a warning, not refused: the rest of the site is published.
#[test]
fn links_out_of_the_root_are_skipped_with_a_warning() {
    let dir = project_at(live_site());
    std::fs::write(dir.path().join("secret.txt"), "s").unwrap();
    std::os::unix::fs::symlink("../secret.txt", dir.path().join("dist/leak.txt")).unwrap();
    std::os::unix::fs::symlink("/dev/null", dir.path().join("dist/null.txt")).unwrap();
    std::os::unix::fs::symlink("gone.html", dir.path().join("dist/dangling.html")).unwrap();
    dry_run(
        dir.path(),
        &[
            "warning: skipping `dangling.html`: a symlink to outside the source folder\n",
            "warning: skipping `leak.txt`: a symlink to outside the source folder\n",
            "warning: skipping `null.txt`: a symlink to outside the source folder\n",
        ],
        "would upload 0 file(s) (0 bytes), 0 would be deleted, 1 unchanged\n",
    );
}

/// A file or folder the user cannot read is refused; root reads every file whatever its mode, so
/// for root a `chmod 000` file is published like any other (documented in the README).
#[test]
fn unreadable_files_are_refused_except_for_root_who_reads_them() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = project_at(live_site());
    write(dir.path(), "locked.html", "<p>locked</p>");
    write(dir.path(), "private/index.html", "<p>private</p>");
    let none = std::fs::Permissions::from_mode(0o000);
    std::fs::set_permissions(dir.path().join("dist/locked.html"), none.clone()).unwrap();
    std::fs::set_permissions(dir.path().join("dist/private"), none).unwrap();
    if is_root() {
        dry_run(
            dir.path(),
            &[],
            "+ locked.html (new)\n+ private/index.html (new)\n",
        );
    } else {
        let case = source(
            "unreadable file and folder",
            nothing,
            "dist` has 2 file(s) that cannot be published:\n  `locked.html`: cannot be read: \
             Permission denied (os error 13)\n  `private`: folder cannot be read: Permission \
             denied (os error 13)\n",
        );
        check(&Case {
            files: |dir| {
                write(dir, "locked.html", "<p>locked</p>");
                write(dir, "private/index.html", "<p>private</p>");
                let none = std::fs::Permissions::from_mode(0o000);
                std::fs::set_permissions(dir.join("dist/locked.html"), none.clone()).unwrap();
                std::fs::set_permissions(dir.join("dist/private"), none).unwrap();
            },
            ..case
        });
    }
    let all = std::fs::Permissions::from_mode(0o755);
    std::fs::set_permissions(dir.path().join("dist/private"), all).unwrap();
}

/// Scale: 100,000 empty files (empty files are valid) are walked, hashed and planned.
#[test]
fn a_folder_of_100000_empty_files_is_planned() {
    let dir = project_at(live_site());
    for folder in 0..100 {
        let path = dir.path().join(format!("dist/f{folder:02}"));
        std::fs::create_dir(&path).unwrap();
        for file in 0..1000 {
            std::fs::File::create(path.join(format!("{file:03}.txt"))).unwrap();
        }
    }
    dry_run(
        dir.path(),
        &[],
        "would upload 100000 file(s) (0 bytes), 0 would be deleted, 1 unchanged\n",
    );
}
