//! The log bucket and the content bucket: private, ACL-free, encrypted, versioned, with lifecycle
//! rules, TLS-only policies and (for the content bucket) server access logs to the log bucket.
//!
//! Each property is one aspect with the four steps: observe it, compute the desired value, compare,
//! and apply the difference. A bucket created in this run gets every aspect as part of its `create`
//! change instead of one change per property.

use aws_sdk_s3::Client;
use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, BucketLocationConstraint,
    BucketLoggingStatus, BucketVersioningStatus, CreateBucketConfiguration, ExpirationStatus,
    LifecycleExpiration, LifecycleRule, LifecycleRuleFilter, LoggingEnabled,
    NoncurrentVersionExpiration, ObjectOwnership, OwnershipControls, OwnershipControlsRule,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Tag, Tagging,
    VersioningConfiguration,
};
use serde_json::Value;

use super::{Action, Ctx, Known, Plan, policy};
use crate::error::{AwsResultExt as _, Error, Result};
use crate::names::SITE_TAG;

/// Prefix of S3 server access logs in the log bucket.
pub const ACCESS_LOG_PREFIX: &str = "s3-access/";
/// Prefix of CloudFront standard logs (v2) in the log bucket.
pub const CLOUDFRONT_LOG_PREFIX: &str = "cloudfront/";
const ABORT_MULTIPART_DAYS: i32 = 7;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Encryption {
    /// SSE-KMS with this key ARN (`None`: the key is created in this run) and a bucket key.
    Kms(Option<String>),
    /// SSE-S3: S3 server access logging cannot deliver to SSE-KMS buckets.
    S3,
}

/// The lifecycle rule sitewarden owns on a bucket, reduced to the values it sets.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Lifecycle {
    id: &'static str,
    expiration_days: Option<i32>,
    noncurrent_days: i32,
    abort_multipart_days: i32,
}

struct Desired<'a> {
    name: &'a str,
    encryption: Encryption,
    lifecycle: Lifecycle,
    logging: Option<(String, String)>,
    /// Written with the other aspects (log bucket) or later in `reconcile_content_policy`.
    policy: Option<Value>,
    /// `adopt` before the DNS switch: leave public access, ownership and encryption as they are.
    keep_public: bool,
}

pub async fn reconcile_log_bucket(
    ctx: &Ctx<'_>,
    _known: &mut Known,
    plan: &mut Plan,
) -> Result<()> {
    let names = ctx.names;
    let desired = Desired {
        name: &names.log_bucket,
        encryption: Encryption::S3,
        lifecycle: Lifecycle {
            id: "sitewarden-log-retention",
            expiration_days: Some(to_i32(ctx.config.logging.retention_days)),
            noncurrent_days: 1,
            abort_multipart_days: ABORT_MULTIPART_DAYS,
        },
        logging: None,
        keep_public: false,
        policy: Some(policy::render(
            policy::LOG_BUCKET_POLICY,
            &[
                ("log_bucket", Some(&names.log_bucket)),
                ("content_bucket", Some(&names.content_bucket)),
                ("account", Some(ctx.account)),
            ],
        )),
    };
    reconcile_bucket(
        ctx,
        &desired,
        plan,
        "log bucket (SSE-S3: S3 access logs cannot use SSE-KMS)",
    )
    .await
}

pub async fn reconcile_content_bucket(
    ctx: &Ctx<'_>,
    known: &mut Known,
    plan: &mut Plan,
) -> Result<()> {
    let desired = Desired {
        name: &ctx.names.content_bucket,
        encryption: Encryption::Kms(known.key_arn.clone()),
        lifecycle: Lifecycle {
            id: "sitewarden-noncurrent-versions",
            expiration_days: None,
            noncurrent_days: to_i32(ctx.config.logging.noncurrent_version_days),
            abort_multipart_days: ABORT_MULTIPART_DAYS,
        },
        logging: Some((ctx.names.log_bucket.clone(), ACCESS_LOG_PREFIX.to_owned())),
        policy: None,
        keep_public: ctx.adopt.as_ref().is_some_and(|a| a.keep_public),
    };
    reconcile_bucket(ctx, &desired, plan, "content bucket (SSE-KMS)").await
}

/// The content bucket's policy names the distribution, so it is reconciled after CloudFront.
pub async fn reconcile_content_policy(ctx: &Ctx<'_>, known: &Known, plan: &mut Plan) -> Result<()> {
    let bucket = &ctx.names.content_bucket;
    let mut desired = content_policy(bucket, known.distribution.as_ref().map(|d| d.arn.as_str()));
    if let Some(adoption) = ctx.adopt.as_ref().filter(|a| a.keep_public) {
        desired = while_public(desired, &adoption.public_statements);
    }
    let resource = format!("s3 bucket {bucket}");
    let observed = if exists(&ctx.aws.s3, bucket).await? {
        observe_policy(&ctx.aws.s3, bucket).await?
    } else {
        None
    };
    if let Some(detail) = diff_policy(observed.as_ref(), &desired) {
        ctx.change(plan, &resource, Action::Update, detail);
        if ctx.apply {
            put_policy(&ctx.aws.s3, bucket, &desired).await?;
        }
    }
    ctx.settled(plan, &resource);
    Ok(())
}

/// The policy of a bucket still served by its website endpoint during `adopt`: the public read
/// stays and the TLS-only deny waits (the website endpoint is HTTP only), the rest is in place.
fn while_public(mut desired: Value, public_statements: &[Value]) -> Value {
    if let Some(statements) = desired["Statement"].as_array_mut() {
        statements.retain(|s| s["Sid"] != "DenyInsecureTransport");
        statements.extend(public_statements.iter().cloned());
    }
    desired
}

pub fn content_policy(bucket: &str, distribution_arn: Option<&str>) -> Value {
    policy::render(
        policy::CONTENT_BUCKET_POLICY,
        &[
            ("bucket", Some(bucket)),
            ("distribution_arn", distribution_arn),
        ],
    )
}

async fn reconcile_bucket(
    ctx: &Ctx<'_>,
    desired: &Desired<'_>,
    plan: &mut Plan,
    what: &str,
) -> Result<()> {
    let s3 = &ctx.aws.s3;
    let name = desired.name;
    let resource = format!("s3 bucket {name}");
    let created = if exists(s3, name).await? {
        false
    } else {
        ctx.change(
            plan,
            &resource,
            Action::Create,
            format!(
                "create {what}: Block Public Access, ACLs disabled, versioning, lifecycle{}",
                if desired.logging.is_some() {
                    ", access logs"
                } else {
                    ""
                }
            ),
        );
        if !ctx.apply {
            return Ok(());
        }
        create(s3, name, &ctx.aws.region).await?;
        true
    };
    // A bucket created just now is covered by its `create` change; otherwise each drift is a change.
    let mut update = |detail: String| {
        if !created {
            ctx.change(plan, &resource, Action::Update, detail);
        }
    };

    if !desired.keep_public {
        if let Some(detail) =
            diff_public_access_block(observe_public_access_block(s3, name).await?.as_ref())
        {
            update(detail);
            if ctx.apply {
                put_public_access_block(s3, name).await?;
            }
        }
        if let Some(detail) = diff_ownership(observe_ownership(s3, name).await?.as_ref()) {
            update(detail);
            if ctx.apply {
                put_ownership(s3, name).await?;
            }
        }
        if let Some(detail) = diff_encryption(
            observe_encryption(s3, name).await?.as_ref(),
            &desired.encryption,
        ) {
            update(detail);
            if ctx.apply {
                put_encryption(s3, name, &desired.encryption).await?;
            }
        }
    }
    if let Some(detail) = diff_versioning(observe_versioning(s3, name).await?.as_ref()) {
        update(detail);
        if ctx.apply {
            put_versioning(s3, name).await?;
        }
    }
    if let Some(detail) = diff_lifecycle(&observe_lifecycle(s3, name).await?, &desired.lifecycle) {
        update(detail);
        if ctx.apply {
            put_lifecycle(s3, name, &desired.lifecycle).await?;
        }
    }
    if let Some(target) = &desired.logging
        && let Some(detail) = diff_logging(observe_logging(s3, name).await?.as_ref(), target)
    {
        update(detail);
        if ctx.apply {
            put_logging(s3, name, target).await?;
        }
    }
    if let Some(desired_policy) = &desired.policy
        && let Some(detail) = diff_policy(observe_policy(s3, name).await?.as_ref(), desired_policy)
    {
        update(detail);
        if ctx.apply {
            put_policy(s3, name, desired_policy).await?;
        }
    }
    if let Some(detail) = diff_tags(&observe_tags(s3, name).await?, &ctx.names.site) {
        update(detail);
        if ctx.apply {
            put_tags(s3, name, &ctx.names.site).await?;
        }
    }
    ctx.settled(plan, &resource);
    Ok(())
}

fn to_i32(days: u32) -> i32 {
    i32::try_from(days).unwrap_or(i32::MAX)
}

/// `destroy --delete-content`: empties (every version) and deletes both buckets. Without it the
/// buckets and their data stay.
pub async fn destroy(ctx: &Ctx<'_>, plan: &mut Plan, delete_content: bool) -> Result<()> {
    for bucket in [&ctx.names.content_bucket, &ctx.names.log_bucket] {
        if !exists(&ctx.aws.s3, bucket).await? {
            continue;
        }
        if ctx
            .config
            .site
            .bucket
            .as_ref()
            .is_some_and(|b| b.as_str() == bucket.as_str())
        {
            continue; // an adopted bucket is the user's: never deleted
        }
        let resource = format!("s3 bucket {bucket}");
        if !delete_content {
            ctx.printer.info(format_args!(
                "keeping {resource} and its data (pass --delete-content to delete it)"
            ));
            continue;
        }
        ctx.change(
            plan,
            &resource,
            Action::Delete,
            "delete every object version and the bucket",
        );
        if ctx.apply {
            empty_and_delete(&ctx.aws.s3, bucket).await?;
        }
    }
    Ok(())
}

async fn empty_and_delete(s3: &Client, bucket: &str) -> Result<()> {
    use aws_sdk_s3::types::{Delete, ObjectIdentifier};
    let resource = format!("bucket `{bucket}`");
    let mut batch: Vec<ObjectIdentifier> = Vec::new();
    let flush = |batch: Vec<ObjectIdentifier>| async {
        if batch.is_empty() {
            return Ok::<(), Error>(());
        }
        s3.delete_objects()
            .bucket(bucket)
            .delete(
                Delete::builder()
                    .set_objects(Some(batch))
                    .quiet(true)
                    .build()?,
            )
            .send()
            .await
            .op("DeleteObjects", &resource)?;
        Ok(())
    };
    // ListObjectVersions has no SDK paginator: follow the key/version markers.
    let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
    loop {
        let page = s3
            .list_object_versions()
            .bucket(bucket)
            .set_key_marker(key_marker.take())
            .set_version_id_marker(version_marker.take())
            .send()
            .await
            .op("ListObjectVersions", &resource)?;
        let versions = page.versions().iter().map(|v| (v.key(), v.version_id()));
        let markers = page
            .delete_markers()
            .iter()
            .map(|m| (m.key(), m.version_id()));
        for (key, version) in versions.chain(markers) {
            let Some(key) = key else { continue };
            batch.push(
                ObjectIdentifier::builder()
                    .key(key)
                    .set_version_id(version.map(str::to_owned))
                    .build()?,
            );
            if batch.len() == 1000 {
                flush(std::mem::take(&mut batch)).await?;
            }
        }
        if page.is_truncated() != Some(true) {
            break;
        }
        key_marker = page.next_key_marker;
        version_marker = page.next_version_id_marker;
    }
    flush(batch).await?;
    s3.delete_bucket()
        .bucket(bucket)
        .send()
        .await
        .op("DeleteBucket", &resource)?;
    Ok(())
}

// ---- existence -------------------------------------------------------------------------------

/// Whether the bucket exists and is ours. A bucket owned by another account is an error.
pub async fn exists(s3: &Client, bucket: &str) -> Result<bool> {
    let resource = format!("bucket `{bucket}`");
    match s3.head_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(true),
        Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(false),
        Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 403) => Err(Error::Aws {
            operation: "HeadBucket",
            resource: resource.clone(),
            code: "AccessDenied".to_owned(),
            message: "the bucket exists but this account cannot use it".to_owned(),
            hint: Some(format!(
                "bucket names are global: {resource} probably belongs to another account; set \
                 `site.bucket` or choose another `site.name`"
            )),
        }),
        Err(e) => Err(Error::aws("HeadBucket", resource, e)),
    }
}

async fn create(s3: &Client, bucket: &str, region: &str) -> Result<()> {
    let mut request = s3
        .create_bucket()
        .bucket(bucket)
        .object_ownership(ObjectOwnership::BucketOwnerEnforced);
    // us-east-1 is the one region that must not be named as a location constraint.
    if region != crate::aws::US_EAST_1 {
        request = request.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        );
    }
    request
        .send()
        .await
        .op("CreateBucket", &format!("bucket `{bucket}`"))?;
    Ok(())
}

// ---- Block Public Access -----------------------------------------------------------------------

pub async fn observe_public_access_block(
    s3: &Client,
    bucket: &str,
) -> Result<Option<PublicAccessBlockConfiguration>> {
    Ok(s3
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await
        .or_missing(
            &["NoSuchPublicAccessBlockConfiguration"],
            "GetPublicAccessBlock",
            &format!("bucket `{bucket}`"),
        )?
        .and_then(|o| o.public_access_block_configuration))
}

pub fn diff_public_access_block(
    observed: Option<&PublicAccessBlockConfiguration>,
) -> Option<String> {
    let flags = observed.map(|c| {
        [
            ("BlockPublicAcls", c.block_public_acls()),
            ("IgnorePublicAcls", c.ignore_public_acls()),
            ("BlockPublicPolicy", c.block_public_policy()),
            ("RestrictPublicBuckets", c.restrict_public_buckets()),
        ]
    });
    let off: Vec<&str> = match &flags {
        None => vec!["all four flags"],
        Some(flags) => flags
            .iter()
            .filter(|(_, on)| *on != Some(true))
            .map(|(n, _)| *n)
            .collect(),
    };
    (!off.is_empty()).then(|| format!("turn on Block Public Access ({})", off.join(", ")))
}

async fn put_public_access_block(s3: &Client, bucket: &str) -> Result<()> {
    s3.put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .op("PutPublicAccessBlock", &format!("bucket `{bucket}`"))?;
    Ok(())
}

// ---- Object ownership --------------------------------------------------------------------------

async fn observe_ownership(s3: &Client, bucket: &str) -> Result<Option<ObjectOwnership>> {
    Ok(s3
        .get_bucket_ownership_controls()
        .bucket(bucket)
        .send()
        .await
        .or_missing(
            &["OwnershipControlsNotFoundError"],
            "GetBucketOwnershipControls",
            &format!("bucket `{bucket}`"),
        )?
        .and_then(|o| o.ownership_controls)
        .and_then(|c| c.rules.into_iter().next())
        .map(|r| r.object_ownership))
}

fn diff_ownership(observed: Option<&ObjectOwnership>) -> Option<String> {
    match observed {
        Some(ObjectOwnership::BucketOwnerEnforced) => None,
        Some(other) => Some(format!(
            "disable ACLs (object ownership {} → BucketOwnerEnforced)",
            other.as_str()
        )),
        None => Some("disable ACLs (object ownership BucketOwnerEnforced)".to_owned()),
    }
}

/// Disables ACLs. S3 refuses that (`InvalidBucketAclWithObjectOwnership`) while the bucket ACL
/// grants anyone but the owner, as a public-read website bucket's does: such an ACL is reset to
/// private first (Block Public Access already ignores it; object ACLs stop counting once disabled).
async fn put_ownership(s3: &Client, bucket: &str) -> Result<()> {
    let resource = format!("bucket `{bucket}`");
    let acl = s3
        .get_bucket_acl()
        .bucket(bucket)
        .send()
        .await
        .op("GetBucketAcl", &resource)?;
    let owner = acl.owner.as_ref().and_then(|o| o.id.as_deref());
    let beyond_owner = acl.grants().iter().any(|g| {
        g.grantee.as_ref().and_then(|p| p.id.as_deref()) != owner
            || g.permission != Some(aws_sdk_s3::types::Permission::FullControl)
    });
    if beyond_owner {
        s3.put_bucket_acl()
            .bucket(bucket)
            .acl(aws_sdk_s3::types::BucketCannedAcl::Private)
            .send()
            .await
            .op("PutBucketAcl", &resource)?;
    }
    s3.put_bucket_ownership_controls()
        .bucket(bucket)
        .ownership_controls(
            OwnershipControls::builder()
                .rules(
                    OwnershipControlsRule::builder()
                        .object_ownership(ObjectOwnership::BucketOwnerEnforced)
                        .build()?,
                )
                .build()?,
        )
        .send()
        .await
        .op("PutBucketOwnershipControls", &format!("bucket `{bucket}`"))?;
    Ok(())
}

// ---- Default encryption ------------------------------------------------------------------------

#[derive(Debug)]
struct ObservedEncryption {
    algorithm: ServerSideEncryption,
    key: Option<String>,
    bucket_key: bool,
}

async fn observe_encryption(s3: &Client, bucket: &str) -> Result<Option<ObservedEncryption>> {
    let out = s3
        .get_bucket_encryption()
        .bucket(bucket)
        .send()
        .await
        .or_missing(
            &["ServerSideEncryptionConfigurationNotFoundError"],
            "GetBucketEncryption",
            &format!("bucket `{bucket}`"),
        )?;
    Ok(out
        .and_then(|o| o.server_side_encryption_configuration)
        .and_then(|c| c.rules.into_iter().next())
        .and_then(|rule| {
            let bucket_key = rule.bucket_key_enabled == Some(true);
            rule.apply_server_side_encryption_by_default
                .map(|d| ObservedEncryption {
                    algorithm: d.sse_algorithm,
                    key: d.kms_master_key_id,
                    bucket_key,
                })
        }))
}

fn diff_encryption(observed: Option<&ObservedEncryption>, desired: &Encryption) -> Option<String> {
    match desired {
        Encryption::Kms(key) => {
            let key_text = key.as_deref().unwrap_or("the site's new key");
            let ok = observed.is_some_and(|o| {
                o.algorithm == ServerSideEncryption::AwsKms
                    && o.bucket_key
                    && key.is_some()
                    && o.key == *key
            });
            (!ok).then(|| format!("default encryption SSE-KMS with {key_text} and bucket key"))
        }
        Encryption::S3 => {
            let ok = observed.is_some_and(|o| o.algorithm == ServerSideEncryption::Aes256);
            (!ok).then(|| "default encryption SSE-S3".to_owned())
        }
    }
}

async fn put_encryption(s3: &Client, bucket: &str, desired: &Encryption) -> Result<()> {
    let by_default = match desired {
        Encryption::Kms(key) => ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::AwsKms)
            .set_kms_master_key_id(key.clone())
            .build()?,
        Encryption::S3 => ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::Aes256)
            .build()?,
    };
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(by_default)
        .bucket_key_enabled(matches!(desired, Encryption::Kms(_)))
        .build();
    s3.put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(rule)
                .build()?,
        )
        .send()
        .await
        .op("PutBucketEncryption", &format!("bucket `{bucket}`"))?;
    Ok(())
}

// ---- Versioning --------------------------------------------------------------------------------

async fn observe_versioning(s3: &Client, bucket: &str) -> Result<Option<BucketVersioningStatus>> {
    Ok(s3
        .get_bucket_versioning()
        .bucket(bucket)
        .send()
        .await
        .op("GetBucketVersioning", &format!("bucket `{bucket}`"))?
        .status)
}

fn diff_versioning(observed: Option<&BucketVersioningStatus>) -> Option<String> {
    match observed {
        Some(BucketVersioningStatus::Enabled) => None,
        Some(other) => Some(format!("versioning {} → Enabled", other.as_str())),
        None => Some("enable versioning".to_owned()),
    }
}

async fn put_versioning(s3: &Client, bucket: &str) -> Result<()> {
    s3.put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .op("PutBucketVersioning", &format!("bucket `{bucket}`"))?;
    Ok(())
}

// ---- Lifecycle ---------------------------------------------------------------------------------

async fn observe_lifecycle(s3: &Client, bucket: &str) -> Result<Vec<LifecycleRule>> {
    Ok(s3
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await
        .or_missing(
            &["NoSuchLifecycleConfiguration"],
            "GetBucketLifecycleConfiguration",
            &format!("bucket `{bucket}`"),
        )?
        .map(|o| o.rules.unwrap_or_default())
        .unwrap_or_default())
}

fn summarize_rule(rule: &LifecycleRule, id: &'static str) -> Option<Lifecycle> {
    if rule.status != ExpirationStatus::Enabled {
        return None;
    }
    Some(Lifecycle {
        id,
        expiration_days: rule.expiration.as_ref().and_then(|e| e.days),
        noncurrent_days: rule
            .noncurrent_version_expiration
            .as_ref()?
            .noncurrent_days?,
        abort_multipart_days: rule
            .abort_incomplete_multipart_upload
            .as_ref()?
            .days_after_initiation?,
    })
}

fn diff_lifecycle(observed: &[LifecycleRule], desired: &Lifecycle) -> Option<String> {
    let current = observed
        .iter()
        .find(|r| r.id.as_deref() == Some(desired.id))
        .and_then(|r| summarize_rule(r, desired.id));
    if current.as_ref() == Some(desired) {
        return None;
    }
    let mut parts = Vec::new();
    if let Some(days) = desired.expiration_days {
        parts.push(format!("expire objects after {days} days"));
    }
    parts.push(format!(
        "expire earlier versions after {} days",
        desired.noncurrent_days
    ));
    parts.push(format!(
        "abort incomplete uploads after {} days",
        desired.abort_multipart_days
    ));
    Some(format!(
        "lifecycle rule `{}`: {}",
        desired.id,
        parts.join(", ")
    ))
}

async fn put_lifecycle(s3: &Client, bucket: &str, desired: &Lifecycle) -> Result<()> {
    let resource = format!("bucket `{bucket}`");
    // Keep the bucket's other rules: sitewarden owns only its own rule id.
    let mut rules: Vec<LifecycleRule> = observe_lifecycle(s3, bucket)
        .await?
        .into_iter()
        .filter(|r| r.id.as_deref() != Some(desired.id))
        .collect();
    let mut rule = LifecycleRule::builder()
        .id(desired.id)
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .noncurrent_version_expiration(
            NoncurrentVersionExpiration::builder()
                .noncurrent_days(desired.noncurrent_days)
                .build(),
        )
        .abort_incomplete_multipart_upload(
            AbortIncompleteMultipartUpload::builder()
                .days_after_initiation(desired.abort_multipart_days)
                .build(),
        );
    if let Some(days) = desired.expiration_days {
        rule = rule.expiration(LifecycleExpiration::builder().days(days).build());
    }
    rules.push(rule.build()?);
    s3.put_bucket_lifecycle_configuration()
        .bucket(bucket)
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .set_rules(Some(rules))
                .build()?,
        )
        .send()
        .await
        .op("PutBucketLifecycleConfiguration", &resource)?;
    Ok(())
}

// ---- Server access logging ---------------------------------------------------------------------

async fn observe_logging(s3: &Client, bucket: &str) -> Result<Option<(String, String)>> {
    Ok(s3
        .get_bucket_logging()
        .bucket(bucket)
        .send()
        .await
        .op("GetBucketLogging", &format!("bucket `{bucket}`"))?
        .logging_enabled
        .map(|l| (l.target_bucket, l.target_prefix)))
}

fn diff_logging(observed: Option<&(String, String)>, desired: &(String, String)) -> Option<String> {
    (observed != Some(desired))
        .then(|| format!("server access logs to s3://{}/{}", desired.0, desired.1))
}

async fn put_logging(s3: &Client, bucket: &str, (target, prefix): &(String, String)) -> Result<()> {
    s3.put_bucket_logging()
        .bucket(bucket)
        .bucket_logging_status(
            BucketLoggingStatus::builder()
                .logging_enabled(
                    LoggingEnabled::builder()
                        .target_bucket(target)
                        .target_prefix(prefix)
                        .build()?,
                )
                .build(),
        )
        .send()
        .await
        .op("PutBucketLogging", &format!("bucket `{bucket}`"))?;
    Ok(())
}

// ---- Bucket policy -----------------------------------------------------------------------------

pub async fn observe_policy(s3: &Client, bucket: &str) -> Result<Option<Value>> {
    Ok(s3
        .get_bucket_policy()
        .bucket(bucket)
        .send()
        .await
        .or_missing(
            &["NoSuchBucketPolicy"],
            "GetBucketPolicy",
            &format!("bucket `{bucket}`"),
        )?
        .and_then(|o| o.policy)
        .map(|text| policy::parse(&text).unwrap_or(Value::Null)))
}

fn diff_policy(observed: Option<&Value>, desired: &Value) -> Option<String> {
    if observed.is_some_and(|o| policy::same(o, desired)) {
        return None;
    }
    let sids: Vec<&str> = desired["Statement"]
        .as_array()
        .map(|s| s.iter().filter_map(|s| s["Sid"].as_str()).collect())
        .unwrap_or_default();
    Some(format!("bucket policy: {}", sids.join(", ")))
}

async fn put_policy(s3: &Client, bucket: &str, desired: &Value) -> Result<()> {
    s3.put_bucket_policy()
        .bucket(bucket)
        .policy(desired.to_string())
        .send()
        .await
        .op("PutBucketPolicy", &format!("bucket `{bucket}`"))?;
    Ok(())
}

// ---- Tags --------------------------------------------------------------------------------------

async fn observe_tags(s3: &Client, bucket: &str) -> Result<Vec<Tag>> {
    Ok(s3
        .get_bucket_tagging()
        .bucket(bucket)
        .send()
        .await
        .or_missing(
            &["NoSuchTagSet", "NoSuchTagSetError"],
            "GetBucketTagging",
            &format!("bucket `{bucket}`"),
        )?
        .map(|o| o.tag_set)
        .unwrap_or_default())
}

fn diff_tags(observed: &[Tag], site: &str) -> Option<String> {
    let ok = observed
        .iter()
        .any(|t| t.key == SITE_TAG && t.value == site);
    (!ok).then(|| format!("tag {SITE_TAG}={site}"))
}

async fn put_tags(s3: &Client, bucket: &str, site: &str) -> Result<()> {
    // Keep the bucket's other tags.
    let mut tags: Vec<Tag> = observe_tags(s3, bucket)
        .await?
        .into_iter()
        .filter(|t| t.key != SITE_TAG)
        .collect();
    tags.push(Tag::builder().key(SITE_TAG).value(site).build()?);
    s3.put_bucket_tagging()
        .bucket(bucket)
        .tagging(Tagging::builder().set_tag_set(Some(tags)).build()?)
        .send()
        .await
        .op("PutBucketTagging", &format!("bucket `{bucket}`"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_public_access_names_the_flags_that_are_off() {
        let partly = PublicAccessBlockConfiguration::builder()
            .block_public_acls(true)
            .ignore_public_acls(true)
            .block_public_policy(false)
            .restrict_public_buckets(true)
            .build();
        assert_eq!(
            diff_public_access_block(Some(&partly)).unwrap(),
            "turn on Block Public Access (BlockPublicPolicy)"
        );
        assert_eq!(
            diff_public_access_block(None).unwrap(),
            "turn on Block Public Access (all four flags)"
        );
        let all = PublicAccessBlockConfiguration::builder()
            .block_public_acls(true)
            .ignore_public_acls(true)
            .block_public_policy(true)
            .restrict_public_buckets(true)
            .build();
        assert_eq!(diff_public_access_block(Some(&all)), None);
    }

    #[test]
    fn kms_encryption_must_use_the_site_key_and_bucket_key() {
        let key = Some("arn:aws:kms:eu-west-1:1:key/k".to_owned());
        let good = ObservedEncryption {
            algorithm: ServerSideEncryption::AwsKms,
            key: key.clone(),
            bucket_key: true,
        };
        assert_eq!(
            diff_encryption(Some(&good), &Encryption::Kms(key.clone())),
            None
        );
        let aws_managed = ObservedEncryption {
            algorithm: ServerSideEncryption::AwsKms,
            key: None,
            bucket_key: true,
        };
        assert!(diff_encryption(Some(&aws_managed), &Encryption::Kms(key.clone())).is_some());
        let no_bucket_key = ObservedEncryption {
            bucket_key: false,
            ..good
        };
        assert!(diff_encryption(Some(&no_bucket_key), &Encryption::Kms(key)).is_some());
        let sse_s3 = ObservedEncryption {
            algorithm: ServerSideEncryption::Aes256,
            key: None,
            bucket_key: false,
        };
        assert_eq!(diff_encryption(Some(&sse_s3), &Encryption::S3), None);
    }

    #[test]
    fn lifecycle_compares_only_the_owned_rule() {
        let desired = Lifecycle {
            id: "r",
            expiration_days: None,
            noncurrent_days: 90,
            abort_multipart_days: 7,
        };
        let rule = |noncurrent: i32| {
            LifecycleRule::builder()
                .id("r")
                .status(ExpirationStatus::Enabled)
                .noncurrent_version_expiration(
                    NoncurrentVersionExpiration::builder()
                        .noncurrent_days(noncurrent)
                        .build(),
                )
                .abort_incomplete_multipart_upload(
                    AbortIncompleteMultipartUpload::builder()
                        .days_after_initiation(7)
                        .build(),
                )
                .build()
                .unwrap()
        };
        let other = LifecycleRule::builder()
            .id("theirs")
            .status(ExpirationStatus::Disabled)
            .build()
            .unwrap();
        assert_eq!(diff_lifecycle(&[other.clone(), rule(90)], &desired), None);
        assert_eq!(
            diff_lifecycle(&[other, rule(30)], &desired).unwrap(),
            "lifecycle rule `r`: expire earlier versions after 90 days, abort incomplete uploads after 7 days"
        );
    }

    #[test]
    fn an_adopted_bucket_keeps_its_public_read_until_the_switch() {
        let public = serde_json::json!({
            "Sid": "PublicReadGetObject", "Effect": "Allow", "Principal": "*",
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::www.example.com/*",
        });
        let arn = "arn:aws:cloudfront::123456789012:distribution/E1";
        let policy = while_public(
            content_policy("www.example.com", Some(arn)),
            std::slice::from_ref(&public),
        );
        let sids: Vec<&str> = policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Sid"].as_str().unwrap())
            .collect();
        // The website endpoint is HTTP only: the TLS-only deny would take the site down.
        assert_eq!(
            sids,
            [
                "AllowCloudFrontRead",
                "DenyCloudFrontPrivateState",
                "PublicReadGetObject"
            ]
        );
    }

    #[test]
    fn versioning_suspended_is_drift() {
        assert_eq!(
            diff_versioning(Some(&BucketVersioningStatus::Suspended)).unwrap(),
            "versioning Suspended → Enabled"
        );
        assert_eq!(
            diff_versioning(Some(&BucketVersioningStatus::Enabled)),
            None
        );
    }
}
