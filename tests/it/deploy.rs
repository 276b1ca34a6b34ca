//! `deploy`, `history` and `rollback` end to end: objects and headers read back through the SDK.

use std::path::Path;

use sitewarden::observe;

use crate::support::{ACCOUNT, Run, aws_clients, emulator, project, site_name, write_calls};

struct Site {
    name: String,
    dir: tempfile::TempDir,
    bucket: String,
}

impl Site {
    /// A site with its infrastructure up and a few files in `dist/`.
    fn up(prefix: &str, extra_config: &str) -> Site {
        let name = site_name(prefix);
        let dir = project(&name, extra_config);
        Run::new(dir.path())
            .json()
            .args(["up", "--infra-only"])
            .run();
        let site = Site {
            bucket: format!("{name}-site-{ACCOUNT}"),
            name,
            dir,
        };
        site.write("index.html", "<h1>home</h1>");
        site.write("docs/index.html", "<h1>docs</h1>");
        site.write("assets/app.3f9a1c2b.css", "body{}");
        site.write("favicon.ico", "icon");
        site
    }

    fn write(&self, key: &str, body: &str) {
        let path = self.dir.path().join("dist").join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }

    fn remove(&self, key: &str) {
        std::fs::remove_file(self.dir.path().join("dist").join(key)).unwrap();
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `deploy ARGS --json`, which must succeed; its summary.
    fn deploy(&self, args: &[&str]) -> serde_json::Value {
        Run::new(self.path())
            .json()
            .arg("deploy")
            .args(args)
            .run()
            .into_json()
    }
}

fn keys(list: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            c["key"]
                .as_str()
                .unwrap_or_else(|| c.as_str().unwrap())
                .to_owned()
        })
        .collect();
    keys.sort();
    keys
}

async fn object(bucket: &str, key: &str) -> (Vec<u8>, String, String, Option<String>) {
    let aws = aws_clients("eu-west-1").await;
    let out = aws
        .s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{key}: {e:?}"));
    let sha = out.metadata.as_ref().and_then(|m| m.get("sha256")).cloned();
    let (ct, cc) = (
        out.content_type.clone().unwrap_or_default(),
        out.cache_control.clone().unwrap_or_default(),
    );
    (
        out.body.collect().await.unwrap().into_bytes().to_vec(),
        ct,
        cc,
        sha,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_publishes_content_and_headers_then_uploads_nothing() {
    let site = Site::up("publish", "");
    site.write("odd name/a b#?%+ caf\u{e9}.txt", "odd");
    let first = site.deploy(&[]);
    assert_eq!(first["uploaded"], 5);
    assert_eq!(first["deleted"], 0);
    assert!(
        first["invalidation"].is_null(),
        "the first deploy invalidates nothing"
    );

    let (body, ct, cc, sha) = object(&site.bucket, "index.html").await;
    assert_eq!(
        (body.as_slice(), ct.as_str(), cc.as_str()),
        (
            &b"<h1>home</h1>"[..],
            "text/html; charset=utf-8",
            "no-cache"
        )
    );
    let expected =
        sitewarden::deploy::hash::hex(&<sha2::Sha256 as sha2::Digest>::digest(b"<h1>home</h1>"));
    assert_eq!(sha.as_deref(), Some(expected.as_str()), "x-amz-meta-sha256");
    // Uploaded with `x-amz-checksum-sha256`: S3 verified the bytes against it and keeps it.
    let checksum = aws_clients("eu-west-1")
        .await
        .s3
        .head_object()
        .bucket(&site.bucket)
        .key("index.html")
        .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
        .send()
        .await
        .unwrap()
        .checksum_sha256;
    let digest = <sha2::Sha256 as sha2::Digest>::digest(b"<h1>home</h1>");
    assert_eq!(
        checksum.as_deref(),
        Some(aws_smithy_types::base64::encode(digest).as_str()),
        "x-amz-checksum-sha256"
    );
    let (_, ct, cc, _) = object(&site.bucket, "assets/app.3f9a1c2b.css").await;
    assert_eq!(
        (ct.as_str(), cc.as_str()),
        (
            "text/css; charset=utf-8",
            "public, max-age=31536000, immutable"
        )
    );
    let (_, ct, cc, _) = object(&site.bucket, "favicon.ico").await;
    assert_eq!(
        (ct.as_str(), cc.as_str()),
        ("image/x-icon", "public, max-age=300")
    );
    let (body, ct, _, _) = object(&site.bucket, "odd name/a b#?%+ caf\u{e9}.txt").await;
    assert_eq!(
        (body.as_slice(), ct.as_str()),
        (&b"odd"[..], "text/plain; charset=utf-8")
    );

    // Nothing changed: no upload, and only reads (manifest, one listing).
    let second = site.deploy(&[]);
    assert_eq!(
        (second["uploaded"].as_u64(), second["unchanged"].as_u64()),
        (Some(0), Some(5))
    );
    assert_eq!(write_calls(&second["requests"]), Vec::<String>::new());
    assert_eq!(second["requests"]["ListObjectsV2"], 1);
    assert!(
        second["requests"].get("HeadObject").is_none(),
        "never a HEAD per object"
    );

    // A changed file with special characters: invalidated under its URL-encoded path.
    site.write("odd name/a b#?%+ caf\u{e9}.txt", "odd v2");
    let third = site.deploy(&[]);
    assert_eq!(
        third["invalidation"]["paths"],
        serde_json::json!(["/odd%20name/a%20b%23%3F%25%2B%20caf%C3%A9.txt"])
    );
    assert_eq!(
        object(&site.bucket, "odd name/a b#?%+ caf\u{e9}.txt")
            .await
            .0,
        b"odd v2"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_upload_only_what_changed_in_safe_order() {
    let site = Site::up("order", "");
    site.deploy(&[]);
    let log_start = std::fs::metadata(&emulator().log).unwrap().len();
    site.write("index.html", "<h1>home v2</h1>");
    site.write("docs/index.html", "<h1>docs v2</h1>");
    site.write("assets/app.3f9a1c2b.css", "body{color:red}");
    site.remove("favicon.ico");
    let out = site.deploy(&["--allow-mass-delete"]);
    assert_eq!(
        keys(&out["uploads"]),
        ["assets/app.3f9a1c2b.css", "docs/index.html", "index.html"]
    );
    assert_eq!(keys(&out["deletes"]), ["favicon.ico"]);
    // Exactly the changed and deleted paths, folder URLs for index files.
    let paths = &out["invalidation"]["paths"];
    assert_eq!(
        paths,
        &serde_json::json!([
            "/",
            "/assets/app.3f9a1c2b.css",
            "/docs",
            "/docs/",
            "/docs/index.html",
            "/favicon.ico",
            "/index.html"
        ])
    );
    let aws = aws_clients("eu-west-1").await;
    let comment = format!("sitewarden:{}", site.name);
    let distribution = observe::distribution::find_first(&aws, |d| d.comment == comment)
        .await
        .unwrap()
        .expect("the site's distribution");
    let invalidation = aws
        .cloudfront
        .get_invalidation()
        .distribution_id(&distribution.id)
        .id(out["invalidation"]["id"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .invalidation
        .unwrap();
    assert_eq!(invalidation.status, "Completed");
    let sent = invalidation
        .invalidation_batch
        .unwrap()
        .paths
        .unwrap()
        .items
        .unwrap();
    assert_eq!(serde_json::json!(sent), *paths);

    // The emulator's request log: asset PUTs, then HTML, then the manifest, then the delete.
    let log = std::fs::read(&emulator().log).unwrap();
    let log = String::from_utf8_lossy(&log[usize::try_from(log_start).unwrap()..]).into_owned();
    let bucket = &site.bucket;
    let position = |needle: &str| {
        log.find(needle)
            .unwrap_or_else(|| panic!("{needle} not in log:\n{log}"))
    };
    let css = position(&format!("\"PUT /{bucket}/assets/app.3f9a1c2b.css"));
    let html = position(&format!("\"PUT /{bucket}/index.html"))
        .min(position(&format!("\"PUT /{bucket}/docs/index.html")));
    let manifest = position(&format!("\"PUT /{bucket}/.sitewarden/manifest.json"));
    let delete = position(&format!("\"POST /{bucket}/?delete"));
    assert!(
        css < html && html < manifest && manifest < delete,
        "order css {css} html {html} manifest {manifest} delete {delete}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn header_rule_change_reuploads_only_matching_files() {
    let site = Site::up("headers", "");
    site.deploy(&[]);
    let config = site.path().join("sitewarden.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("[[cache]]\nglob = \"*.ico\"\ncache_control = \"public, max-age=86400\"\n");
    std::fs::write(&config, text).unwrap();
    let out = site.deploy(&[]);
    assert_eq!(
        out["uploads"],
        serde_json::json!([{"key": "favicon.ico", "reason": "headers"}])
    );
    let (_, _, cc, _) = object(&site.bucket, "favicon.ico").await;
    assert_eq!(cc, "public, max-age=86400");
}

#[tokio::test(flavor = "multi_thread")]
async fn out_of_band_edits_are_restored() {
    let site = Site::up("drift", "");
    site.deploy(&[]);
    let aws = aws_clients("eu-west-1").await;
    aws.s3
        .put_object()
        .bucket(&site.bucket)
        .key("index.html")
        .body(b"defaced".to_vec().into())
        .send()
        .await
        .unwrap();
    aws.s3
        .delete_object()
        .bucket(&site.bucket)
        .key("favicon.ico")
        .send()
        .await
        .unwrap();
    let out = site.deploy(&[]);
    assert_eq!(
        out["uploads"],
        serde_json::json!([{"key": "favicon.ico", "reason": "drift"}, {"key": "index.html", "reason": "drift"}])
    );
    assert_eq!(object(&site.bucket, "index.html").await.0, b"<h1>home</h1>");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_manifest_is_rebuilt_from_object_metadata() {
    let site = Site::up("rebuild", "");
    site.deploy(&[]);
    let aws = aws_clients("eu-west-1").await;
    aws.s3
        .put_object()
        .bucket(&site.bucket)
        .key(".sitewarden/manifest.json")
        .body(b"{not json".to_vec().into())
        .send()
        .await
        .unwrap();
    let out = site.deploy(&[]);
    assert_eq!(
        out["uploaded"], 0,
        "metadata sha256 proves the objects are current"
    );
    assert_eq!(out["requests"]["HeadObject"], 4);

    // Published before, so a change is invalidated even though the manifest had to be rebuilt.
    aws.s3
        .delete_object()
        .bucket(&site.bucket)
        .key(".sitewarden/manifest.json")
        .send()
        .await
        .unwrap();
    site.write("index.html", "<h1>home v2</h1>");
    let out = site.deploy(&[]);
    assert_eq!(out["uploaded"], 1);
    assert_eq!(
        out["invalidation"]["paths"],
        serde_json::json!(["/", "/index.html"])
    );
}

#[test]
fn secrets_are_refused_and_nothing_is_uploaded() {
    let site = Site::up("secrets", "");
    site.write(".env", "TOKEN=1");
    site.write("js/config.js", &format!("const key = {};", fake_aws_key()));
    Run::new(site.path())
        .arg("deploy")
        .status(2)
        .stderr_contains("refusing to publish 2 file(s) that look like secrets")
        .stderr_contains("  .env: environment file (.env*, *.env, .envrc) [env-file]")
        .stderr_contains("  js/config.js: contains an AWS access key id")
        .run();
    // Allowed on purpose: published.
    let config = site.path().join("sitewarden.toml");
    let text = std::fs::read_to_string(&config).unwrap()
        + "[deploy]\nallow = [\"js/config.js\"]\nexclude = [\".env\"]\n";
    std::fs::write(&config, text).unwrap();
    let ok = site.deploy(&[]);
    assert_eq!(ok["uploaded"], 5);
}

#[test]
fn mass_delete_needs_a_flag() {
    let site = Site::up("mass", "");
    site.deploy(&[]);
    for key in ["docs/index.html", "assets/app.3f9a1c2b.css", "favicon.ico"] {
        site.remove(key);
    }
    Run::new(site.path())
        .arg("deploy")
        .status(2)
        .stderr_contains("would delete 3 of the 4 published files (75%")
        .run();
    let ok = site.deploy(&["--allow-mass-delete"]);
    assert_eq!(ok["deleted"], 3);
}

#[test]
fn dry_run_writes_nothing() {
    let site = Site::up("dry", "");
    // `plan` shows the content `up` would publish, next to the infrastructure (none pending).
    let plan = Run::new(site.path())
        .json()
        .args(["plan", "--detailed-exitcode"])
        .status(4)
        .run()
        .into_json();
    assert_eq!(plan["changes"], serde_json::json!([]));
    assert_eq!(plan["deploy"]["uploaded"], 4);
    assert_eq!(plan["deploy"]["dry_run"], true);
    assert_eq!(write_calls(&plan["requests"]), Vec::<String>::new());
    let out = site.deploy(&["--dry-run"]);
    assert_eq!(out["uploaded"], 4);
    assert!(out["deploy_id"].is_null());
    assert_eq!(write_calls(&out["requests"]), Vec::<String>::new());
    assert_eq!(
        site.deploy(&[])["uploaded"],
        4,
        "the dry run uploaded nothing"
    );
    let plan = Run::new(site.path())
        .json()
        .args(["plan", "--detailed-exitcode"])
        .run()
        .into_json();
    assert_eq!(plan["deploy"]["unchanged"], 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn rollback_restores_the_previous_deploy() {
    let site = Site::up("rollback", "");
    let v1 = site.deploy(&[]);
    site.write("index.html", "<h1>v2</h1>");
    site.write("new.html", "new");
    // In CI the deploy records the commit it publishes.
    let sha = "4f2c3b1a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b";
    let v2 = Run::new(site.path())
        .env("GITHUB_SHA", sha)
        .json()
        .arg("deploy")
        .run()
        .into_json();
    assert_eq!(object(&site.bucket, "index.html").await.0, b"<h1>v2</h1>");

    let dry = Run::new(site.path())
        .json()
        .args(["rollback", "--dry-run"])
        .run()
        .into_json();
    assert_eq!(keys(&dry["uploads"]), ["index.html"]);
    assert_eq!(write_calls(&dry["requests"]), Vec::<String>::new());

    let back = Run::new(site.path())
        .json()
        .args(["rollback"])
        .run()
        .into_json();
    assert_eq!(keys(&back["deletes"]), ["new.html"]);
    assert_eq!(object(&site.bucket, "index.html").await.0, b"<h1>home</h1>");
    let aws = aws_clients("eu-west-1").await;
    assert!(
        observe::objects::head(&aws.s3, &site.bucket, "new.html", None, "new.html")
            .await
            .unwrap()
            .is_none()
    );

    let history = Run::new(site.path())
        .json()
        .args(["history"])
        .run()
        .into_json();
    // The CI policy `iam-policy --for deploy` allows every call of these runs.
    let policy = Run::new(site.path())
        .json()
        .args(["iam-policy", "--for", "deploy"])
        .run()
        .into_json();
    let facts = crate::support::SiteFacts::read(&site.name, &[&site.bucket], None, None).await;
    crate::support::assert_policy_allows(
        &policy,
        &facts,
        &[
            &v1["requests"],
            &v2["requests"],
            &dry["requests"],
            &back["requests"],
            &history["requests"],
        ],
    );
    let deploys = history["deploys"].as_array().unwrap();
    assert_eq!(deploys.len(), 3);
    assert_eq!(deploys[0]["id"], v1["deploy_id"]);
    assert_eq!(deploys[1]["id"], v2["deploy_id"]);
    assert_eq!(deploys[1]["commit"], sha);
    assert_eq!(deploys[2]["rollback_of"], v1["deploy_id"]);
    assert_eq!(deploys[2]["current"], true);
    // Rolling back again goes further back, not forward to v2: v1 was the first deploy.
    Run::new(site.path())
        .args(["rollback", "--dry-run"])
        .status(2)
        .stderr_contains("there is no earlier deploy to roll back to")
        .run();
    // The next deploy from the (v2) folder puts v2 back.
    assert_eq!(
        keys(&site.deploy(&[])["uploads"]),
        ["index.html", "new.html"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn large_files_go_multipart_with_checksums() {
    let site = Site::up("large", "");
    let big = (0..(20 * 1024 * 1024 / 16)).fold(String::new(), |mut text, i| {
        use std::fmt::Write as _;
        let _ = writeln!(text, "{i:015}");
        text
    });
    site.write("video/big.txt", &big);
    let out = site.deploy(&[]);
    assert_eq!(out["requests"]["CreateMultipartUpload"], 1);
    assert_eq!(out["requests"]["UploadPart"], 3);
    assert_eq!(out["requests"]["CompleteMultipartUpload"], 1);
    let policy = Run::new(site.path())
        .json()
        .args(["iam-policy", "--for", "deploy"])
        .run()
        .into_json();
    let facts = crate::support::SiteFacts::read(&site.name, &[&site.bucket], None, None).await;
    crate::support::assert_policy_allows(&policy, &facts, &[&out["requests"]]);
    assert_eq!(
        object(&site.bucket, "video/big.txt").await.0.len(),
        big.len()
    );
    assert_eq!(
        site.deploy(&[])["uploaded"],
        0,
        "multipart ETags are not MD5s, and are not compared as such"
    );
}

#[test]
fn missing_source_is_a_usage_error() {
    let name = site_name("nosource");
    let dir = project(&name, "");
    std::fs::remove_dir_all(dir.path().join("dist")).unwrap();
    Run::new(dir.path())
        .arg("deploy")
        .status(2)
        .stderr_contains("hint: build the site first")
        .run();
}

#[tokio::test(flavor = "multi_thread")]
async fn up_reconciles_then_deploys_and_refuses_bad_input_first() {
    let name = site_name("upall");
    let dir = project(&name, "");
    std::fs::write(dir.path().join("dist/.env"), "SECRET=1").unwrap();
    Run::new(dir.path()).arg("up").status(2).run();
    let aws = aws_clients("eu-west-1").await;
    let bucket = format!("{name}-site-{ACCOUNT}");
    assert_eq!(
        observe::bucket::locate(&aws, &bucket).await.unwrap(),
        observe::bucket::Location::Missing,
        "nothing was created"
    );

    std::fs::remove_file(dir.path().join("dist/.env")).unwrap();
    let up = Run::new(dir.path()).json().args(["up"]).run().into_json();
    assert_eq!(up["deploy"]["uploaded"], 1);
    assert!(
        up["deploy"].get("requests").is_none(),
        "requests are counted once, at the top"
    );
    assert_eq!(object(&bucket, "index.html").await.0, b"<h1>hello</h1>\n");
    let again = Run::new(dir.path()).json().args(["up"]).run().into_json();
    assert_eq!(again["deploy"]["uploaded"], 0);
    assert_eq!(write_calls(&again["requests"]), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_deploy_converges_on_the_next_run() {
    let site = Site::up("interrupt", "");
    site.deploy(&[]);
    // A deploy killed after its first upload: one new asset is in the bucket, the HTML that uses
    // it and the manifest are not (assets go first, the manifest only after every upload).
    site.write("assets/app.4e5f6a7b.css", "body{color:blue}");
    site.write(
        "index.html",
        "<link href=/assets/app.4e5f6a7b.css><h1>home v2</h1>",
    );
    let aws = aws_clients("eu-west-1").await;
    aws.s3
        .put_object()
        .bucket(&site.bucket)
        .key("assets/app.4e5f6a7b.css")
        .body(b"body{color:blue}".to_vec().into())
        .send()
        .await
        .unwrap();
    assert_eq!(object(&site.bucket, "index.html").await.0, b"<h1>home</h1>");
    let next = site.deploy(&[]);
    assert_eq!(
        keys(&next["uploads"]),
        ["assets/app.4e5f6a7b.css", "index.html"]
    );
    assert_eq!(site.deploy(&[])["uploaded"], 0, "converged");
    let (_, _, _, sha) = object(&site.bucket, "assets/app.4e5f6a7b.css").await;
    assert!(sha.is_some(), "re-uploaded with its digest");
}

#[test]
fn deploy_before_up_is_a_usage_error() {
    let dir = project(&site_name("noinfra"), "");
    Run::new(dir.path())
        .arg("deploy")
        .status(2)
        .stderr_contains("does not exist")
        .stderr_contains("hint: run `sitewarden up` first")
        .run();
}

#[test]
fn verbose_adds_detail_and_quiet_leaves_stderr_empty() {
    let site = Site::up("verbosity", "");
    site.deploy(&[]);
    site.write("index.html", "<h1>v2</h1>");
    let deploy = |flags: &[&str]| {
        Run::new(site.path())
            .args(flags)
            .args(["deploy", "--no-invalidate"])
    };
    deploy(&["-v"])
        .stderr_contains("debug: hashed ")
        .stderr_contains("unchanged since they were last hashed")
        .run();
    site.write("index.html", "<h1>v3</h1>");
    // Plain progress lines off a terminal.
    deploy(&[])
        .stderr_lacks("hashed")
        .stderr_contains("uploading 1 HTML file(s)")
        .run();
    site.write("index.html", "<h1>v4</h1>");
    deploy(&["-q"]).stderr_is("").run();
}

#[test]
fn a_file_the_site_cannot_serve_is_named_before_upload() {
    let site = Site::up("noext", "");
    site.write("LICENSE", "MIT");
    site.write(".well-known/apple-app-site-association", "{}");
    Run::new(site.path())
        .args(["deploy", "--dry-run"])
        .stderr_contains("`LICENSE` has no extension: the site redirects `/LICENSE` to `/LICENSE/`")
        .stderr_lacks("apple-app-site-association")
        .run();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deploy_whose_versions_expired_is_not_restored_in_part() {
    let site = Site::up("expired", "");
    site.deploy(&[]);
    site.write("index.html", "<h1>v2</h1>");
    site.write("favicon.ico", "icon v2");
    site.deploy(&[]);
    // As the lifecycle does after `logging.noncurrent_version_days`: v1's index.html is gone.
    let s3 = aws_clients("eu-west-1").await.s3;
    let versions = s3
        .list_object_versions()
        .bucket(&site.bucket)
        .prefix("index.html")
        .send()
        .await
        .unwrap();
    let old = versions
        .versions()
        .iter()
        .find(|v| v.key() == Some("index.html") && v.is_latest() == Some(false))
        .and_then(|v| v.version_id())
        .unwrap()
        .to_owned();
    s3.delete_object()
        .bucket(&site.bucket)
        .key("index.html")
        .version_id(old)
        .send()
        .await
        .unwrap();

    Run::new(site.path())
        .arg("rollback")
        .status(2)
        .stderr_contains("cannot be restored: 1 of its file versions are gone: index.html")
        .run();
    // Nothing was copied back, not even the asset whose version is still there.
    assert_eq!(object(&site.bucket, "favicon.ico").await.0, b"icon v2");
    assert_eq!(object(&site.bucket, "index.html").await.0, b"<h1>v2</h1>");
}

#[test]
fn the_state_prefix_cannot_be_published_over() {
    let site = Site::up("reserved", "");
    site.write(".sitewarden/manifest.json", "{}");
    Run::new(site.path())
        .arg("deploy")
        .status(2)
        .stderr_contains("`.sitewarden/` is reserved for sitewarden's own state")
        .stderr_contains(".sitewarden/manifest.json")
        .run();
    // Excluded, the rest is published.
    let config = site.path().join("sitewarden.toml");
    let text =
        std::fs::read_to_string(&config).unwrap() + "[deploy]\nexclude = [\".sitewarden/**\"]\n";
    std::fs::write(&config, text).unwrap();
    assert_eq!(site.deploy(&[])["uploaded"], 4);
}

/// An AWS access key id with a secret next to it, assembled so that the source does not look
/// like it leaks one.
fn fake_aws_key() -> String {
    let id = ["AK", "IA", "Q3T7VXZ2MB5NC4LD"].concat();
    format!(
        "{{ accessKeyId: '{id}', secretAccessKey: 'k9Jd8Xq2Lm4Np7Rs1Tv3Wy5Za6Bc0De/Fg+HiJkL' }}"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn new_kinds_of_secret_are_refused_each_with_its_rule_and_the_allow_entry() {
    let site = Site::up("guardkinds", "");
    let github = ["gh", "p_", "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"].concat();
    site.write(
        "js/app.min.js",
        &format!("!function(){{var t=\"{github}\";}}();"),
    );
    site.write("infra/terraform.tfstate", "{\"version\": 4}");
    site.write("backup/db.sql", "INSERT INTO users VALUES (1, 'admin');");
    let key_header = ["-----BEGIN ", "OPENSSH PRIV", "ATE KEY-----"].concat();
    let body = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW";
    site.write(
        "keys/deploy.txt",
        &format!("{key_header}\n{body}\n{body}\n"),
    );
    // Documentation that shows the header, and a Stripe test key: published.
    site.write(
        "docs/keys.html",
        "<h2>-----BEGIN PRIVATE KEY-----</h2><p>starts a PKCS#8 key</p><script>s='sk_test_4eC39HqLyjWDarjtT1zdp7dc'</script>",
    );
    let stderr = Run::new(site.path())
        .arg("deploy")
        .status(2)
        .stderr_contains("refusing to publish 4 file(s) that look like secrets")
        .stderr_lacks("docs/keys.html")
        .run()
        .stderr;
    for line in [
        "  infra/terraform.tfstate: Terraform state, which records every secret it manages (*.tfstate*, .terraform/) [terraform-state]; to publish it on purpose: `deploy.allow = [\"infra/terraform.tfstate\"]`",
        "  backup/db.sql: database dump (*.sql, *.sql.gz and other *.sql.*, *.dump) [database-dump]; to publish it on purpose: `deploy.allow = [\"backup/db.sql\"]`",
        "  js/app.min.js: contains a GitHub personal access token (ghp_...) [github-pat]; to publish it on purpose: `deploy.allow = [\"js/app.min.js\"]`",
        "  keys/deploy.txt: contains an OpenSSH private key (-----BEGIN OPENSSH PRIVATE KEY-----) [openssh-private-key]; to publish it on purpose: `deploy.allow = [\"keys/deploy.txt\"]`",
    ] {
        assert!(stderr.lines().any(|l| l == line), "{line}\n in:\n{stderr}");
    }
    let listed = aws_clients("eu-west-1")
        .await
        .s3
        .list_objects_v2()
        .bucket(&site.bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.key_count(), Some(0), "nothing uploaded");

    // Allowed on purpose, the bundle is published; the rest is excluded.
    let config = site.path().join("sitewarden.toml");
    let text = std::fs::read_to_string(&config).unwrap()
        + "[deploy]\nallow = [\"js/app.min.js\"]\nexclude = [\"infra/**\", \"backup/**\", \"keys/**\"]\n";
    std::fs::write(&config, text).unwrap();
    assert_eq!(site.deploy(&[])["uploaded"], 6);
    assert!(
        String::from_utf8(object(&site.bucket, "js/app.min.js").await.0)
            .unwrap()
            .contains(&github)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn names_equal_after_nfc_are_refused_at_walk() {
    let name = site_name("nfc");
    let dir = project(&name, "");
    std::fs::write(dir.path().join("dist/caf\u{e9}.html"), "precomposed").unwrap();
    std::fs::write(dir.path().join("dist/cafe\u{301}.html"), "decomposed").unwrap();
    Run::new(dir.path())
        .arg("deploy")
        .status(2)
        .stderr_contains(
            "`cafe\\u{301}.html` and `caf\\u{e9}.html` are both published as `caf\u{e9}.html`",
        )
        .stderr_contains("hint: rename or remove one of them")
        .run();
    let aws = aws_clients("eu-west-1").await;
    let bucket = format!("{name}-site-{ACCOUNT}");
    assert_eq!(
        observe::bucket::locate(&aws, &bucket).await.unwrap(),
        observe::bucket::Location::Missing
    );
}

#[test]
fn files_of_any_type_but_media_are_scanned() {
    let site = Site::up("guardany", "");
    let npm = ["np", "m_", "Zq8Xw2Ev4Rt6Yu8Io0Pa1Sd3Fg5Hj7Kl9Mn1"].concat();
    site.write(".well-known/deploy-token", &format!("token={npm}\n"));
    site.write("data/export.bin", &format!("\0\0{npm}\0"));
    let mut run = Run::new(site.path())
        .arg("deploy")
        .status(2)
        .stderr_contains("refusing to publish 2 file(s) that look like secrets");
    for key in [".well-known/deploy-token", "data/export.bin"] {
        run = run.stderr_contains(format!(
            "  {key}: contains an npm access token (npm_...) [npm-token]"
        ));
    }
    run.run();
}

async fn csp_metadata(bucket: &str, key: &str) -> Option<String> {
    let aws = aws_clients("eu-west-1").await;
    let head = observe::objects::head(&aws.s3, bucket, key, None, key)
        .await
        .unwrap()
        .unwrap();
    head.metadata.and_then(|m| m.get("csp").cloned())
}

#[tokio::test(flavor = "multi_thread")]
async fn csp_auto_gives_each_page_its_policy_and_analyses_only_what_changed() {
    let site = Site::up("csp-auto", "");
    site.write("index.html", "<h1>home</h1><script>alert(1)</script>");
    let first = site.deploy(&[]);
    assert_eq!(first["csp"]["analysed"], 2, "{first}");
    assert_eq!(first["csp"]["per_page"], 2);
    assert_eq!(first["csp"]["hashes"], 1);
    assert_eq!(first["csp"]["fallbacks"], serde_json::json!([]));
    let policy = csp_metadata(&site.bucket, "index.html").await.unwrap();
    assert_eq!(
        policy,
        "default-src 'self'; script-src 'self' \
         'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='; img-src 'self' data:; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    );
    assert_eq!(
        csp_metadata(&site.bucket, "docs/index.html")
            .await
            .as_deref(),
        Some(sitewarden::config::DEFAULT_CSP)
    );
    assert_eq!(csp_metadata(&site.bucket, "favicon.ico").await, None);

    // A no-op deploy reads the policies from the manifest: no page is analysed again.
    let again = Run::new(site.path())
        .arg("-v")
        .json()
        .arg("deploy")
        .stderr_contains("analysed 0 pages for their content security policy")
        .run()
        .into_json();
    assert_eq!(again["uploaded"], 0);
    assert_eq!(again["csp"]["per_page"], 2);

    // One changed page: that page alone is analysed and uploaded.
    site.write("docs/index.html", "<h1 onclick=\"go()\">docs</h1>");
    let changed = Run::new(site.path())
        .arg("-v")
        .json()
        .arg("deploy")
        .stderr_contains("analysed 1 pages")
        .run()
        .into_json();
    assert_eq!(keys(&changed["uploads"]), ["docs/index.html"]);
    assert!(
        csp_metadata(&site.bucket, "docs/index.html")
            .await
            .unwrap()
            .contains("'unsafe-hashes' 'sha256-")
    );

    // Only the config changes (a fixed policy): the pages are re-uploaded as header changes,
    // without the metadata.
    let config = site.path().join("sitewarden.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{text}[headers]\ncontent_security_policy = \"default-src 'self'\"\n"),
    )
    .unwrap();
    let fixed = site.deploy(&[]);
    let mut reasons: Vec<(&str, &str)> = fixed["uploads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["key"].as_str().unwrap(), c["reason"].as_str().unwrap()))
        .collect();
    reasons.sort_unstable();
    assert_eq!(
        reasons,
        [("docs/index.html", "headers"), ("index.html", "headers")]
    );
    assert!(fixed["csp"].is_null());
    assert_eq!(csp_metadata(&site.bucket, "index.html").await, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn csp_fallback_pages_are_listed_with_the_reason() {
    let site = Site::up("csp-fallback", "");
    site.write("index.html", "<a href=\"javascript:void(0)\">x</a>");
    let summary = Run::new(site.path())
        .arg("deploy")
        .stdout_contains(
            "! index.html is on a CSP fallback: no strict policy allows `javascript:` URLs \
             (`<a href>`): blocked under the page's own policy",
        )
        .run();
    assert!(
        summary
            .stdout
            .contains("content security policy: 2 page(s) with their own")
    );
}

#[test]
fn unchanged_files_are_not_read_again_and_any_rewrite_is() {
    let site = Site::up("digest-cache", "");
    site.write("a.html", "<p>a</p>");
    site.write("b.css", "p{}");
    // Files changed within 2 s of being hashed are hashed again next time; let these age.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let deploy = || {
        Run::new(site.path())
            .json()
            .args(["-v", "deploy", "--no-invalidate"])
    };
    let first = deploy().run();
    assert_eq!(first.json()["uploaded"], 6, "{}", first.stderr);
    assert!(
        first.stderr.contains("debug: hashed 6 files"),
        "{}",
        first.stderr
    );
    let second = deploy().run();
    assert!(
        second.stderr.contains("debug: hashed 0 files, 0.0 MB"),
        "{}",
        second.stderr
    );
    assert!(
        second
            .stderr
            .contains("; 6 unchanged since they were last hashed")
    );
    assert_eq!(second.json()["uploaded"], 0);

    // The same size, the modification time put back (as `cp -p` or `rsync -a` leave it): read
    // again, and published.
    let path = site.path().join("dist/a.html");
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    std::fs::write(&path, "<p>A</p>").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let third = deploy().run();
    assert!(
        third.stderr.contains("debug: hashed 1 files"),
        "{}",
        third.stderr
    );
    assert_eq!(third.json()["uploaded"], 1);
}
