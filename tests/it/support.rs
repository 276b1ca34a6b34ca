//! Test support: the local AWS emulator (one per test binary) and a `sitewarden` command builder.
//!
//! The emulator is started on a free 127.0.0.1 port the first time a test asks for it, with
//! `--parent-pid` so it exits together with the test binary. Each test gets its own site name and
//! temp folder, so tests run in parallel against the one emulator.

#![allow(dead_code)]

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as StdCommand, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use assert_cmd::Command;

pub const ACCOUNT: &str = "123456789012";

pub struct Emulator {
    pub endpoint: String,
    /// The emulator's log: one line per request (`"PUT /bucket/key HTTP/1.1" 200`).
    pub log: PathBuf,
    _child: Mutex<Child>,
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

/// `sitewarden` in `dir` with no AWS settings from the environment but test credentials.
pub fn sitewarden(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("sitewarden").expect("sitewarden binary");
    cmd.current_dir(dir);
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
        .env("AWS_EC2_METADATA_DISABLED", "true");
    cmd
}

/// `sitewarden --endpoint-url <emulator>` in `dir`.
pub fn sitewarden_emulated(dir: &Path) -> Command {
    let mut cmd = sitewarden(dir);
    cmd.arg("--endpoint-url").arg(&emulator().endpoint);
    cmd
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

pub fn stdout_json(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
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

/// Runs `sitewarden --json ARGS` against the emulator in `dir`, expecting `code`; returns stdout JSON.
pub fn json_run(dir: &Path, args: &[&str], code: i32) -> serde_json::Value {
    let out = sitewarden_emulated(dir)
        .arg("--json")
        .args(args)
        .output()
        .expect("run sitewarden");
    assert_eq!(
        out.status.code(),
        Some(code),
        "sitewarden {args:?}\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout_json(&out)
}

/// The IAM actions an API operation needs (as the request counter names operations, without the
/// service). S3's differ from the operation names; the other services' are `<service>:<Op>`, so
/// an operation unknown here needs any one of those services to allow `<Op>`.
fn iam_actions(op: &str) -> Vec<String> {
    let s3 = |actions: &[&str]| actions.iter().map(|a| format!("s3:{a}")).collect();
    match op {
        "GetCallerIdentity" => Vec::new(), // needs no permission
        "HeadBucket" | "ListObjectsV2" => s3(&["ListBucket"]),
        "ListObjectVersions" => s3(&["ListBucketVersions"]),
        "GetObject" | "HeadObject" => s3(&["GetObject", "GetObjectVersion"]),
        "PutObject" | "CreateMultipartUpload" | "UploadPart" | "CompleteMultipartUpload" => {
            s3(&["PutObject"])
        }
        "AbortMultipartUpload" => s3(&["AbortMultipartUpload"]),
        "CopyObject" => s3(&["GetObject", "GetObjectVersion", "PutObject"]),
        "DeleteObject" | "DeleteObjects" => s3(&["DeleteObject"]),
        "GetPublicAccessBlock" => s3(&["GetBucketPublicAccessBlock"]),
        "PutPublicAccessBlock" => s3(&["PutBucketPublicAccessBlock"]),
        "GetBucketEncryption" => s3(&["GetEncryptionConfiguration"]),
        "PutBucketEncryption" => s3(&["PutEncryptionConfiguration"]),
        "GetBucketLifecycleConfiguration" => s3(&["GetLifecycleConfiguration"]),
        "PutBucketLifecycleConfiguration" => s3(&["PutLifecycleConfiguration"]),
        "CreateBucket" | "DeleteBucket" | "GetBucketLocation" => s3(&[op]),
        op if op.contains("Bucket") => s3(&[op]),
        "CreateDistributionWithTags" => vec![
            "cloudfront:CreateDistribution".to_owned(),
            "cloudfront:TagResource".to_owned(),
        ],
        op => vec![format!("*:{op}")],
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

/// Asserts that the policy's Allow statements cover every operation in the `"requests"` maps
/// (actions only: resources and conditions are the policy's own unit tests).
pub fn assert_policy_allows(policy: &serde_json::Value, requests: &[&serde_json::Value]) {
    let allowed: Vec<&str> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["Effect"] == "Allow")
        .flat_map(|s| match &s["Action"] {
            serde_json::Value::String(a) => vec![a.as_str()],
            serde_json::Value::Array(a) => a.iter().filter_map(|a| a.as_str()).collect(),
            _ => Vec::new(),
        })
        .collect();
    let services = ["kms", "cloudfront", "acm", "route53", "logs"];
    let mut missing = Vec::new();
    for op in requests.iter().flat_map(|r| r.as_object().unwrap().keys()) {
        for action in iam_actions(op) {
            let candidates: Vec<String> = match action.strip_prefix("*:") {
                Some(op) => services.iter().map(|s| format!("{s}:{op}")).collect(),
                None => vec![action.clone()],
            };
            let ok = candidates
                .iter()
                .any(|c| allowed.iter().any(|a| glob_matches(a, c)));
            if !ok && !missing.contains(&action) {
                missing.push(action);
            }
        }
    }
    assert_eq!(
        missing,
        Vec::<String>::new(),
        "actions the policy does not allow"
    );
}

/// Runs `cmd`, asserts its exit code, and returns its stderr.
pub fn stderr_run(cmd: &mut Command, code: i32) -> String {
    let out = cmd.output().expect("run sitewarden");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    stderr
}

/// The KMS key of `site` (`alias/sitewarden/<site>`, in eu-west-1, the tests' region).
pub async fn site_key(site: &str) -> aws_sdk_kms::types::KeyMetadata {
    aws_clients("eu-west-1")
        .await
        .kms
        .describe_key()
        .key_id(format!("alias/sitewarden/{site}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("key of site {site}: {e:?}"))
        .key_metadata
        .expect("key metadata")
}
