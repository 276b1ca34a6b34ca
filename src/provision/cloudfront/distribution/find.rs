//! Finding the site's distribution again: by its comment `sitewarden:<site>` confirmed by the
//! `sitewarden:site` tag, or (if the comment was edited) by the tag on a distribution serving the
//! content bucket. An untagged distribution with the site's comment is refused, never taken over.

use super::desired::origin_domain;
use super::{reference, resource};
use crate::error::{AwsResultExt as _, Error, Result};
use crate::names::SITE_TAG;
use crate::provision::{Ctx, DistributionRef};

/// A distribution that belongs to this site (it carries `sitewarden:site=<site>`).
pub(super) struct Found {
    pub(super) reference: DistributionRef,
}

pub(super) async fn find(ctx: &Ctx<'_>) -> Result<Option<Found>> {
    let cloudfront = &ctx.aws.cloudfront;
    let resource = resource(ctx);
    let origin = origin_domain(&ctx.names.content_bucket, &ctx.aws.region);
    // Comment matches first, then distributions serving the content bucket: either is the site's
    // only if the tag confirms it.
    let (mut by_comment, mut by_origin) = (Vec::new(), Vec::new());
    let mut pages = cloudfront.list_distributions().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.op("ListDistributions", &resource)?;
        for summary in page
            .distribution_list
            .and_then(|l| l.items)
            .unwrap_or_default()
        {
            let serves_bucket = summary
                .origins
                .as_ref()
                .is_some_and(|o| o.items.iter().any(|o| o.domain_name == origin));
            if summary.comment == ctx.names.distribution_comment {
                by_comment.push(summary);
            } else if serves_bucket {
                by_origin.push(summary);
            }
        }
    }
    let mut untagged = None;
    for summary in by_comment.iter().chain(&by_origin) {
        match crate::observe::distribution::site_tag(ctx.aws, &summary.arn).await? {
            Some(site) if site == ctx.names.site => {
                let reference = reference(ctx, summary.id.clone(), summary.domain_name.clone());
                return Ok(Some(Found { reference }));
            }
            None if summary.comment == ctx.names.distribution_comment => {
                untagged.get_or_insert(summary.id.clone());
            }
            // Another site's, or only serving the bucket without the tag: not ours.
            _ => {}
        }
    }
    if let Some(id) = untagged {
        return Err(Error::failure_with_hint(
            format!(
                "CloudFront distribution `{id}` has this site's comment `{}` but not the tag \
                 `{SITE_TAG}={}`: sitewarden does not take over a distribution on its comment alone",
                ctx.names.distribution_comment, ctx.names.site
            ),
            format!(
                "if it is this site's, tag it (`aws cloudfront tag-resource --resource \
                 arn:aws:cloudfront::{}:distribution/{id} --tags 'Items=[{{Key={SITE_TAG},Value={}}}]'`); \
                 otherwise change its comment",
                ctx.account, ctx.names.site
            ),
        ));
    }
    Ok(None)
}
