//! One site, one writer: the deploy lease, the conditional manifest write, and buckets of another
//! account refused by `ExpectedBucketOwner`.

use std::collections::BTreeMap;
use std::path::Path;

use sitewarden::deploy::lock::{LOCK_KEY, LeaseInfo};
use sitewarden::deploy::manifest::{self, MANIFEST_KEY, Manifest};
use sitewarden::observe;

use crate::support::{ACCOUNT, Run, aws_clients, emulator, project, site_name};

const REGION: &str = "eu-west-1";

/// A build: `shared` keys both builds have (different bytes) and `shared / 3` keys of its own, so
/// replacing one build by the other stays under the mass-delete threshold.
fn write_build(dist: &Path, tag: &str, shared: usize) {
    if dist.exists() {
        std::fs::remove_dir_all(dist).unwrap();
    }
    std::fs::create_dir_all(dist.join("shared")).unwrap();
    std::fs::write(dist.join("index.html"), format!("<h1>build {tag}</h1>")).unwrap();
    for i in 0..shared {
        std::fs::write(dist.join(format!("shared/{i}.txt")), format!("{tag} {i}")).unwrap();
    }
    for i in 0..shared / 3 {
        std::fs::write(dist.join(format!("only-{tag}-{i}.txt")), tag).unwrap();
    }
}

/// Every published key (state excluded) and its bytes.
async fn published(bucket: &str) -> BTreeMap<String, Vec<u8>> {
    let s3 = aws_clients(REGION).await.s3;
    let listing = manifest::list(&s3, bucket).await.unwrap();
    let mut out = BTreeMap::new();
    for key in listing.keys() {
        let body = observe::objects::get(&s3, bucket, key, key)
            .await
            .unwrap()
            .expect("a listed key is there")
            .body;
        out.insert(key.clone(), body);
    }
    out
}

fn local_build(dist: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in walk(dist) {
        let key = entry
            .strip_prefix(dist)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        out.insert(key, std::fs::read(&entry).unwrap());
    }
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

async fn lock_exists(bucket: &str) -> bool {
    sitewarden::deploy::lock::read(&aws_clients(REGION).await.s3, bucket)
        .await
        .unwrap()
        .is_some()
}

/// Two projects of one site (two CI jobs), each with its own build.
struct Twins {
    bucket: String,
    a: tempfile::TempDir,
    b: tempfile::TempDir,
}

impl Twins {
    fn up(prefix: &str) -> Twins {
        let name = site_name(prefix);
        let a = project(&name, "");
        Run::new(a.path()).json().args(["up", "--infra-only"]).run();
        let b = project(&name, "");
        Twins {
            bucket: format!("{name}-site-{ACCOUNT}"),
            a,
            b,
        }
    }

    /// Both deploys at once; their exit codes and stderr.
    fn race(&self, args: &[&str]) -> [(i32, String); 2] {
        let run = |dir: std::path::PathBuf, args: Vec<String>| {
            std::thread::spawn(move || {
                // The loser's exit code and stderr are checked below, against its winner's.
                let out = Run::new(&dir)
                    .arg("deploy")
                    .args(&args)
                    .status_one_of([0, 1])
                    .run();
                (out.status, out.stderr)
            })
        };
        let args: Vec<String> = args.iter().map(ToString::to_string).collect();
        let first = run(self.a.path().to_owned(), args.clone());
        let second = run(self.b.path().to_owned(), args);
        [first.join().unwrap(), second.join().unwrap()]
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_concurrent_deploys_leave_exactly_one_build() {
    let twins = Twins::up("race");
    for round in 0..3 {
        let (tag_a, tag_b) = (format!("a{round}"), format!("b{round}"));
        write_build(&twins.a.path().join("dist"), &tag_a, 150);
        write_build(&twins.b.path().join("dist"), &tag_b, 150);
        let builds = [
            local_build(&twins.a.path().join("dist")),
            local_build(&twins.b.path().join("dist")),
        ];
        let results = twins.race(&[]);
        for (code, stderr) in &results {
            assert!(
                *code == 0
                    || (*code == 1
                        && stderr.contains("the site is locked by another run: deploy by ")
                        && stderr.contains("pid ")
                        && stderr.contains("--wait-for-lock")),
                "round {round}: exit {code}\n{stderr}"
            );
        }
        assert!(
            results.iter().any(|(code, _)| *code == 0),
            "round {round}: one deploy wins: {results:?}"
        );
        let live = published(&twins.bucket).await;
        let winner = builds
            .iter()
            .position(|b| *b == live)
            .unwrap_or_else(|| panic!("round {round}: the bucket is a mix of both builds"));
        if results.iter().all(|(code, _)| *code == 0) {
            eprintln!("round {round}: the deploys ran one after the other");
        }
        assert!(!lock_exists(&twins.bucket).await, "the lease is released");
        // The manifest matches the live build: a deploy of the winner uploads nothing.
        let dir = if winner == 0 { &twins.a } else { &twins.b };
        let again = Run::new(dir.path())
            .json()
            .args(["deploy"])
            .run()
            .into_json();
        assert_eq!(
            (again["uploaded"].as_u64(), again["deleted"].as_u64()),
            (Some(0), Some(0)),
            "{again:#}"
        );
    }

    // Waiting for the lease: both deploys succeed, one after the other; the later one is live.
    write_build(&twins.a.path().join("dist"), "wa", 150);
    write_build(&twins.b.path().join("dist"), "wb", 150);
    let results = twins.race(&["--wait-for-lock", "2m"]);
    assert!(results.iter().all(|(code, _)| *code == 0), "{results:?}");
    let live = published(&twins.bucket).await;
    assert!(
        live == local_build(&twins.a.path().join("dist"))
            || live == local_build(&twins.b.path().join("dist")),
        "exactly one build is live"
    );
}

async fn put_lease(bucket: &str, holder: &str, expires_at: u64) {
    let info = LeaseInfo {
        holder: holder.to_owned(),
        operation: "deploy".to_owned(),
        started: "2026-12-01T10:00:00Z".to_owned(),
        expires: "2026-12-01T10:02:00Z".to_owned(),
        expires_at,
        token: "other-run".to_owned(),
        // A live process (this test's): the lease is taken over only once it expires.
        pid: std::process::id(),
        space: String::new(),
    };
    aws_clients(REGION)
        .await
        .s3
        .put_object()
        .bucket(bucket)
        .key(LOCK_KEY)
        .body(serde_json::to_vec(&info).unwrap().into())
        .send()
        .await
        .unwrap();
}

fn far_future() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600
}

#[tokio::test(flavor = "multi_thread")]
async fn a_live_lease_refuses_a_deploy_and_a_stale_one_is_taken_over() {
    let name = site_name("lease");
    let dir = project(&name, "");
    Run::new(dir.path())
        .json()
        .args(["up", "--infra-only"])
        .run();
    let bucket = format!("{name}-site-{ACCOUNT}");

    // Another run holds the lease: the deploy is refused (exit 1), naming it, and changes nothing.
    put_lease(&bucket, "ci-runner-7 pid 99", far_future()).await;
    Run::new(dir.path())
        .arg("deploy")
        .status(1)
        .stderr_contains(
            "error: the site is locked by another run: deploy by ci-runner-7 pid 99, since \
             2026-12-01T10:00:00Z",
        )
        .stderr_contains("sitewarden unlock")
        .run();
    assert!(published(&bucket).await.is_empty(), "nothing was uploaded");

    // A short wait is not enough either; the wait is reported.
    Run::new(dir.path())
        .args(["deploy", "--wait-for-lock", "3s"])
        .status(1)
        .stderr_contains("waiting for the site's lease: deploy by ci-runner-7 pid 99")
        .run();

    // `unlock` breaks a live lease only with --force.
    Run::new(dir.path())
        .arg("unlock")
        .status(2)
        .stderr_contains("the site's lease is live: deploy by ci-runner-7 pid 99")
        .run();
    let out = Run::new(dir.path())
        .json()
        .args(["unlock", "--force"])
        .run()
        .into_json();
    assert_eq!(out["broken"]["holder"], "ci-runner-7 pid 99", "{out:#}");
    assert!(!lock_exists(&bucket).await);
    let out = Run::new(dir.path())
        .json()
        .args(["unlock"])
        .run()
        .into_json();
    assert!(out["broken"].is_null(), "{out:#}");

    // A killed run's lease expires: the next deploy takes it over and releases it.
    put_lease(&bucket, "killed-runner pid 5", 1).await;
    let out = Run::new(dir.path())
        .json()
        .args(["deploy"])
        .run()
        .into_json();
    assert_eq!(out["uploaded"], 1, "{out:#}");
    assert!(!lock_exists(&bucket).await, "the lease is released");
    assert_eq!(
        published(&bucket).await.keys().collect::<Vec<_>>(),
        vec!["index.html"]
    );

    // A deploy refused under the lease (mass delete: exit 2) releases it and changes nothing.
    std::fs::rename(
        dir.path().join("dist/index.html"),
        dir.path().join("dist/home.html"),
    )
    .unwrap();
    Run::new(dir.path())
        .arg("deploy")
        .status(2)
        .stderr_contains("would delete 1 of the 1 published files")
        .run();
    assert!(!lock_exists(&bucket).await, "the lease is released");
    assert_eq!(
        published(&bucket).await.keys().collect::<Vec<_>>(),
        vec!["index.html"]
    );
    std::fs::rename(
        dir.path().join("dist/home.html"),
        dir.path().join("dist/index.html"),
    )
    .unwrap();

    // Rollback takes the lease too.
    std::fs::write(dir.path().join("dist/index.html"), "<h1>v2</h1>").unwrap();
    Run::new(dir.path()).json().args(["deploy"]).run();
    put_lease(&bucket, "ci-runner-8 pid 7", far_future()).await;
    Run::new(dir.path())
        .arg("rollback")
        .status(1)
        .stderr_contains("locked by another run: deploy by ci-runner-8 pid 7")
        .run();
    assert_eq!(
        published(&bucket).await["index.html"],
        b"<h1>v2</h1>".to_vec()
    );
    Run::new(dir.path())
        .json()
        .args(["unlock", "--force"])
        .run();
    Run::new(dir.path()).json().args(["rollback"]).run();
    assert_eq!(
        published(&bucket).await["index.html"],
        b"<h1>hello</h1>\n".to_vec()
    );

    // A bad duration is the user's error, before any AWS call.
    Run::new(dir.path())
        .args(["deploy", "--wait-for-lock", "5 days"])
        .status(2)
        .stderr_contains("`5 days` has an unknown unit")
        .run();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_manifest_is_replaced_only_over_the_one_that_was_read() {
    let name = site_name("ifmatch");
    let dir = project(&name, "");
    Run::new(dir.path()).json().args(["up"]).run();
    let bucket = format!("{name}-site-{ACCOUNT}");
    let s3 = aws_clients(REGION).await.s3;
    let stale = observe::objects::head(&s3, &bucket, MANIFEST_KEY, None, MANIFEST_KEY)
        .await
        .unwrap()
        .expect("the manifest is there")
        .e_tag
        .unwrap();
    // Another run publishes: the manifest changes.
    std::fs::write(dir.path().join("dist/index.html"), "<h1>newer</h1>").unwrap();
    Run::new(dir.path()).json().args(["deploy"]).run();
    let newer = manifest::read(&s3, &bucket, &|_| {})
        .await
        .unwrap()
        .unwrap();

    // A run that read the older manifest (it lost its lease) cannot write over the newer one,
    // and neither can a run that found none.
    let old = Manifest::default();
    let err = manifest::save(&s3, &bucket, &old, Some(&stale))
        .await
        .unwrap_err();
    assert_eq!(err.exit(), sitewarden::error::Exit::Failure);
    assert!(
        err.to_string()
            .contains("changed since this run read it: another run published in between"),
        "{err}"
    );
    manifest::save(&s3, &bucket, &old, None).await.unwrap_err();
    let kept = manifest::read(&s3, &bucket, &|_| {})
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.deploy_id, newer.deploy_id);

    // The deploy record is written before the manifest that names it.
    let log = std::fs::read_to_string(&emulator().log).unwrap();
    let record_at = log
        .rfind(&format!("PUT /{bucket}/.sitewarden/deploys/"))
        .expect("the record was written");
    let manifest_at = log
        .rfind(&format!("PUT /{bucket}/.sitewarden/manifest.json"))
        .expect("the manifest was written");
    assert!(record_at < manifest_at, "the record comes first");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bucket_squatted_in_another_account_gets_nothing() {
    let name = site_name("squat");
    let dir = project(&name, "");
    let bucket = format!("{name}-site-{ACCOUNT}");
    let s3 = aws_clients(REGION).await.s3;
    let as_other = |req: &mut aws_smithy_runtime_api::http::Request| {
        req.headers_mut()
            .insert("x-moto-account-id", "210987654321");
    };
    s3.create_bucket()
        .bucket(&bucket)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .customize()
        .mutate_request(as_other)
        .send()
        .await
        .unwrap();

    Run::new(dir.path())
        .arg("deploy")
        .status(1)
        .stderr_contains(&bucket)
        .run();
    Run::new(dir.path())
        .arg("up")
        .status(1)
        .stderr_contains("another account")
        .run();
    let listed = s3
        .list_objects_v2()
        .bucket(&bucket)
        .customize()
        .mutate_request(as_other)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.key_count(), Some(0), "nothing reached the squatter");
    let policy = s3
        .get_bucket_policy()
        .bucket(&bucket)
        .customize()
        .mutate_request(as_other)
        .send()
        .await;
    assert!(
        policy.is_err(),
        "no policy was put on the squatter's bucket"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_distribution_is_the_sites_only_with_the_site_tag() {
    let name = site_name("tagged");
    let dir = project(&name, "");
    let up = Run::new(dir.path()).json().args(["up"]).run().into_json();
    let id = up["distribution"]["id"].as_str().unwrap().to_owned();
    let arn = up["distribution"]["arn"].as_str().unwrap().to_owned();
    let cloudfront = aws_clients(REGION).await.cloudfront;
    // The tag removed: what is left is a distribution anyone could have given the site's comment.
    cloudfront
        .untag_resource()
        .resource(&arn)
        .tag_keys(
            aws_sdk_cloudfront::types::TagKeys::builder()
                .items("sitewarden:site")
                .build(),
        )
        .send()
        .await
        .unwrap();
    for command in ["plan", "up"] {
        Run::new(dir.path())
            .arg(command)
            .status(1)
            .stderr_contains(format!(
                "CloudFront distribution `{id}` has this site's comment `sitewarden:{name}` but \
                 not the tag `sitewarden:site={name}`"
            ))
            .stderr_contains("aws cloudfront tag-resource")
            .run();
    }
    // A deploy does not invalidate a distribution that is not the site's.
    std::fs::write(dir.path().join("dist/index.html"), "<h1>v2</h1>").unwrap();
    let out = Run::new(dir.path())
        .json()
        .args(["deploy"])
        .run()
        .into_json();
    assert!(out["invalidation"].is_null(), "{out:#}");
    assert!(out["requests"].get("CreateInvalidation").is_none());

    // Tagged again, it is the site's.
    cloudfront
        .tag_resource()
        .resource(&arn)
        .tags(
            aws_sdk_cloudfront::types::Tags::builder()
                .items(
                    aws_sdk_cloudfront::types::Tag::builder()
                        .key("sitewarden:site")
                        .value(&name)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let plan = Run::new(dir.path())
        .json()
        .args(["plan", "--infra-only"])
        .run()
        .into_json();
    assert_eq!(plan["changes"], serde_json::json!([]), "{plan:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_whose_lease_was_taken_notices_before_it_commits() {
    let name = site_name("lost");
    let dir = project(&name, "");
    Run::new(dir.path()).args(["up", "--infra-only"]).run();
    let bucket = format!("{name}-site-{ACCOUNT}");
    let s3 = aws_clients(REGION).await.s3;
    let lease = sitewarden::deploy::lock::acquire(
        &s3,
        &bucket,
        "deploy",
        std::time::Duration::ZERO,
        &|_| {},
    )
    .await
    .unwrap();
    lease.verify_held().await.unwrap();
    // Someone broke it and another run took it: this run must not write the manifest.
    put_lease(&bucket, "ci-runner-9 pid 3", far_future()).await;
    let err = lease.verify_held().await.unwrap_err();
    assert_eq!(err.exit(), sitewarden::error::Exit::Failure);
    assert!(
        err.to_string().contains(
            "this run lost the site's lease (it is now held by deploy by ci-runner-9 pid 3"
        ),
        "{err}"
    );
    // Releasing leaves the other run's lease alone.
    lease.release().await.unwrap();
    let (holder, _) = sitewarden::deploy::lock::read(&s3, &bucket)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(holder.holder, "ci-runner-9 pid 3");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deploy_racing_a_rollback_leaves_exactly_one_build() {
    let twins = Twins::up("race-rollback");
    let dist_a = twins.a.path().join("dist");
    write_build(&dist_a, "v1", 120);
    let v1 = local_build(&dist_a);
    let first = Run::new(twins.a.path())
        .json()
        .arg("deploy")
        .run()
        .into_json();
    let v1_id = first["deploy_id"].as_str().unwrap().to_owned();
    let mut outcomes = [0usize; 3]; // deploy won, rollback won, one after the other
    for round in 0..3 {
        write_build(&dist_a, &format!("v2-{round}"), 120);
        Run::new(twins.a.path()).arg("deploy").run();
        let v3_dir = twins.b.path().join("dist");
        write_build(&v3_dir, &format!("v3-{round}"), 120);
        let v3 = local_build(&v3_dir);
        let (deploy_dir, rollback_dir) = (twins.b.path().to_owned(), twins.a.path().to_owned());
        let id = v1_id.clone();
        let deploy = std::thread::spawn(move || {
            let out = Run::new(&deploy_dir)
                .arg("deploy")
                .status_one_of([0, 1])
                .run();
            (out.status, out.stderr)
        });
        let rollback = std::thread::spawn(move || {
            let out = Run::new(&rollback_dir)
                .args(["rollback", &id])
                .status_one_of([0, 1])
                .run();
            (out.status, out.stderr)
        });
        let results = [deploy.join().unwrap(), rollback.join().unwrap()];
        for (code, stderr) in &results {
            assert!(
                *code == 0 || stderr.contains("the site is locked by another run: "),
                "round {round}: exit {code}\n{stderr}"
            );
        }
        let live = published(&twins.bucket).await;
        assert!(
            live == v1 || live == v3,
            "round {round}: the bucket is a mix: {results:?}"
        );
        match (results[0].0, results[1].0) {
            (0, 1) => outcomes[0] += 1,
            (1, 0) => outcomes[1] += 1,
            _ => outcomes[2] += 1,
        }
        assert!(!lock_exists(&twins.bucket).await, "the lease is released");
    }
    eprintln!(
        "deploy vs rollback: deploy won {}, rollback won {}, serialised {}",
        outcomes[0], outcomes[1], outcomes[2]
    );
}
