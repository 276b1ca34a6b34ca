//! `audit` end to end: the classic insecure proof of concept (a public website bucket) fails the
//! baseline with the right control ids, a site built by `up` passes it, SARIF carries one result
//! per failure, and audit never writes.

use std::collections::BTreeMap;

use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, IndexDocument, WebsiteConfiguration,
};
use serde_json::Value;

use crate::support::{Run, aws_clients, project, site_name, write_calls};

const REGION: &str = "eu-west-1";

/// A bucket set up the way countless tutorials do: website hosting, a public-read policy, Block
/// Public Access off, no encryption, versioning or logging.
async fn insecure_poc() -> String {
    let bucket = format!("{}-poc", site_name("audit"));
    let s3 = aws_clients(REGION).await.s3;
    s3.create_bucket()
        .bucket(&bucket)
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(REGION))
                .build(),
        )
        .send()
        .await
        .unwrap();
    s3.delete_public_access_block()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    s3.put_bucket_website()
        .bucket(&bucket)
        .website_configuration(
            WebsiteConfiguration::builder()
                .index_document(
                    IndexDocument::builder()
                        .suffix("index.html")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "PublicReadGetObject",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": format!("arn:aws:s3:::{bucket}/*"),
        }],
    });
    s3.put_bucket_policy()
        .bucket(&bucket)
        .policy(policy.to_string())
        .send()
        .await
        .unwrap();
    bucket
}

/// `control id → status` of one resource's findings.
fn statuses(report: &Value, resource: &str) -> BTreeMap<String, String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["resource"]["name"] == resource)
        .map(|f| {
            (
                f["control"].as_str().unwrap().to_owned(),
                f["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn findings_with_status<'a>(report: &'a Value, status: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == status)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_public_website_poc_fails_with_the_right_ids_and_audit_only_reads() {
    let bucket = insecure_poc().await;
    let dir = tempfile::tempdir().unwrap();
    let args = ["--region", REGION, "audit", "--bucket", &bucket];

    let report = Run::new(dir.path())
        .json()
        .args(args)
        .args(["--fail-on", "high"])
        .status(3)
        .run()
        .into_json();
    let got = statuses(&report, &bucket);
    for id in [
        "S3.8",
        "S3.2",
        "S3.5",
        "S3.17",
        "S3.14",
        "S3.9",
        "S3.13",
        "SW.S3.Website",
    ] {
        assert_eq!(
            got.get(id).map(String::as_str),
            Some("fail"),
            "{id}: {got:#?}"
        );
    }
    for id in ["S3.7", "S3.11", "S3.15", "S3.20", "S3.22", "S3.23"] {
        assert_eq!(got.get(id).map(String::as_str), Some("exception"), "{id}");
    }
    assert_eq!(
        got.get("S3.3").map(String::as_str),
        Some("pass"),
        "read-only policy"
    );
    let public = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["control"] == "S3.2")
        .unwrap();
    assert_eq!(public["severity"], "high");
    assert_eq!(public["resource"]["arn"], format!("arn:aws:s3:::{bucket}"));
    assert!(
        public["evidence"]
            .as_str()
            .unwrap()
            .contains("`PublicReadGetObject` allows `*` s3:GetObject"),
        "{public}"
    );
    assert_eq!(
        public["mappings"]["security_hub"],
        serde_json::json!(["S3.2"])
    );
    assert!(
        public["mappings"]["prowler"]
            .as_array()
            .unwrap()
            .contains(&"s3_bucket_public_access".into())
    );
    // No distribution serves the bucket and it has no customer key: the bucket alone is graded.
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["resource"]["kind"] == "bucket")
    );
    assert_eq!(
        write_calls(&report["requests"]),
        Vec::<String>::new(),
        "audit must only read: {}",
        report["requests"]
    );
    assert_eq!(report["failed"], true);

    // Without --fail-on the report is the same and the exit code 0.
    let lenient = Run::new(dir.path()).json().args(args).run().into_json();
    assert_eq!(lenient["summary"], report["summary"]);
    assert_eq!(lenient["failed"], false);
    // Only medium failures would not trip `--fail-on high`; `low` trips on everything.
    Run::new(dir.path())
        .json()
        .args(args)
        .args(["--fail-on", "low"])
        .status(3)
        .run();

    Run::new(dir.path())
        .args(args)
        .stdout_contains(format!("s3 bucket {bucket}\n"))
        .stdout_contains("  FAIL       high    S3.8 ")
        .run();
}

#[tokio::test(flavor = "multi_thread")]
async fn sarif_has_one_result_per_failure_for_code_scanning() {
    let bucket = insecure_poc().await;
    let dir = tempfile::tempdir().unwrap();
    let args = ["--region", REGION, "audit", "--bucket", &bucket];
    let report = Run::new(dir.path()).json().args(args).run().into_json();
    let failures = findings_with_status(&report, "fail");

    let sarif = Run::new(dir.path())
        .args(args)
        .args(["--format", "sarif", "--fail-on", "high"])
        .json_stdout()
        .status(3)
        .run()
        .into_json();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(sarif["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let run = &sarif["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "sitewarden");
    assert!(driver["version"].is_string());
    assert!(
        driver["informationUri"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    let rules = driver["rules"].as_array().unwrap();
    for rule in rules {
        assert!(rule["id"].is_string() && rule["shortDescription"]["text"].is_string());
        assert!(rule["help"]["text"].is_string());
        assert!(rule["properties"]["security-severity"].is_string());
        assert!(rule["properties"]["tags"].is_array());
    }
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), failures.len(), "one result per failure");
    for (result, failure) in results.iter().zip(&failures) {
        assert_eq!(result["ruleId"], failure["control"]);
        let level = match failure["severity"].as_str().unwrap() {
            "high" => "error",
            "medium" => "warning",
            _ => "note",
        };
        assert_eq!(result["level"], level);
        assert!(
            result["message"]["text"]
                .as_str()
                .unwrap()
                .contains(&bucket)
        );
        let location = &result["locations"][0];
        assert_eq!(
            location["physicalLocation"]["artifactLocation"]["uri"],
            format!("aws/s3/{bucket}")
        );
        assert_eq!(
            location["logicalLocations"][0]["fullyQualifiedName"],
            format!("arn:aws:s3:::{bucket}")
        );
        let index = usize::try_from(result["ruleIndex"].as_u64().unwrap()).unwrap();
        assert_eq!(rules[index]["id"], result["ruleId"]);
    }

    // `--json` is `--format json`; it cannot also ask for SARIF.
    Run::new(dir.path())
        .json()
        .args(args)
        .args(["--format", "sarif"])
        .status(2)
        .run();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_site_built_by_up_passes_every_control() {
    let site = site_name("audit-up");
    let dir = project(&site, "");
    Run::new(dir.path())
        .json()
        .args(["up", "--infra-only"])
        .run();

    let report = Run::new(dir.path())
        .json()
        .args(["audit", "--fail-on", "low"])
        .status(3)
        .run()
        .into_json();
    let report = crate::support::set_monitoring_aside(&report);
    let failures: Vec<String> = findings_with_status(&report, "fail")
        .iter()
        .map(|f| {
            format!(
                "{} {}: {}",
                f["control"], f["resource"]["name"], f["evidence"]
            )
        })
        .collect();
    assert_eq!(
        failures,
        Vec::<String>::new(),
        "no failure on a sitewarden site"
    );
    assert_eq!(findings_with_status(&report, "error").len(), 0);
    assert_eq!(report["site"], site);
    assert_eq!(write_calls(&report["requests"]), Vec::<String>::new());

    let content = format!("{site}-site-{}", crate::support::ACCOUNT);
    let logs = format!("{site}-logs-{}", crate::support::ACCOUNT);
    let content_status = statuses(&report, &content);
    for id in [
        "S3.8", "S3.2", "S3.3", "S3.5", "S3.6", "S3.12", "S3.17", "S3.9", "S3.14", "S3.13",
    ] {
        assert_eq!(content_status[id], "pass", "{id} on the content bucket");
    }
    let log_status = statuses(&report, &logs);
    assert_eq!(log_status["S3.17"], "exception", "log bucket: SSE-S3");
    assert_eq!(
        log_status["S3.9"], "exception",
        "log bucket: no self-logging"
    );
    let key_status = statuses(&report, &format!("alias/sitewarden/{site}"));
    for id in ["KMS.3", "KMS.4", "KMS.5"] {
        assert_eq!(key_status[id], "pass", "{id}");
    }

    // The distribution, once `up` creates it (domainless: CloudFront's own certificate).
    let distributions: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["resource"]["kind"] == "distribution")
        .collect();
    let by_id: BTreeMap<&str, &str> = distributions
        .iter()
        .map(|f| {
            (
                f["control"].as_str().unwrap(),
                f["status"].as_str().unwrap(),
            )
        })
        .collect();
    for id in [
        "CloudFront.13",
        "CloudFront.3",
        "CloudFront.1",
        "SW.CloudFront.Logging",
        "SW.CloudFront.Headers",
        "SW.CloudFront.CSP",
        "CloudFront.9",
        "CloudFront.12",
        "SW.CloudFront.Methods",
    ] {
        assert_eq!(by_id.get(id), Some(&"pass"), "{id}: {by_id:#?}");
    }
    for id in [
        "CloudFront.7",
        "CloudFront.15",
        "CloudFront.5",
        "CloudFront.6",
        "CloudFront.4",
        "CloudFront.17",
    ] {
        assert_eq!(by_id.get(id), Some(&"exception"), "{id}: {by_id:#?}");
    }

    // From the distribution id alone (no config): its origin bucket and that bucket's key follow.
    let arn = distributions[0]["resource"]["arn"].as_str().unwrap();
    let id = arn.rsplit('/').next().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let by_flag = Run::new(elsewhere.path())
        .json()
        .args(["audit", "--distribution", id, "--fail-on", "low"])
        .run()
        .into_json();
    assert_eq!(
        findings_with_status(&by_flag, "fail").len(),
        0,
        "{by_flag:#}"
    );
    assert_eq!(statuses(&by_flag, &content)["S3.17"], "pass");
    let kinds: std::collections::BTreeSet<&str> = by_flag["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["resource"]["kind"].as_str().unwrap())
        .collect();
    for kind in ["distribution", "bucket", "key"] {
        assert!(kinds.contains(kind), "{kind} not audited: {kinds:?}");
    }

    // The log bucket named by --bucket is graded as a log bucket, with its exceptions.
    let by_log = Run::new(elsewhere.path())
        .json()
        .args(["audit", "--bucket", &logs, "--fail-on", "low"])
        .run()
        .into_json();
    let log_status = statuses(&by_log, &logs);
    assert_eq!(log_status["S3.17"], "exception", "{by_log:#}");
    assert_eq!(log_status["S3.9"], "exception", "{by_log:#}");

    // A key policy scoped to another distribution: this one could not decrypt, that one could.
    let kms = aws_clients(REGION).await.kms;
    let key_id = crate::support::site_key(&site).await.key_id;
    let other = format!(
        "arn:aws:cloudfront::{}:distribution/EOTHER",
        crate::support::ACCOUNT
    );
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Admin", "Effect": "Allow",
             "Principal": {"AWS": format!("arn:aws:iam::{}:root", crate::support::ACCOUNT)},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "Decrypt", "Effect": "Allow",
             "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "kms:Decrypt",
             "Resource": "*", "Condition": {"StringEquals": {"AWS:SourceArn": other}}}
        ]
    });
    kms.put_key_policy()
        .key_id(&key_id)
        .policy_name("default")
        .policy(policy.to_string())
        .send()
        .await
        .unwrap();
    let report = Run::new(dir.path())
        .json()
        .args(["audit", "--fail-on", "high"])
        .status(3)
        .run()
        .into_json();
    let key_status = statuses(&report, &format!("alias/sitewarden/{site}"));
    assert_eq!(key_status["KMS.5"], "fail", "{report:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_denied_read_is_an_error_on_its_checks_and_the_rest_still_runs() {
    let site = site_name("audit-denied");
    let dir = project(&site, "");
    Run::new(dir.path())
        .json()
        .args(["up", "--infra-only"])
        .run();

    // A principal without s3:GetBucketLogging and kms:DescribeKey (the emulator's `deny+` keys).
    let report = Run::new(dir.path())
        .env(
            "AWS_ACCESS_KEY_ID",
            "deny+s3:GetBucketLogging+kms:DescribeKey",
        )
        .json()
        .args(["audit", "--fail-on", "low"])
        .status(3)
        .run()
        .into_json();
    let report = crate::support::set_monitoring_aside(&report);
    let errors: Vec<(String, String)> = findings_with_status(&report, "error")
        .iter()
        .map(|f| {
            assert!(
                f["evidence"].as_str().unwrap().contains("AccessDenied"),
                "{f}"
            );
            (
                f["control"].as_str().unwrap().to_owned(),
                f["resource"]["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let content = format!("{site}-site-{}", crate::support::ACCOUNT);
    let logs = format!("{site}-logs-{}", crate::support::ACCOUNT);
    let key = format!("alias/sitewarden/{site}");
    let expected: Vec<(String, String)> = [
        ("S3.9", content.as_str()),
        ("S3.9", logs.as_str()),
        ("KMS.4", key.as_str()),
        ("KMS.5", key.as_str()),
        ("KMS.3", key.as_str()),
    ]
    .iter()
    .map(|(c, r)| ((*c).to_owned(), (*r).to_owned()))
    .collect();
    let mut sorted = errors.clone();
    sorted.sort();
    let mut want = expected.clone();
    want.sort();
    assert_eq!(sorted, want, "exactly the denied reads are errors");
    // Everything else was still graded.
    assert_eq!(statuses(&report, &content)["S3.14"], "pass");
    assert_eq!(findings_with_status(&report, "fail").len(), 0);

    // Without cloudfront:ListDistributions the distribution is ungraded; the buckets are not.
    let report = Run::new(dir.path())
        .env("AWS_ACCESS_KEY_ID", "deny+cloudfront:ListDistributions")
        .json()
        .args(["audit", "--fail-on", "low"])
        .status(3)
        .run()
        .into_json();
    let report = crate::support::set_monitoring_aside(&report);
    let distribution = format!("sitewarden:{site}");
    let graded = statuses(&report, &distribution);
    assert!(!graded.is_empty(), "{report:#}");
    for (id, status) in &graded {
        assert!(status == "error" || status == "exception", "{id}: {status}");
    }
    assert_eq!(statuses(&report, &content)["S3.14"], "pass");
    assert_eq!(findings_with_status(&report, "fail").len(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bucket_encrypting_with_a_missing_key_fails_the_key_controls() {
    use aws_sdk_s3::types::{
        ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
        ServerSideEncryptionRule,
    };
    let bucket = format!("{}-lost-key", site_name("audit"));
    let key = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555";
    let s3 = aws_clients(REGION).await.s3;
    s3.create_bucket()
        .bucket(&bucket)
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(REGION))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(
            ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::AwsKms)
                .kms_master_key_id(key)
                .build()
                .unwrap(),
        )
        .bucket_key_enabled(true)
        .build();
    s3.put_bucket_encryption()
        .bucket(&bucket)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(rule)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let report = Run::new(dir.path())
        .json()
        .args([
            "--region",
            REGION,
            "audit",
            "--bucket",
            &bucket,
            "--fail-on",
            "high",
        ])
        .status(3)
        .run()
        .into_json();
    let key_status = statuses(&report, key);
    assert_eq!(
        key_status.get("KMS.3").map(String::as_str),
        Some("fail"),
        "{key_status:#?}"
    );
}

#[test]
fn names_given_by_flags_are_checked_before_any_call() {
    let dir = tempfile::tempdir().unwrap();
    for (args, expected) in [
        (
            ["--bucket", "no spaces/here"],
            "--bucket: `no spaces/here` is not a bucket name",
        ),
        (["--bucket", "ab"], "--bucket: `ab` is not a bucket name"),
        (
            ["--distribution", "E1-2"],
            "--distribution: `E1-2` is not a CloudFront distribution id",
        ),
        (["--domain", "not a domain"], "--domain:"),
    ] {
        // Port 9 (discard) on 127.0.0.1: a call would fail with a connection error, not exit 2.
        Run::new(dir.path())
            .endpoint("http://127.0.0.1:9")
            .arg("audit")
            .args(args)
            .status(2)
            .stderr_contains(expected)
            .run();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_weak_fixed_content_security_policy_fails_its_control() {
    let site = site_name("audit-csp");
    let dir = project(
        &site,
        "[headers]\ncontent_security_policy = \"default-src 'self' 'unsafe-inline'; object-src 'none'; \
         base-uri 'self'; form-action 'self'; frame-ancestors 'none'\"\n",
    );
    Run::new(dir.path())
        .json()
        .args(["up", "--infra-only"])
        .run();
    let report = Run::new(dir.path())
        .json()
        .args(["audit", "--fail-on", "high"])
        .run()
        .into_json();
    let csp: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["control"] == "SW.CloudFront.CSP")
        .collect();
    assert_eq!(csp.len(), 1, "{csp:#?}");
    assert_eq!(csp[0]["status"], "fail");
    assert!(
        csp[0]["evidence"]
            .as_str()
            .unwrap()
            .ends_with("Content-Security-Policy: 'unsafe-inline' in script-src"),
        "{}",
        csp[0]["evidence"]
    );
}

/// The findings of one control in a report.
fn findings_of<'a>(report: &'a Value, control: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["control"] == control)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_page_whose_live_policy_was_weakened_out_of_band_is_named() {
    let site = site_name("audit-pages");
    let dir = project(&site, "");
    let dist = dir.path().join("dist");
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>home</title><script>document.title='x'</script>\
         <button onclick=\"go()\">go</button>",
    )
    .unwrap();
    std::fs::create_dir(dist.join("docs")).unwrap();
    std::fs::write(
        dist.join("docs/guide.html"),
        "<!doctype html><title>guide</title><style>p{color:red}</style><p>guide</p>",
    )
    .unwrap();
    Run::new(dir.path()).json().arg("up").run();

    // Exit 3: the site has no `[monitoring]` (set aside); everything else passes.
    let report = Run::new(dir.path())
        .json()
        .args(["audit", "--fail-on", "low"])
        .status(3)
        .run()
        .into_json();
    let report = crate::support::set_monitoring_aside(&report);
    assert_eq!(findings_with_status(&report, "fail").len(), 0, "{report:#}");
    let pages = findings_of(&report, "SW.CloudFront.PageCSP");
    assert_eq!(pages.len(), 1, "{pages:#?}");
    assert_eq!(pages[0]["status"], "pass", "{:#}", pages[0]);
    assert!(
        pages[0]["evidence"]
            .as_str()
            .unwrap()
            .starts_with("2 HTML page(s), each served a strict policy (2 with its own)"),
        "{}",
        pages[0]["evidence"]
    );

    // Out of band: one page's own policy loosened in its metadata (a copy onto itself), and a
    // page uploaded without deploy (no policy of its own: it gets the headers policy's strict one).
    let s3 = aws_clients(REGION).await.s3;
    let bucket = format!("{site}-site-{}", crate::support::ACCOUNT);
    s3.copy_object()
        .bucket(&bucket)
        .key("docs/guide.html")
        .copy_source(format!("{bucket}/docs/guide.html"))
        .metadata_directive(aws_sdk_s3::types::MetadataDirective::Replace)
        .content_type("text/html")
        .metadata(
            "csp",
            "default-src 'self'; script-src 'self' 'unsafe-inline' https:; object-src 'none'; \
             base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        .send()
        .await
        .unwrap();
    s3.put_object()
        .bucket(&bucket)
        .key("rogue.html")
        .content_type("text/html")
        .body(b"<p>not from deploy</p>".to_vec().into())
        .send()
        .await
        .unwrap();
    let report = Run::new(dir.path())
        .json()
        .args(["audit", "--fail-on", "medium"])
        .status(3)
        .run()
        .into_json();
    let pages = findings_of(&report, "SW.CloudFront.PageCSP");
    assert_eq!(pages[0]["status"], "fail", "{:#}", pages[0]);
    let evidence = pages[0]["evidence"].as_str().unwrap();
    assert!(
        evidence.starts_with(
            "1 of 3 HTML page(s) served a policy weaker than strict: `docs/guide.html`: "
        ),
        "{evidence}"
    );
    assert!(
        evidence.contains("'unsafe-inline' in script-src"),
        "{evidence}"
    );
    assert!(!evidence.contains("rogue.html"), "{evidence}");
    assert!(!evidence.contains("`index.html`"), "{evidence}");
    assert_eq!(write_calls(&report["requests"]), Vec::<String>::new());
    assert_eq!(report["requests"]["GetObject"], Value::Null, "headers only");

    // Deploying the page again writes its policy from its markup.
    std::fs::write(
        dist.join("docs/guide.html"),
        "<!doctype html><title>guide</title><style>p{color:blue}</style><p>guide</p>",
    )
    .unwrap();
    Run::new(dir.path()).json().arg("deploy").run();
    let report = Run::new(dir.path())
        .json()
        .args(["audit", "--fail-on", "medium"])
        .status(3)
        .run()
        .into_json();
    let report = crate::support::set_monitoring_aside(&report);
    assert_eq!(
        findings_of(&report, "SW.CloudFront.PageCSP")[0]["status"],
        "pass",
        "{report:#}"
    );
}
