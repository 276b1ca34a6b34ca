//! The site's CloudFront distribution: its comment is `sitewarden:<site>` and it carries the tag
//! `sitewarden:site=<site>`. A comment anyone can type is not enough: a deploy would otherwise
//! invalidate, and DNS point at, a stranger's distribution.

use aws_sdk_cloudfront::types::DistributionSummary;

use crate::aws::Aws;
use crate::error::{AwsResultExt as _, Result};
use crate::names::{SITE_TAG, SiteNames};

/// One `ListDistributions` pass, plus one `ListTagsForResource` per comment match.
pub async fn find_site(aws: &Aws, names: &SiteNames) -> Result<Option<DistributionSummary>> {
    find(aws, &names.distribution_comment, &names.site).await
}

/// The distribution with `comment` that carries the tag `sitewarden:site=<site>`.
pub async fn find(aws: &Aws, comment: &str, site: &str) -> Result<Option<DistributionSummary>> {
    let mut pages = aws.cloudfront.list_distributions().into_paginator().send();
    while let Some(page) = pages.next().await {
        let list = page
            .op("ListDistributions", "CloudFront distributions")?
            .distribution_list;
        for summary in list.and_then(|l| l.items).unwrap_or_default() {
            if summary.comment == comment
                && site_tag(aws, &summary.arn).await?.as_deref() == Some(site)
            {
                return Ok(Some(summary));
            }
        }
    }
    Ok(None)
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
