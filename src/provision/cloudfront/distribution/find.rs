//! Finding the site's distribution again: by its comment `sitewarden:<site>` confirmed by the
//! `sitewarden:site` tag, or (if the comment was edited) by the tag on a distribution serving the
//! content bucket. An untagged distribution with the site's comment is refused, never taken over.

use super::desired::origin_domain;
use super::{reference, resource};
use aws_sdk_cloudfront::types::DistributionSummary;

use crate::error::{Error, Result};
use crate::names::SITE_TAG;
use crate::observe::distribution::{Owned, find_owned, serves_origin};
use crate::provision::{Ctx, DistributionRef};

/// A distribution that belongs to this site (it carries `sitewarden:site=<site>`).
pub(super) struct Found {
    pub(super) reference: DistributionRef,
}

pub(super) async fn find(ctx: &Ctx<'_>) -> Result<Option<Found>> {
    let origin = origin_domain(&ctx.names.content_bucket, &ctx.aws.region);
    let serves = |summary: &DistributionSummary| serves_origin(summary, &origin);
    let id = match find_owned(ctx.aws, ctx.names, serves, &resource(ctx).to_string()).await? {
        Owned::Tagged(summary) => {
            let reference = reference(ctx, summary.id, summary.domain_name);
            return Ok(Some(Found { reference }));
        }
        Owned::Untagged(id) => id,
        Owned::None => return Ok(None),
    };
    Err(Error::failure_with_hint(
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
    ))
}
