//! An S3 bucket as it is: where it is and whether this account may use it, then one finder per
//! property, each one request with a typed result. Provision diffs these values, the audit grades
//! them and adopt decides from them, so one property is read (and "not configured" recognised)
//! the same way everywhere. A property that is not configured is `None` or empty, not an error.

use aws_sdk_s3::Client;
use aws_sdk_s3::types::{
    BucketVersioningStatus, Grant, LifecycleRule, ObjectOwnership, Permission,
    ServerSideEncryption, Tag, WebsiteConfiguration,
};
use serde_json::Value;

use crate::aws::Aws;
use crate::error::{AwsResultExt as _, Error, Result, code};
use crate::names::SITE_TAG;

/// How every finder names the bucket in its errors.
fn resource(bucket: &str) -> String {
    format!("bucket `{bucket}`")
}

// ---- location ----------------------------------------------------------------------------------

/// What `HeadBucket` says about a bucket name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// 404: no bucket of that name, in any account.
    Missing,
    /// The bucket answers (200, or a redirect to its region). `region`: the region S3 names for
    /// it, `None` when it names none (the client's region, then).
    Ours { region: Option<String> },
    /// A 403: with `x-amz-expected-bucket-owner` (sent once the account is known, see
    /// `ExpectedBucketOwner` in `aws.rs`) a bucket of another account answers so; so does one
    /// these credentials may not `s3:ListBucket`. `HeadBucket` has no body to tell the two apart.
    Refused { region: Option<String> },
}

impl Location {
    /// The region S3 named for the bucket, if it exists.
    pub fn region(&self) -> Option<&str> {
        match self {
            Location::Missing => None,
            Location::Ours { region } | Location::Refused { region } => region.as_deref(),
        }
    }

    /// The error for a [`Location::Refused`] bucket that the caller must use; `what_to_do` ends
    /// the hint.
    pub fn refused(bucket: &str, what_to_do: &str) -> Error {
        let resource = resource(bucket);
        Error::Aws {
            operation: "HeadBucket",
            code: code::ACCESS_DENIED.to_owned(),
            message: "the bucket exists but this account cannot use it".to_owned(),
            hint: Some(format!(
                "bucket names are global: {resource} probably belongs to another account; \
                 {what_to_do}"
            )),
            resource,
        }
    }
}

/// One `HeadBucket`. Its answer names the bucket's region also on a redirect or a denial.
pub async fn locate(aws: &Aws, bucket: &str) -> Result<Location> {
    match aws.s3.head_bucket().bucket(bucket).send().await {
        Ok(out) => Ok(Location::Ours {
            region: out.bucket_region,
        }),
        Err(e) => {
            let raw = e.raw_response();
            let region = raw
                .and_then(|r| r.headers().get("x-amz-bucket-region"))
                .map(str::to_owned);
            match raw.map(|r| r.status().as_u16()) {
                Some(404) => Ok(Location::Missing),
                Some(301 | 400) => Ok(Location::Ours { region }),
                Some(403) => Ok(Location::Refused { region }),
                _ => Err(Error::aws("HeadBucket", resource(bucket), e)),
            }
        }
    }
}

/// A client for a bucket in `region` (the site's client when that is its region, or unknown),
/// with the same interceptors, so its requests are counted and checked like the others.
pub fn client_in(aws: &Aws, region: Option<&str>) -> Client {
    match region.filter(|r| *r != aws.region) {
        Some(region) => Client::from_conf(
            aws.s3
                .config()
                .to_builder()
                .region(aws_sdk_s3::config::Region::new(region.to_owned()))
                .build(),
        ),
        None => aws.s3.clone(),
    }
}

// ---- Block Public Access -----------------------------------------------------------------------

/// The bucket's Block Public Access flags; a flag S3 leaves out is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(clippy::struct_excessive_bools)] // the four flags S3 has
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    /// The names of the flags that are off, in S3's order.
    pub fn flags_off(&self) -> Vec<&'static str> {
        [
            ("BlockPublicAcls", self.block_public_acls),
            ("IgnorePublicAcls", self.ignore_public_acls),
            ("BlockPublicPolicy", self.block_public_policy),
            ("RestrictPublicBuckets", self.restrict_public_buckets),
        ]
        .into_iter()
        .filter(|(_, on)| !on)
        .map(|(name, _)| name)
        .collect()
    }

    /// Whether a configuration is there and has all four flags on.
    pub fn all_on(config: Option<&PublicAccessBlock>) -> bool {
        config.is_some_and(|c| c.flags_off().is_empty())
    }
}

/// `None`: the bucket has no Block Public Access configuration.
pub async fn public_access_block(s3: &Client, bucket: &str) -> Result<Option<PublicAccessBlock>> {
    Ok(s3
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await
        .or_missing(
            &[code::NO_SUCH_PUBLIC_ACCESS_BLOCK_CONFIGURATION],
            "GetPublicAccessBlock",
            &resource(bucket),
        )?
        .and_then(|o| o.public_access_block_configuration)
        .map(|c| PublicAccessBlock {
            block_public_acls: c.block_public_acls == Some(true),
            ignore_public_acls: c.ignore_public_acls == Some(true),
            block_public_policy: c.block_public_policy == Some(true),
            restrict_public_buckets: c.restrict_public_buckets == Some(true),
        }))
}

// ---- ownership and ACL -------------------------------------------------------------------------

/// The object ownership of the bucket's first ownership rule; `None`: no ownership controls
/// (ACLs enabled).
pub async fn ownership(s3: &Client, bucket: &str) -> Result<Option<ObjectOwnership>> {
    Ok(s3
        .get_bucket_ownership_controls()
        .bucket(bucket)
        .send()
        .await
        .or_missing(
            &[code::OWNERSHIP_CONTROLS_NOT_FOUND_ERROR],
            "GetBucketOwnershipControls",
            &resource(bucket),
        )?
        .and_then(|o| o.ownership_controls)
        .and_then(|c| c.rules.into_iter().next())
        .map(|r| r.object_ownership))
}

/// The bucket ACL: its owner's canonical id and its grants.
#[derive(Debug, Clone, Default)]
pub struct Acl {
    pub owner: Option<String>,
    pub grants: Vec<Grant>,
}

impl Acl {
    /// Whether a grant gives anyone but the owner anything, or the owner less than full control
    /// (anything a canned `private` ACL would not have).
    pub fn beyond_owner(&self) -> bool {
        self.grants.iter().any(|g| {
            g.grantee.as_ref().and_then(|p| p.id.as_deref()) != self.owner.as_deref()
                || g.permission != Some(Permission::FullControl)
        })
    }
}

pub async fn acl(s3: &Client, bucket: &str) -> Result<Acl> {
    let out = s3
        .get_bucket_acl()
        .bucket(bucket)
        .send()
        .await
        .op("GetBucketAcl", &resource(bucket))?;
    Ok(Acl {
        owner: out.owner.and_then(|o| o.id),
        grants: out.grants.unwrap_or_default(),
    })
}

// ---- encryption --------------------------------------------------------------------------------

/// The default encryption of the bucket's first encryption rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encryption {
    pub algorithm: ServerSideEncryption,
    /// The KMS key as configured (id, ARN or alias), if any.
    pub key: Option<String>,
    pub bucket_key: bool,
}

impl Encryption {
    /// The key of SSE-KMS when it is a customer-managed key, not the AWS-managed `aws/s3`.
    pub fn customer_key(&self) -> Option<&str> {
        let key = self.key.as_deref()?;
        let kms = matches!(
            self.algorithm,
            ServerSideEncryption::AwsKms | ServerSideEncryption::AwsKmsDsse
        );
        (kms && !key.contains("alias/aws/")).then_some(key)
    }
}

/// `None`: no default encryption rule (or a first rule without a default).
pub async fn encryption(s3: &Client, bucket: &str) -> Result<Option<Encryption>> {
    Ok(s3
        .get_bucket_encryption()
        .bucket(bucket)
        .send()
        .await
        .or_missing(
            &[code::SERVER_SIDE_ENCRYPTION_CONFIGURATION_NOT_FOUND_ERROR],
            "GetBucketEncryption",
            &resource(bucket),
        )?
        .and_then(|o| o.server_side_encryption_configuration)
        .and_then(|c| c.rules.into_iter().next())
        .and_then(|rule| {
            let bucket_key = rule.bucket_key_enabled == Some(true);
            rule.apply_server_side_encryption_by_default
                .map(|d| Encryption {
                    algorithm: d.sse_algorithm,
                    key: d.kms_master_key_id,
                    bucket_key,
                })
        }))
}

// ---- versions, lifecycle, logging --------------------------------------------------------------

/// `None`: versioning was never enabled.
pub async fn versioning(s3: &Client, bucket: &str) -> Result<Option<BucketVersioningStatus>> {
    Ok(s3
        .get_bucket_versioning()
        .bucket(bucket)
        .send()
        .await
        .op("GetBucketVersioning", &resource(bucket))?
        .status)
}

/// Every lifecycle rule, enabled or not; empty when the bucket has none.
pub async fn lifecycle(s3: &Client, bucket: &str) -> Result<Vec<LifecycleRule>> {
    Ok(s3
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await
        .or_missing(
            &[code::NO_SUCH_LIFECYCLE_CONFIGURATION],
            "GetBucketLifecycleConfiguration",
            &resource(bucket),
        )?
        .and_then(|o| o.rules)
        .unwrap_or_default())
}

/// Where the bucket's server access logs go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogTarget {
    pub bucket: String,
    pub prefix: String,
}

/// `None`: server access logging is off.
pub async fn logging(s3: &Client, bucket: &str) -> Result<Option<LogTarget>> {
    Ok(s3
        .get_bucket_logging()
        .bucket(bucket)
        .send()
        .await
        .op("GetBucketLogging", &resource(bucket))?
        .logging_enabled
        .map(|l| LogTarget {
            bucket: l.target_bucket,
            prefix: l.target_prefix,
        }))
}

// ---- policy ------------------------------------------------------------------------------------

/// The bucket policy, parsed with [`crate::policy::parse`]; `None`: no policy. A policy that does
/// not parse is `Value::Null`: it matches no desired policy and grants nothing an audit can see.
pub async fn policy(s3: &Client, bucket: &str) -> Result<Option<Value>> {
    Ok(s3
        .get_bucket_policy()
        .bucket(bucket)
        .send()
        .await
        .or_missing(
            &[code::NO_SUCH_BUCKET_POLICY],
            "GetBucketPolicy",
            &resource(bucket),
        )?
        .and_then(|o| o.policy)
        .map(|text| parse_policy(&text)))
}

fn parse_policy(text: &str) -> Value {
    crate::policy::parse(text).unwrap_or(Value::Null)
}

/// Whether S3 itself rates the policy public; `None` without a policy (or a verdict).
pub async fn policy_status(s3: &Client, bucket: &str) -> Result<Option<bool>> {
    Ok(s3
        .get_bucket_policy_status()
        .bucket(bucket)
        .send()
        .await
        .or_missing(
            &[code::NO_SUCH_BUCKET_POLICY],
            "GetBucketPolicyStatus",
            &resource(bucket),
        )?
        .and_then(|o| o.policy_status)
        .and_then(|s| s.is_public))
}

// ---- tags and website --------------------------------------------------------------------------

/// The bucket's tags; empty when it has none.
pub async fn tags(s3: &Client, bucket: &str) -> Result<Vec<Tag>> {
    Ok(s3
        .get_bucket_tagging()
        .bucket(bucket)
        .send()
        .await
        .or_missing(
            &[code::NO_SUCH_TAG_SET, code::NO_SUCH_TAG_SET_ERROR],
            "GetBucketTagging",
            &resource(bucket),
        )?
        .map(|o| o.tag_set)
        .unwrap_or_default())
}

/// The value of the `sitewarden:site` tag among `tags`.
pub fn site_tag(tags: &[Tag]) -> Option<&str> {
    tags.iter()
        .find(|t| t.key == SITE_TAG)
        .map(|t| t.value.as_str())
}

/// The static website hosting configuration; `None`: website hosting is off.
pub async fn website(s3: &Client, bucket: &str) -> Result<Option<WebsiteConfiguration>> {
    Ok(s3
        .get_bucket_website()
        .bucket(bucket)
        .send()
        .await
        .or_missing(
            &[code::NO_SUCH_WEBSITE_CONFIGURATION],
            "GetBucketWebsite",
            &resource(bucket),
        )?
        .map(|o| {
            WebsiteConfiguration::builder()
                .set_index_document(o.index_document)
                .set_error_document(o.error_document)
                .set_redirect_all_requests_to(o.redirect_all_requests_to)
                .set_routing_rules(o.routing_rules)
                .build()
        }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::types::{Grantee, Type};

    #[test]
    fn flags_off_names_each_flag_that_is_off_in_order() {
        let partly = PublicAccessBlock {
            block_public_acls: true,
            ignore_public_acls: false,
            block_public_policy: false,
            restrict_public_buckets: true,
        };
        assert_eq!(
            partly.flags_off(),
            ["IgnorePublicAcls", "BlockPublicPolicy"]
        );
        assert_eq!(
            PublicAccessBlock::default().flags_off(),
            [
                "BlockPublicAcls",
                "IgnorePublicAcls",
                "BlockPublicPolicy",
                "RestrictPublicBuckets"
            ]
        );
        assert!(!PublicAccessBlock::all_on(Some(&partly)));
        assert!(
            !PublicAccessBlock::all_on(None),
            "no configuration blocks nothing"
        );
        let all = PublicAccessBlock {
            block_public_acls: true,
            ignore_public_acls: true,
            block_public_policy: true,
            restrict_public_buckets: true,
        };
        assert!(all.flags_off().is_empty());
        assert!(PublicAccessBlock::all_on(Some(&all)));
    }

    #[test]
    fn customer_key_excludes_the_aws_managed_key_and_sse_s3() {
        let key = "arn:aws:kms:eu-west-1:123456789012:key/k";
        let kms = |key: Option<&str>| Encryption {
            algorithm: ServerSideEncryption::AwsKms,
            key: key.map(str::to_owned),
            bucket_key: true,
        };
        assert_eq!(kms(Some(key)).customer_key(), Some(key));
        assert_eq!(kms(Some("alias/aws/s3")).customer_key(), None);
        assert_eq!(kms(None).customer_key(), None);
        let dsse = Encryption {
            algorithm: ServerSideEncryption::AwsKmsDsse,
            ..kms(Some(key))
        };
        assert_eq!(dsse.customer_key(), Some(key));
        let sse_s3 = Encryption {
            algorithm: ServerSideEncryption::Aes256,
            ..kms(Some(key))
        };
        assert_eq!(sse_s3.customer_key(), None);
    }

    fn grant(id: &str, permission: Permission) -> Grant {
        Grant::builder()
            .grantee(
                Grantee::builder()
                    .r#type(Type::CanonicalUser)
                    .id(id)
                    .build()
                    .unwrap(),
            )
            .permission(permission)
            .build()
    }

    #[test]
    fn an_acl_beyond_the_owner_is_anything_but_owner_full_control() {
        let owner = |grants| Acl {
            owner: Some("me".to_owned()),
            grants,
        };
        assert!(!owner(vec![grant("me", Permission::FullControl)]).beyond_owner());
        assert!(!owner(Vec::new()).beyond_owner());
        assert!(owner(vec![grant("me", Permission::Read)]).beyond_owner());
        assert!(
            owner(vec![
                grant("me", Permission::FullControl),
                grant("them", Permission::Read)
            ])
            .beyond_owner()
        );
    }

    #[test]
    fn site_tag_reads_only_the_sitewarden_key() {
        let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().unwrap();
        assert_eq!(
            site_tag(&[tag("team", "web"), tag(SITE_TAG, "docs")]),
            Some("docs")
        );
        assert_eq!(site_tag(&[tag("team", "web")]), None);
    }

    #[test]
    fn a_policy_that_does_not_parse_is_null() {
        let policy = parse_policy(r#"{"Statement": [{"Sid": "A", "Effect": "Allow"}]}"#);
        assert_eq!(policy["Statement"][0]["Sid"], "A");
        assert_eq!(parse_policy("{not json"), Value::Null);
    }

    #[test]
    fn a_refused_bucket_says_who_probably_owns_it() {
        let error = Location::refused("docs-site-1", "set `site.bucket`");
        assert_eq!(
            error.to_string(),
            "HeadBucket failed for bucket `docs-site-1`: AccessDenied: the bucket exists but this \
             account cannot use it"
        );
        assert_eq!(
            error.hint().unwrap(),
            "bucket names are global: bucket `docs-site-1` probably belongs to another account; \
             set `site.bucket`"
        );
        assert_eq!(
            Location::Refused {
                region: Some("eu-west-1".to_owned())
            }
            .region(),
            Some("eu-west-1")
        );
        assert_eq!(Location::Missing.region(), None);
    }
}
