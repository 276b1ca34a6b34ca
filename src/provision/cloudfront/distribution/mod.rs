//! The distribution: one private S3 REST origin behind the OAC, HTTPS only, GET/HEAD, the managed
//! `CachingOptimized` policy, the security headers policy, the viewer-request function, the 404 page,
//! HTTP/2 and 3, IPv6, and the site's certificate and TLS minimum (domain sites).
//!
//! Found again by its comment `sitewarden:<site>` confirmed by the `sitewarden:site` tag (or, if
//! the comment was edited, by the tag on a distribution serving the content bucket); an untagged
//! distribution with the site's comment is refused, never taken over. The live
//! config is compared property by property with the desired one; an update keeps the
//! `CallerReference` and what sitewarden does not manage (WAF web ACL, geo restrictions).
//!
//! `PriceClass_All`: a public site is served from every edge location; cost is per request, not
//! per location, so the cheaper classes only trade latency for little saving.

mod desired;
mod find;
mod properties;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudfront::client::Waiters as _;
use aws_sdk_cloudfront::types::{DistributionConfig, DistributionConfigWithTags, Tag, Tags};

use super::{Distribution, Parts, diff_properties};
use crate::error::{AwsResultExt as _, Result};
use crate::names::SITE_TAG;
use crate::names::{Kind, Resource};
use crate::observe::distribution as observe;
use crate::provision::{Action, Ctx, DistributionRef, Known, Plan};
use desired::create_detail;
pub(super) use desired::desired;
use find::find;
use properties::properties;

/// Deployments usually take minutes; past this something is wrong on AWS's side.
const MAX_DEPLOY_WAIT: Duration = Duration::from_mins(45);

pub(super) async fn reconcile(
    ctx: &Ctx<'_>,
    known: &Known,
    parts: &Parts,
    plan: &mut Plan,
) -> Result<Distribution> {
    let resource = resource(ctx);
    let found = find(ctx).await?;
    if let Some(domain) = &ctx.config.site.domain
        && known.certificate_arn.is_none()
    {
        // The ACM step reports the pending certificate; the distribution follows once it is issued.
        ctx.printer.info(format_args!(
            "{resource}: waiting for the certificate of `{domain}` before configuring it"
        ));
        return Ok(found.map_or(Distribution::Waiting, |f| Distribution::Exists(f.reference)));
    }
    let certificate = known.certificate_arn.as_deref();
    let live = match &found {
        Some(found) => {
            Some(observe::config(ctx.aws, &found.reference.id, &resource.to_string()).await?)
        }
        None => None,
    };
    let reference = live.as_ref().map_or_else(
        || caller_reference(ctx),
        |(l, _)| l.caller_reference.clone(),
    );
    let mut desired = desired(
        ctx.config,
        ctx.names,
        &ctx.aws.region,
        certificate,
        parts,
        &reference,
    )?;
    let (Some(found), Some((live, etag))) = (found, live) else {
        ctx.change(
            plan,
            &resource,
            Action::Create,
            create_detail(ctx.config, certificate),
        );
        if !ctx.apply {
            return Ok(Distribution::Planned);
        }
        return Ok(Distribution::Exists(create(ctx, desired, &resource).await?));
    };
    let id = &found.reference.id;
    if ctx.config.cdn.web_acl_id.is_none() {
        // A web ACL attached outside sitewarden stays (removing protection is not its call).
        desired.web_acl_id.clone_from(&live.web_acl_id);
    }
    let changes = diff_properties(&properties(&live), &properties(&desired));
    if !changes.is_empty() {
        ctx.change(plan, &resource, Action::Update, changes.join("; "));
        if ctx.apply {
            desired.restrictions = live.restrictions;
            update(ctx, id, etag, desired, &resource).await?;
            wait_deployed(ctx, id, &resource).await?;
        }
    }
    ctx.settled(plan, &resource);
    Ok(Distribution::Exists(found.reference))
}

async fn create(
    ctx: &Ctx<'_>,
    config: DistributionConfig,
    resource: &Resource,
) -> Result<DistributionRef> {
    let created = ctx
        .aws
        .cloudfront
        .create_distribution_with_tags()
        .distribution_config_with_tags(
            DistributionConfigWithTags::builder()
                .distribution_config(config)
                .tags(site_tags(ctx)?)
                .build(),
        )
        .send()
        .await
        .op("CreateDistributionWithTags", resource)?
        .distribution
        .ok_or_else(|| {
            anyhow::anyhow!("CreateDistributionWithTags answered without the distribution")
        })?;
    let reference = reference(ctx, created.id, created.domain_name);
    wait_deployed(ctx, &reference.id, resource).await?;
    Ok(reference)
}

fn site_tags(ctx: &Ctx<'_>) -> Result<Tags> {
    let tag = Tag::builder()
        .key(SITE_TAG)
        .value(&ctx.names.site)
        .build()?;
    Ok(Tags::builder().items(tag).build())
}

/// Disables the distribution, waits until that is deployed (a distribution must be disabled
/// everywhere before it can be deleted), then deletes it.
pub(super) async fn destroy(ctx: &Ctx<'_>, plan: &mut Plan) -> Result<()> {
    let cloudfront = &ctx.aws.cloudfront;
    let resource = resource(ctx);
    let Some(found) = find(ctx).await? else {
        return Ok(());
    };
    let id = &found.reference.id;
    ctx.change(
        plan,
        &resource,
        Action::Delete,
        format!("disable, wait until deployed and delete distribution {id}"),
    );
    if !ctx.apply {
        return Ok(());
    }
    let (mut config, mut etag) = observe::config(ctx.aws, id, &resource.to_string()).await?;
    if config.enabled {
        config.enabled = false;
        etag = update(ctx, id, etag, config, &resource).await?;
        wait_deployed(ctx, id, &resource).await?;
    }
    cloudfront
        .delete_distribution()
        .id(id)
        .set_if_match(etag)
        .send()
        .await
        .op("DeleteDistribution", &resource)?;
    Ok(())
}

fn resource(ctx: &Ctx<'_>) -> Resource {
    Resource::new(Kind::Distribution, &ctx.names.distribution_comment)
}

fn reference(ctx: &Ctx<'_>, id: String, domain_name: String) -> DistributionRef {
    DistributionRef {
        arn: format!("arn:aws:cloudfront::{}:distribution/{id}", ctx.account),
        id,
        domain_name,
    }
}

/// Unique per creation, as CloudFront requires; kept on every update.
fn caller_reference(ctx: &Ctx<'_>) -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("sitewarden:{}:{millis}", ctx.names.site)
}

/// Returns the new `ETag`.
async fn update(
    ctx: &Ctx<'_>,
    id: &str,
    etag: Option<String>,
    config: DistributionConfig,
    resource: &Resource,
) -> Result<Option<String>> {
    Ok(ctx
        .aws
        .cloudfront
        .update_distribution()
        .id(id)
        .set_if_match(etag)
        .distribution_config(config)
        .send()
        .await
        .op("UpdateDistribution", resource)?
        .e_tag)
}

/// Returns once the distribution is `Deployed` everywhere. A run that finds the distribution
/// unchanged does not wait in [`reconcile`], yet an earlier run may have ended while a change was
/// still deploying: `adopt` calls this before moving a live domain onto the distribution.
pub async fn ensure_deployed(ctx: &Ctx<'_>, id: &str) -> Result<()> {
    let resource = resource(ctx);
    let status = observe::status(ctx.aws, id, &resource.to_string()).await?;
    if status == "Deployed" {
        return Ok(());
    }
    ctx.printer.info(format_args!(
        "distribution {id} is {status}: DNS moves to it once it is deployed"
    ));
    wait_deployed(ctx, id, &resource).await
}

async fn wait_deployed(ctx: &Ctx<'_>, id: &str, resource: &Resource) -> Result<()> {
    if !ctx.wait {
        return Ok(());
    }
    ctx.printer.info(format_args!(
        "waiting for distribution {id} to deploy (usually a few minutes)"
    ));
    ctx.aws
        .cloudfront
        .wait_until_distribution_deployed()
        .id(id)
        .wait(MAX_DEPLOY_WAIT)
        .await
        .op("GetDistribution", resource)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::Config;
    use crate::names::SiteNames;

    pub(super) const ARN: &str = "arn:aws:acm:us-east-1:123456789012:certificate/abc";

    pub(super) fn parts() -> Parts {
        Parts {
            oac_id: Some("E2OAC".to_owned()),
            headers_policy_id: Some("policy-1".to_owned()),
            function_arn: Some(
                "arn:aws:cloudfront::123456789012:function/sitewarden-docs".to_owned(),
            ),
            csp_function_arn: Some(
                "arn:aws:cloudfront::123456789012:function/sitewarden-docs-csp".to_owned(),
            ),
            csp: true,
        }
    }

    pub(super) fn config(extra: &str) -> Config {
        Config::parse(
            &format!("[site]\nname = \"docs\"\nsource = \"dist\"\n{extra}"),
            Path::new("sitewarden.toml"),
        )
        .unwrap()
    }

    pub(super) fn build(config: &Config, certificate: Option<&str>) -> DistributionConfig {
        let names = SiteNames::new(config, "123456789012");
        let parts = Parts {
            csp: config.headers.csp() == crate::config::Csp::Auto,
            ..parts()
        };
        desired(config, &names, "eu-west-1", certificate, &parts, "ref").unwrap()
    }
}
