//! Test support: the local AWS emulator (one per test binary), [`Run`], the one way tests run
//! `sitewarden`, and readers of the AWS state a run leaves.
//!
//! The emulator is started on a free 127.0.0.1 port the first time a test asks for it, with
//! `--parent-pid` so it exits together with the test binary. Each test gets its own site name and
//! temp folder, so tests run in parallel against the one emulator.

#![allow(dead_code)]

use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as StdCommand, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use sitewarden::observe;

pub const ACCOUNT: &str = "123456789012";

pub struct Emulator {
    pub endpoint: String,
    /// The emulator's log: one line per request (`"PUT /bucket/key HTTP/1.1" 200`).
    pub log: PathBuf,
    _child: Mutex<Child>,
}

/// The digest caches of this test binary's runs (one file per source folder).
pub fn cache_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("cache dir"))
        .path()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The emulator of this test binary, started on first use.
pub fn emulator() -> &'static Emulator {
    static EMULATOR: OnceLock<Emulator> = OnceLock::new();
    EMULATOR.get_or_init(start_emulator)
}

fn start_emulator() -> Emulator {
    let root = root();
    let status = StdCommand::new(root.join("scripts/emulator.sh"))
        .arg("setup")
        .status()
        .expect("run scripts/emulator.sh setup");
    assert!(status.success(), "scripts/emulator.sh setup failed");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let log_path = std::env::temp_dir().join(format!("sitewarden-emulator-{port}.log"));
    let log = std::fs::File::create(&log_path).expect("emulator log file");
    let child = StdCommand::new(root.join(".venv-emulator/bin/python"))
        .args(["-m", "sitewarden_emulator", "--port", &port.to_string()])
        .arg("--parent-pid")
        .arg(std::process::id().to_string())
        .env("PYTHONPATH", root.join("emulator"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start the emulator");
    let deadline = Instant::now() + Duration::from_mins(1);
    while !answers(port) {
        assert!(
            Instant::now() < deadline,
            "emulator on port {port} not ready after 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Emulator {
        endpoint: format!("http://127.0.0.1:{port}"),
        log: log_path,
        _child: Mutex::new(child),
    }
}

fn answers(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}

/// A unique site name for one test (valid as `site.name`).
pub fn site_name(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Where a run sends its AWS calls.
#[derive(Debug, Clone)]
enum Endpoint {
    /// `--endpoint-url <the emulator>` (the default).
    Emulator,
    /// `--endpoint-url <url>`: a closed port, or a URL the command must refuse.
    Url(String),
    /// No `--endpoint-url`: for commands that never reach AWS.
    Offline,
}

/// Whether a run's stdout is a JSON document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Json {
    No,
    /// `--json` is passed and stdout is its document.
    Flag,
    /// The command prints JSON of its own accord (`iam-policy`, `audit --format sarif`).
    Stdout,
}

#[derive(Debug, Clone)]
enum Expect {
    Is(String),
    Contains(String),
    Lacks(String),
    StartsWith(String),
    EndsWith(String),
}

impl Expect {
    fn holds(&self, text: &str) -> bool {
        match self {
            Expect::Is(s) => text == s,
            Expect::Contains(s) => text.contains(s.as_str()),
            Expect::Lacks(s) => !text.contains(s.as_str()),
            Expect::StartsWith(s) => text.starts_with(s.as_str()),
            Expect::EndsWith(s) => text.ends_with(s.as_str()),
        }
    }
}

impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expect::Is(s) => write!(f, "is {s:?}"),
            Expect::Contains(s) => write!(f, "contains {s:?}"),
            Expect::Lacks(s) => write!(f, "does not contain {s:?}"),
            Expect::StartsWith(s) => write!(f, "starts with {s:?}"),
            Expect::EndsWith(s) => write!(f, "ends with {s:?}"),
        }
    }
}

/// Exit codes that report an error (`error:` line on stderr, no data on stdout); 0, 3 (audit
/// failures) and 4 (pending changes) are results.
const ERROR_CODES: [i32; 2] = [1, 2];

/// One run of `sitewarden` and everything it must show; nothing runs until [`Run::run`], which
/// checks all of it every time.
///
/// Defaults: the run is in `dir` with no `AWS_*` setting from the environment but test
/// credentials, against the emulator (`--endpoint-url`), and must exit 0. On an exit 0, 3 or 4
/// stderr has no `error:` line; on an exit 1 or 2 it has one and stdout is empty (with `.json()`:
/// empty or a JSON document). With `.json()` (`--json`) or `.json_stdout()`, stdout must be one JSON
/// document, in [`Output::json`].
#[derive(Debug, Clone)]
#[must_use = "a `Run` runs and checks nothing until `.run()`"]
pub struct Run {
    dir: PathBuf,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    endpoint: Endpoint,
    json: Json,
    statuses: Vec<i32>,
    stdout: Vec<Expect>,
    stderr: Vec<Expect>,
    timeout: Option<Duration>,
}

/// What a [`Run`] printed, after every check passed.
#[derive(Debug)]
pub struct Output {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
    json: Option<serde_json::Value>,
}

impl Output {
    /// The JSON document on stdout (of a `.json()` or `.json_stdout()` run).
    pub fn json(&self) -> &serde_json::Value {
        self.json
            .as_ref()
            .expect("stdout holds a JSON document only in a `.json()` or `.json_stdout()` run")
    }

    pub fn into_json(self) -> serde_json::Value {
        self.json
            .expect("stdout holds a JSON document only in a `.json()` or `.json_stdout()` run")
    }
}

impl Run {
    /// `sitewarden` in `dir`, against the emulator, expected to exit 0 without an error.
    pub fn new(dir: impl AsRef<Path>) -> Run {
        Run {
            dir: dir.as_ref().to_owned(),
            args: Vec::new(),
            env: Vec::new(),
            endpoint: Endpoint::Emulator,
            json: Json::No,
            statuses: vec![0],
            stdout: Vec::new(),
            stderr: Vec::new(),
            timeout: None,
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Run {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// An environment variable on top of the test defaults (e.g. `AWS_ACCESS_KEY_ID=deny+...`).
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Run {
        self.env
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// No `--endpoint-url`: the command must not need AWS.
    pub fn offline(mut self) -> Run {
        self.endpoint = Endpoint::Offline;
        self
    }

    /// `--endpoint-url <url>` instead of the emulator's.
    pub fn endpoint(mut self, url: &str) -> Run {
        self.endpoint = Endpoint::Url(url.to_owned());
        self
    }

    /// Passes `--json`; stdout must be one JSON document.
    pub fn json(mut self) -> Run {
        self.json = Json::Flag;
        self
    }

    /// Stdout must be one JSON document, without `--json`.
    pub fn json_stdout(mut self) -> Run {
        self.json = Json::Stdout;
        self
    }

    /// The exit code the run must end with (default 0).
    pub fn status(mut self, code: i32) -> Run {
        self.statuses = vec![code];
        self
    }

    /// Any of these exit codes (a race); the stderr and stdout defaults follow the actual one.
    pub fn status_one_of(mut self, codes: impl IntoIterator<Item = i32>) -> Run {
        self.statuses = codes.into_iter().collect();
        self
    }

    pub fn stdout_is(mut self, text: impl Into<String>) -> Run {
        self.stdout.push(Expect::Is(text.into()));
        self
    }

    pub fn stdout_contains(mut self, text: impl Into<String>) -> Run {
        self.stdout.push(Expect::Contains(text.into()));
        self
    }

    pub fn stdout_lacks(mut self, text: impl Into<String>) -> Run {
        self.stdout.push(Expect::Lacks(text.into()));
        self
    }

    pub fn stdout_starts_with(mut self, text: impl Into<String>) -> Run {
        self.stdout.push(Expect::StartsWith(text.into()));
        self
    }

    pub fn stdout_ends_with(mut self, text: impl Into<String>) -> Run {
        self.stdout.push(Expect::EndsWith(text.into()));
        self
    }

    pub fn stderr_is(mut self, text: impl Into<String>) -> Run {
        self.stderr.push(Expect::Is(text.into()));
        self
    }

    pub fn stderr_contains(mut self, text: impl Into<String>) -> Run {
        self.stderr.push(Expect::Contains(text.into()));
        self
    }

    pub fn stderr_lacks(mut self, text: impl Into<String>) -> Run {
        self.stderr.push(Expect::Lacks(text.into()));
        self
    }

    pub fn stderr_starts_with(mut self, text: impl Into<String>) -> Run {
        self.stderr.push(Expect::StartsWith(text.into()));
        self
    }

    pub fn stderr_ends_with(mut self, text: impl Into<String>) -> Run {
        self.stderr.push(Expect::EndsWith(text.into()));
        self
    }

    /// Kills the run after `timeout` (it then fails its status check).
    pub fn timeout(mut self, timeout: Duration) -> Run {
        self.timeout = Some(timeout);
        self
    }

    /// The arguments as passed: the endpoint and `--json` first, then the test's.
    fn argv(&self) -> Vec<OsString> {
        let mut argv: Vec<OsString> = Vec::new();
        match &self.endpoint {
            Endpoint::Emulator => {
                argv.extend(["--endpoint-url".into(), emulator().endpoint.clone().into()]);
            }
            Endpoint::Url(url) => argv.extend(["--endpoint-url".into(), url.into()]),
            Endpoint::Offline => {}
        }
        if self.json == Json::Flag {
            argv.push("--json".into());
        }
        argv.extend(self.args.iter().cloned());
        argv
    }

    fn command(&self) -> Command {
        let mut cmd = Command::from_std(self.std_command());
        if let Some(timeout) = self.timeout {
            cmd.timeout(timeout);
        }
        cmd
    }

    /// Starts the command without waiting (stdout and stderr to null): for a test that kills it.
    pub fn spawn(self) -> std::process::Child {
        self.std_command()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sitewarden")
    }

    fn std_command(&self) -> StdCommand {
        let mut cmd = StdCommand::new(env!("CARGO_BIN_EXE_sitewarden"));
        cmd.current_dir(&self.dir);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("AWS_") {
                cmd.env_remove(key);
            }
        }
        cmd.env_remove("NO_COLOR")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_CONFIG_FILE", "/nonexistent/sitewarden-test")
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/sitewarden-test",
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            // The digest cache of every test's source folder, kept out of the user's home.
            .env("SITEWARDEN_CACHE_DIR", cache_dir());
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd.args(self.argv());
        cmd
    }

    /// Runs the command and checks the exit code, stdout and stderr; panics naming every check
    /// that failed, with the command, its exit code, stdout and stderr.
    #[track_caller]
    pub fn run(self) -> Output {
        let out = self.command().output().expect("run sitewarden");
        let status = out.status.code().unwrap_or(-1);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        match self.check(status, &stdout, &stderr) {
            Ok(json) => Output {
                status,
                stdout,
                stderr,
                json,
            },
            Err(failed) => panic!("{}", self.report(&failed, status, &stdout, &stderr)),
        }
    }

    /// Every check of the run on what it printed: the JSON document on stdout if one is
    /// expected, or each check that failed.
    fn check(
        &self,
        status: i32,
        stdout: &str,
        stderr: &str,
    ) -> Result<Option<serde_json::Value>, Vec<String>> {
        let mut failed = Vec::new();
        if !self.statuses.contains(&status) {
            failed.push(format!("exit code {status}, expected {:?}", self.statuses));
        }
        // The defaults follow the code the run ended with.
        let error = ERROR_CODES.contains(&status);
        let error_line = stderr.lines().find(|l| strip_ansi(l).starts_with("error:"));
        match (error, error_line) {
            (true, None) => failed.push(format!("exit code {status} without an `error:` line")),
            (false, Some(line)) => failed.push(format!("exit code {status} with {line:?}")),
            _ => {}
        }
        let mut json = None;
        if self.json != Json::No && !(error && stdout.is_empty()) {
            match serde_json::from_str(stdout) {
                Ok(value) => json = Some(value),
                Err(e) => failed.push(format!("stdout is not a JSON document: {e}")),
            }
        } else if error && !stdout.is_empty() {
            failed.push(format!("exit code {status} with data on stdout"));
        }
        for (stream, text, expects) in [
            ("stdout", stdout, &self.stdout),
            ("stderr", stderr, &self.stderr),
        ] {
            for expect in expects.iter().filter(|e| !e.holds(text)) {
                failed.push(format!("{stream} {expect}: it does not"));
            }
        }
        if failed.is_empty() {
            Ok(json)
        } else {
            Err(failed)
        }
    }

    /// The failed checks, the command, its exit code, stdout and stderr.
    fn report(&self, failed: &[String], status: i32, stdout: &str, stderr: &str) -> String {
        let end = |text: &str| {
            if text.ends_with('\n') || text.is_empty() {
                ""
            } else {
                "\n"
            }
        };
        format!(
            "{}\n\n$ {}\n(in {})\nexit code: {status}\n--- stdout ---\n{stdout}{}--- stderr ---\n{stderr}{}--- end ---",
            failed.join("\n"),
            self.command_line(),
            self.dir.display(),
            end(stdout),
            end(stderr),
        )
    }

    /// The command as a shell line, with the environment it sets on top of the defaults.
    fn command_line(&self) -> String {
        let mut line = String::new();
        for (key, value) in &self.env {
            let _ = write!(line, "{}={} ", key.to_string_lossy(), quote(value));
        }
        line += "sitewarden";
        for arg in self.argv() {
            let _ = write!(line, " {}", quote(&arg));
        }
        line
    }
}

/// A shell word for `text` (quoted when it needs to be).
fn quote(text: &OsStr) -> String {
    let text = text.to_string_lossy();
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=+@,".contains(c))
    {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// `line` without its ANSI colour sequences (`ESC [ ... m`).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A temp folder holding a `sitewarden.toml` with the given body after a `[site]` header.
pub fn project(site: &str, extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("dist")).unwrap();
    std::fs::write(dir.path().join("dist/index.html"), "<h1>hello</h1>\n").unwrap();
    std::fs::write(
        dir.path().join("sitewarden.toml"),
        format!("[site]\nname = \"{site}\"\nsource = \"dist\"\nregion = \"eu-west-1\"\n{extra}"),
    )
    .unwrap();
    dir
}

/// The project's own clients, bound to the emulator with test credentials.
pub async fn aws_clients(region: &str) -> sitewarden::aws::Aws {
    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_owned()))
        .endpoint_url(&emulator().endpoint)
        .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(
            aws_sdk_s3::config::Credentials::new("testing", "testing", None, None, "tests"),
        ))
        .build();
    sitewarden::aws::Aws::from_config(&config, true).expect("clients")
}

/// Operations in a `"requests"` map that can change something (anything but reads).
pub fn write_calls(requests: &serde_json::Value) -> Vec<String> {
    requests
        .as_object()
        .expect("requests is an object")
        .keys()
        .filter(|op| {
            !["Get", "List", "Describe", "Head"]
                .iter()
                .any(|p| op.starts_with(p))
        })
        .cloned()
        .collect()
}

/// The S3 IAM actions an S3 API operation needs, and whether it acts on objects (`bucket/*`)
/// rather than on the bucket. `None`: not an S3 operation.
fn s3_actions(op: &str) -> Option<(Vec<String>, bool)> {
    let s3 = |actions: &[&str]| actions.iter().map(|a| format!("s3:{a}")).collect();
    Some(match op {
        "HeadBucket" | "ListObjectsV2" => (s3(&["ListBucket"]), false),
        "ListObjectVersions" => (s3(&["ListBucketVersions"]), false),
        "GetObject" | "HeadObject" => (s3(&["GetObject", "GetObjectVersion"]), true),
        "PutObject" | "CreateMultipartUpload" | "UploadPart" | "CompleteMultipartUpload" => {
            (s3(&["PutObject"]), true)
        }
        "AbortMultipartUpload" => (s3(&["AbortMultipartUpload"]), true),
        "CopyObject" => (s3(&["GetObject", "GetObjectVersion", "PutObject"]), true),
        "DeleteObject" | "DeleteObjects" => (s3(&["DeleteObject"]), true),
        "GetPublicAccessBlock" => (s3(&["GetBucketPublicAccessBlock"]), false),
        "PutPublicAccessBlock" => (s3(&["PutBucketPublicAccessBlock"]), false),
        "GetBucketEncryption" => (s3(&["GetEncryptionConfiguration"]), false),
        "PutBucketEncryption" => (s3(&["PutEncryptionConfiguration"]), false),
        "GetBucketLifecycleConfiguration" => (s3(&["GetLifecycleConfiguration"]), false),
        "PutBucketLifecycleConfiguration" => (s3(&["PutLifecycleConfiguration"]), false),
        "CreateBucket" | "DeleteBucket" | "GetBucketLocation" => (s3(&[op]), false),
        op if op.contains("Bucket") => (s3(&[op]), false),
        _ => return None,
    })
}

/// A site's resources as the emulator holds them after its runs: the ARNs, tags and aliases
/// the evaluator puts into the modelled requests of those runs.
#[derive(Debug, Clone)]
pub struct SiteFacts {
    pub site: String,
    /// The site region (key, buckets).
    pub region: String,
    /// Buckets the runs touched (both for provisioning, the content bucket for deploys).
    pub buckets: Vec<String>,
    /// ARN, `sitewarden:site` tag, aliases.
    pub key: Option<(String, Option<String>, Vec<String>)>,
    /// The alert topics' keys (`[monitoring]`), in us-east-1 and the site region: as `key`.
    pub alert_keys: Vec<(String, Option<String>, Vec<String>)>,
    /// ARN and `sitewarden:site` tag.
    pub distribution: Option<(String, Option<String>)>,
    pub origin_access_control: Option<String>,
    pub headers_policy: Option<String>,
    /// ARN and `sitewarden:site` tag of each certificate for the domain.
    pub certificates: Vec<(String, Option<String>)>,
    pub zone: Option<String>,
    /// Every record name in the zone but its NS/SOA (normalized: lower case, no final dot).
    pub record_names: Vec<String>,
}

const SITE_TAG: &str = "sitewarden:site";

impl SiteFacts {
    /// Reads `site`'s resources back from the emulator (before a `destroy` removes them).
    pub async fn read(
        site: &str,
        buckets: &[&str],
        domain: Option<&str>,
        zone: Option<&str>,
    ) -> SiteFacts {
        let aws = aws_clients("eu-west-1").await;
        let global = aws_clients("us-east-1").await;
        let alias = format!("alias/sitewarden/{site}");
        let key = key_facts(&aws.kms, &alias).await;
        let alert_alias = format!("alias/sitewarden-alerts/{site}");
        let mut alert_keys = Vec::new();
        for kms in [&global.kms, &aws.kms] {
            alert_keys.extend(key_facts(kms, &alert_alias).await);
        }
        let comment = format!("sitewarden:{site}");
        let summary = observe::distribution::find_first(&global, |d| d.comment == comment)
            .await
            .unwrap();
        let mut distribution = None;
        if let Some(d) = summary {
            let tag = observe::distribution::site_tag(&global, &d.arn)
                .await
                .unwrap();
            distribution = Some((d.arn, tag));
        }
        let name = format!("sitewarden-{site}");
        let origin_access_control = observe::cloudfront::origin_access_control(&global, &name)
            .await
            .unwrap()
            .map(|o| o.id);
        let headers_policy = observe::cloudfront::headers_policy_named(&global, &name)
            .await
            .unwrap()
            .map(|p| p.id);
        let mut certificates = Vec::new();
        if let Some(domain) = domain {
            let summaries = global
                .acm
                .list_certificates()
                .send()
                .await
                .unwrap()
                .certificate_summary_list
                .unwrap_or_default();
            for c in summaries {
                if c.domain_name.as_deref() != Some(domain) {
                    continue;
                }
                let arn = c.certificate_arn.unwrap();
                let tag = global
                    .acm
                    .list_tags_for_certificate()
                    .certificate_arn(&arn)
                    .send()
                    .await
                    .unwrap()
                    .tags
                    .unwrap_or_default()
                    .into_iter()
                    .find(|t| t.key == SITE_TAG)
                    .and_then(|t| t.value);
                certificates.push((arn, tag));
            }
        }
        let mut record_names = Vec::new();
        if let Some(zone) = zone {
            let sets = aws
                .route53
                .list_resource_record_sets()
                .hosted_zone_id(zone)
                .send()
                .await
                .unwrap()
                .resource_record_sets;
            for set in sets {
                let name = set.name.trim_end_matches('.').to_ascii_lowercase();
                let infra = ["NS", "SOA"].contains(&set.r#type.as_str());
                if !infra && !record_names.contains(&name) {
                    record_names.push(name);
                }
            }
        }
        SiteFacts {
            site: site.to_owned(),
            region: "eu-west-1".to_owned(),
            buckets: buckets.iter().map(|b| (*b).to_owned()).collect(),
            key,
            alert_keys,
            distribution,
            origin_access_control,
            headers_policy,
            certificates,
            zone: zone.map(ToOwned::to_owned),
            record_names,
        }
    }
}

/// ARN, `sitewarden:site` tag and aliases of the key named by `alias`, if it exists.
async fn key_facts(
    kms: &aws_sdk_kms::Client,
    alias: &str,
) -> Option<(String, Option<String>, Vec<String>)> {
    match observe::key::key(kms, alias, alias).await.unwrap() {
        Some(meta) => {
            let tags = kms
                .list_resource_tags()
                .key_id(&meta.key_id)
                .send()
                .await
                .unwrap()
                .tags
                .unwrap_or_default();
            let tag = tags
                .into_iter()
                .find(|t| t.tag_key == SITE_TAG)
                .map(|t| t.tag_value);
            let aliases = kms
                .list_aliases()
                .key_id(&meta.key_id)
                .send()
                .await
                .unwrap()
                .aliases
                .unwrap_or_default()
                .into_iter()
                .filter_map(|a| a.alias_name)
                .collect();
            Some((meta.arn.unwrap(), tag, aliases))
        }
        None => None,
    }
}

/// One authorization request: an IAM action on a resource with its condition context.
#[derive(Debug, Clone)]
pub struct Request {
    pub op: String,
    pub action: String,
    pub resource: String,
    pub context: Vec<(String, Vec<String>)>,
}

/// The authorization requests an API operation of a site's runs makes, modelled on the Service
/// Authorization Reference: which actions it needs, on which of the site's resources, with which
/// condition keys (tags on create, the resource's tags and aliases). An operation the model does
/// not know fails the test: a new call must be modelled before the policy can be said to cover it.
pub fn requests_of(op: &str, f: &SiteFacts) -> Vec<Request> {
    let account = ACCOUNT;
    let site = &f.site;
    let one = |action: &str, resource: String, context: Vec<(String, Vec<String>)>| Request {
        op: op.to_owned(),
        action: action.to_owned(),
        resource,
        context,
    };
    let request_tag = || {
        vec![
            (format!("aws:RequestTag/{SITE_TAG}"), vec![site.clone()]),
            ("aws:TagKeys".to_owned(), vec![SITE_TAG.to_owned()]),
        ]
    };
    let resource_tag = |tag: &Option<String>| -> Vec<(String, Vec<String>)> {
        tag.iter()
            .map(|t| (format!("aws:ResourceTag/{SITE_TAG}"), vec![t.clone()]))
            .collect()
    };
    let with = |mut a: Vec<(String, Vec<String>)>, b: Vec<(String, Vec<String>)>| {
        a.extend(b);
        a
    };
    let key = || {
        f.key
            .clone()
            .unwrap_or_else(|| panic!("{op}: no key of site {site} in the facts"))
    };
    let keys = || {
        let keys: Vec<_> = f.key.iter().chain(&f.alert_keys).cloned().collect();
        assert!(!keys.is_empty(), "{op}: no key of site {site} in the facts");
        keys
    };
    let boundary = format!("arn:aws:iam::{account}:policy/sitewarden-{site}-ci-boundary");
    let bounded = || vec![("iam:PermissionsBoundary".to_owned(), vec![boundary.clone()])];
    let ci_roles =
        || ["deploy", "plan"].map(|r| format!("arn:aws:iam::{account}:role/sitewarden-{site}-{r}"));
    let topics = || {
        let mut regions = vec!["us-east-1".to_owned(), f.region.clone()];
        regions.dedup();
        regions
            .into_iter()
            .map(|r| format!("arn:aws:sns:{r}:{account}:sitewarden-{site}-alerts"))
            .collect::<Vec<_>>()
    };
    let rules = || {
        let site_region = ["s3", "kms"].map(|r| (f.region.as_str(), r));
        let global = [
            "cloudfront",
            "function",
            "route53",
            "acm",
            "certificate-expiry",
        ]
        .map(|r| ("us-east-1", r));
        site_region
            .into_iter()
            .chain(global)
            .map(|(region, r)| {
                format!("arn:aws:events:{region}:{account}:rule/sitewarden-{site}-{r}")
            })
            .collect::<Vec<_>>()
    };
    let distribution = || {
        f.distribution
            .clone()
            .unwrap_or_else(|| panic!("{op}: no distribution of site {site} in the facts"))
    };
    let id = |what: &Option<String>, kind: &str| {
        let id = what
            .clone()
            .unwrap_or_else(|| panic!("{op}: no {kind} of site {site} in the facts"));
        format!("arn:aws:cloudfront::{account}:{kind}/{id}")
    };
    let function = format!("arn:aws:cloudfront::{account}:function/sitewarden-{site}");
    let source = format!("arn:aws:logs:us-east-1:{account}:delivery-source:sitewarden-{site}-cf");
    let destination =
        format!("arn:aws:logs:us-east-1:{account}:delivery-destination:sitewarden-{site}-cf-s3");
    // Deliveries are tagged on create (their ids are the emulator's): the model uses the site's tag.
    let delivery = format!("arn:aws:logs:us-east-1:{account}:delivery:{site}-delivery");
    let zone = || {
        let zone = f
            .zone
            .clone()
            .unwrap_or_else(|| panic!("{op}: no hosted zone of site {site} in the facts"));
        format!("arn:aws:route53:::hostedzone/{zone}")
    };
    if op == "GetObject" {
        // The one object sitewarden reads while planning or deploying: the content bucket's
        // manifest (rollback's copies are CopyObject, deploy records are PutObject).
        let bucket = f.buckets.first().expect("a bucket in the facts");
        let manifest = format!("arn:aws:s3:::{bucket}/.sitewarden/manifest.json");
        return vec![one("s3:GetObject", manifest, Vec::new())];
    }
    if let Some((actions, objects)) = s3_actions(op) {
        let mut out = Vec::new();
        for bucket in &f.buckets {
            let resource = if objects {
                format!("arn:aws:s3:::{bucket}/index.html")
            } else {
                format!("arn:aws:s3:::{bucket}")
            };
            for action in &actions {
                out.push(one(action, resource.clone(), Vec::new()));
            }
        }
        return out;
    }
    match op {
        "GetCallerIdentity" => Vec::new(), // needs no permission
        // KMS (the site region)
        "CreateKey" => keys()
            .into_iter()
            .flat_map(|(arn, _, _)| {
                [
                    one("kms:CreateKey", "*".to_owned(), request_tag()),
                    // Tags on create need kms:TagResource too; the new key has no tag or alias yet.
                    one("kms:TagResource", arn, request_tag()),
                ]
            })
            .collect(),
        "CreateAlias" => keys()
            .into_iter()
            .flat_map(|(arn, tag, aliases)| {
                let alias = aliases
                    .iter()
                    .find(|a| a.starts_with("alias/sitewarden"))
                    .cloned()
                    .unwrap_or_else(|| format!("alias/sitewarden/{site}"));
                let region = arn.split(':').nth(3).unwrap().to_owned();
                [
                    one(
                        "kms:CreateAlias",
                        format!("arn:aws:kms:{region}:{account}:{alias}"),
                        Vec::new(),
                    ),
                    // The key has no alias before this call.
                    one("kms:CreateAlias", arn, resource_tag(&tag)),
                ]
            })
            .collect(),
        "ListKeys" | "ListAliases" => vec![one(&format!("kms:{op}"), "*".to_owned(), Vec::new())],
        "ListResourceTags" => {
            let (arn, tag, _) = key();
            vec![one("kms:ListResourceTags", arn, resource_tag(&tag))]
        }
        "EnableKeyRotation" => keys()
            .into_iter()
            // Also called right after CreateKey, before the alias is visible to IAM.
            .map(|(arn, tag, _)| one("kms:EnableKeyRotation", arn, resource_tag(&tag)))
            .collect(),
        "DescribeKey"
        | "EnableKey"
        | "GetKeyRotationStatus"
        | "GetKeyPolicy"
        | "PutKeyPolicy"
        | "CancelKeyDeletion"
        | "ScheduleKeyDeletion" => keys()
            .into_iter()
            .map(|(arn, tag, aliases)| {
                let mut context = resource_tag(&tag);
                if !aliases.is_empty() {
                    context.push(("kms:ResourceAliases".to_owned(), aliases));
                }
                one(&format!("kms:{op}"), arn, context)
            })
            .collect(),
        // IAM: the CI roles and the account's GitHub OIDC provider
        "ListOpenIDConnectProviders" => {
            vec![one(
                "iam:ListOpenIDConnectProviders",
                "*".to_owned(),
                Vec::new(),
            )]
        }
        "GetOpenIDConnectProvider"
        | "CreateOpenIDConnectProvider"
        | "AddClientIDToOpenIDConnectProvider" => vec![one(
            &format!("iam:{op}"),
            format!("arn:aws:iam::{account}:oidc-provider/token.actions.githubusercontent.com"),
            Vec::new(),
        )],
        "CreateRole" => ci_roles()
            .into_iter()
            .flat_map(|r| {
                [
                    one("iam:CreateRole", r.clone(), with(request_tag(), bounded())),
                    one("iam:TagRole", r, request_tag()),
                ]
            })
            .collect(),
        "PutRolePolicy"
        | "DeleteRolePolicy"
        | "DetachRolePolicy"
        | "PutRolePermissionsBoundary" => ci_roles()
            .into_iter()
            .map(|r| one(&format!("iam:{op}"), r, bounded()))
            .collect(),
        "GetRole"
        | "UpdateAssumeRolePolicy"
        | "UpdateRole"
        | "DeleteRole"
        | "ListRolePolicies"
        | "GetRolePolicy"
        | "ListAttachedRolePolicies" => ci_roles()
            .into_iter()
            .map(|r| one(&format!("iam:{op}"), r, Vec::new()))
            .collect(),
        "CreatePolicy" => vec![
            one("iam:CreatePolicy", boundary.clone(), request_tag()),
            one("iam:TagPolicy", boundary.clone(), request_tag()),
        ],
        "GetPolicy"
        | "GetPolicyVersion"
        | "ListPolicyVersions"
        | "CreatePolicyVersion"
        | "DeletePolicyVersion"
        | "DeletePolicy" => {
            vec![one(&format!("iam:{op}"), boundary.clone(), Vec::new())]
        }
        // Monitoring: SNS topics, CloudWatch alarms (us-east-1), EventBridge rules
        "CreateTopic" => topics()
            .into_iter()
            .flat_map(|t| {
                [
                    one("sns:CreateTopic", t.clone(), request_tag()),
                    one("sns:TagResource", t, request_tag()),
                ]
            })
            .collect(),
        "GetTopicAttributes"
        | "SetTopicAttributes"
        | "DeleteTopic"
        | "Subscribe"
        | "Unsubscribe"
        | "ListSubscriptionsByTopic" => topics()
            .into_iter()
            .map(|t| one(&format!("sns:{op}"), t, Vec::new()))
            .collect(),
        "PutMetricAlarm" | "DescribeAlarms" | "DeleteAlarms" => ["5xx", "4xx"]
            .iter()
            .flat_map(|suffix| {
                let alarm = format!(
                    "arn:aws:cloudwatch:us-east-1:{account}:alarm:sitewarden-{site}-{suffix}"
                );
                let mut out = vec![one(&format!("cloudwatch:{op}"), alarm.clone(), Vec::new())];
                if op == "PutMetricAlarm" {
                    out.push(one("cloudwatch:TagResource", alarm, request_tag()));
                }
                out
            })
            .collect(),
        "PutRule" | "DescribeRule" | "DeleteRule" | "PutTargets" | "RemoveTargets"
        | "ListTargetsByRule" => rules()
            .into_iter()
            .flat_map(|rule| {
                let mut out = vec![one(&format!("events:{op}"), rule.clone(), Vec::new())];
                if op == "PutRule" {
                    out.push(one("events:TagResource", rule, request_tag()));
                }
                out
            })
            .collect(),
        // CloudFront (global)
        "ListDistributions"
        | "ListOriginAccessControls"
        | "ListResponseHeadersPolicies"
        | "CreateOriginAccessControl"
        | "CreateResponseHeadersPolicy" => {
            vec![one(&format!("cloudfront:{op}"), "*".to_owned(), Vec::new())]
        }
        "CreateDistributionWithTags" => {
            let (arn, _) = distribution();
            vec![
                one(
                    "cloudfront:CreateDistribution",
                    "*".to_owned(),
                    request_tag(),
                ),
                one("cloudfront:TagResource", arn, request_tag()),
            ]
        }
        "TagResource" => {
            let (arn, tag) = distribution();
            vec![one(
                "cloudfront:TagResource",
                arn,
                with(request_tag(), resource_tag(&tag)),
            )]
        }
        "ListTagsForResource"
        | "GetDistribution"
        | "GetDistributionConfig"
        | "UpdateDistribution"
        | "DeleteDistribution"
        | "CreateInvalidation"
        | "GetInvalidation" => {
            let (arn, tag) = distribution();
            vec![one(&format!("cloudfront:{op}"), arn, resource_tag(&tag))]
        }
        "GetOriginAccessControl"
        | "GetOriginAccessControlConfig"
        | "UpdateOriginAccessControl"
        | "DeleteOriginAccessControl" => vec![one(
            &format!("cloudfront:{op}"),
            id(&f.origin_access_control, "origin-access-control"),
            Vec::new(),
        )],
        "GetResponseHeadersPolicy"
        | "GetResponseHeadersPolicyConfig"
        | "UpdateResponseHeadersPolicy"
        | "DeleteResponseHeadersPolicy" => vec![one(
            &format!("cloudfront:{op}"),
            id(&f.headers_policy, "response-headers-policy"),
            Vec::new(),
        )],
        "CreateFunction" | "DescribeFunction" | "GetFunction" | "UpdateFunction"
        | "PublishFunction" | "DeleteFunction" => {
            vec![one(&format!("cloudfront:{op}"), function, Vec::new())]
        }
        // ACM (us-east-1)
        "ListCertificates" => vec![one("acm:ListCertificates", "*".to_owned(), Vec::new())],
        "RequestCertificate" => {
            let mut out = vec![one("acm:RequestCertificate", "*".to_owned(), request_tag())];
            for (arn, _) in &f.certificates {
                out.push(one("acm:AddTagsToCertificate", arn.clone(), request_tag()));
            }
            out
        }
        "DescribeCertificate" | "DeleteCertificate" | "ListTagsForCertificate" => f
            .certificates
            .iter()
            .map(|(arn, tag)| one(&format!("acm:{op}"), arn.clone(), resource_tag(tag)))
            .collect(),
        // Route53
        "ListHostedZones" => vec![one("route53:ListHostedZones", "*".to_owned(), Vec::new())],
        "ListResourceRecordSets" => vec![one("route53:ListResourceRecordSets", zone(), Vec::new())],
        "ChangeResourceRecordSets" => vec![one(
            "route53:ChangeResourceRecordSets",
            zone(),
            vec![(
                "route53:ChangeResourceRecordSetsNormalizedRecordNames".to_owned(),
                f.record_names.clone(),
            )],
        )],
        "GetChange" => vec![one(
            "route53:GetChange",
            "arn:aws:route53:::change/C0123456789".to_owned(),
            Vec::new(),
        )],
        // CloudWatch Logs delivery (us-east-1)
        "DescribeDeliveries" => vec![one("logs:DescribeDeliveries", "*".to_owned(), Vec::new())],
        "PutDeliverySource" => {
            let (arn, tag) = distribution();
            vec![
                one("logs:PutDeliverySource", source.clone(), request_tag()),
                one("logs:TagResource", source, request_tag()),
                one(
                    "cloudfront:AllowVendedLogDeliveryForResource",
                    arn,
                    resource_tag(&tag),
                ),
            ]
        }
        "PutDeliveryDestination" => vec![
            one(
                "logs:PutDeliveryDestination",
                destination.clone(),
                request_tag(),
            ),
            one("logs:TagResource", destination, request_tag()),
        ],
        "CreateDelivery" => vec![
            one("logs:CreateDelivery", source, request_tag()),
            one("logs:CreateDelivery", destination, request_tag()),
            one("logs:CreateDelivery", delivery.clone(), request_tag()),
            one("logs:TagResource", delivery, request_tag()),
        ],
        "GetDeliverySource" | "DeleteDeliverySource" => {
            vec![one(&format!("logs:{op}"), source, Vec::new())]
        }
        "GetDeliveryDestination" | "DeleteDeliveryDestination" => {
            vec![one(&format!("logs:{op}"), destination, Vec::new())]
        }
        "GetDelivery" | "DeleteDelivery" => vec![one(
            &format!("logs:{op}"),
            delivery,
            resource_tag(&Some(site.clone())),
        )],
        "GetWebACL" => vec![one(
            "wafv2:GetWebACL",
            format!("arn:aws:wafv2:us-east-1:{account}:global/webacl/acl/1234"),
            Vec::new(),
        )],
        op => {
            panic!("the policy evaluator has no model of operation {op}: add it to `requests_of`")
        }
    }
}

fn glob_matches(pattern: &str, text: &str) -> bool {
    let (pattern, text) = (pattern.to_ascii_lowercase(), text.to_ascii_lowercase());
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = text.as_str();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(tail) = rest.strip_prefix(part) else {
                return false;
            };
            rest = tail;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else if let Some(at) = rest.find(part) {
            rest = &rest[at + part.len()..];
        } else {
            return false;
        }
    }
    rest.is_empty()
}

fn strings(value: &serde_json::Value) -> Vec<&str> {
    match value {
        serde_json::Value::String(s) => vec![s.as_str()],
        serde_json::Value::Array(a) => a.iter().filter_map(|v| v.as_str()).collect(),
        serde_json::Value::Null => Vec::new(),
        other => panic!("not a string or list of strings: {other}"),
    }
}

/// IAM's condition operators as far as sitewarden's policies use them; any other fails the test.
fn condition_holds(condition: &serde_json::Value, context: &[(String, Vec<String>)]) -> bool {
    let Some(operators) = condition.as_object() else {
        return true;
    };
    operators.iter().all(|(operator, keys)| {
        keys.as_object().unwrap().iter().all(|(key, wanted)| {
            let wanted = strings(wanted);
            let values = context
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v);
            let equals = |v: &String| wanted.iter().any(|w| w == v);
            let like = |v: &String| wanted.iter().any(|w| glob_matches(w, v));
            match operator.as_str() {
                "StringEquals" | "ForAnyValue:StringEquals" => {
                    values.is_some_and(|v| v.iter().any(equals))
                }
                "StringLike" => values.is_some_and(|v| v.iter().any(like)),
                "StringEqualsIfExists" => values.is_none_or(|v| v.iter().any(equals)),
                "ForAllValues:StringEquals" => values.is_none_or(|v| v.iter().all(equals)),
                "ForAllValues:StringLike" => values.is_none_or(|v| v.iter().all(like)),
                "Null" => match wanted.as_slice() {
                    ["true"] => values.is_none(),
                    ["false"] => values.is_some(),
                    other => panic!("Null takes \"true\" or \"false\", not {other:?}"),
                },
                other => panic!("the policy evaluator does not know condition operator {other}"),
            }
        })
    })
}

/// The Sid of the Allow statement that grants `request` (`None`: implicitly denied, or an explicit
/// Deny matches).
pub fn allowed_by(policy: &serde_json::Value, request: &Request) -> Option<String> {
    let statements = policy["Statement"]
        .as_array()
        .expect("policy has statements");
    let matches = |s: &serde_json::Value| {
        strings(&s["Action"])
            .iter()
            .any(|a| glob_matches(a, &request.action))
            && strings(&s["Resource"])
                .iter()
                .any(|r| glob_matches(r, &request.resource))
            && condition_holds(&s["Condition"], &request.context)
    };
    if statements
        .iter()
        .any(|s| s["Effect"] == "Deny" && matches(s))
    {
        return None;
    }
    statements
        .iter()
        .find(|s| s["Effect"] == "Allow" && matches(s))
        .map(|s| s["Sid"].as_str().unwrap_or("(no Sid)").to_owned())
}

/// Every authorization request of the operations in the `"requests"` maps of a site's runs.
pub fn site_requests(facts: &SiteFacts, requests: &[&serde_json::Value]) -> Vec<Request> {
    let mut ops: Vec<&String> = requests
        .iter()
        .flat_map(|r| r.as_object().expect("requests is an object").keys())
        .collect();
    ops.sort();
    ops.dedup();
    ops.iter().flat_map(|op| requests_of(op, facts)).collect()
}

/// Asserts that the policy allows every call in the `"requests"` maps, each on the site's real
/// resources (ARNs, tags and aliases in `facts`) with its condition keys.
pub fn assert_policy_allows(
    policy: &serde_json::Value,
    facts: &SiteFacts,
    requests: &[&serde_json::Value],
) {
    let denied: Vec<String> = site_requests(facts, requests)
        .iter()
        .filter(|r| allowed_by(policy, r).is_none())
        .map(|r| {
            format!(
                "{} ({}) on {} with {:?}",
                r.action, r.op, r.resource, r.context
            )
        })
        .collect();
    assert_eq!(
        denied,
        Vec::<String>::new(),
        "requests the policy does not allow"
    );
}

/// The KMS key of `site` (`alias/sitewarden/<site>`, in eu-west-1, the tests' region).
pub async fn site_key(site: &str) -> aws_sdk_kms::types::KeyMetadata {
    let alias = format!("alias/sitewarden/{site}");
    observe::key::key(&aws_clients("eu-west-1").await.kms, &alias, &alias)
        .await
        .unwrap_or_else(|e| panic!("key of site {site}: {e:?}"))
        .unwrap_or_else(|| panic!("no key for site {site}"))
}

/// The checks of [`Run`] on given output, and its report of a real run that fails them.
mod run_checks {
    use super::Run;

    /// A run whose checks are tried on output given here (nothing is executed).
    fn run() -> Run {
        Run::new("/nonexistent").offline()
    }

    fn failed(result: Result<Option<serde_json::Value>, Vec<String>>) -> Vec<String> {
        result.expect_err("a check fails")
    }

    #[test]
    fn the_exit_code_is_checked() {
        assert_eq!(
            failed(run().check(1, "", "error: boom\n")),
            ["exit code 1, expected [0]"]
        );
        assert_eq!(run().status(4).check(4, "", ""), Ok(None));
    }

    #[test]
    fn an_error_exit_needs_an_error_line_and_no_data_on_stdout() {
        assert_eq!(
            failed(run().status(2).check(2, "", "warning: only this\n")),
            ["exit code 2 without an `error:` line"]
        );
        assert_eq!(
            failed(run().status(1).check(1, "data\n", "error: boom\n")),
            ["exit code 1 with data on stdout"]
        );
        let coloured = "\u{1b}[1;31merror:\u{1b}[0m boom\n";
        assert_eq!(run().status(2).check(2, "", coloured), Ok(None));
    }

    #[test]
    fn a_result_exit_has_no_error_line() {
        assert_eq!(
            failed(run().check(0, "", "warning: w\nerror: boom\n")),
            ["exit code 0 with \"error: boom\""]
        );
        assert_eq!(
            failed(run().status(3).check(3, "", "error: boom\n")),
            ["exit code 3 with \"error: boom\""]
        );
        assert_eq!(
            run().check(0, "", "warning: not an error: line\n"),
            Ok(None)
        );
    }

    #[test]
    fn json_stdout_is_parsed_and_must_be_one_document() {
        assert_eq!(
            run().json().check(0, "{\"uploaded\": 1}\n", ""),
            Ok(Some(serde_json::json!({"uploaded": 1})))
        );
        let bad = failed(run().json().check(0, "uploaded 1\n", ""));
        assert!(
            bad.len() == 1 && bad[0].starts_with("stdout is not a JSON document: "),
            "{bad:?}"
        );
        failed(run().json_stdout().check(0, "", ""));
        // An error prints nothing on stdout, or its JSON document.
        assert_eq!(
            run().json().status(2).check(2, "", "error: boom\n"),
            Ok(None)
        );
        assert_eq!(
            run().json().status(2).check(2, "{}", "error: boom\n"),
            Ok(Some(serde_json::json!({})))
        );
        assert!(run().argv().is_empty() && run().json().argv() == ["--json"]);
        assert!(run().json_stdout().argv().is_empty());
    }

    #[test]
    fn every_expectation_is_checked() {
        let run = run()
            .stdout_is("b")
            .stdout_contains("b")
            .stdout_lacks("a")
            .stdout_starts_with("b")
            .stdout_ends_with("c")
            .stderr_is("")
            .stderr_contains("y")
            .stderr_lacks("x")
            .stderr_starts_with("y")
            .stderr_ends_with("z");
        assert_eq!(
            failed(run.check(0, "a\n", "x\n")),
            [
                "stdout is \"b\": it does not",
                "stdout contains \"b\": it does not",
                "stdout does not contain \"a\": it does not",
                "stdout starts with \"b\": it does not",
                "stdout ends with \"c\": it does not",
                "stderr is \"\": it does not",
                "stderr contains \"y\": it does not",
                "stderr does not contain \"x\": it does not",
                "stderr starts with \"y\": it does not",
                "stderr ends with \"z\": it does not",
            ]
        );
        let holds = super::Run::new("/nonexistent")
            .stdout_is("bc")
            .stdout_contains("b")
            .stdout_lacks("a")
            .stdout_starts_with("b")
            .stdout_ends_with("c")
            .stderr_contains("y")
            .stderr_lacks("x")
            .stderr_starts_with("y")
            .stderr_ends_with("z");
        assert_eq!(holds.check(0, "bc", "yz"), Ok(None));
    }

    #[test]
    fn with_several_exit_codes_the_defaults_follow_the_actual_one() {
        let race = || run().status_one_of([0, 1]);
        assert_eq!(race().check(1, "", "error: locked\n"), Ok(None));
        assert_eq!(race().check(0, "", ""), Ok(None));
        assert_eq!(
            failed(race().check(1, "", "")),
            ["exit code 1 without an `error:` line"]
        );
        assert_eq!(
            failed(race().check(2, "", "error: boom\n")),
            ["exit code 2, expected [0, 1]"]
        );
    }

    #[test]
    fn a_failed_run_reports_the_command_exit_code_stdout_and_stderr() {
        let dir = tempfile::tempdir().unwrap();
        let panic = std::panic::catch_unwind(|| {
            Run::new(dir.path())
                .offline()
                .arg("--no-such-flag")
                .stdout_contains("never")
                .run()
        })
        .expect_err("the run fails its checks");
        let report = panic.downcast_ref::<String>().expect("a formatted message");
        for part in [
            "exit code 2, expected [0]\n",
            "stdout contains \"never\": it does not\n",
            "\n$ sitewarden --no-such-flag\n",
            &format!("(in {})\n", dir.path().display()),
            "exit code: 2\n--- stdout ---\n--- stderr ---\nerror: unexpected argument '--no-such-flag'",
        ] {
            assert!(report.contains(part), "{part:?} not in:\n{report}");
        }
        assert!(report.ends_with("\n--- end ---"), "{report}");
    }

    #[test]
    fn the_command_line_shows_the_environment_endpoint_and_flags() {
        let run = Run::new("/nonexistent")
            .env("AWS_ACCESS_KEY_ID", "deny+kms:CreateKey")
            .endpoint("http://127.0.0.1:9")
            .json()
            .args(["deploy", "--wait-for-lock", "5 days"]);
        assert_eq!(
            run.command_line(),
            "AWS_ACCESS_KEY_ID=deny+kms:CreateKey sitewarden --endpoint-url http://127.0.0.1:9 \
             --json deploy --wait-for-lock '5 days'"
        );
    }
}

/// An audit report of a site without `[monitoring]`, with the one finding that says so checked
/// and set aside (`SW.SNS.Subscribed` on the us-east-1 alert topic, failed because monitoring is
/// not configured). What remains is graded as before monitoring existed.
pub fn set_monitoring_aside(report: &serde_json::Value) -> serde_json::Value {
    let findings = report["findings"].as_array().expect("findings");
    let (monitoring, rest): (Vec<_>, Vec<_>) = findings.iter().cloned().partition(|f| {
        matches!(
            f["resource"]["kind"].as_str(),
            Some("topic" | "alarm" | "rule")
        )
    });
    assert_eq!(monitoring.len(), 1, "{monitoring:#?}");
    let finding = &monitoring[0];
    assert_eq!(finding["control"], "SW.SNS.Subscribed", "{finding}");
    assert_eq!(finding["status"], "fail", "{finding}");
    assert!(
        finding["evidence"]
            .as_str()
            .unwrap()
            .starts_with("monitoring is not configured"),
        "{finding}"
    );
    let mut report = report.clone();
    report["findings"] = serde_json::Value::Array(rest);
    report
}
