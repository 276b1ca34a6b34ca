//! `adopt` end to end on the classic proof of concept built by `examples/insecure-poc`: the plan,
//! each step applied and resumed, the domain served at every step, objects kept byte for byte,
//! and `audit` clean at the end.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use aws_sdk_route53::types::RrType;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use sitewarden::observe;

use crate::support::{Run, aws_clients, emulator, set_monitoring_aside, site_name, write_calls};

const REGION: &str = "eu-west-1";
const STEPS: [&str; 5] = ["prepare", "distribution", "dns", "close", "config"];

/// What `examples/insecure-poc/build.sh` built.
struct Poc {
    domain: String,
    bucket: String,
    zone_id: String,
    /// key → SHA-256 of the uploaded bytes.
    objects: BTreeMap<String, String>,
}

fn build_poc(prefix: &str) -> Poc {
    let domain = format!("www.{}.example.com", site_name(prefix));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("bash")
        .arg(root.join("examples/insecure-poc/build.sh"))
        .args([&domain, REGION])
        .env("AWS_ENDPOINT_URL", &emulator().endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .expect("run examples/insecure-poc/build.sh");
    assert!(
        out.status.success(),
        "build.sh failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let built: Value = serde_json::from_slice(&out.stdout).expect("build.sh prints JSON");
    Poc {
        bucket: built["bucket"].as_str().unwrap().to_owned(),
        zone_id: built["zone_id"].as_str().unwrap().to_owned(),
        objects: built["objects"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect(),
        domain,
    }
}

/// `adopt` of the proof of concept. No resolver caches the emulator's records, so the wait after the DNS switch
/// is skipped (`--dns-grace 0`); the CNAME test covers it.
fn adopt(dir: &Path, poc: &Poc, extra: &[&str]) -> Value {
    let mut args = vec![
        "adopt",
        "--bucket",
        &poc.bucket,
        "--domain",
        &poc.domain,
        "--dns-grace",
        "0",
    ];
    args.extend_from_slice(extra);
    Run::new(dir).json().args(args).run().into_json()
}

/// Where the domain's A record points: the alias target host.
async fn a_record_target(poc: &Poc) -> String {
    let aws = aws_clients("us-east-1").await;
    let sets = observe::dns::records_at(&aws, &poc.zone_id, &poc.domain)
        .await
        .unwrap();
    let set = sets
        .iter()
        .find(|s| s.r#type == RrType::A)
        .expect("the domain keeps an A record at every step");
    set.alias_target
        .as_ref()
        .expect("an alias")
        .dns_name
        .trim_end_matches('.')
        .to_owned()
}

/// How the bucket serves readers right now.
struct Serving {
    website: bool,
    public_read: bool,
    public_access_blocked: bool,
    cloudfront_read: Option<String>,
}

async fn serving(poc: &Poc) -> Serving {
    let s3 = aws_clients(REGION).await.s3;
    let website = observe::bucket::website(&s3, &poc.bucket)
        .await
        .unwrap()
        .is_some();
    let policy = observe::bucket::policy(&s3, &poc.bucket)
        .await
        .unwrap()
        .unwrap_or(Value::Null);
    let statements = policy["Statement"].as_array().cloned().unwrap_or_default();
    let public_read = statements
        .iter()
        .any(|s| s["Effect"] == "Allow" && s["Principal"] == "*");
    let cloudfront_read = statements
        .iter()
        .find(|s| s["Principal"]["Service"] == "cloudfront.amazonaws.com" && s["Effect"] == "Allow")
        .map(|s| {
            s["Condition"]["StringEquals"]["AWS:SourceArn"]
                .as_str()
                .unwrap()
                .to_owned()
        });
    let public_access_blocked = observe::bucket::PublicAccessBlock::all_on(
        observe::bucket::public_access_block(&s3, &poc.bucket)
            .await
            .unwrap()
            .as_ref(),
    );
    Serving {
        website,
        public_read,
        public_access_blocked,
        cloudfront_read,
    }
}

/// The domain always has a working target: the website endpoint while the bucket still serves
/// publicly, or a distribution the bucket lets read.
async fn assert_domain_served(poc: &Poc, step: &str) -> String {
    let target = a_record_target(poc).await;
    let now = serving(poc).await;
    if target.starts_with("s3-website") {
        assert!(
            now.website && now.public_read && !now.public_access_blocked,
            "after `{step}` DNS points at the website endpoint, which must still serve"
        );
    } else {
        assert!(target.ends_with(".cloudfront.net"), "{step}: {target}");
        assert!(
            now.cloudfront_read.is_some(),
            "after `{step}` DNS points at CloudFront, which must be allowed to read"
        );
    }
    target
}

/// The bucket's versioning status (`None`: never enabled).
async fn versioning(poc: &Poc) -> Option<String> {
    observe::bucket::versioning(&aws_clients(REGION).await.s3, &poc.bucket)
        .await
        .unwrap()
        .map(|s| s.as_str().to_owned())
}

/// How an object is encrypted (`aws:kms`, `AES256`, or `None`).
async fn object_encryption(poc: &Poc, key: &str) -> Option<String> {
    let s3 = aws_clients(REGION).await.s3;
    observe::objects::head(&s3, &poc.bucket, key, None, key)
        .await
        .unwrap()
        .expect("the object is there")
        .server_side_encryption
        .map(|e| e.as_str().to_owned())
}

async fn object_digests(poc: &Poc) -> BTreeMap<String, String> {
    let s3 = aws_clients(REGION).await.s3;
    let mut digests = BTreeMap::new();
    for key in poc.objects.keys() {
        let object = observe::objects::get(&s3, &poc.bucket, key, key)
            .await
            .unwrap()
            .expect("the object is kept");
        digests.insert(
            key.clone(),
            sitewarden::deploy::hash::hex(&Sha256::digest(&object.body)),
        );
    }
    digests
}

fn failures(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "fail" || f["status"] == "error")
        .map(|f| {
            format!(
                "{} {}: {}",
                f["control"], f["resource"]["name"], f["evidence"]
            )
        })
        .collect()
}

fn step_names(summary: &Value) -> Vec<String> {
    summary["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn adopt_moves_the_poc_behind_cloudfront_one_step_at_a_time() {
    let poc = build_poc("adopt");
    let dir = tempfile::tempdir().unwrap();

    // The PoC fails the baseline where it matters.
    let before = Run::new(dir.path())
        .json()
        .args([
            "audit",
            "--bucket",
            &poc.bucket,
            "--domain",
            &poc.domain,
            "--fail-on",
            "high",
        ])
        .status(3)
        .run()
        .into_json();
    let failed: Vec<String> = failures(&before);
    for id in [
        "S3.2",
        "S3.8",
        "S3.5",
        "S3.17",
        "S3.14",
        "SW.S3.Website",
        "SW.DNS.Dangling",
    ] {
        assert!(
            failed.iter().any(|f| f.starts_with(&format!("\"{id}\""))),
            "{id} not failed: {failed:#?}"
        );
    }

    // The plan: five ordered steps, and nothing written.
    let plan = adopt(dir.path(), &poc, &["--dry-run"]);
    assert_eq!(step_names(&plan), STEPS);
    assert_eq!(write_calls(&plan["requests"]), Vec::<String>::new());
    let details: Vec<String> = plan["steps"][2]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["detail"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        details
            .iter()
            .any(|d| d.contains("was the S3 website endpoint")),
        "{details:#?}"
    );
    assert!(!dir.path().join("sitewarden.toml").exists());
    assert!(serving(&poc).await.website);

    // Each step on its own; the domain is served after every one of them.
    let summary = adopt(dir.path(), &poc, &["--stop-after", "prepare"]);
    assert_eq!(summary["stopped_after"], "prepare");
    assert_eq!(step_names(&summary), ["prepare"]);
    assert!(
        assert_domain_served(&poc, "prepare")
            .await
            .starts_with("s3-website")
    );
    assert_eq!(versioning(&poc).await.as_deref(), Some("Enabled"));
    // Encryption waits: the website endpoint cannot serve SSE-KMS objects to anonymous readers.
    assert_ne!(
        object_encryption(&poc, "index.html").await.as_deref(),
        Some("aws:kms")
    );

    let summary = adopt(dir.path(), &poc, &["--stop-after", "distribution"]);
    let distribution = summary["distribution"]["domain_name"]
        .as_str()
        .unwrap()
        .to_owned();
    let arn = summary["distribution"]["arn"].as_str().unwrap().to_owned();
    assert!(
        assert_domain_served(&poc, "distribution")
            .await
            .starts_with("s3-website")
    );
    let now = serving(&poc).await;
    assert!(now.public_read, "public read stays until DNS has moved");
    assert_eq!(now.cloudfront_read.as_deref(), Some(arn.as_str()));
    let global = aws_clients("us-east-1").await;
    let id = summary["distribution"]["id"].as_str().unwrap();
    let (config, _) = observe::distribution::config(&global, id, id)
        .await
        .unwrap();
    let origin = &config.origins.unwrap().items[0];
    assert_eq!(
        origin.domain_name,
        format!("{}.s3.{REGION}.amazonaws.com", poc.bucket),
        "the REST endpoint, never the website endpoint"
    );

    adopt(dir.path(), &poc, &["--stop-after", "dns"]);
    assert_eq!(assert_domain_served(&poc, "dns").await, distribution);
    assert!(
        serving(&poc).await.public_read,
        "closed only after the switch"
    );

    adopt(dir.path(), &poc, &["--stop-after", "close"]);
    assert_eq!(assert_domain_served(&poc, "close").await, distribution);
    let now = serving(&poc).await;
    assert!(!now.website && !now.public_read && now.public_access_blocked);
    assert!(!dir.path().join("sitewarden.toml").exists());

    let summary = adopt(dir.path(), &poc, &[]);
    assert_eq!(summary["stopped_after"], Value::Null);
    let config = std::fs::read_to_string(dir.path().join("sitewarden.toml")).unwrap();
    assert!(
        config.contains(&format!("bucket = \"{}\"", poc.bucket)),
        "{config}"
    );
    // The website's routing rule and the object redirect live on in the function's redirects.
    assert!(
        config.contains("from = \"/old-blog/*\"\nto = \"/blog/:splat\""),
        "{config}"
    );
    assert!(
        config.contains("from = \"/old-page.html\"\nto = \"/about/\""),
        "{config}"
    );
    // ... and in the live viewer-request function, which serves them.
    let site = summary["site"].as_str().unwrap();
    let function = observe::cloudfront::function_code(
        &global,
        &format!("sitewarden-{site}"),
        aws_sdk_cloudfront::types::FunctionStage::Live,
    )
    .await
    .unwrap()
    .expect("the function is published");
    let code = String::from_utf8(function).unwrap();
    for text in [
        "\"/old-blog/\"",
        "\"/blog/:splat\"",
        "\"/old-page.html\"",
        "\"/about/\"",
    ] {
        assert!(code.contains(text), "{text} not in the function:\n{code}");
    }

    // Every object is still there, byte for byte, now under the site key.
    assert_eq!(object_digests(&poc).await, poc.objects);
    for key in poc.objects.keys() {
        assert_eq!(
            object_encryption(&poc, key).await.as_deref(),
            Some("aws:kms"),
            "{key}"
        );
    }

    // The adopted site passes the baseline, from its new config.
    let after = Run::new(dir.path())
        .json()
        .args(["audit", "--fail-on", "low"])
        .status(3)
        .run()
        .into_json();
    let after = set_monitoring_aside(&after);
    assert_eq!(failures(&after), Vec::<String>::new());
    // And from flags alone, started in another region: the bucket names its key by an ARN in
    // eu-west-1, which is where the key is read.
    let elsewhere = tempfile::tempdir().unwrap();
    let flags = Run::new(elsewhere.path())
        .json()
        .args([
            "--region",
            "us-east-1",
            "audit",
            "--bucket",
            &poc.bucket,
            "--domain",
            &poc.domain,
            "--fail-on",
            "low",
        ])
        .run()
        .into_json();
    assert_eq!(failures(&flags), Vec::<String>::new());
    assert!(
        flags["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["control"] == "KMS.4" && f["status"] == "pass"),
        "the key's rotation was read: {flags:#}"
    );
    // From the domain alone: the distribution serving it, its certificate, bucket and key.
    let by_domain = Run::new(elsewhere.path())
        .json()
        .args(["audit", "--domain", &poc.domain, "--fail-on", "low"])
        .run()
        .into_json();
    assert_eq!(failures(&by_domain), Vec::<String>::new());
    let kinds: std::collections::BTreeSet<&str> = by_domain["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["resource"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        [
            "bucket",
            "certificate",
            "distribution",
            "key",
            "name",
            "zone"
        ]
    );

    // Done means done: another run changes nothing.
    let again = adopt(dir.path(), &poc, &[]);
    for step in again["steps"].as_array().unwrap() {
        assert_eq!(step["changes"], Value::Array(Vec::new()), "{step}");
    }
    assert_eq!(write_calls(&again["requests"]), Vec::<String>::new());

    // The written config drives the other commands: nothing to plan, and `deploy` publishes the
    // source folder over the adopted objects, invalidating what CloudFront has cached of them.
    Run::new(dir.path())
        .json()
        .args(["plan", "--infra-only", "--detailed-exitcode"])
        .run();
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(dist.join("about")).unwrap();
    std::fs::write(dist.join("index.html"), "<h1>Adopted</h1>\n").unwrap();
    std::fs::write(dist.join("about/index.html"), "<h1>About</h1>\n").unwrap();
    std::fs::write(dist.join("404.html"), "<h1>Not found</h1>\n").unwrap();
    let deployed = Run::new(dir.path())
        .json()
        .args(["deploy", "--allow-mass-delete"])
        .run()
        .into_json();
    assert_eq!(deployed["uploaded"], 3, "{deployed:#}");
    assert_eq!(deployed["deleted"], 4, "{deployed:#}");
    assert!(
        deployed["invalidation"]["paths"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p == "/index.html")),
        "{deployed:#}"
    );
    let s3 = aws_clients(REGION).await.s3;
    let index = s3
        .get_object()
        .bucket(&poc.bucket)
        .key("index.html")
        .send()
        .await
        .unwrap();
    assert_eq!(
        index
            .server_side_encryption
            .map(|e| e.as_str().to_owned())
            .as_deref(),
        Some("aws:kms")
    );
    assert_eq!(
        index.body.collect().await.unwrap().into_bytes().as_ref(),
        b"<h1>Adopted</h1>\n"
    );
    Run::new(dir.path())
        .json()
        .args(["plan", "--detailed-exitcode"])
        .run();
}

#[tokio::test(flavor = "multi_thread")]
async fn adopt_interrupted_after_any_step_completes_on_rerun() {
    for stop in &STEPS[..4] {
        let poc = build_poc("resume");
        let dir = tempfile::tempdir().unwrap();
        let first = adopt(dir.path(), &poc, &["--stop-after", stop]);
        assert_eq!(first["stopped_after"], *stop);
        assert_domain_served(&poc, stop).await;

        adopt(dir.path(), &poc, &[]);
        let target = assert_domain_served(&poc, "the re-run").await;
        assert!(target.ends_with(".cloudfront.net"), "{target}");
        assert_eq!(
            object_digests(&poc).await,
            poc.objects,
            "after stopping at {stop}"
        );
        let report = Run::new(dir.path())
            .json()
            .args(["audit", "--fail-on", "low"])
            .status(3)
            .run()
            .into_json();
        let report = set_monitoring_aside(&report);
        assert_eq!(
            failures(&report),
            Vec::<String>::new(),
            "after stopping at {stop}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resumed_adopt_waits_for_deployment_and_completes_without_reencrypting() {
    let poc = build_poc("deploying");
    let dir = tempfile::tempdir().unwrap();
    let first = adopt(dir.path(), &poc, &["--stop-after", "distribution"]);
    let arn = first["distribution"]["arn"].as_str().unwrap().to_owned();
    // As if the run had ended while CloudFront was still deploying a change: the distribution is
    // unchanged on the next run, but its next status read says InProgress.
    let cloudfront = aws_clients("us-east-1").await.cloudfront;
    cloudfront
        .tag_resource()
        .resource(&arn)
        .tags(
            aws_sdk_cloudfront::types::Tags::builder()
                .items(
                    aws_sdk_cloudfront::types::Tag::builder()
                        .key("sitewarden-emulator:in-progress-reads")
                        .value("1")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();

    let resumed = adopt(dir.path(), &poc, &["--stop-after", "dns"]);
    assert_eq!(
        resumed["steps"][1]["changes"],
        Value::Array(Vec::new()),
        "the distribution itself is unchanged"
    );
    // One read saw InProgress, the wait read Deployed, and only then did DNS move.
    assert_eq!(resumed["requests"]["GetDistribution"], 2, "{resumed:#}");
    let target = assert_domain_served(&poc, "dns").await;
    assert_eq!(
        target,
        first["distribution"]["domain_name"].as_str().unwrap()
    );

    // Completed with --no-reencrypt: new objects use the site key, existing ones stay as they are.
    adopt(dir.path(), &poc, &["--no-reencrypt"]);
    let s3 = aws_clients(REGION).await.s3;
    let encryption = observe::bucket::encryption(&s3, &poc.bucket)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(encryption.algorithm.as_str(), "aws:kms");
    assert_ne!(
        object_encryption(&poc, "index.html").await.as_deref(),
        Some("aws:kms"),
        "left as it was"
    );
    assert_eq!(object_digests(&poc).await, poc.objects);

    // Another website adopted under this site's name would take over its resources: refused.
    let other = build_poc("taken");
    let elsewhere = tempfile::tempdir().unwrap();
    let site = first["site"].as_str().unwrap();
    Run::new(elsewhere.path())
        .args([
            "adopt",
            "--bucket",
            &other.bucket,
            "--domain",
            &other.domain,
        ])
        .args(["--name", site])
        .status(2)
        .stderr_contains(format!("site name `{site}` is taken"))
        .run();
    assert_eq!(versioning(&other).await, None, "nothing changed");
}

/// The domain's record sets of `kind` (A, AAAA or CNAME).
async fn record_sets(poc: &Poc, kind: RrType) -> Vec<aws_sdk_route53::types::ResourceRecordSet> {
    let aws = aws_clients("us-east-1").await;
    observe::dns::records_at(&aws, &poc.zone_id, &poc.domain)
        .await
        .unwrap()
        .into_iter()
        .filter(|s| s.r#type == kind)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_website_on_a_cname_is_adopted_without_naming_the_domain() {
    use aws_sdk_route53::types::{
        Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet,
    };
    let poc = build_poc("cname");
    let dir = tempfile::tempdir().unwrap();

    // A domain without a hosted zone is refused before anything changes.
    let nowhere = format!("{}.sitewarden-nozone.test", site_name("nozone"));
    Run::new(dir.path())
        .args(["adopt", "--bucket", &poc.bucket, "--domain", &nowhere])
        .status(2)
        .stderr_contains(format!(
            "no public Route53 hosted zone contains `{nowhere}`"
        ))
        .run();
    assert_eq!(versioning(&poc).await, None, "nothing was changed");

    // The domain served by a CNAME to the website endpoint instead of an alias.
    let alias = record_sets(&poc, RrType::A).await.remove(0);
    let cname = ResourceRecordSet::builder()
        .name(format!("{}.", poc.domain))
        .r#type(RrType::Cname)
        .ttl(300)
        .resource_records(
            ResourceRecord::builder()
                .value(format!("{}.s3-website-{REGION}.amazonaws.com", poc.bucket))
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let change = |action, set| {
        Change::builder()
            .action(action)
            .resource_record_set(set)
            .build()
            .unwrap()
    };
    aws_clients("us-east-1")
        .await
        .route53
        .change_resource_record_sets()
        .hosted_zone_id(&poc.zone_id)
        .change_batch(
            ChangeBatch::builder()
                .changes(change(ChangeAction::Delete, alias))
                .changes(change(ChangeAction::Create, cname))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    // No --domain: the record at the bucket's name tells which domain moves first.
    let out = Run::new(dir.path())
        .args(["adopt", "--bucket", &poc.bucket, "--dns-grace", "1"])
        .stderr_contains(format!(
            "no --domain: `{}` serves from the bucket's website endpoint",
            poc.domain
        ))
        .run();
    let stderr = &out.stderr;
    // Public access outlives the old record's TTL by the grace, and ends only after it.
    let waited = stderr.find("waiting 1 s for DNS caches").expect(stderr);
    let closed = stderr.find("step 4/5 close").expect(stderr);
    assert!(waited < closed, "{stderr}");
    let config = std::fs::read_to_string(dir.path().join("sitewarden.toml")).unwrap();
    assert!(
        config.contains(&format!("domain = \"{}\"", poc.domain)),
        "{config}"
    );
    let stdout = &out.stdout;
    let distribution = stdout
        .lines()
        .find_map(|l| l.strip_prefix("CloudFront: https://"))
        .and_then(|l| l.split_whitespace().next())
        .expect(stdout);
    assert_eq!(record_sets(&poc, RrType::Cname).await, Vec::new());
    assert_eq!(a_record_target(&poc).await, distribution);
    assert_eq!(record_sets(&poc, RrType::Aaaa).await.len(), 1);
    assert_eq!(object_digests(&poc).await, poc.objects);
    let report = Run::new(dir.path())
        .json()
        .args(["audit", "--fail-on", "low"])
        .status(3)
        .run()
        .into_json();
    assert_eq!(
        failures(&set_monitoring_aside(&report)),
        Vec::<String>::new()
    );

    // ACM renews only while the validation record stays: without it, ACM.1 fails.
    let route53 = aws_clients("us-east-1").await.route53;
    let validation = route53
        .list_resource_record_sets()
        .hosted_zone_id(&poc.zone_id)
        .send()
        .await
        .unwrap()
        .resource_record_sets
        .into_iter()
        .find(|s| {
            s.r#type == RrType::Cname && s.name.starts_with('_') && s.name.contains(&poc.domain)
        })
        .expect("the certificate's validation record");
    route53
        .change_resource_record_sets()
        .hosted_zone_id(&poc.zone_id)
        .change_batch(
            ChangeBatch::builder()
                .changes(change(ChangeAction::Delete, validation))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let report = Run::new(dir.path())
        .json()
        .args(["audit", "--fail-on", "medium"])
        .status(3)
        .run()
        .into_json();
    let failed = failures(&set_monitoring_aside(&report));
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert!(
        failed[0].starts_with("\"ACM.1\"") && failed[0].contains("is missing (renewal will fail)"),
        "{failed:#?}"
    );
}

#[test]
fn adopt_refuses_bad_input_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let refused = |args: &[&str]| {
        Run::new(dir.path())
            .args(["--region", REGION, "adopt"])
            .args(args)
            .status(2)
    };

    refused(&["--bucket", "Not_A_Bucket"])
        .stderr_contains("--bucket")
        .run();

    let missing = format!("{}-nowhere", site_name("adopt-missing"));
    refused(&["--bucket", &missing])
        .stderr_contains(format!("bucket `{missing}` does not exist"))
        .run();

    // A config file for another site is never overwritten.
    std::fs::write(
        dir.path().join("sitewarden.toml"),
        "[site]\nname = \"other\"\nsource = \"dist\"\n",
    )
    .unwrap();
    refused(&["--bucket", &missing, "--stop-after", "nowhere"]).run();
    refused(&["--bucket", &missing])
        .stderr_contains("describes site `other`")
        .run();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("sitewarden.toml")).unwrap(),
        "[site]\nname = \"other\"\nsource = \"dist\"\n"
    );
}

/// The end state every adopt must reach: the domain served through CloudFront, every object kept
/// byte for byte, and the audit clean.
async fn adopted(dir: &Path, poc: &Poc) -> bool {
    let target = assert_domain_served(poc, "the re-run").await;
    let report = Run::new(dir)
        .json()
        .args(["audit", "--fail-on", "low"])
        .status_one_of([0, 3])
        .run()
        .into_json();
    target.ends_with(".cloudfront.net")
        && object_digests(poc).await == poc.objects
        && failures(&set_monitoring_aside(&report)).is_empty()
}

fn adopt_args(poc: &Poc) -> Vec<String> {
    [
        "adopt",
        "--bucket",
        &poc.bucket,
        "--domain",
        &poc.domain,
        "--dns-grace",
        "0",
    ]
    .iter()
    .map(ToString::to_string)
    .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn adopt_converges_under_faults_and_when_killed_anywhere() {
    use crate::kills::{Figures, broken_pages, count_requests, kill_at, points, release, spread};
    let mut faulty = Figures::default();
    for seed in 1..=3 {
        let poc = build_poc("adopt-faults");
        let dir = tempfile::tempdir().unwrap();
        let key = format!("ADOPTFAULTS{seed}X{}", std::process::id());
        crate::faults::set_faults(seed, &key, 0.025);
        let out = Run::new(dir.path())
            .env("AWS_ACCESS_KEY_ID", &key)
            .args(adopt_args(&poc))
            .status_one_of([0, 1])
            .run();
        crate::faults::control("DELETE", &format!("faults?scope={key}"), "");
        if out.status == 1 {
            adopt(dir.path(), &poc, &[]);
        }
        faulty.trials += 1;
        if adopted(dir.path(), &poc).await {
            faulty.converged += 1;
        } else {
            faulty.lost += 1;
        }
    }
    faulty.report("adopt under faults");

    let measure = build_poc("adopt-count");
    let measure_dir = tempfile::tempdir().unwrap();
    let args = adopt_args(&measure);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let total = count_requests(measure_dir.path(), &args);
    let mut figures = Figures::default();
    for k in spread(total, points() / 3) {
        let poc = build_poc("adopt-kill");
        let dir = tempfile::tempdir().unwrap();
        let args = adopt_args(&poc);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let Some(scope) = kill_at(dir.path(), k, &args) else {
            continue;
        };
        figures.trials += 1;
        figures.broken += broken_pages(&poc.bucket).await.len();
        release(&scope);
        adopt(dir.path(), &poc, &[]);
        if adopted(dir.path(), &poc).await {
            figures.converged += 1;
        } else {
            figures.lost += 1;
        }
    }
    figures.report("adopt");
}
