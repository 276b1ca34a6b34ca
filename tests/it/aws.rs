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
    create_bucket(&aws.s3, &bucket).await;
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

async fn create_bucket(s3: &aws_sdk_s3::Client, bucket: &str) {
    s3.create_bucket()
        .bucket(bucket)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

/// Puts an empty object at each key, 32 at a time.
async fn put_empty(s3: &aws_sdk_s3::Client, bucket: &str, keys: &[String]) {
    let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(32));
    let mut tasks = tokio::task::JoinSet::new();
    for key in keys {
        let (s3, bucket, key, limit) = (s3.clone(), bucket.to_owned(), key.clone(), limit.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire().await;
            s3.put_object()
                .bucket(bucket)
                .key(key)
                .body(Vec::new().into())
                .send()
                .await
                .unwrap();
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_parallel_listing_equals_one_sequential_listing_with_keys_added_anywhere() {
    use sitewarden::observe::objects::{list, list_ranges, split_points};
    let aws = aws_clients("eu-west-1").await;
    let bucket = format!("{}-list", site_name("ranges"));
    create_bucket(&aws.s3, &bucket).await;
    // What a manifest would list: 3,500 keys (4 pages), some under folders and non-ASCII.
    let expected: Vec<String> = (0..3500)
        .map(|i| match i % 7 {
            0 => format!("docs/é{i:05}.html"),
            1 => format!("a/{i:05}.css"),
            _ => format!("page-{i:05}.html"),
        })
        .collect();
    put_empty(&aws.s3, &bucket, &expected).await;
    let mut sorted = expected.clone();
    sorted.sort();
    let splits = split_points(sorted.iter().map(String::as_str));
    assert_eq!(splits.len(), 3, "one page a range: {splits:?}");

    // Out of band, after the split points were chosen: before the first key, on and around each
    // split point's neighbours, past the last key, and 1,200 more in the middle of one range.
    let mut added: Vec<String> = vec!["!first".into(), "zzz-last".into(), ".sitewarden/x".into()];
    for split in &splits {
        added.push(format!("{split}-after"));
        added.push(split[..split.len() - 1].to_owned());
    }
    added.extend((0..1200).map(|i| format!("page-01000-{i:04}.html")));
    put_empty(&aws.s3, &bucket, &added).await;
    // And a split point that is gone: its range still ends there.
    aws.s3
        .delete_object()
        .bucket(&bucket)
        .key(&splits[1])
        .send()
        .await
        .unwrap();

    let before = aws
        .requests
        .snapshot()
        .get("ListObjectsV2")
        .copied()
        .unwrap_or(0);
    let sequential = list(&aws.s3, &bucket, None).await.unwrap();
    let after_sequential = aws.requests.snapshot()["ListObjectsV2"];
    let parallel = list_ranges(&aws.s3, &bucket, &splits).await.unwrap();
    let after_parallel = aws.requests.snapshot()["ListObjectsV2"];

    let keys = |l: &[sitewarden::observe::objects::Listed]| {
        l.iter().map(|o| o.key.clone()).collect::<Vec<_>>()
    };
    assert_eq!(keys(&parallel), keys(&sequential));
    assert_eq!(parallel, sequential, "the same ETags and sizes too");
    assert_eq!(sequential.len(), 3500 + added.len() - 1);
    assert!(keys(&sequential).is_sorted());
    let pages = usize::try_from(after_sequential - before).unwrap();
    assert_eq!(pages, sequential.len().div_ceil(1000));
    let ranged = usize::try_from(after_parallel - after_sequential).unwrap();
    assert!(
        ranged <= pages + splits.len() + 1,
        "{ranged} requests for {pages} pages in {} ranges",
        splits.len() + 1
    );

    // Split points given in any order, repeated, or outside the keys change nothing.
    let odd = vec![
        splits[2].clone(),
        "0".into(),
        splits[0].clone(),
        splits[0].clone(),
        "~".into(),
    ];
    assert_eq!(
        list_ranges(&aws.s3, &bucket, &odd).await.unwrap(),
        sequential
    );
    assert_eq!(
        list_ranges(&aws.s3, &bucket, &[]).await.unwrap(),
        sequential
    );
}
