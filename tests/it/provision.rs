//! `plan`, `up --infra-only` and `destroy` for the key and the buckets, read back through the SDK.

use aws_sdk_s3::types::{BucketVersioningStatus, ObjectOwnership, ServerSideEncryption};

use sitewarden::observe;

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
        observe::key::rotation(&aws.kms, &key.key_id, "site key")
            .await
            .unwrap()
    );
    assert_eq!(key.multi_region, Some(false));

    for bucket in [&content, &logs] {
        assert_private_bucket(&aws, bucket, &site).await;
    }

    let enc = observe::bucket::encryption(s3, &content)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(enc.algorithm, ServerSideEncryption::AwsKms);
    assert_eq!(enc.key.as_deref(), key.arn.as_deref());
    assert!(enc.bucket_key);
    let enc = observe::bucket::encryption(s3, &logs)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(enc.algorithm, ServerSideEncryption::Aes256);

    let logging = observe::bucket::logging(s3, &content)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (logging.bucket.as_str(), logging.prefix.as_str()),
        (logs.as_str(), "s3-access/")
    );
    let lifecycle = observe::bucket::lifecycle(s3, &content).await.unwrap();
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
    let versioning = observe::bucket::versioning(&aws.s3, &content)
        .await
        .unwrap();
    assert_eq!(versioning, Some(BucketVersioningStatus::Enabled));
    let bpa = observe::bucket::public_access_block(&aws.s3, &content)
        .await
        .unwrap()
        .unwrap();
    assert!(bpa.block_public_policy);
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
    assert_eq!(
        observe::bucket::locate(&aws, &content).await.unwrap(),
        observe::bucket::Location::Missing
    );
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
    let bpa = observe::bucket::public_access_block(s3, bucket)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bpa.flags_off(), Vec::<&str>::new(), "{bucket}");
    let ownership = observe::bucket::ownership(s3, bucket).await.unwrap();
    assert_eq!(ownership, Some(ObjectOwnership::BucketOwnerEnforced));
    let versioning = observe::bucket::versioning(s3, bucket).await.unwrap();
    assert_eq!(
        versioning,
        Some(BucketVersioningStatus::Enabled),
        "{bucket}"
    );
    let policy = observe::bucket::policy(s3, bucket).await.unwrap().unwrap();
    let tls = &policy["Statement"][0];
    assert_eq!(
        (tls["Sid"].as_str(), tls["Effect"].as_str()),
        (Some("DenyInsecureTransport"), Some("Deny"))
    );
    assert_eq!(tls["Condition"]["Bool"]["aws:SecureTransport"], "false");
    let lifecycle = observe::bucket::lifecycle(s3, bucket).await.unwrap();
    assert_eq!(
        lifecycle[0]
            .abort_incomplete_multipart_upload
            .as_ref()
            .unwrap()
            .days_after_initiation,
        Some(7)
    );
    let tags = observe::bucket::tags(s3, bucket).await.unwrap();
    assert_eq!(observe::bucket::site_tag(&tags), Some(site));
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
    let aws = aws_clients("eu-west-1").await;
    assert_eq!(
        observe::bucket::locate(&aws, &format!("{site}-logs-{ACCOUNT}"))
            .await
            .unwrap(),
        observe::bucket::Location::Missing
    );
}
