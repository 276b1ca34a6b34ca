//! S3 bucket controls: Block Public Access, public and cross-account grants, ACLs, TLS-only
//! policy, default encryption, access logging, versioning, lifecycle and website hosting.
//!
//! Evidence is read with one call per property (all reads); a call that fails turns only the
//! controls that need it into `error`. The log bucket's documented exceptions (SSE-S3, no logging
//! of itself) are decided here from its role.

use aws_sdk_s3::Client;
use aws_sdk_s3::operation::get_bucket_website::GetBucketWebsiteOutput;
use aws_sdk_s3::types::{
    BucketVersioningStatus, ExpirationStatus, Grant, LifecycleRule, LoggingEnabled,
    ObjectOwnership, Permission, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionRule,
};
use serde_json::Value;

use super::controls::{
    S3_ACCESS_LOGGING, S3_ACLS_DISABLED, S3_BLOCK_PUBLIC_ACCESS, S3_CROSS_ACCOUNT,
    S3_KMS_ENCRYPTION, S3_LIFECYCLE, S3_NO_WEBSITE, S3_PUBLIC_READ, S3_PUBLIC_WRITE,
    S3_SECURE_TRANSPORT, S3_VERSIONING,
};
use super::policy::{self, Statement, principal_account};
use super::{BucketRole, Kind, Outcome, Resource, Sink, both};
use crate::error::{AwsResultExt as _, Result};

const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
const READ_ACTIONS: [&str; 2] = ["s3:GetObject", "s3:ListBucket"];
const WRITE_ACTIONS: [&str; 6] = [
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:PutObjectAcl",
    "s3:PutBucketPolicy",
    "s3:PutBucketAcl",
    "s3:DeleteBucketPolicy",
];
/// The actions Security Hub's S3.6 looks for in grants to others.
const PERMISSION_ACTIONS: [&str; 5] = [
    "s3:DeleteBucketPolicy",
    "s3:PutBucketAcl",
    "s3:PutBucketPolicy",
    "s3:PutEncryptionConfiguration",
    "s3:PutObjectAcl",
];

/// What a bucket reveals to the rest of the audit.
pub struct BucketFacts {
    /// The customer-managed key of its default encryption.
    pub kms_key: Option<String>,
}

/// A bucket's client in its own region, or `None` when the bucket does not exist.
///
/// `HeadBucket` answers with the bucket's region (also on a redirect or a denial), so a bucket
/// outside the default region is read through a client for its region; a denied `HeadBucket`
/// still leaves each check to report its own error.
pub async fn locate(aws: &crate::aws::Aws, bucket: &str) -> Result<Option<Client>> {
    let region = match aws.s3.head_bucket().bucket(bucket).send().await {
        Ok(out) => out.bucket_region,
        Err(e) => {
            let raw = e.raw_response();
            let region = raw
                .and_then(|r| r.headers().get("x-amz-bucket-region"))
                .map(str::to_owned);
            match raw.map(|r| r.status().as_u16()) {
                Some(404) => return Ok(None),
                Some(301 | 400 | 403) => region,
                _ => {
                    return Err(crate::error::Error::aws(
                        "HeadBucket",
                        format!("bucket `{bucket}`"),
                        e,
                    ));
                }
            }
        }
    };
    Ok(Some(match region.filter(|r| *r != aws.region) {
        // Same interceptors, so its requests are counted with the others.
        Some(region) => Client::from_conf(
            aws.s3
                .config()
                .to_builder()
                .region(aws_sdk_s3::config::Region::new(region))
                .build(),
        ),
        None => aws.s3.clone(),
    }))
}

/// Whether `bucket` is a sitewarden site's log bucket: named `<site>-logs-<account>` and tagged
/// `sitewarden:site = <site>` (an unreadable tag set counts as no).
pub async fn is_sitewarden_log_bucket(s3: &Client, account: &str, bucket: &str) -> bool {
    let Some(site) = bucket.strip_suffix(&format!("-logs-{account}")) else {
        return false;
    };
    s3.get_bucket_tagging()
        .bucket(bucket)
        .send()
        .await
        .is_ok_and(|t| {
            t.tag_set()
                .iter()
                .any(|tag| tag.key == crate::names::SITE_TAG && tag.value == site)
        })
}

/// Evaluates the bucket with its regional client (see [`locate`]): one read per control, in
/// table order, which reads best as one function.
#[allow(clippy::too_many_lines)]
pub async fn audit(
    s3: &Client,
    account: &str,
    bucket: &str,
    role: BucketRole,
    findings: &mut Vec<super::Finding>,
) -> Result<BucketFacts> {
    let mut sink = Sink::new(findings, resource(bucket));
    let name = format!("bucket `{bucket}`");
    let name = name.as_str();
    let policy = observe_policy(s3, bucket, name).await;
    let policy_public = s3
        .get_bucket_policy_status()
        .bucket(bucket)
        .send()
        .await
        .or_missing(&["NoSuchBucketPolicy"], "GetBucketPolicyStatus", name)
        .map(|o| o.and_then(|o| o.policy_status).and_then(|s| s.is_public));
    let grants = s3
        .get_bucket_acl()
        .bucket(bucket)
        .send()
        .await
        .op("GetBucketAcl", name)
        .map(|o| o.grants.unwrap_or_default());

    let block = s3
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await
        .or_missing(
            &["NoSuchPublicAccessBlockConfiguration"],
            "GetPublicAccessBlock",
            name,
        )
        .map(|o| o.and_then(|o| o.public_access_block_configuration));
    sink.check(
        S3_BLOCK_PUBLIC_ACCESS,
        block.as_ref().map(|b| block_public_access(b.as_ref())),
    );
    let public = both(&policy, &policy_public).and_then(|(p, s)| {
        let grants = grants.as_ref()?;
        Ok((p.as_ref(), *s, grants.as_slice()))
    });
    sink.check(
        S3_PUBLIC_READ,
        public.map(|(p, s, g)| public_read(p, s, g, bucket)),
    );
    sink.check(S3_PUBLIC_WRITE, public.map(|(p, _, g)| public_write(p, g)));
    let ownership = s3
        .get_bucket_ownership_controls()
        .bucket(bucket)
        .send()
        .await
        .or_missing(
            &["OwnershipControlsNotFoundError"],
            "GetBucketOwnershipControls",
            name,
        )
        .map(|o| {
            o.and_then(|o| o.ownership_controls)
                .and_then(|c| c.rules.into_iter().next())
                .map(|r| r.object_ownership)
        });
    sink.check(
        S3_ACLS_DISABLED,
        ownership.as_ref().map(|o| acls_disabled(o.as_ref())),
    );
    sink.check(
        S3_SECURE_TRANSPORT,
        policy
            .as_ref()
            .map(|p| secure_transport(p.as_ref(), bucket)),
    );
    sink.check(
        S3_CROSS_ACCOUNT,
        policy.as_ref().map(|p| cross_account(p.as_ref(), account)),
    );
    let encryption = s3
        .get_bucket_encryption()
        .bucket(bucket)
        .send()
        .await
        .or_missing(
            &["ServerSideEncryptionConfigurationNotFoundError"],
            "GetBucketEncryption",
            name,
        )
        .map(|o| {
            o.and_then(|o| o.server_side_encryption_configuration)
                .and_then(|c| c.rules.into_iter().next())
        });
    sink.check(
        S3_KMS_ENCRYPTION,
        encryption
            .as_ref()
            .map(|e| kms_encryption(e.as_ref(), role)),
    );
    let logging = s3
        .get_bucket_logging()
        .bucket(bucket)
        .send()
        .await
        .op("GetBucketLogging", name)
        .map(|o| o.logging_enabled);
    sink.check(
        S3_ACCESS_LOGGING,
        logging.as_ref().map(|l| access_logging(l.as_ref(), role)),
    );
    let versioning = s3
        .get_bucket_versioning()
        .bucket(bucket)
        .send()
        .await
        .op("GetBucketVersioning", name)
        .map(|o| o.status);
    sink.check(
        S3_VERSIONING,
        versioning.as_ref().map(|v| versioning_enabled(v.as_ref())),
    );
    let lifecycle = s3
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await
        .or_missing(
            &["NoSuchLifecycleConfiguration"],
            "GetBucketLifecycleConfiguration",
            name,
        )
        .map(|o| o.and_then(|o| o.rules).unwrap_or_default());
    sink.check(S3_LIFECYCLE, lifecycle.as_ref().map(|r| lifecycle_rules(r)));
    let website = s3
        .get_bucket_website()
        .bucket(bucket)
        .send()
        .await
        .or_missing(&["NoSuchWebsiteConfiguration"], "GetBucketWebsite", name);
    sink.check(
        S3_NO_WEBSITE,
        website.as_ref().map(|w| no_website(w.as_ref())),
    );
    sink.exceptions();
    Ok(BucketFacts {
        kms_key: encryption
            .ok()
            .flatten()
            .and_then(|rule| customer_key(&rule)),
    })
}

pub fn resource(bucket: &str) -> Resource {
    Resource {
        kind: Kind::Bucket,
        name: bucket.to_owned(),
        arn: Some(arn(bucket)),
    }
}

fn arn(bucket: &str) -> String {
    format!("arn:aws:s3:::{bucket}")
}

async fn observe_policy(s3: &Client, bucket: &str, resource: &str) -> Result<Option<Value>> {
    Ok(s3
        .get_bucket_policy()
        .bucket(bucket)
        .send()
        .await
        .or_missing(&["NoSuchBucketPolicy"], "GetBucketPolicy", resource)?
        .and_then(|o| o.policy)
        .map(|text| serde_json::from_str(&text).unwrap_or(Value::Null)))
}

fn statements(policy: Option<&Value>) -> Vec<Statement<'_>> {
    policy.map(policy::statements).unwrap_or_default()
}

fn block_public_access(config: Option<&PublicAccessBlockConfiguration>) -> Outcome {
    let Some(c) = config else {
        return Outcome::fail("no Block Public Access configuration on the bucket");
    };
    let off: Vec<String> = [
        ("BlockPublicAcls", c.block_public_acls),
        ("IgnorePublicAcls", c.ignore_public_acls),
        ("BlockPublicPolicy", c.block_public_policy),
        ("RestrictPublicBuckets", c.restrict_public_buckets),
    ]
    .iter()
    .filter(|(_, on)| *on != Some(true))
    .map(|(name, _)| format!("{name} off"))
    .collect();
    Outcome::unless(&off, "all four flags on")
}

/// Grants to everyone (or every AWS user) with one of `permissions`.
fn public_grants(grants: &[Grant], permissions: &[Permission]) -> Vec<String> {
    grants
        .iter()
        .filter_map(|g| {
            let uri = g.grantee.as_ref()?.uri.as_deref()?;
            let permission = g.permission.as_ref()?;
            let group = match uri {
                ALL_USERS => "AllUsers",
                AUTHENTICATED_USERS => "AuthenticatedUsers",
                _ => return None,
            };
            permissions
                .contains(permission)
                .then(|| format!("ACL grants {} to {group}", permission.as_str()))
        })
        .collect()
}

/// Policy statements that allow `*` (unrestricted) one of `actions`.
fn public_statements(policy: Option<&Value>, actions: &[&str]) -> Vec<String> {
    statements(policy)
        .into_iter()
        .filter(|s| s.public_allow())
        .filter_map(|s| {
            let covered: Vec<&str> = actions.iter().copied().filter(|a| s.covers(a)).collect();
            (!covered.is_empty()).then(|| {
                format!(
                    "policy statement `{}` allows `*` {}",
                    s.sid(),
                    covered.join(", ")
                )
            })
        })
        .collect()
}

fn public_read(
    policy: Option<&Value>,
    policy_status_public: Option<bool>,
    grants: &[Grant],
    bucket: &str,
) -> Outcome {
    let mut problems = public_statements(policy, &READ_ACTIONS);
    if problems.is_empty() && policy_status_public == Some(true) {
        problems.push(format!("S3 reports the policy of `{bucket}` as public"));
    }
    problems.extend(public_grants(
        grants,
        &[
            Permission::Read,
            Permission::ReadAcp,
            Permission::FullControl,
        ],
    ));
    Outcome::unless(&problems, "no public read grant in the policy or ACL")
}

fn public_write(policy: Option<&Value>, grants: &[Grant]) -> Outcome {
    let mut problems = public_statements(policy, &WRITE_ACTIONS);
    problems.extend(public_grants(
        grants,
        &[
            Permission::Write,
            Permission::WriteAcp,
            Permission::FullControl,
        ],
    ));
    Outcome::unless(&problems, "no public write grant in the policy or ACL")
}

fn acls_disabled(ownership: Option<&ObjectOwnership>) -> Outcome {
    match ownership {
        Some(ObjectOwnership::BucketOwnerEnforced) => Outcome::pass("BucketOwnerEnforced"),
        Some(other) => Outcome::fail(format!("object ownership {}", other.as_str())),
        None => Outcome::fail("no ownership controls (ACLs enabled)"),
    }
}

fn secure_transport(policy: Option<&Value>, bucket: &str) -> Outcome {
    let (bucket_arn, objects_arn) = (arn(bucket), format!("{}/*", arn(bucket)));
    let deny = statements(policy).into_iter().find(|s| {
        s.denies()
            && s.everyone()
            && s.covers_all("s3")
            && s.condition("Bool", "aws:SecureTransport")
                .contains(&"false")
    });
    match deny {
        None => Outcome::fail(
            "no statement denies `s3:*` to `*` when `aws:SecureTransport` is \"false\"",
        ),
        Some(s) if !(s.covers_resource(&bucket_arn) && s.covers_resource(&objects_arn)) => {
            Outcome::fail(format!(
                "statement `{}` does not cover both `{bucket_arn}` and `{objects_arn}`",
                s.sid()
            ))
        }
        Some(s) => Outcome::pass(format!(
            "statement `{}` denies `s3:*` without TLS on the bucket and its objects",
            s.sid()
        )),
    }
}

fn cross_account(policy: Option<&Value>, account: &str) -> Outcome {
    let mut problems: Vec<String> = statements(policy)
        .into_iter()
        .filter(|s| s.allows())
        .flat_map(|s| {
            s.aws_principals()
                .into_iter()
                .filter_map(principal_account)
                .filter(|a| *a != account)
                .map(move |other| format!("statement `{}` grants account {other}", s.sid()))
        })
        .collect();
    problems.extend(public_statements(policy, &PERMISSION_ACTIONS));
    Outcome::unless(&problems, "no grant to another account")
}

/// The key of an SSE-KMS rule when it is not the AWS-managed `aws/s3`.
fn customer_key(rule: &ServerSideEncryptionRule) -> Option<String> {
    let default = rule.apply_server_side_encryption_by_default.as_ref()?;
    let key = default.kms_master_key_id.as_deref()?;
    let kms = matches!(
        default.sse_algorithm,
        ServerSideEncryption::AwsKms | ServerSideEncryption::AwsKmsDsse
    );
    (kms && !key.contains("alias/aws/")).then(|| key.to_owned())
}

fn kms_encryption(rule: Option<&ServerSideEncryptionRule>, bucket_role: BucketRole) -> Outcome {
    let Some(default) = rule.and_then(|r| r.apply_server_side_encryption_by_default.as_ref())
    else {
        return Outcome::fail("no default encryption");
    };
    let bucket_key = rule.and_then(|r| r.bucket_key_enabled) == Some(true);
    match (&default.sse_algorithm, bucket_role) {
        (ServerSideEncryption::Aes256, BucketRole::Log) => Outcome::exception(
            "log bucket: SSE-S3, because S3 server access logging cannot deliver to SSE-KMS targets",
        ),
        (ServerSideEncryption::Aes256, BucketRole::Content) => {
            Outcome::fail("SSE-S3 (AES256), not SSE-KMS")
        }
        (ServerSideEncryption::AwsKms | ServerSideEncryption::AwsKmsDsse, _) => {
            let key = default.kms_master_key_id.as_deref();
            match (rule.and_then(customer_key), key, bucket_key) {
                (None, _, _) => Outcome::fail(format!(
                    "SSE-KMS with the AWS-managed key {} (cannot be granted to CloudFront)",
                    key.unwrap_or("aws/s3")
                )),
                (Some(key), _, false) => {
                    Outcome::fail(format!("SSE-KMS with {key}, bucket key off"))
                }
                (Some(key), _, true) => Outcome::pass(format!("SSE-KMS with {key}, bucket key on")),
            }
        }
        (other, _) => Outcome::fail(format!("default encryption {}", other.as_str())),
    }
}

fn access_logging(logging: Option<&LoggingEnabled>, role: BucketRole) -> Outcome {
    match (logging, role) {
        (Some(l), _) => Outcome::pass(format!(
            "access logs to s3://{}/{}",
            l.target_bucket, l.target_prefix
        )),
        (None, BucketRole::Log) => Outcome::exception(
            "log bucket: it does not log its own access (each log delivery would log again)",
        ),
        (None, BucketRole::Content) => Outcome::fail("server access logging off"),
    }
}

fn versioning_enabled(status: Option<&BucketVersioningStatus>) -> Outcome {
    match status {
        Some(BucketVersioningStatus::Enabled) => Outcome::pass("Enabled"),
        Some(other) => Outcome::fail(format!("versioning {}", other.as_str())),
        None => Outcome::fail("versioning never enabled"),
    }
}

fn lifecycle_rules(rules: &[LifecycleRule]) -> Outcome {
    let enabled: Vec<&LifecycleRule> = rules
        .iter()
        .filter(|r| r.status == ExpirationStatus::Enabled)
        .collect();
    let noncurrent = enabled
        .iter()
        .find_map(|r| r.noncurrent_version_expiration.as_ref()?.noncurrent_days);
    let abort = enabled.iter().find_map(|r| {
        r.abort_incomplete_multipart_upload
            .as_ref()?
            .days_after_initiation
    });
    let mut problems = Vec::new();
    if noncurrent.is_none() {
        problems.push("no rule expires earlier versions".to_owned());
    }
    if abort.is_none() {
        problems.push("no rule aborts incomplete multipart uploads".to_owned());
    }
    Outcome::unless(
        &problems,
        format!(
            "earlier versions expire after {} days, incomplete uploads are aborted after {} days",
            noncurrent.unwrap_or_default(),
            abort.unwrap_or_default()
        ),
    )
}

fn no_website(website: Option<&GetBucketWebsiteOutput>) -> Outcome {
    match website {
        None => Outcome::pass("no website configuration"),
        Some(w) => {
            let what = match (&w.redirect_all_requests_to, &w.index_document) {
                (Some(r), _) => format!("redirects every request to {}", r.host_name),
                (None, Some(index)) => format!("index document `{}`", index.suffix),
                (None, None) => "configured".to_owned(),
            };
            Outcome::fail(format!("static website hosting on ({what})"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Status;
    use aws_sdk_s3::types::{
        AbortIncompleteMultipartUpload, Grantee, IndexDocument, NoncurrentVersionExpiration,
        ServerSideEncryptionByDefault, Type,
    };
    use serde_json::json;

    fn secure_policy(bucket: &str) -> Value {
        crate::provision::buckets::content_policy(
            bucket,
            Some("arn:aws:cloudfront::123456789012:distribution/E1"),
        )
    }

    fn poc_policy() -> Value {
        json!({"Version": "2012-10-17", "Statement": [{"Sid": "PublicRead", "Effect": "Allow",
            "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]})
    }

    fn grant(uri: &str, permission: Permission) -> Grant {
        Grant::builder()
            .grantee(
                Grantee::builder()
                    .r#type(Type::Group)
                    .uri(uri)
                    .build()
                    .unwrap(),
            )
            .permission(permission)
            .build()
    }

    #[test]
    fn the_sitewarden_content_policy_passes_every_policy_control() {
        let policy = secure_policy("b");
        let p = Some(&policy);
        assert_eq!(public_read(p, Some(false), &[], "b").status, Status::Pass);
        assert_eq!(public_write(p, &[]).status, Status::Pass);
        assert_eq!(cross_account(p, "123456789012").status, Status::Pass);
        let tls = secure_transport(p, "b");
        assert_eq!(tls.status, Status::Pass, "{}", tls.evidence);
        assert!(tls.evidence.contains("DenyInsecureTransport"));
    }

    #[test]
    fn a_public_read_policy_and_acl_fail_with_the_reason() {
        let policy = poc_policy();
        let read = public_read(
            Some(&policy),
            Some(true),
            &[grant(ALL_USERS, Permission::Read)],
            "b",
        );
        assert_eq!(read.status, Status::Fail);
        assert_eq!(
            read.evidence,
            "policy statement `PublicRead` allows `*` s3:GetObject; ACL grants READ to AllUsers"
        );
        assert_eq!(public_write(Some(&policy), &[]).status, Status::Pass);
        let write = public_write(None, &[grant(AUTHENTICATED_USERS, Permission::Write)]);
        assert_eq!(write.evidence, "ACL grants WRITE to AuthenticatedUsers");
        assert_eq!(
            secure_transport(Some(&policy), "b").status,
            Status::Fail,
            "an Allow is no TLS enforcement"
        );
        assert_eq!(secure_transport(None, "b").status, Status::Fail);
    }

    #[test]
    fn tls_deny_must_cover_bucket_and_objects() {
        let policy = json!({"Statement": [{"Sid": "T", "Effect": "Deny", "Principal": "*",
            "Action": "s3:*", "Resource": "arn:aws:s3:::b/*",
            "Condition": {"Bool": {"aws:SecureTransport": false}}}]});
        let outcome = secure_transport(Some(&policy), "b");
        assert_eq!(outcome.status, Status::Fail);
        assert!(outcome.evidence.contains("does not cover both"));
    }

    #[test]
    fn other_accounts_fail_cross_account() {
        let policy = json!({"Statement": [{"Sid": "Partner", "Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::210987654321:root", "123456789012"]},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]});
        assert_eq!(
            cross_account(Some(&policy), "123456789012").evidence,
            "statement `Partner` grants account 210987654321"
        );
    }

    #[test]
    fn block_public_access_names_the_flags_that_are_off() {
        let config = PublicAccessBlockConfiguration::builder()
            .block_public_acls(true)
            .ignore_public_acls(true)
            .block_public_policy(false)
            .restrict_public_buckets(true)
            .build();
        assert_eq!(
            block_public_access(Some(&config)).evidence,
            "BlockPublicPolicy off"
        );
        assert_eq!(block_public_access(None).status, Status::Fail);
    }

    fn rule(
        algorithm: ServerSideEncryption,
        key: Option<&str>,
        bucket_key: bool,
    ) -> ServerSideEncryptionRule {
        ServerSideEncryptionRule::builder()
            .apply_server_side_encryption_by_default(
                ServerSideEncryptionByDefault::builder()
                    .sse_algorithm(algorithm)
                    .set_kms_master_key_id(key.map(str::to_owned))
                    .build()
                    .unwrap(),
            )
            .bucket_key_enabled(bucket_key)
            .build()
    }

    #[test]
    fn encryption_needs_a_customer_key_except_on_the_log_bucket() {
        let key = "arn:aws:kms:eu-west-1:123456789012:key/k";
        let good = rule(ServerSideEncryption::AwsKms, Some(key), true);
        assert_eq!(
            kms_encryption(Some(&good), BucketRole::Content),
            Outcome::pass(format!("SSE-KMS with {key}, bucket key on"))
        );
        assert_eq!(customer_key(&good).as_deref(), Some(key));
        let managed = rule(ServerSideEncryption::AwsKms, Some("alias/aws/s3"), true);
        assert_eq!(
            kms_encryption(Some(&managed), BucketRole::Content).status,
            Status::Fail
        );
        assert_eq!(customer_key(&managed), None);
        let no_bucket_key = rule(ServerSideEncryption::AwsKms, Some(key), false);
        assert_eq!(
            kms_encryption(Some(&no_bucket_key), BucketRole::Content).status,
            Status::Fail
        );
        let sse_s3 = rule(ServerSideEncryption::Aes256, None, false);
        assert_eq!(
            kms_encryption(Some(&sse_s3), BucketRole::Content).status,
            Status::Fail
        );
        assert_eq!(
            kms_encryption(Some(&sse_s3), BucketRole::Log).status,
            Status::Exception
        );
        assert_eq!(kms_encryption(None, BucketRole::Log).status, Status::Fail);
    }

    #[test]
    fn logging_is_an_exception_only_for_the_log_bucket() {
        assert_eq!(
            access_logging(None, BucketRole::Log).status,
            Status::Exception
        );
        assert_eq!(
            access_logging(None, BucketRole::Content).status,
            Status::Fail
        );
        let target = LoggingEnabled::builder()
            .target_bucket("logs")
            .target_prefix("s3-access/")
            .build()
            .unwrap();
        assert_eq!(
            access_logging(Some(&target), BucketRole::Content).evidence,
            "access logs to s3://logs/s3-access/"
        );
    }

    #[test]
    fn lifecycle_needs_both_rules_enabled() {
        let full = LifecycleRule::builder()
            .status(ExpirationStatus::Enabled)
            .noncurrent_version_expiration(
                NoncurrentVersionExpiration::builder()
                    .noncurrent_days(90)
                    .build(),
            )
            .abort_incomplete_multipart_upload(
                AbortIncompleteMultipartUpload::builder()
                    .days_after_initiation(7)
                    .build(),
            )
            .build()
            .unwrap();
        assert_eq!(
            lifecycle_rules(std::slice::from_ref(&full)).status,
            Status::Pass
        );
        let mut disabled = full;
        disabled.status = ExpirationStatus::Disabled;
        assert_eq!(
            lifecycle_rules(&[disabled]).evidence,
            "no rule expires earlier versions; no rule aborts incomplete multipart uploads"
        );
        assert_eq!(
            versioning_enabled(Some(&BucketVersioningStatus::Suspended)).status,
            Status::Fail
        );
        assert_eq!(versioning_enabled(None).status, Status::Fail);
    }

    #[test]
    fn website_hosting_fails() {
        let website = GetBucketWebsiteOutput::builder()
            .index_document(
                IndexDocument::builder()
                    .suffix("index.html")
                    .build()
                    .unwrap(),
            )
            .build();
        assert_eq!(
            no_website(Some(&website)),
            Outcome::fail("static website hosting on (index document `index.html`)")
        );
        assert_eq!(no_website(None).status, Status::Pass);
        assert_eq!(
            acls_disabled(Some(&ObjectOwnership::ObjectWriter)).status,
            Status::Fail
        );
    }
}
