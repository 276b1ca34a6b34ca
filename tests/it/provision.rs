//! `plan`, `up --infra-only` and `destroy` for the key and the buckets, read back through the SDK.

use aws_sdk_s3::types::{BucketVersioningStatus, ObjectOwnership, ServerSideEncryption};

use crate::support::{ACCOUNT, Run, aws_clients, project, site_name, write_calls};

fn changes(json: &serde_json::Value) -> Vec<String> {
    json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {}: {}",
                c["action"].as_str().unwrap(),
                c["resource"].as_str().unwrap(),
                c["detail"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn up_builds_a_private_encrypted_bucket_pair_and_is_idempotent() {
    let site = site_name("infra");
    let dir = project(&site, "");
    let content = format!("{site}-site-{ACCOUNT}");
    let logs = format!("{site}-logs-{ACCOUNT}");

    let planned = Run::new(dir.path())
        .json()
        .args(["plan", "--detailed-exitcode"])
        .status(4)
        .run()
        .into_json();
    assert_eq!(
        write_calls(&planned["requests"]),
        Vec::<String>::new(),
        "plan must only read"
    );
    let planned = changes(&planned);
    assert!(
        planned.contains(&format!(
            "create kms key alias/sitewarden/{site}: create symmetric key with rotation on"
        )),
        "{planned:#?}"
    );
    assert!(
        planned
            .iter()
            .any(|c| c.starts_with(&format!("create s3 bucket {content}"))),
        "{planned:#?}"
    );

    Run::new(dir.path())
        .json()
        .args(["up", "--infra-only"])
        .run();

    let aws = aws_clients("eu-west-1").await;
    let s3 = &aws.s3;
    let key = crate::support::site_key(&site).await;
    assert!(
        aws.kms
            .get_key_rotation_status()
            .key_id(&key.key_id)
            .send()
            .await
            .unwrap()
            .key_rotation_enabled
    );
    assert_eq!(key.multi_region, Some(false));

    for bucket in [&content, &logs] {
        assert_private_bucket(&aws, bucket, &site).await;
    }

    let enc = s3
        .get_bucket_encryption()
        .bucket(&content)
        .send()
        .await
        .unwrap();
    let rule = &enc.server_side_encryption_configuration.unwrap().rules[0];
    let default = rule
        .apply_server_side_encryption_by_default
        .as_ref()
        .unwrap();
    assert_eq!(default.sse_algorithm, ServerSideEncryption::AwsKms);
    assert_eq!(default.kms_master_key_id.as_deref(), key.arn.as_deref());
    assert_eq!(rule.bucket_key_enabled, Some(true));
    let enc = s3
        .get_bucket_encryption()
        .bucket(&logs)
        .send()
        .await
        .unwrap();
    let rule = &enc.server_side_encryption_configuration.unwrap().rules[0];
    assert_eq!(
        rule.apply_server_side_encryption_by_default
            .as_ref()
            .unwrap()
            .sse_algorithm,
        ServerSideEncryption::Aes256
    );

    let logging = s3
        .get_bucket_logging()
        .bucket(&content)
        .send()
        .await
        .unwrap()
        .logging_enabled
        .unwrap();
    assert_eq!(
        (
            logging.target_bucket.as_str(),
            logging.target_prefix.as_str()
        ),
        (logs.as_str(), "s3-access/")
    );
    let lifecycle = s3
        .get_bucket_lifecycle_configuration()
        .bucket(&content)
        .send()
        .await
        .unwrap()
        .rules
        .unwrap();
    assert_eq!(
        lifecycle[0]
            .noncurrent_version_expiration
            .as_ref()
            .unwrap()
            .noncurrent_days,
        Some(90)
    );

    // Unchanged config: nothing to do, and no write call at all.
    let again = Run::new(dir.path())
        .json()
        .args(["up", "--infra-only"])
        .run()
        .into_json();
    assert_eq!(changes(&again), Vec::<String>::new());
    assert_eq!(
        write_calls(&again["requests"]),
        Vec::<String>::new(),
        "{}",
        again["requests"]
    );
    Run::new(dir.path())
        .json()
        .args(["plan", "--infra-only", "--detailed-exitcode"])
        .run();
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_on_the_buckets_is_planned_and_repaired() {
    let site = site_name("drift");
    let dir = project(&site, "");
    let content = format!("{site}-site-{ACCOUNT}");
    Run::new(dir.path())
        .json()
        .args(["up", "--infra-only"])
        .run();

    let aws = aws_clients("eu-west-1").await;
    aws.s3
        .put_bucket_versioning()
        .bucket(&content)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Suspended)
                .build(),
        )
        .send()
        .await
        .unwrap();
    aws.s3
        .put_public_access_block()
        .bucket(&content)
        .public_access_block_configuration(
            aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(false)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .unwrap();

    let plan = Run::new(dir.path())
        .json()
        .args(["plan", "--detailed-exitcode"])
        .status(4)
        .run()
        .into_json();
    let planned = changes(&plan);
    assert_eq!(
        planned,
        [
            format!("update s3 bucket {content}: turn on Block Public Access (BlockPublicPolicy)"),
            format!("update s3 bucket {content}: versioning Suspended → Enabled"),
        ]
    );
    // The rest is listed as no-op, the drifted bucket only as a change.
    let unchanged: Vec<String> = plan["unchanged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c["action"].as_str().unwrap(),
                c["resource"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        unchanged.contains(&format!("no-op s3 bucket {site}-logs-{ACCOUNT}")),
        "{unchanged:#?}"
    );
    assert!(
        !unchanged.iter().any(|u| u.ends_with(&content)),
        "{unchanged:#?}"
    );
    Run::new(dir.path())
        .json()
        .args(["up", "--infra-only"])
        .run();
    let versioning = aws
        .s3
        .get_bucket_versioning()
        .bucket(&content)
        .send()
        .await
        .unwrap();
    assert_eq!(versioning.status, Some(BucketVersioningStatus::Enabled));
    let bpa = aws
        .s3
        .get_public_access_block()
        .bucket(&content)
        .send()
        .await
        .unwrap();
    assert_eq!(
        bpa.public_access_block_configuration
            .unwrap()
            .block_public_policy,
        Some(true)
    );
    Run::new(dir.path())
        .json()
        .args(["plan", "--infra-only", "--detailed-exitcode"])
        .run();
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_keeps_the_data_unless_asked() {
    let site = site_name("destroy");
    let dir = project(&site, "");
    let content = format!("{site}-site-{ACCOUNT}");
    Run::new(dir.path())
        .json()
        .args(["up", "--infra-only"])
        .run();
    let aws = aws_clients("eu-west-1").await;
    aws.s3
        .put_object()
        .bucket(&content)
        .key("index.html")
        .body(b"hi".to_vec().into())
        .send()
        .await
        .unwrap();

    // Without a terminal and without -y, nothing is deleted.
    Run::new(dir.path()).arg("destroy").status(2).run();
    let key_state = || async { crate::support::site_key(&site).await.key_state };
    // --keep-key: the kept content stays readable with its key.
    let kept_key = changes(
        &Run::new(dir.path())
            .json()
            .args(["destroy", "-y", "--keep-key"])
            .run()
            .into_json(),
    );
    assert!(
        !kept_key.iter().any(|c| c.contains("kms key")),
        "{kept_key:#?}"
    );
    assert_eq!(
        key_state().await,
        Some(aws_sdk_kms::types::KeyState::Enabled)
    );
    // Without it the key's deletion is scheduled, and the plan says what that means for the data.
    let destroyed = changes(
        &Run::new(dir.path())
            .json()
            .args(["destroy", "-y"])
            .run()
            .into_json(),
    );
    assert!(
        destroyed.iter().any(|c| c.starts_with(&format!(
            "delete kms key alias/sitewarden/{site}: schedule deletion in 30 days"
        )) && c.contains("cannot be read while the deletion is pending")),
        "{destroyed:#?}"
    );
    assert_eq!(
        key_state().await,
        Some(aws_sdk_kms::types::KeyState::PendingDeletion)
    );
    // The object is kept, but as on AWS it cannot be read while its key is pending deletion...
    let read = || async {
        aws.s3
            .get_object()
            .bucket(&content)
            .key("index.html")
            .send()
            .await
    };
    let denied = read().await.unwrap_err();
    assert_eq!(
        denied.into_service_error().meta().code(),
        Some("KMS.KMSInvalidStateException")
    );
    // ... until the deletion is cancelled, as the plan said.
    let key_id = crate::support::site_key(&site).await.key_id;
    aws.kms
        .cancel_key_deletion()
        .key_id(&key_id)
        .send()
        .await
        .unwrap();
    aws.kms.enable_key().key_id(&key_id).send().await.unwrap();
    let kept = read().await.unwrap();
    assert_eq!(
        kept.body.collect().await.unwrap().into_bytes().as_ref(),
        b"hi"
    );

    Run::new(dir.path())
        .json()
        .args(["destroy", "-y", "--delete-content"])
        .run();
    assert!(aws.s3.head_bucket().bucket(&content).send().await.is_err());
}

#[test]
fn invalid_config_makes_no_remote_call() {
    // A closed port: any AWS call would fail with exit 1.
    let dir = project(&site_name("bad"), "[deploy]\nconcurrency = 0\n");
    Run::new(dir.path())
        .endpoint("http://127.0.0.1:9")
        .args(["up", "--infra-only"])
        .status(2)
        .stderr_is("error: invalid config file `sitewarden.toml`: `deploy.concurrency`: `0` is out of range 1-256\n")
        .run();
}

/// The properties both buckets share: private, ACL-free, versioned, TLS-only, lifecycle, tagged.
async fn assert_private_bucket(aws: &sitewarden::aws::Aws, bucket: &str, site: &str) {
    let s3 = &aws.s3;
    let bpa = s3
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await
        .unwrap()
        .public_access_block_configuration
        .unwrap();
    assert_eq!(
        (
            bpa.block_public_acls,
            bpa.ignore_public_acls,
            bpa.block_public_policy,
            bpa.restrict_public_buckets
        ),
        (Some(true), Some(true), Some(true), Some(true)),
        "{bucket}"
    );
    let ownership = s3
        .get_bucket_ownership_controls()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ownership.ownership_controls.unwrap().rules[0].object_ownership,
        ObjectOwnership::BucketOwnerEnforced
    );
    let versioning = s3
        .get_bucket_versioning()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(
        versioning.status,
        Some(BucketVersioningStatus::Enabled),
        "{bucket}"
    );
    let policy = s3
        .get_bucket_policy()
        .bucket(bucket)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap();
    let policy: serde_json::Value = serde_json::from_str(&policy).unwrap();
    let tls = &policy["Statement"][0];
    assert_eq!(
        (tls["Sid"].as_str(), tls["Effect"].as_str()),
        (Some("DenyInsecureTransport"), Some("Deny"))
    );
    assert_eq!(tls["Condition"]["Bool"]["aws:SecureTransport"], "false");
    let lifecycle = s3
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await
        .unwrap()
        .rules
        .unwrap();
    assert_eq!(
        lifecycle[0]
            .abort_incomplete_multipart_upload
            .as_ref()
            .unwrap()
            .days_after_initiation,
        Some(7)
    );
    let tags = s3
        .get_bucket_tagging()
        .bucket(bucket)
        .send()
        .await
        .unwrap()
        .tag_set;
    assert!(
        tags.iter()
            .any(|t| t.key == "sitewarden:site" && t.value == site)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_existing_key_without_cloudfront_decrypt_is_reported_with_the_statement() {
    let aws = aws_clients("eu-west-1").await;
    let key_arn = aws
        .kms
        .create_key()
        .description("a team's existing key")
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap()
        .arn
        .unwrap();
    let site = site_name("own-key");
    let dir = project(&site, &format!("[kms]\nkey_arn = \"{key_arn}\"\n"));
    let up = || Run::new(dir.path()).args(["up", "--infra-only"]);
    let stderr = up()
        .stderr_contains(format!(
            "the policy of key `{key_arn}` (`kms.key_arn`) does not let CloudFront decrypt"
        ))
        .run()
        .stderr;
    // The warning carries the statement to add; with it in the key policy, all is well.
    let rest = &stderr[stderr.find("has this statement:\n").unwrap() + 20..];
    let statement: serde_json::Value = serde_json::Deserializer::from_str(rest)
        .into_iter()
        .next()
        .expect("the statement")
        .expect("the statement, as JSON");
    assert_eq!(
        statement["Principal"]["Service"],
        "cloudfront.amazonaws.com"
    );
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": { "AWS": format!("arn:aws:iam::{ACCOUNT}:root") },
                "Action": "kms:*",
                "Resource": "*"
            },
            statement
        ]
    });
    aws.kms
        .put_key_policy()
        .key_id(&key_arn)
        .policy_name("default")
        .policy(policy.to_string())
        .send()
        .await
        .unwrap();
    up().stderr_lacks("does not let CloudFront decrypt").run();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_denied_call_stops_the_run_with_the_call_and_a_hint() {
    let site = site_name("denied");
    let dir = project(&site, "");
    // A principal without kms:CreateKey (the emulator's `deny+` keys): the first write fails.
    Run::new(dir.path())
        .env("AWS_ACCESS_KEY_ID", "deny+kms:CreateKey")
        .args(["up", "--infra-only"])
        .status(1)
        .stderr_contains(format!(
            "CreateKey failed for kms key alias/sitewarden/{site}: AccessDeniedException"
        ))
        .stderr_contains("`sitewarden iam-policy`")
        .run();
    // Nothing after the failed step ran.
    let s3 = aws_clients("eu-west-1").await.s3;
    assert!(
        s3.head_bucket()
            .bucket(format!("{site}-logs-{ACCOUNT}"))
            .send()
            .await
            .is_err()
    );
}
