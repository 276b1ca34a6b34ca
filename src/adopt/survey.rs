//! What the bucket and its DNS look like before a step changes them: how the site is served today
//! (website configuration, public read, Block Public Access), the bucket's region and objects, and
//! the Route53 records that still point at the website endpoint.

use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::types::WebsiteConfiguration;
use serde_json::Value;

use crate::aws::Aws;
use crate::config::{BucketName, DomainName};
use crate::error::{AwsResultExt as _, Error, Result};
use crate::provision::{self, Ctx, buckets};

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
    let resource = format!("bucket `{bucket}`");
    let website = s3
        .get_bucket_website()
        .bucket(bucket)
        .send()
        .await
        .or_missing(
            &["NoSuchWebsiteConfiguration"],
            "GetBucketWebsite",
            &resource,
        )?
        .map(|o| {
            let mut w = WebsiteConfiguration::builder();
            w = w
                .set_index_document(o.index_document)
                .set_error_document(o.error_document)
                .set_redirect_all_requests_to(o.redirect_all_requests_to)
                .set_routing_rules(o.routing_rules);
            w.build()
        });
    let policy = buckets::observe_policy(s3, bucket).await?;
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
    let block = buckets::observe_public_access_block(s3, bucket).await?;
    let public_access_blocked = buckets::diff_public_access_block(block.as_ref()).is_none();
    Ok(Survey {
        website,
        policy,
        public_statements,
        public_access_blocked,
    })
}

/// The region of an existing bucket; a missing bucket is the user's input error.
pub(super) async fn bucket_region(aws: &Aws, bucket: &str) -> Result<String> {
    match aws.s3.head_bucket().bucket(bucket).send().await {
        Ok(out) => Ok(out.bucket_region.unwrap_or_else(|| aws.region.clone())),
        Err(e) => {
            let raw = e.raw_response();
            let region = raw
                .and_then(|r| r.headers().get("x-amz-bucket-region"))
                .map(str::to_owned);
            match (raw.map(|r| r.status().as_u16()), region) {
                (Some(404), _) => Err(Error::usage_with_hint(
                    format!("bucket `{bucket}` does not exist"),
                    "adopt takes over an existing bucket; `sitewarden up` creates a new site",
                )),
                (Some(301 | 400), Some(region)) => Ok(region),
                _ => Err(Error::aws("HeadBucket", format!("bucket `{bucket}`"), e)),
            }
        }
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
    let mut keys = Vec::new();
    let mut pages = s3.list_objects_v2().bucket(bucket).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.op("ListObjectsV2", &format!("bucket `{bucket}`"))?;
        for object in page.contents() {
            if let Some(key) = &object.key
                && !key.starts_with(crate::names::STATE_PREFIX)
            {
                keys.push((key.clone(), object.size.unwrap_or(0)));
            }
        }
    }
    Ok(keys)
}
