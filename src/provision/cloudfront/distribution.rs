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

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudfront::client::Waiters as _;
use aws_sdk_cloudfront::types::{
    Aliases, AllowedMethods, CacheBehaviors, CachedMethods, CustomErrorResponse,
    CustomErrorResponses, DefaultCacheBehavior, DistributionConfig, DistributionConfigWithTags,
    EventType, FunctionAssociation, FunctionAssociations, GeoRestriction, GeoRestrictionType,
    HttpVersion, LoggingConfig, Method, MinimumProtocolVersion, Origin, Origins, PriceClass,
    Restrictions, S3OriginConfig, SslSupportMethod, Tag, Tags, ViewerCertificate,
    ViewerProtocolPolicy,
};

use super::{Distribution, Parts, Properties, diff_properties};
use crate::config::Config;
use crate::error::{AwsResultExt as _, Error, Result};
use crate::names::{SITE_TAG, SiteNames};
use crate::provision::{Action, Ctx, DistributionRef, Known, Plan};

/// The managed cache policy `CachingOptimized`: no query strings, cookies or headers in the key.
pub(super) const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";
const ORIGIN_ID: &str = "s3-content";
const ERROR_CACHING_MIN_TTL: i64 = 10;
/// Deployments usually take minutes; past this something is wrong on AWS's side.
const MAX_DEPLOY_WAIT: Duration = Duration::from_mins(45);

/// A distribution that belongs to this site (it carries `sitewarden:site=<site>`).
struct Found {
    reference: DistributionRef,
}

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
        Some(found) => Some(get_config(ctx, &found.reference.id, &resource).await?),
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
    resource: &str,
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
    let (mut config, mut etag) = get_config(ctx, id, &resource).await?;
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

fn resource(ctx: &Ctx<'_>) -> String {
    format!("cloudfront distribution {}", ctx.names.distribution_comment)
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

/// The S3 REST endpoint of the content bucket (OAC cannot sign for the website endpoint).
fn origin_domain(bucket: &str, region: &str) -> String {
    format!("{bucket}.s3.{region}.amazonaws.com")
}

async fn find(ctx: &Ctx<'_>) -> Result<Option<Found>> {
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

async fn get_config(
    ctx: &Ctx<'_>,
    id: &str,
    resource: &str,
) -> Result<(DistributionConfig, Option<String>)> {
    let out = ctx
        .aws
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

/// Returns the new `ETag`.
async fn update(
    ctx: &Ctx<'_>,
    id: &str,
    etag: Option<String>,
    config: DistributionConfig,
    resource: &str,
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
    let status = ctx
        .aws
        .cloudfront
        .get_distribution()
        .id(id)
        .send()
        .await
        .op("GetDistribution", &resource)?
        .distribution
        .map(|d| d.status)
        .unwrap_or_default();
    if status == "Deployed" {
        return Ok(());
    }
    ctx.printer.info(format_args!(
        "distribution {id} is {status}: DNS moves to it once it is deployed"
    ));
    wait_deployed(ctx, id, &resource).await
}

async fn wait_deployed(ctx: &Ctx<'_>, id: &str, resource: &str) -> Result<()> {
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

fn create_detail(config: &Config, certificate: Option<&str>) -> String {
    let tls = match certificate {
        Some(_) => format!(
            "certificate for {}, TLS ≥ {}",
            domains(config).join(", "),
            config.tls.minimum.as_str()
        ),
        None => "*.cloudfront.net certificate".to_owned(),
    };
    format!(
        "create distribution: S3 REST origin with origin access control, HTTPS only, GET/HEAD, \
         CachingOptimized, security headers, viewer-request function, {tls}, HTTP/2 and 3, IPv6"
    )
}

fn domains(config: &Config) -> Vec<String> {
    config
        .site
        .domain
        .iter()
        .chain(&config.site.aliases)
        .map(ToString::to_string)
        .collect()
}

fn quantity<T>(items: &[T]) -> i32 {
    i32::try_from(items.len()).unwrap_or(i32::MAX)
}

/// Stands in for the id of a part this `plan` would create.
fn planned(id: Option<&String>, what: &str) -> String {
    id.cloned().unwrap_or_else(|| format!("(new {what})"))
}

/// The whole desired config. `certificate` is the ACM ARN of a domain site, `None` when domainless.
fn desired(
    config: &Config,
    names: &SiteNames,
    region: &str,
    certificate: Option<&str>,
    parts: &Parts,
    caller_reference: &str,
) -> Result<DistributionConfig> {
    let origin = Origin::builder()
        .id(ORIGIN_ID)
        .domain_name(origin_domain(&names.content_bucket, region))
        .origin_path("")
        // An empty identity: the OAC signs instead of a legacy origin access identity.
        .s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build())
        .origin_access_control_id(planned(parts.oac_id.as_ref(), "origin access control"))
        .build()?;
    let aliases = if certificate.is_some() {
        domains(config)
    } else {
        Vec::new()
    };
    Ok(DistributionConfig::builder()
        .caller_reference(caller_reference)
        .comment(&names.distribution_comment)
        .enabled(true)
        .aliases(
            Aliases::builder()
                .quantity(quantity(&aliases))
                .set_items(Some(aliases).filter(|a| !a.is_empty()))
                .build()?,
        )
        .default_root_object("index.html")
        .origins(Origins::builder().quantity(1).items(origin).build()?)
        .default_cache_behavior(default_behavior(config, parts)?)
        .cache_behaviors(CacheBehaviors::builder().quantity(0).build()?)
        .custom_error_responses(error_responses(config)?)
        // Standard logging v2 (see `logging`) replaces legacy logging, which needs an ACL-enabled bucket.
        .logging(
            LoggingConfig::builder()
                .enabled(false)
                .include_cookies(false)
                .bucket("")
                .prefix("")
                .build(),
        )
        .price_class(PriceClass::from(config.cdn.price_class.as_str()))
        .web_acl_id(config.cdn.web_acl_id.as_ref().map_or("", |a| a.as_str()))
        .viewer_certificate(viewer_certificate(config, certificate))
        .restrictions(
            Restrictions::builder()
                .geo_restriction(
                    GeoRestriction::builder()
                        .restriction_type(GeoRestrictionType::None)
                        .quantity(0)
                        .build()?,
                )
                .build(),
        )
        .http_version(HttpVersion::Http2and3)
        .is_ipv6_enabled(true)
        .build()?)
}

fn default_behavior(config: &Config, parts: &Parts) -> Result<DefaultCacheBehavior> {
    let methods = vec![Method::Get, Method::Head];
    let function = FunctionAssociation::builder()
        .event_type(EventType::ViewerRequest)
        .function_arn(planned(parts.function_arn.as_ref(), "function"))
        .build()?;
    Ok(DefaultCacheBehavior::builder()
        .target_origin_id(ORIGIN_ID)
        .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
        .allowed_methods(
            AllowedMethods::builder()
                .quantity(quantity(&methods))
                .set_items(Some(methods.clone()))
                .cached_methods(
                    CachedMethods::builder()
                        .quantity(quantity(&methods))
                        .set_items(Some(methods))
                        .build()?,
                )
                .build()?,
        )
        .compress(true)
        .cache_policy_id(
            config
                .cdn
                .cache_policy_id
                .as_ref()
                .map_or(CACHING_OPTIMIZED, |id| id.as_str()),
        )
        .response_headers_policy_id(planned(
            parts.headers_policy_id.as_ref(),
            "response headers policy",
        ))
        .function_associations(
            FunctionAssociations::builder()
                .quantity(1)
                .items(function)
                .build()?,
        )
        .build()?)
}

/// Without `s3:ListBucket` a missing key answers 403, so both codes get the not-found page (or the
/// SPA's entry page, with 200).
fn error_responses(config: &Config) -> Result<CustomErrorResponses> {
    let (page, code) = config
        .deploy
        .spa_fallback
        .as_deref()
        .map_or(("/404.html", "404"), |spa| (spa, "200"));
    let errors = [403, 404]
        .into_iter()
        .map(|error| {
            CustomErrorResponse::builder()
                .error_code(error)
                .response_page_path(page)
                .response_code(code)
                .error_caching_min_ttl(ERROR_CACHING_MIN_TTL)
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CustomErrorResponses::builder()
        .quantity(quantity(&errors))
        .set_items(Some(errors))
        .build()?)
}

fn viewer_certificate(config: &Config, certificate: Option<&str>) -> ViewerCertificate {
    match certificate {
        Some(arn) => ViewerCertificate::builder()
            .cloud_front_default_certificate(false)
            .acm_certificate_arn(arn)
            .ssl_support_method(SslSupportMethod::SniOnly)
            .minimum_protocol_version(MinimumProtocolVersion::from(config.tls.minimum.as_str())),
        // AWS fixes the policy of the shared *.cloudfront.net certificate at TLSv1.
        None => ViewerCertificate::builder()
            .cloud_front_default_certificate(true)
            .minimum_protocol_version(MinimumProtocolVersion::TlSv1),
    }
    .build()
}

/// The properties sitewarden sets, by name; the projection of live and desired configs alike.
fn properties(c: &DistributionConfig) -> Properties {
    let mut props = Properties::new();
    add(
        &mut props,
        "state",
        if c.enabled { "enabled" } else { "disabled" },
    );
    add(&mut props, "comment", c.comment.as_str());
    add(
        &mut props,
        "aliases",
        listed(c.aliases.iter().flat_map(Aliases::items).cloned()),
    );
    add(
        &mut props,
        "default root object",
        or_none(c.default_root_object.as_deref()),
    );
    for origin in c.origins.iter().flat_map(|o| &o.items) {
        origin_properties(&mut props, origin);
    }
    if let Some(behavior) = &c.default_cache_behavior {
        behavior_properties(&mut props, behavior);
    }
    if let Some(extra) = c.cache_behaviors.as_ref().filter(|b| b.quantity > 0) {
        add(
            &mut props,
            "extra cache behaviors",
            extra.quantity.to_string(),
        );
    }
    let errors = c
        .custom_error_responses
        .iter()
        .flat_map(CustomErrorResponses::items)
        .map(|e| {
            format!(
                "{} → {} ({}, cached {} s)",
                e.error_code,
                e.response_page_path.as_deref().unwrap_or("default page"),
                e.response_code.as_deref().unwrap_or("same code"),
                e.error_caching_min_ttl.unwrap_or_default()
            )
        });
    add(&mut props, "error responses", listed(errors));
    add(
        &mut props,
        "HTTP versions",
        c.http_version
            .as_ref()
            .map_or("http1.1", HttpVersion::as_str),
    );
    add(&mut props, "IPv6", on_off(c.is_ipv6_enabled));
    add(
        &mut props,
        "price class",
        c.price_class
            .as_ref()
            .map_or("PriceClass_All", PriceClass::as_str),
    );
    add(
        &mut props,
        "web ACL",
        or_none(c.web_acl_id.as_deref().filter(|a| !a.is_empty())),
    );
    add(
        &mut props,
        "legacy logging",
        on_off(c.logging.as_ref().map(|l| l.enabled)),
    );
    certificate_properties(&mut props, c.viewer_certificate.as_ref());
    props
}

fn add(props: &mut Properties, name: &str, value: impl Into<String>) {
    props.push((name.to_owned(), value.into()));
}

fn on_off(value: Option<bool>) -> &'static str {
    if value == Some(true) { "on" } else { "off" }
}

fn or_none(value: Option<&str>) -> &str {
    value.filter(|v| !v.is_empty()).unwrap_or("none")
}

/// Sorted and joined, `none` when empty.
fn listed(items: impl Iterator<Item = String>) -> String {
    let mut items: Vec<String> = items.collect();
    items.sort();
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

fn origin_properties(props: &mut Properties, origin: &Origin) {
    add(
        props,
        &format!("origin {}", origin.id),
        origin.domain_name.as_str(),
    );
    let oai = origin
        .s3_origin_config
        .as_ref()
        .map(|s| s.origin_access_identity.as_str());
    let access = match (
        or_none(oai),
        or_none(origin.origin_access_control_id.as_deref()),
    ) {
        ("none", "none") => "unsigned".to_owned(),
        ("none", oac) => format!("origin access control {oac}"),
        (oai, _) => format!("origin access identity {oai}"),
    };
    add(props, &format!("origin {} access", origin.id), access);
}

fn behavior_properties(props: &mut Properties, b: &DefaultCacheBehavior) {
    let names = |methods: &[Method]| listed(methods.iter().map(|m| m.as_str().to_owned()));
    add(props, "target origin", b.target_origin_id.as_str());
    add(
        props,
        "viewer protocol policy",
        b.viewer_protocol_policy.as_str(),
    );
    let allowed = b.allowed_methods.as_ref();
    add(
        props,
        "allowed methods",
        names(allowed.map_or(&[], |m| &m.items)),
    );
    let cached = allowed.and_then(|m| m.cached_methods.as_ref());
    add(
        props,
        "cached methods",
        names(cached.map_or(&[], |m| &m.items)),
    );
    add(props, "compression", on_off(b.compress));
    add(
        props,
        "cache policy",
        b.cache_policy_id
            .as_deref()
            .unwrap_or("none (legacy cache settings)"),
    );
    add(
        props,
        "response headers policy",
        or_none(b.response_headers_policy_id.as_deref()),
    );
    let functions = b
        .function_associations
        .iter()
        .flat_map(FunctionAssociations::items)
        .map(|f| format!("{} {}", f.event_type.as_str(), f.function_arn));
    add(props, "functions", listed(functions));
    if let Some(lambdas) = b
        .lambda_function_associations
        .as_ref()
        .filter(|l| l.quantity > 0)
    {
        add(
            props,
            "Lambda@Edge associations",
            lambdas.quantity.to_string(),
        );
    }
}

fn certificate_properties(props: &mut Properties, certificate: Option<&ViewerCertificate>) {
    let Some(certificate) = certificate else {
        add(props, "viewer certificate", "none");
        return;
    };
    match certificate
        .acm_certificate_arn
        .as_deref()
        .filter(|a| !a.is_empty())
    {
        Some(arn) => {
            let method = certificate
                .ssl_support_method
                .as_ref()
                .map_or("none", SslSupportMethod::as_str);
            add(props, "viewer certificate", format!("ACM {arn} ({method})"));
            let minimum = certificate.minimum_protocol_version.as_ref();
            add(
                props,
                "minimum TLS",
                minimum.map_or("none", MinimumProtocolVersion::as_str),
            );
        }
        // The default certificate's SSL method and TLS policy are fixed by AWS: nothing to compare.
        None if certificate.cloud_front_default_certificate == Some(true) => {
            add(
                props,
                "viewer certificate",
                "CloudFront default (*.cloudfront.net)",
            );
        }
        None => add(props, "viewer certificate", "IAM or none"),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const ARN: &str = "arn:aws:acm:us-east-1:123456789012:certificate/abc";

    fn parts() -> Parts {
        Parts {
            oac_id: Some("E2OAC".to_owned()),
            headers_policy_id: Some("policy-1".to_owned()),
            function_arn: Some(
                "arn:aws:cloudfront::123456789012:function/sitewarden-docs".to_owned(),
            ),
        }
    }

    fn config(extra: &str) -> Config {
        Config::parse(
            &format!("[site]\nname = \"docs\"\nsource = \"dist\"\n{extra}"),
            Path::new("sitewarden.toml"),
        )
        .unwrap()
    }

    fn build(config: &Config, certificate: Option<&str>) -> DistributionConfig {
        let names = SiteNames::new(config, "123456789012");
        desired(config, &names, "eu-west-1", certificate, &parts(), "ref").unwrap()
    }

    #[test]
    fn domainless_site_uses_the_default_certificate_without_aliases() {
        let c = build(&config(""), None);
        let cert = c.viewer_certificate.as_ref().unwrap();
        assert_eq!(cert.cloud_front_default_certificate, Some(true));
        assert_eq!(cert.acm_certificate_arn, None);
        assert_eq!(c.aliases.as_ref().unwrap().quantity, 0);
        let origin = &c.origins.as_ref().unwrap().items[0];
        assert_eq!(
            origin.domain_name,
            "docs-site-123456789012.s3.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            origin
                .s3_origin_config
                .as_ref()
                .unwrap()
                .origin_access_identity,
            ""
        );
        assert_eq!(origin.origin_access_control_id.as_deref(), Some("E2OAC"));
        let behavior = c.default_cache_behavior.as_ref().unwrap();
        assert_eq!(
            behavior.viewer_protocol_policy,
            ViewerProtocolPolicy::RedirectToHttps
        );
        assert_eq!(behavior.cache_policy_id.as_deref(), Some(CACHING_OPTIMIZED));
        assert_eq!(
            behavior.response_headers_policy_id.as_deref(),
            Some("policy-1")
        );
        let errors = c.custom_error_responses.as_ref().unwrap().items();
        assert_eq!(
            errors
                .iter()
                .map(|e| (e.error_code, e.response_code.as_deref()))
                .collect::<Vec<_>>(),
            [(403, Some("404")), (404, Some("404"))]
        );
        assert_eq!(c.http_version, Some(HttpVersion::Http2and3));
        assert_eq!(c.logging.as_ref().map(|l| l.enabled), Some(false));
    }

    #[test]
    fn domain_site_uses_its_certificate_sni_and_tls_minimum() {
        let site = config(
            "domain = \"example.com\"\naliases = [\"www.example.com\"]\n[tls]\nminimum = \"TLSv1.3_2025\"\n",
        );
        let c = build(&site, Some(ARN));
        let cert = c.viewer_certificate.as_ref().unwrap();
        assert_eq!(cert.cloud_front_default_certificate, Some(false));
        assert_eq!(cert.acm_certificate_arn.as_deref(), Some(ARN));
        assert_eq!(cert.ssl_support_method, Some(SslSupportMethod::SniOnly));
        assert_eq!(
            cert.minimum_protocol_version,
            Some(MinimumProtocolVersion::TlSv132025)
        );
        assert_eq!(
            c.aliases.as_ref().unwrap().items(),
            ["example.com", "www.example.com"]
        );
    }

    #[test]
    fn price_class_web_acl_and_cache_policy_come_from_the_config() {
        let defaults = build(&config(""), None);
        assert_eq!(defaults.price_class, Some(PriceClass::PriceClassAll));
        assert_eq!(defaults.web_acl_id.as_deref(), Some(""));
        let acl = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/site/0a1b2c3d";
        let c = build(
            &config(&format!(
                "[cdn]\nprice_class = \"PriceClass_100\"\nweb_acl_id = \"{acl}\"\n\
                 cache_policy_id = \"4135ea2d-6df8-44a3-9df3-4b5a84be39ad\"\n"
            )),
            None,
        );
        assert_eq!(c.price_class, Some(PriceClass::PriceClass100));
        assert_eq!(c.web_acl_id.as_deref(), Some(acl));
        assert_eq!(
            c.default_cache_behavior.unwrap().cache_policy_id.as_deref(),
            Some("4135ea2d-6df8-44a3-9df3-4b5a84be39ad")
        );
        let changes = diff_properties(
            &properties(&defaults),
            &properties(&build(
                &config(&format!("[cdn]\nweb_acl_id = \"{acl}\"\n")),
                None,
            )),
        );
        assert_eq!(changes, [format!("web ACL none → {acl}")]);
    }

    #[test]
    fn spa_fallback_serves_the_app_with_200() {
        let c = build(&config("[deploy]\nspa_fallback = \"/index.html\"\n"), None);
        for e in c.custom_error_responses.as_ref().unwrap().items() {
            assert_eq!(
                (e.response_page_path.as_deref(), e.response_code.as_deref()),
                (Some("/index.html"), Some("200"))
            );
        }
    }

    #[test]
    fn drift_is_named_per_property() {
        let site = config("domain = \"example.com\"\n");
        let want = build(&site, Some(ARN));
        let mut live = want.clone();
        let mut cert = live.viewer_certificate.clone().unwrap();
        cert.minimum_protocol_version = Some(MinimumProtocolVersion::TlSv122021);
        live.viewer_certificate = Some(cert);
        let mut behavior = live.default_cache_behavior.clone().unwrap();
        behavior.response_headers_policy_id = None;
        live.default_cache_behavior = Some(behavior);
        assert_eq!(
            diff_properties(&properties(&live), &properties(&want)),
            [
                "response headers policy none → policy-1",
                "minimum TLS TLSv1.2_2021 → TLSv1.2_2025"
            ]
        );
        assert!(diff_properties(&properties(&want), &properties(&want)).is_empty());
    }

    #[test]
    fn default_certificate_policy_set_by_aws_is_not_drift() {
        let want = build(&config(""), None);
        let mut live = want.clone();
        live.viewer_certificate = Some(
            ViewerCertificate::builder()
                .cloud_front_default_certificate(true)
                .ssl_support_method(SslSupportMethod::Vip)
                .minimum_protocol_version(MinimumProtocolVersion::TlSv1)
                .build(),
        );
        assert!(diff_properties(&properties(&live), &properties(&want)).is_empty());
    }

    #[test]
    fn planned_parts_are_placeholders() {
        let site = config("");
        let names = SiteNames::new(&site, "123456789012");
        let none = Parts {
            oac_id: None,
            headers_policy_id: None,
            function_arn: None,
        };
        let c = desired(&site, &names, "eu-west-1", None, &none, "ref").unwrap();
        assert_eq!(
            c.origins.unwrap().items[0]
                .origin_access_control_id
                .as_deref(),
            Some("(new origin access control)")
        );
    }
}
