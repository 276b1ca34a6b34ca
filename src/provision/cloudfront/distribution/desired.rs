//! The desired distribution config, built from the site's config and the ids of the other
//! CloudFront parts.

use aws_sdk_cloudfront::types::{
    Aliases, AllowedMethods, CacheBehaviors, CachedMethods, CustomErrorResponse,
    CustomErrorResponses, DefaultCacheBehavior, DistributionConfig, EventType, FunctionAssociation,
    FunctionAssociations, GeoRestriction, GeoRestrictionType, HttpVersion, LoggingConfig, Method,
    MinimumProtocolVersion, Origin, Origins, PriceClass, Restrictions, S3OriginConfig,
    SslSupportMethod, ViewerCertificate, ViewerProtocolPolicy,
};

use super::super::Parts;
use crate::config::Config;
use crate::error::Result;
use crate::names::SiteNames;

/// The managed cache policy `CachingOptimized`: no query strings, cookies or headers in the key.
const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";
const ORIGIN_ID: &str = "s3-content";
const ERROR_CACHING_MIN_TTL: i64 = 10;

/// The S3 REST endpoint of the content bucket (OAC cannot sign for the website endpoint).
pub(super) fn origin_domain(bucket: &str, region: &str) -> String {
    format!("{bucket}.s3.{region}.amazonaws.com")
}

pub(super) fn create_detail(config: &Config, certificate: Option<&str>) -> String {
    let tls = match certificate {
        Some(_) => format!(
            "certificate for {}, TLS ≥ {}",
            domains(config).join(", "),
            config.tls.minimum.as_str()
        ),
        None => "*.cloudfront.net certificate".to_owned(),
    };
    let csp = if config.headers.csp() == crate::config::Csp::Auto {
        " and per-page CSP viewer-response function"
    } else {
        ""
    };
    format!(
        "create distribution: S3 REST origin with origin access control, HTTPS only, GET/HEAD, \
         CachingOptimized, security headers, viewer-request function{csp}, {tls}, HTTP/2 and 3, IPv6"
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
pub(in crate::provision::cloudfront) fn desired(
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
    let mut functions = vec![
        FunctionAssociation::builder()
            .event_type(EventType::ViewerRequest)
            .function_arn(planned(parts.function_arn.as_ref(), "function"))
            .build()?,
    ];
    // CSP "auto": each page's own policy, from its metadata, on the way out.
    if parts.csp {
        functions.push(
            FunctionAssociation::builder()
                .event_type(EventType::ViewerResponse)
                .function_arn(planned(
                    parts.csp_function_arn.as_ref(),
                    "viewer-response function",
                ))
                .build()?,
        );
    }
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
                .quantity(quantity(&functions))
                .set_items(Some(functions))
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

#[cfg(test)]
mod tests {
    use super::super::properties::properties;
    use super::super::tests::{ARN, build, config};
    use super::*;
    use crate::provision::cloudfront::diff_properties;

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
    fn csp_auto_associates_the_viewer_response_function_and_a_fixed_policy_does_not() {
        let events = |c: &DistributionConfig| {
            c.default_cache_behavior
                .as_ref()
                .unwrap()
                .function_associations
                .as_ref()
                .unwrap()
                .items()
                .iter()
                .map(|f| format!("{} {}", f.event_type.as_str(), f.function_arn))
                .collect::<Vec<_>>()
        };
        let auto = build(&config(""), None);
        assert_eq!(
            events(&auto),
            [
                "viewer-request arn:aws:cloudfront::123456789012:function/sitewarden-docs",
                "viewer-response arn:aws:cloudfront::123456789012:function/sitewarden-docs-csp"
            ]
        );
        let fixed = build(
            &config("[headers]\ncontent_security_policy = \"default-src 'self'\"\n"),
            None,
        );
        assert_eq!(events(&fixed).len(), 1);
        // Switching modes is drift the distribution's diff names.
        assert_eq!(
            diff_properties(&properties(&fixed), &properties(&auto)),
            [
                "functions viewer-request arn:aws:cloudfront::123456789012:function/sitewarden-docs \
                 → viewer-request arn:aws:cloudfront::123456789012:function/sitewarden-docs, \
                 viewer-response arn:aws:cloudfront::123456789012:function/sitewarden-docs-csp"
            ]
        );
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
    fn planned_parts_are_placeholders() {
        let site = config("");
        let names = SiteNames::new(&site, "123456789012");
        let none = Parts {
            oac_id: None,
            headers_policy_id: None,
            function_arn: None,
            csp_function_arn: None,
            csp: true,
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
