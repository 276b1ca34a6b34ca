//! The project's AWS clients against the emulator, and the request counter.

use std::collections::BTreeMap;

use crate::support::{ACCOUNT, Run, aws_clients, project, site_name};

#[test]
fn validate_reports_identity_names_and_requests() {
    let site = site_name("validate");
    let dir = project(&site, "");
    let json = Run::new(dir.path())
        .json()
        .arg("validate")
        .run()
        .into_json();
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
    Run::new(dir.path())
        .args(["--region", "ap-southeast-2", "validate"])
        .stdout_starts_with("sitewarden.toml is valid\n")
        .stdout_contains("  region          ap-southeast-2\n")
        .stderr_is("")
        .run();
}

#[test]
fn unreachable_aws_is_a_runtime_failure() {
    let dir = project(&site_name("offline"), "");
    Run::new(dir.path())
        .endpoint("http://127.0.0.1:9")
        .arg("validate")
        .timeout(std::time::Duration::from_mins(2))
        .status(1)
        .stderr_contains("error: GetCallerIdentity failed for the AWS credentials: RequestFailed")
        .run();
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
    let policy = Run::new(dir.path())
        .args(["iam-policy", "--for", "deploy"])
        .json_stdout()
        .run()
        .into_json();
    assert_eq!(policy["Version"], "2012-10-17");
    assert_eq!(
        policy["Statement"][0]["Resource"],
        format!("arn:aws:s3:::{site}-site-{ACCOUNT}")
    );
    Run::new(dir.path())
        .args(["iam-policy", "--for", "everything"])
        .status(2)
        .run();
}
