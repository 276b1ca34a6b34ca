//! S3 bucket controls: Block Public Access, public and cross-account grants, ACLs, TLS-only
//! policy, default encryption, access logging, versioning, lifecycle and website hosting.
//!
//! Evidence is read with one call per property (all reads); a call that fails turns only the
//! controls that need it into `error`. The log bucket's documented exceptions (SSE-S3, no logging
//! of itself) are decided here from its role.

use aws_sdk_s3::Client;
use aws_sdk_s3::types::{
    BucketVersioningStatus, ExpirationStatus, Grant, LifecycleRule, ObjectOwnership, Permission,
    ServerSideEncryption, WebsiteConfiguration,
};
use serde_json::Value;

use super::controls::{
    S3_ACCESS_LOGGING, S3_ACLS_DISABLED, S3_BLOCK_PUBLIC_ACCESS, S3_CROSS_ACCOUNT,
    S3_KMS_ENCRYPTION, S3_LIFECYCLE, S3_NO_WEBSITE, S3_PUBLIC_READ, S3_PUBLIC_WRITE,
    S3_SECURE_TRANSPORT, S3_VERSIONING,
};
use super::policy::{self, Statement, principal_account};
use super::{Audited, BucketRole, Kind, Outcome, Sink, both};
use crate::aws::Aws;
use crate::error::Result;
use crate::names;
use crate::observe::bucket::{self as observe, Encryption, Location, LogTarget, PublicAccessBlock};

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
pub async fn locate(aws: &Aws, bucket: &str) -> Result<Option<Client>> {
    Ok(match observe::locate(aws, bucket).await? {
        Location::Missing => None,
        location => Some(observe::client_in(aws, location.region())),
    })
}

/// Whether `bucket` is a sitewarden site's log bucket: named `<site>-logs-<account>` and tagged
/// `sitewarden:site = <site>` (an unreadable tag set counts as no).
pub async fn is_sitewarden_log_bucket(s3: &Client, account: &str, bucket: &str) -> bool {
    let Some(site) = names::log_bucket_site(bucket, account) else {
        return false;
    };
    observe::tags(s3, bucket)
        .await
        .is_ok_and(|tags| observe::site_tag(&tags) == Some(site))
}

/// Evaluates the bucket with its regional client (see [`locate`]): one read per control, in
/// table order, each control keeping its read's `Result` so a denied read fails only the
/// controls that need it.
pub async fn audit(
    s3: &Client,
    account: &str,
    bucket: &str,
    role: BucketRole,
    findings: &mut Vec<super::Finding>,
) -> Result<BucketFacts> {
    let mut sink = Sink::new(findings, resource(bucket));
    let policy = observe::policy(s3, bucket).await;
    let policy_public = observe::policy_status(s3, bucket).await;
    let grants = observe::acl(s3, bucket).await.map(|acl| acl.grants);

    let block = observe::public_access_block(s3, bucket).await;
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
    let ownership = observe::ownership(s3, bucket).await;
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
    let encryption = observe::encryption(s3, bucket).await;
    sink.check(
        S3_KMS_ENCRYPTION,
        encryption
            .as_ref()
            .map(|e| kms_encryption(e.as_ref(), role)),
    );
    let logging = observe::logging(s3, bucket).await;
    sink.check(
        S3_ACCESS_LOGGING,
        logging.as_ref().map(|l| access_logging(l.as_ref(), role)),
    );
    let versioning = observe::versioning(s3, bucket).await;
    sink.check(
        S3_VERSIONING,
        versioning.as_ref().map(|v| versioning_enabled(v.as_ref())),
    );
    let lifecycle = observe::lifecycle(s3, bucket).await;
    sink.check(S3_LIFECYCLE, lifecycle.as_ref().map(|r| lifecycle_rules(r)));
    let website = observe::website(s3, bucket).await;
    sink.check(
        S3_NO_WEBSITE,
        website.as_ref().map(|w| no_website(w.as_ref())),
    );
    sink.exceptions();
    Ok(BucketFacts {
        kms_key: encryption
            .ok()
            .flatten()
            .and_then(|e| e.customer_key().map(str::to_owned)),
    })
}

pub fn resource(bucket: &str) -> Audited {
    Audited::new(Kind::Bucket, bucket.to_owned(), Some(arn(bucket)))
}

fn arn(bucket: &str) -> String {
    format!("arn:aws:s3:::{bucket}")
}

fn statements(policy: Option<&Value>) -> Vec<Statement<'_>> {
    policy.map(policy::statements).unwrap_or_default()
}

fn block_public_access(config: Option<&PublicAccessBlock>) -> Outcome {
    let Some(c) = config else {
        return Outcome::fail("no Block Public Access configuration on the bucket");
    };
    let off: Vec<String> = c
        .flags_off()
        .iter()
        .map(|name| format!("{name} off"))
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

fn kms_encryption(encryption: Option<&Encryption>, bucket_role: BucketRole) -> Outcome {
    let Some(encryption) = encryption else {
        return Outcome::fail("no default encryption");
    };
    match (&encryption.algorithm, bucket_role) {
        (ServerSideEncryption::Aes256, BucketRole::Log) => Outcome::exception(
            "log bucket: SSE-S3, because S3 server access logging cannot deliver to SSE-KMS targets",
        ),
        (ServerSideEncryption::Aes256, BucketRole::Content) => {
            Outcome::fail("SSE-S3 (AES256), not SSE-KMS")
        }
        (ServerSideEncryption::AwsKms | ServerSideEncryption::AwsKmsDsse, _) => {
            match (encryption.customer_key(), encryption.bucket_key) {
                (None, _) => Outcome::fail(format!(
                    "SSE-KMS with the AWS-managed key {} (cannot be granted to CloudFront)",
                    encryption.key.as_deref().unwrap_or("aws/s3")
                )),
                (Some(key), false) => Outcome::fail(format!("SSE-KMS with {key}, bucket key off")),
                (Some(key), true) => Outcome::pass(format!("SSE-KMS with {key}, bucket key on")),
            }
        }
        (other, _) => Outcome::fail(format!("default encryption {}", other.as_str())),
    }
}

fn access_logging(logging: Option<&LogTarget>, role: BucketRole) -> Outcome {
    match (logging, role) {
        (Some(l), _) => Outcome::pass(format!("access logs to s3://{}/{}", l.bucket, l.prefix)),
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

fn no_website(website: Option<&WebsiteConfiguration>) -> Outcome {
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
        AbortIncompleteMultipartUpload, Grantee, IndexDocument, NoncurrentVersionExpiration, Type,
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
        let config = PublicAccessBlock {
            block_public_acls: true,
            ignore_public_acls: true,
            block_public_policy: false,
            restrict_public_buckets: true,
        };
        assert_eq!(
            block_public_access(Some(&config)).evidence,
            "BlockPublicPolicy off"
        );
        assert_eq!(block_public_access(None).status, Status::Fail);
    }

    fn rule(algorithm: ServerSideEncryption, key: Option<&str>, bucket_key: bool) -> Encryption {
        Encryption {
            algorithm,
            key: key.map(str::to_owned),
            bucket_key,
        }
    }

    #[test]
    fn encryption_needs_a_customer_key_except_on_the_log_bucket() {
        let key = "arn:aws:kms:eu-west-1:123456789012:key/k";
        let good = rule(ServerSideEncryption::AwsKms, Some(key), true);
        assert_eq!(
            kms_encryption(Some(&good), BucketRole::Content),
            Outcome::pass(format!("SSE-KMS with {key}, bucket key on"))
        );
        assert_eq!(good.customer_key(), Some(key));
        let managed = rule(ServerSideEncryption::AwsKms, Some("alias/aws/s3"), true);
        assert_eq!(
            kms_encryption(Some(&managed), BucketRole::Content).status,
            Status::Fail
        );
        assert_eq!(managed.customer_key(), None);
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
        let target = LogTarget {
            bucket: "logs".to_owned(),
            prefix: "s3-access/".to_owned(),
        };
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
        let website = WebsiteConfiguration::builder()
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
