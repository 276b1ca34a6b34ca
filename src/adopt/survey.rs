//! What the bucket and its DNS look like before a step changes them: how the site is served today
//! (website configuration, public read, Block Public Access), the bucket's region and objects, and
//! the Route53 records that still point at the website endpoint.

use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::types::WebsiteConfiguration;
use serde_json::Value;

use crate::aws::Aws;
use crate::config::{BucketName, DomainName};
use crate::error::{Error, Result};
use crate::observe::bucket::{self as observe, Location, PublicAccessBlock};
use crate::provision::{self, Ctx};

/// The TTL resolvers give an alias answer (an alias record has none of its own).
pub(super) const ALIAS_TTL: Duration = Duration::from_mins(1);

/// What the bucket shows before any step: how it serves the site today.
pub(super) struct Survey {
    pub(super) website: Option<WebsiteConfiguration>,
    pub(super) policy: Option<Value>,
    /// Statements that let anyone read, kept until the DNS switch.
    pub(super) public_statements: Vec<Value>,
    /// All four Block Public Access flags are on: public read has ended.
    pub(super) public_access_blocked: bool,
}

impl Survey {
    pub(super) fn keep_public(&self) -> bool {
        !self.public_access_blocked
            && (self.website.is_some() || !self.public_statements.is_empty())
    }
}

pub(super) async fn survey(s3: &Client, bucket: &str) -> Result<Survey> {
    let website = observe::website(s3, bucket).await?;
    let policy = observe::policy(s3, bucket).await?;
    let public_statements = policy
        .as_ref()
        .map(|doc| {
            crate::policy::analysis::statements(doc)
                .into_iter()
                .filter(|s| s.allows() && s.everyone())
                .map(|s| s.value().clone())
                .collect()
        })
        .unwrap_or_default();
    let block = observe::public_access_block(s3, bucket).await?;
    Ok(Survey {
        website,
        policy,
        public_statements,
        public_access_blocked: PublicAccessBlock::all_on(block.as_ref()),
    })
}

/// The region of an existing bucket; a missing bucket is the user's input error.
pub(super) async fn bucket_region(aws: &Aws, bucket: &str) -> Result<String> {
    region_of(observe::locate(aws, bucket).await?, bucket, &aws.region)
}

/// A bucket that answers without naming a region is in `default_region`, the client's.
fn region_of(location: Location, bucket: &str, default_region: &str) -> Result<String> {
    match location {
        Location::Missing => Err(Error::usage_with_hint(
            format!("bucket `{bucket}` does not exist"),
            "adopt takes over an existing bucket; `sitewarden up` creates a new site",
        )),
        Location::Refused { .. } => Err(Location::refused(
            bucket,
            "check the name, and that these credentials may `s3:ListBucket` on it",
        )),
        Location::Ours { region } => Ok(region.unwrap_or_else(|| default_region.to_owned())),
    }
}

/// The host name a website bucket serves (the bucket's own name) when a Route53 record at that
/// name points at a website endpoint (an alias, or a CNAME to `<bucket>.s3-website…`).
pub(super) async fn served_name(aws: &Aws, bucket: &BucketName) -> Result<Option<DomainName>> {
    let Ok(name) = DomainName::try_from(bucket.as_str().to_owned()) else {
        return Ok(None); // not a host name, so no website is reached through it
    };
    let sets = crate::observe::dns::records_of(aws, name.as_str())
        .await?
        .unwrap_or_default();
    Ok(sets
        .iter()
        .any(|s| provision::dns::serves_website(s).is_some())
        .then_some(name))
}

/// The TTL of the records that still send the site's names to the website endpoint (the longest;
/// an alias counts as [`ALIAS_TTL`]), or `None` when none does.
pub(super) async fn website_record_ttl(ctx: &Ctx<'_>) -> Result<Option<Duration>> {
    let mut longest = None;
    for name in provision::dns::site_names(ctx.config) {
        let sets = crate::observe::dns::records_of(ctx.aws, name.as_str()).await?;
        for set in sets.unwrap_or_default() {
            if provision::dns::serves_website(&set).is_some() {
                let ttl = set
                    .ttl
                    .and_then(|t| u64::try_from(t).ok())
                    .map_or(ALIAS_TTL, Duration::from_secs);
                longest = longest.max(Some(ttl));
            }
        }
    }
    Ok(longest)
}

/// Every current object's key and size, except sitewarden's own state.
pub(super) async fn list_keys(s3: &Client, bucket: &str) -> Result<Vec<(String, i64)>> {
    Ok(crate::observe::objects::list(s3, bucket, None)
        .await?
        .into_iter()
        .filter(|o| !o.key.starts_with(crate::names::STATE_PREFIX))
        .map(|o| (o.key, i64::try_from(o.size).unwrap_or(i64::MAX)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_comes_from_the_bucket_and_a_refusal_names_its_likely_cause() {
        let ours = |region: Option<&str>| Location::Ours {
            region: region.map(str::to_owned),
        };
        assert_eq!(
            region_of(ours(Some("us-east-2")), "b", "eu-west-1").unwrap(),
            "us-east-2"
        );
        assert_eq!(
            region_of(ours(None), "b", "eu-west-1").unwrap(),
            "eu-west-1"
        );
        let missing = region_of(Location::Missing, "b", "eu-west-1").unwrap_err();
        assert_eq!(missing.to_string(), "bucket `b` does not exist");
        assert_eq!(missing.exit(), crate::error::Exit::Usage);
        let refused = region_of(Location::Refused { region: None }, "b", "eu-west-1").unwrap_err();
        assert_eq!(
            refused.to_string(),
            "HeadBucket failed for bucket `b`: AccessDenied: the bucket exists but this account \
             cannot use it"
        );
        assert!(
            refused
                .hint()
                .unwrap()
                .contains("probably belongs to another account")
        );
    }
}
