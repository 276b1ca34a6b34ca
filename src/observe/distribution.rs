//! CloudFront distributions as they are: one `ListDistributions` walker with the predicates the
//! subsystems ask it (by comment and tag, by origin bucket, by alias) and the readers of one
//! distribution (`GetDistribution`, `GetDistributionConfig`).
//!
//! The site's distribution: its comment is `sitewarden:<site>` and it carries the tag
//! `sitewarden:site=<site>`. A comment anyone can type is not enough: a deploy would otherwise
//! invalidate, and DNS point at, a stranger's distribution.

use aws_sdk_cloudfront::types::{Distribution, DistributionConfig, DistributionSummary};

use crate::aws::Aws;
use crate::error::{AwsResultExt as _, Result, code};
use crate::names::{SITE_TAG, SiteNames};

/// What `ListDistributions` errors name when no one distribution is looked for.
const LISTING: &str = "CloudFront distributions";

/// One `ListDistributions` pass in listing order, stopping at the first summary `visit` answers
/// `Some` for (later pages are not read). `resource` names the listing in errors.
pub async fn walk<T>(
    aws: &Aws,
    resource: &str,
    mut visit: impl AsyncFnMut(DistributionSummary) -> Result<Option<T>>,
) -> Result<Option<T>> {
    let mut pages = aws.cloudfront.list_distributions().into_paginator().send();
    while let Some(page) = pages.next().await {
        let list = page.op("ListDistributions", resource)?.distribution_list;
        for summary in list.and_then(|l| l.items).unwrap_or_default() {
            if let Some(found) = visit(summary).await? {
                return Ok(Some(found));
            }
        }
    }
    Ok(None)
}

/// One `ListDistributions` pass, plus one `ListTagsForResource` per comment match.
pub async fn find_site(aws: &Aws, names: &SiteNames) -> Result<Option<DistributionSummary>> {
    find(aws, &names.distribution_comment, &names.site).await
}

/// The distribution with `comment` that carries the tag `sitewarden:site=<site>`.
pub async fn find(aws: &Aws, comment: &str, site: &str) -> Result<Option<DistributionSummary>> {
    walk(aws, LISTING, async |summary| {
        let ours = summary.comment == comment
            && site_tag(aws, &summary.arn).await?.as_deref() == Some(site);
        Ok(ours.then_some(summary))
    })
    .await
}

/// The first distribution `matches` accepts (one `ListDistributions` pass, no other request).
pub async fn find_first(
    aws: &Aws,
    matches: impl Fn(&DistributionSummary) -> bool,
) -> Result<Option<DistributionSummary>> {
    walk(aws, LISTING, async |summary| {
        Ok(matches(&summary).then_some(summary))
    })
    .await
}

/// What [`find_owned`] found.
pub enum Owned {
    /// A distribution carrying `sitewarden:site=<site>`.
    Tagged(Box<DistributionSummary>),
    /// None is tagged, but the distribution with this id has the site's comment without a tag.
    Untagged(String),
    None,
}

/// The site's distribution for the one that manages it: by its comment, or (if the comment was
/// edited) among the distributions with an origin `serves` accepts; either only with the site's
/// tag. One `ListDistributions` pass over every page, then one `ListTagsForResource` per
/// candidate until the tagged one.
pub async fn find_owned(
    aws: &Aws,
    names: &SiteNames,
    serves: impl Fn(&DistributionSummary) -> bool,
    resource: &str,
) -> Result<Owned> {
    // Comment matches first, then distributions serving the content bucket: either is the site's
    // only if the tag confirms it.
    let (mut by_comment, mut by_origin) = (Vec::new(), Vec::new());
    walk(aws, resource, async |summary| {
        if summary.comment == names.distribution_comment {
            by_comment.push(summary);
        } else if serves(&summary) {
            by_origin.push(summary);
        }
        Ok(None::<()>)
    })
    .await?;
    let mut untagged = None;
    for summary in by_comment.into_iter().chain(by_origin) {
        match site_tag(aws, &summary.arn).await? {
            Some(site) if site == names.site => return Ok(Owned::Tagged(Box::new(summary))),
            None if summary.comment == names.distribution_comment => {
                untagged.get_or_insert(summary.id);
            }
            // Another site's, or only serving the bucket without the tag: not ours.
            _ => {}
        }
    }
    Ok(untagged.map_or(Owned::None, Owned::Untagged))
}

/// The `sitewarden:site` tag of a distribution, if it has one.
pub async fn site_tag(aws: &Aws, arn: &str) -> Result<Option<String>> {
    Ok(aws
        .cloudfront
        .list_tags_for_resource()
        .resource(arn)
        .send()
        .await
        .op(
            "ListTagsForResource",
            &format!("cloudfront distribution `{arn}`"),
        )?
        .tags
        .and_then(|t| t.items)
        .unwrap_or_default()
        .into_iter()
        .find(|t| t.key == SITE_TAG)
        .and_then(|t| t.value))
}

/// Whether one of the distribution's origins is exactly `domain`.
pub fn serves_origin(summary: &DistributionSummary, domain: &str) -> bool {
    summary
        .origins
        .as_ref()
        .is_some_and(|o| o.items.iter().any(|o| o.domain_name == domain))
}

/// Whether one of the distribution's origins is an S3 endpoint (REST or website) of `bucket`.
pub fn serves_bucket(summary: &DistributionSummary, bucket: &str) -> bool {
    summary
        .origins
        .iter()
        .flat_map(|o| &o.items)
        .any(|o| origin_bucket(&o.domain_name).is_some_and(|(b, _)| b.eq_ignore_ascii_case(bucket)))
}

/// Whether the distribution serves `name` (one of its aliases).
pub fn serves_name(summary: &DistributionSummary, name: &str) -> bool {
    let name = name.trim_end_matches('.');
    summary
        .aliases
        .iter()
        .flat_map(aws_sdk_cloudfront::types::Aliases::items)
        .any(|a| a.eq_ignore_ascii_case(name))
}

/// Which S3 endpoint an origin domain names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum S3Endpoint {
    Rest,
    Website,
}

/// The bucket and endpoint of an S3 origin domain: `<bucket>.s3[.-<region>].amazonaws.com` (REST)
/// or `<bucket>.s3-website[.-]<region>.amazonaws.com`; `None` for any other origin.
pub fn origin_bucket(domain: &str) -> Option<(&str, S3Endpoint)> {
    let host = domain.trim_end_matches('.');
    let host = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"))?;
    let at = host.rfind(".s3")?;
    let (bucket, rest) = (&host[..at], &host[at + 3..]);
    let endpoint = if rest.starts_with("-website") {
        S3Endpoint::Website
    } else if rest.is_empty() || rest.starts_with('.') || rest.starts_with('-') {
        S3Endpoint::Rest
    } else {
        return None;
    };
    (!bucket.is_empty()).then_some((bucket, endpoint))
}

/// The distribution `id` with its config and status; `None` when it does not exist.
pub async fn describe(aws: &Aws, id: &str, resource: &str) -> Result<Option<Distribution>> {
    Ok(aws
        .cloudfront
        .get_distribution()
        .id(id)
        .send()
        .await
        .or_missing(&[code::NO_SUCH_DISTRIBUTION], "GetDistribution", resource)?
        .and_then(|o| o.distribution))
}

/// The deployment status of the distribution `id` (`Deployed`, `InProgress`).
pub async fn status(aws: &Aws, id: &str, resource: &str) -> Result<String> {
    Ok(aws
        .cloudfront
        .get_distribution()
        .id(id)
        .send()
        .await
        .op("GetDistribution", resource)?
        .distribution
        .map(|d| d.status)
        .unwrap_or_default())
}

/// The config of the distribution `id` and its `ETag` (for an update).
pub async fn config(
    aws: &Aws,
    id: &str,
    resource: &str,
) -> Result<(DistributionConfig, Option<String>)> {
    let out = aws
        .cloudfront
        .get_distribution_config()
        .id(id)
        .send()
        .await
        .op("GetDistributionConfig", resource)?;
    let config = out.distribution_config.ok_or_else(|| {
        anyhow::anyhow!("GetDistributionConfig answered without the config of {id}")
    })?;
    Ok((config, out.e_tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_domains_name_their_bucket_and_endpoint() {
        assert_eq!(
            origin_bucket("docs-site-1.s3.eu-west-1.amazonaws.com"),
            Some(("docs-site-1", S3Endpoint::Rest))
        );
        assert_eq!(
            origin_bucket("my.bucket.s3.amazonaws.com"),
            Some(("my.bucket", S3Endpoint::Rest))
        );
        assert_eq!(
            origin_bucket("b.s3-website-us-east-1.amazonaws.com"),
            Some(("b", S3Endpoint::Website))
        );
        assert_eq!(
            origin_bucket("b.s3-website.eu-west-1.amazonaws.com"),
            Some(("b", S3Endpoint::Website))
        );
        assert_eq!(origin_bucket("example.com"), None);
        assert_eq!(origin_bucket("api.s3x.amazonaws.com"), None);
    }
}
