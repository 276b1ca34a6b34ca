//! Convergence under injected faults: with 10% of a run's requests throttled, failed, reset or
//! failed after they took effect (the emulator's `faults` patch, scoped to the run's own access
//! key), `deploy` and `rollback` succeed or exit 1 with a clear message; a plain re-run then
//! leaves the bucket equal to the source, the manifest matching the bucket, and nothing to do.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;

use crate::support::{ACCOUNT, Run, aws_clients, emulator, project, site_name};

/// Sets the fault rules of the scope named `access_key`: each kind of fault at `share` of every
/// request signed with that key, drawn from `seed`.
pub fn set_faults(seed: u64, access_key: &str, share: f64) {
    let rule = |fault: &str| serde_json::json!({ "fault": fault, "probability": share, "access_key": access_key });
    let body = serde_json::json!({
        "seed": seed,
        "rules": [rule("throttle"), rule("error"), rule("reset"), rule("after")],
    })
    .to_string();
    control("POST", &format!("faults?scope={access_key}"), &body);
}

/// One call to the emulator's control route; the answer's body.
pub fn control(method: &str, path: &str, body: &str) -> String {
    let address = emulator().endpoint.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&address).expect("connect to the emulator");
    write!(
        stream,
        "{method} /_sitewarden/{path} HTTP/1.0\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"),
        "{answer}"
    );
    answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default()
}

/// Every file under `dir`, by key, with its SHA-256.
pub fn source(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for entry in walk(dir) {
        let key = entry
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let bytes = std::fs::read(&entry).unwrap();
        out.insert(
            key,
            sitewarden::deploy::hash::hex(&<sha2::Sha256 as sha2::Digest>::digest(&bytes)),
        );
    }
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The published objects (state excluded), by key, with the SHA-256 of their bytes; and the
/// manifest's files with their ETags checked against the listing.
pub async fn published(bucket: &str) -> BTreeMap<String, String> {
    let aws = aws_clients("eu-west-1").await;
    let listing = aws
        .s3
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let mut objects = BTreeMap::new();
    let mut etags = BTreeMap::new();
    for object in listing.contents() {
        let key = object.key().unwrap().to_owned();
        if key.starts_with(".sitewarden/") {
            continue;
        }
        let out = aws
            .s3
            .get_object()
            .bucket(bucket)
            .key(&key)
            .send()
            .await
            .unwrap();
        let bytes = out.body.collect().await.unwrap().into_bytes();
        etags.insert(key.clone(), object.e_tag().unwrap().to_owned());
        objects.insert(
            key,
            sitewarden::deploy::hash::hex(&<sha2::Sha256 as sha2::Digest>::digest(&bytes)),
        );
    }
    let manifest = aws
        .s3
        .get_object()
        .bucket(bucket)
        .key(".sitewarden/manifest.json")
        .send()
        .await
        .unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(&manifest.body.collect().await.unwrap().into_bytes()).unwrap();
    let files = manifest["files"].as_object().unwrap();
    let manifest_keys: Vec<&String> = files.keys().collect();
    assert_eq!(
        manifest_keys,
        objects.keys().collect::<Vec<_>>(),
        "manifest keys = bucket keys"
    );
    for (key, entry) in files {
        assert_eq!(
            entry["sha256"].as_str(),
            objects.get(key).map(String::as_str),
            "{key}: manifest sha256"
        );
        assert_eq!(
            entry["etag"].as_str(),
            etags.get(key).map(String::as_str),
            "{key}: manifest etag"
        );
    }
    objects
}

/// Runs `args` under faults with the run's own key; on exit 1, a plain re-run. Returns whether the
/// faulty run succeeded by itself, and how many faults it met.
fn converge(dir: &Path, seed: u64, args: &[&str]) -> (bool, u64) {
    let key = format!("FAULTS{seed}X{}", std::process::id());
    set_faults(seed, &key, 0.025);
    let out = Run::new(dir)
        .env("AWS_ACCESS_KEY_ID", &key)
        .args(args)
        .status_one_of([0, 1])
        .timeout(std::time::Duration::from_mins(5))
        .run();
    let ok = out.status == 0;
    let scope = format!("faults?scope={key}");
    let state: serde_json::Value = serde_json::from_str(&control("GET", &scope, "")).unwrap();
    control("DELETE", &scope, "");
    let fired: u64 = state["fired"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(serde_json::Value::as_u64)
        .sum();
    if !ok {
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
        eprintln!(
            "`{}` (seed {seed}) failed: {}",
            args.join(" "),
            out.stderr
                .lines()
                .find(|l| l.starts_with("error:"))
                .unwrap_or_default()
        );
        Run::new(dir).args(args).run();
    }
    (ok, fired)
}

pub fn write(dir: &Path, key: &str, body: &str) {
    let path = dir.join("dist").join(key);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_and_rollback_converge_under_ten_percent_faults() {
    let (mut runs, mut first_try, mut faults) = (0, 0, 0);
    let mut tally = |(ok, fired): (bool, u64)| {
        runs += 1;
        first_try += usize::from(ok);
        faults += fired;
    };
    let trials = 3;
    for seed in 1..=trials {
        let name = site_name("faults");
        let dir = project(&name, "");
        let bucket = format!("{name}-site-{ACCOUNT}");
        Run::new(dir.path()).args(["up", "--infra-only"]).run();
        for i in 0..12 {
            write(
                dir.path(),
                &format!("page{i}/index.html"),
                &format!("<h1>{i}</h1>"),
            );
            write(
                dir.path(),
                &format!("assets/a{i}.css"),
                &format!("p{{order:{i}}}"),
            );
        }
        tally(converge(dir.path(), seed, &["deploy"]));
        let v1 = source(&dir.path().join("dist"));
        assert_eq!(published(&bucket).await, v1, "seed {seed}: v1 published");
        let v1_id =
            Run::new(dir.path()).json().arg("history").run().into_json()["deploys"][0]["id"]
                .as_str()
                .unwrap()
                .to_owned();

        write(dir.path(), "page0/index.html", "<h1>changed</h1>");
        std::fs::remove_file(dir.path().join("dist/assets/a1.css")).unwrap();
        write(dir.path(), "new/index.html", "<h1>new</h1>");
        tally(converge(dir.path(), seed + 100, &["deploy"]));
        assert_eq!(
            published(&bucket).await,
            source(&dir.path().join("dist")),
            "seed {seed}: v2"
        );
        let again = Run::new(dir.path()).json().arg("deploy").run().into_json();
        assert_eq!(
            (again["uploaded"].as_u64(), again["deleted"].as_u64()),
            (Some(0), Some(0))
        );

        tally(converge(dir.path(), seed + 200, &["rollback", &v1_id]));
        assert_eq!(
            published(&bucket).await,
            v1,
            "seed {seed}: rolled back to v1"
        );
    }
    eprintln!("faults: {faults} met; {first_try} of {runs} faulty runs succeeded by themselves");
    assert!(
        faults >= 8,
        "too few faults met ({faults}) to show anything"
    );
}

/// The site's resources by kind, counted where a duplicate could hide: keys tagged for the site,
/// distributions carrying its comment, OACs, functions and headers policies by name.
pub async fn resource_counts(site: &str) -> BTreeMap<&'static str, usize> {
    let aws = aws_clients("eu-west-1").await;
    let mut counts = BTreeMap::new();
    let mut keys = 0;
    for key in aws.kms.list_keys().send().await.unwrap().keys() {
        let tags = aws
            .kms
            .list_resource_tags()
            .key_id(key.key_id().unwrap())
            .send()
            .await
            .unwrap();
        keys += usize::from(tags.tags().iter().any(|t| t.tag_value() == site));
    }
    counts.insert("kms keys", keys);
    let cloudfront = aws_clients("us-east-1").await.cloudfront;
    let distributions = cloudfront.list_distributions().send().await.unwrap();
    let items = distributions
        .distribution_list()
        .map(aws_sdk_cloudfront::types::DistributionList::items)
        .unwrap_or_default();
    counts.insert(
        "distributions",
        items.iter().filter(|d| d.comment().contains(site)).count(),
    );
    let oacs = cloudfront
        .list_origin_access_controls()
        .send()
        .await
        .unwrap();
    let oacs = oacs
        .origin_access_control_list()
        .map(aws_sdk_cloudfront::types::OriginAccessControlList::items)
        .unwrap_or_default();
    counts.insert(
        "oacs",
        oacs.iter().filter(|o| o.name().contains(site)).count(),
    );
    // Every page: the tests share one emulator, which soon holds more functions than one page.
    let mut functions = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = cloudfront
            .list_functions()
            .set_marker(marker.clone())
            .send()
            .await
            .unwrap();
        let Some(list) = page.function_list else {
            break;
        };
        functions.extend(list.items.unwrap_or_default());
        marker = list.next_marker.filter(|m| !m.is_empty());
        if marker.is_none() {
            break;
        }
    }
    let named = |name: String| functions.iter().filter(|f| f.name() == name).count();
    counts.insert(
        "viewer-request functions",
        named(format!("sitewarden-{site}")),
    );
    counts.insert(
        "viewer-response functions",
        named(format!("sitewarden-{site}-csp")),
    );
    let policies = cloudfront
        .list_response_headers_policies()
        .send()
        .await
        .unwrap();
    let policies = policies
        .response_headers_policy_list()
        .map(aws_sdk_cloudfront::types::ResponseHeadersPolicyList::items)
        .unwrap_or_default();
    counts.insert(
        "headers policies",
        policies
            .iter()
            .filter(|p| {
                p.response_headers_policy()
                    .and_then(|p| p.response_headers_policy_config())
                    .is_some_and(|c| c.name().contains(site))
            })
            .count(),
    );
    counts
}

#[tokio::test(flavor = "multi_thread")]
async fn up_converges_under_ten_percent_faults_with_nothing_created_twice() {
    let (mut runs, mut first_try, mut faults) = (0, 0, 0);
    for seed in 1..=4 {
        let name = site_name("faults-up");
        let dir = project(&name, "");
        write(dir.path(), "docs/index.html", "<h1>docs</h1>");
        let (ok, fired) = converge(dir.path(), seed, &["up"]);
        runs += 1;
        first_try += usize::from(ok);
        faults += fired;
        let again = Run::new(dir.path()).json().arg("up").run().into_json();
        let writes = crate::support::write_calls(&again["requests"]);
        assert_eq!(
            writes,
            Vec::<String>::new(),
            "seed {seed}: a second up writes nothing"
        );
        let counts = resource_counts(&name).await;
        assert!(counts.values().all(|n| *n == 1), "seed {seed}: {counts:?}");
        let bucket = format!("{name}-site-{ACCOUNT}");
        assert_eq!(published(&bucket).await, source(&dir.path().join("dist")));
    }
    eprintln!(
        "faults (up): {faults} met; {first_try} of {runs} faulty runs succeeded by themselves"
    );
    assert!(
        faults >= 8,
        "too few faults met ({faults}) to show anything"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_left_by_an_interrupted_run_is_named_not_made_again() {
    let name = site_name("orphan-key");
    let dir = project(&name, "");
    let aws = aws_clients("eu-west-1").await;
    // What a run stopped between CreateKey and CreateAlias leaves behind.
    let orphan = aws
        .kms
        .create_key()
        .tags(
            aws_sdk_kms::types::Tag::builder()
                .tag_key(sitewarden::names::SITE_TAG)
                .tag_value(&name)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    let plan = Run::new(dir.path())
        .json()
        .args(["plan", "--infra-only"])
        .run()
        .into_json();
    assert!(
        plan.to_string().contains(&format!(
            "name key {} (created by an interrupted run)",
            orphan.key_id
        )),
        "{plan}"
    );
    Run::new(dir.path()).args(["up", "--infra-only"]).run();
    let named = aws
        .kms
        .describe_key()
        .key_id(format!("alias/sitewarden/{name}"))
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    assert_eq!(named.key_id, orphan.key_id);
    let rotation = aws
        .kms
        .get_key_rotation_status()
        .key_id(&orphan.key_id)
        .send()
        .await
        .unwrap();
    assert!(rotation.key_rotation_enabled);
    assert_eq!(resource_counts(&name).await["kms keys"], 1);
}

/// A site with its infrastructure up and one body of each kind: read whole (and signed with the
/// diff's digest), streamed from disk, and sent in parts.
fn three_bodies(name: &str) -> tempfile::TempDir {
    let dir = project(name, "");
    Run::new(dir.path()).args(["up", "--infra-only"]).run();
    write(dir.path(), "small.html", "<h1>small</h1>");
    write(dir.path(), "medium.css", &"p{order:1}\n".repeat(200_000));
    write(
        dir.path(),
        "large.txt",
        &"0123456789abcdef".repeat(1_100_000),
    );
    dir
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_corrupted_on_the_way_is_refused_and_nothing_is_published_for_it() {
    let name = site_name("corrupt");
    let dir = three_bodies(&name);
    let bucket = format!("{name}-site-{ACCOUNT}");
    for (i, operation) in ["PutObject", "UploadPart"].into_iter().enumerate() {
        let key = format!("CORRUPT{i}X{}", std::process::id());
        let rule = serde_json::json!({"seed": 1, "rules": [
            {"fault": "corrupt", "operation": operation, "access_key": key},
        ]});
        let scope = format!("faults?scope={key}");
        control("POST", &scope, &rule.to_string());
        let out = Run::new(dir.path())
            .env("AWS_ACCESS_KEY_ID", &key)
            .arg("deploy")
            .status(1)
            .run();
        control("DELETE", &scope, "");
        assert!(
            out.stderr.contains("BadDigest") || out.stderr.contains("XAmzContentSHA256Mismatch"),
            "{operation}: {}",
            out.stderr
        );
        assert!(
            out.stderr
                .contains("do not match the SHA-256 taken when the file was hashed"),
            "{}",
            out.stderr
        );
        // Nothing is published under a corrupted body: no object, or the real one.
        let source = source(&dir.path().join("dist"));
        let s3 = aws_clients("eu-west-1").await.s3;
        let listing = s3.list_objects_v2().bucket(&bucket).send().await.unwrap();
        for object in listing.contents() {
            let key = object.key().unwrap();
            let got = s3
                .get_object()
                .bucket(&bucket)
                .key(key)
                .send()
                .await
                .unwrap();
            let bytes = got.body.collect().await.unwrap().into_bytes();
            let sha =
                sitewarden::deploy::hash::hex(&<sha2::Sha256 as sha2::Digest>::digest(&bytes));
            if !key.starts_with(".sitewarden/") {
                assert_eq!(Some(&sha), source.get(key), "{operation}: {key}");
            }
        }
    }
    Run::new(dir.path()).arg("deploy").run();
    assert_eq!(published(&bucket).await, source(&dir.path().join("dist")));
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_reuse_the_diffs_digest_for_the_checksum_and_the_signature() {
    let dir = three_bodies(&site_name("digest"));
    let key = format!("DIGEST{}", std::process::id());
    let start: serde_json::Value = serde_json::from_str(&control("GET", "faults", "")).unwrap();
    Run::new(dir.path())
        .env("AWS_ACCESS_KEY_ID", &key)
        .arg("deploy")
        .run();
    let log: Vec<serde_json::Value> = serde_json::from_str(&control(
        "GET",
        &format!("requests?since={}", start["requests"]),
        "",
    ))
    .unwrap();
    let source = source(&dir.path().join("dist"));
    let mut seen = BTreeMap::new();
    for entry in log.iter().filter(|e| e["access_key"] == key.as_str()) {
        let operation = entry["operation"].as_str().unwrap();
        if !["PutObject", "UploadPart"].contains(&operation) {
            continue;
        }
        let path = entry["path"].as_str().unwrap();
        let object = path.rsplit('/').next().unwrap();
        if path.contains("/.sitewarden/") {
            continue;
        }
        // The SDK adds no checksum of its own next to the SHA-256 sent.
        assert_eq!(entry["checksums"], serde_json::json!(["sha256"]), "{entry}");
        let signed = entry["content_sha256"].as_str().unwrap();
        match (operation, object) {
            ("PutObject", "index.html" | "small.html") => {
                assert_eq!(signed, source[object], "{entry}");
            }
            ("PutObject", "medium.css") => assert_eq!(signed, "UNSIGNED-PAYLOAD", "{entry}"),
            ("UploadPart", "large.txt") => {
                assert!(signed.len() == 64 && signed.bytes().all(|b| b.is_ascii_hexdigit()));
            }
            other => panic!("unexpected upload {other:?}: {entry}"),
        }
        *seen.entry((operation, object.to_owned())).or_insert(0) += 1;
    }
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        [
            (("PutObject", "index.html".to_owned()), 1),
            (("PutObject", "medium.css".to_owned()), 1),
            (("PutObject", "small.html".to_owned()), 1),
            (("UploadPart", "large.txt".to_owned()), 3),
        ]
    );
}
