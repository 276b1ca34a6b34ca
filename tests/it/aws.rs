//! The project's AWS clients against the emulator, and the request counter.

use std::collections::BTreeMap;

use crate::support::{ACCOUNT, aws_clients, project, site_name, sitewarden_emulated, stdout_json};

#[test]
fn validate_reports_identity_names_and_requests() {
    let site = site_name("validate");
    let dir = project(&site, "");
    let out = sitewarden_emulated(dir.path())
        .args(["--json", "validate"])
        .assert()
        .success();
    let json = stdout_json(out.get_output());
    assert_eq!(json["account"], ACCOUNT);
    assert_eq!(json["region"], "eu-west-1");
    assert_eq!(
        json["resources"]["content_bucket"],
        format!("{site}-site-{ACCOUNT}")
    );
    assert_eq!(
        json["resources"]["log_bucket"],
        format!("{site}-logs-{ACCOUNT}")
    );
    assert_eq!(json["source_exists"], true);
    assert_eq!(
        json["requests"],
        serde_json::json!({ "GetCallerIdentity": 1 })
    );
}

#[test]
fn validate_text_goes_to_stdout_and_region_flag_wins() {
    let site = site_name("text");
    let dir = project(&site, "");
    let out = sitewarden_emulated(dir.path())
        .args(["--region", "ap-southeast-2", "validate"])
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(stdout.starts_with("sitewarden.toml is valid\n"), "{stdout}");
    assert!(
        stdout.contains("  region          ap-southeast-2\n"),
        "{stdout}"
    );
    assert!(out.get_output().stderr.is_empty());
}

#[test]
fn unreachable_aws_is_a_runtime_failure() {
    let dir = project(&site_name("offline"), "");
    crate::support::sitewarden(dir.path())
        .args(["--endpoint-url", "http://127.0.0.1:9", "validate"])
        .timeout(std::time::Duration::from_mins(2))
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "error: GetCallerIdentity failed for the AWS credentials: RequestFailed",
        ));
}

#[tokio::test]
async fn clients_count_requests_by_operation() {
    let aws = aws_clients("eu-west-1").await;
    let bucket = format!("{}-counter", site_name("bucket"));
    aws.s3
        .create_bucket()
        .bucket(&bucket)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let listed = aws.s3.list_buckets().send().await.unwrap();
    assert!(
        listed
            .buckets()
            .iter()
            .any(|b| b.name() == Some(bucket.as_str()))
    );
    let zones = aws.route53.list_hosted_zones().send().await.unwrap();
    assert!(zones.hosted_zones().len() < 10_000);
    assert_eq!(
        aws.requests.snapshot(),
        BTreeMap::from([
            ("CreateBucket".to_owned(), 1),
            ("ListBuckets".to_owned(), 1),
            ("ListHostedZones".to_owned(), 1),
        ])
    );
    assert_eq!(aws.requests.total(), 3);
}

#[test]
fn iam_policy_prints_a_policy_for_the_site() {
    let site = site_name("iam");
    let dir = project(&site, "");
    let out = sitewarden_emulated(dir.path())
        .args(["iam-policy", "--for", "deploy"])
        .assert()
        .success();
    let policy: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(policy["Version"], "2012-10-17");
    assert_eq!(
        policy["Statement"][0]["Resource"],
        format!("arn:aws:s3:::{site}-site-{ACCOUNT}")
    );
    sitewarden_emulated(dir.path())
        .args(["iam-policy", "--for", "everything"])
        .assert()
        .code(2);
}
