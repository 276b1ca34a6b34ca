//! CloudFront distribution controls: Origin Access Control on S3 REST origins, HTTPS for viewers
//! and custom origins, the certificate and TLS minimum, the default root object, access logging
//! (standard logging v2 through CloudWatch Logs delivery, us-east-1), the security headers policy,
//! WAF, origin buckets that exist, and a GET/HEAD cache behavior without query strings or cookies
//! in the cache key.
//!
//! Also finds distributions for a flags-only audit: by name (alias) or by origin bucket.

use std::collections::BTreeSet;

use aws_sdk_cloudfront::types::{
    CachePolicyConfig, CachePolicyCookieBehavior, CachePolicyQueryStringBehavior,
    DistributionConfig, DistributionSummary, ForwardedValues, ItemSelection, Method,
    MinimumProtocolVersion, OriginProtocolPolicy, ResponseHeadersPolicyConfig, SslProtocol,
    SslSupportMethod, ViewerProtocolPolicy,
};

use super::controls::{
    CF_ACCESS_LOGGING, CF_CONTENT_SECURITY_POLICY, CF_CUSTOM_CERTIFICATE, CF_DEFAULT_ROOT_OBJECT,
    CF_LEGACY_LOGGING, CF_METHODS_AND_CACHE_KEY, CF_ORIGIN_ACCESS_CONTROL, CF_ORIGIN_BUCKET_EXISTS,
    CF_ORIGIN_TLS, CF_PAGE_CSP, CF_SECURITY_HEADERS, CF_TLS_MINIMUM, CF_VIEWER_HTTPS, CF_WAF,
};
use super::{Audited, Finding, Kind, Outcome, Sink};
use crate::aws::Aws;
use crate::error::{Error, Result};
use crate::observe;

/// A year: the HSTS max-age Security Hub, checkov and the preload list ask for at least.
const HSTS_MIN_AGE: i32 = 31_536_000;
const TLS_MINIMUMS: [&str; 3] = ["TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025"];

/// What the distribution reveals to the rest of the audit.
pub struct DistributionFacts {
    pub arn: String,
    pub domain_name: String,
    pub aliases: Vec<String>,
    pub certificate_arn: Option<String>,
    /// Buckets behind its S3 origins (REST or website endpoints).
    pub origin_buckets: Vec<String>,
}

pub use crate::observe::distribution::{S3Endpoint, origin_bucket, serves_bucket, serves_name};

/// The id of the first distribution `matches` accepts (one `ListDistributions` pass).
pub async fn find(
    aws: &Aws,
    matches: impl Fn(&DistributionSummary) -> bool,
) -> Result<Option<String>> {
    Ok(observe::distribution::find_first(aws, matches)
        .await?
        .map(|d| d.id))
}

/// Evaluates the distribution `id`; `None` when it cannot be read (every control then reports the
/// error).
pub async fn audit(
    aws: &Aws,
    id: &str,
    findings: &mut Vec<Finding>,
) -> Result<Option<DistributionFacts>> {
    let resource = format!("distribution `{id}`");
    let found = match observe::distribution::describe(aws, id, &resource).await {
        Ok(found) => found,
        Err(e) => {
            let unknown = Audited::new(Kind::Distribution, id.to_owned(), None);
            Sink::new(findings, unknown).unreadable(&e);
            return Ok(None);
        }
    };
    let distribution = found.ok_or_else(|| {
        Error::usage_with_hint(
            format!("CloudFront distribution `{id}` does not exist"),
            "`aws cloudfront list-distributions` lists the distribution ids",
        )
    })?;
    let config = distribution
        .distribution_config
        .ok_or_else(|| anyhow::anyhow!("GetDistribution answered without the config of {id}"))?;
    let mut sink = Sink::new(
        findings,
        Audited::new(
            Kind::Distribution,
            id.to_owned(),
            Some(distribution.arn.clone()),
        ),
    );
    let headers = headers_policies(aws, &config, &resource).await;
    let cache = cache_policies(aws, &config, &resource).await;
    let deliveries = log_deliveries(aws, &distribution.arn).await;
    let buckets = origin_buckets(&config);
    let existing = buckets_exist(aws, &buckets).await;

    sink.check(CF_ORIGIN_ACCESS_CONTROL, Ok(origin_access_control(&config)));
    sink.check(CF_VIEWER_HTTPS, Ok(viewer_https(&config)));
    sink.check(CF_CUSTOM_CERTIFICATE, Ok(custom_certificate(&config)));
    sink.check(CF_TLS_MINIMUM, Ok(tls_minimum(&config)));
    sink.check(CF_DEFAULT_ROOT_OBJECT, Ok(default_root_object(&config)));
    sink.check(
        CF_ACCESS_LOGGING,
        deliveries.as_ref().map(|d| access_logging(&config, d)),
    );
    sink.check(
        CF_LEGACY_LOGGING,
        deliveries.as_ref().map(|d| legacy_logging(&config, d)),
    );
    check_headers(&mut sink, &config, headers.as_ref());
    let pages = super::pages::audit(aws, &config, &resource).await;
    sink.check(CF_PAGE_CSP, pages.as_ref().map(Clone::clone));
    sink.check(CF_WAF, Ok(waf(&config)));
    sink.check(CF_ORIGIN_TLS, Ok(origin_tls(&config)));
    sink.check(
        CF_ORIGIN_BUCKET_EXISTS,
        existing.as_ref().map(|e| buckets_outcome(e)),
    );
    sink.check(
        CF_METHODS_AND_CACHE_KEY,
        cache.as_ref().map(|c| methods_and_cache_key(&config, c)),
    );
    sink.exceptions();
    Ok(Some(DistributionFacts {
        arn: distribution.arn.clone(),
        domain_name: distribution.domain_name,
        aliases: config
            .aliases
            .iter()
            .flat_map(aws_sdk_cloudfront::types::Aliases::items)
            .cloned()
            .collect(),
        certificate_arn: config
            .viewer_certificate
            .and_then(|v| v.acm_certificate_arn)
            .filter(|a| !a.is_empty()),
        origin_buckets: buckets,
    }))
}

// ---- evidence ----------------------------------------------------------------------------------

/// A cache behavior, default or path-specific, reduced to what the controls read.
struct Behavior<'a> {
    path: &'a str,
    viewer: &'a ViewerProtocolPolicy,
    methods: &'a [Method],
    cache_policy: Option<&'a str>,
    headers_policy: Option<&'a str>,
    forwarded: Option<&'a ForwardedValues>,
}

// Legacy cache settings (`ForwardedValues`) are deprecated but still live on older distributions.
#[allow(deprecated)]
fn behaviors(c: &DistributionConfig) -> Vec<Behavior<'_>> {
    let default = c.default_cache_behavior.iter().map(|b| Behavior {
        path: "default",
        viewer: &b.viewer_protocol_policy,
        methods: b.allowed_methods.as_ref().map_or(&[], |m| &m.items),
        cache_policy: b.cache_policy_id.as_deref(),
        headers_policy: b.response_headers_policy_id.as_deref(),
        forwarded: b.forwarded_values.as_ref(),
    });
    let others = c
        .cache_behaviors
        .iter()
        .flat_map(aws_sdk_cloudfront::types::CacheBehaviors::items)
        .map(|b| Behavior {
            path: &b.path_pattern,
            viewer: &b.viewer_protocol_policy,
            methods: b.allowed_methods.as_ref().map_or(&[], |m| &m.items),
            cache_policy: b.cache_policy_id.as_deref(),
            headers_policy: b.response_headers_policy_id.as_deref(),
            forwarded: b.forwarded_values.as_ref(),
        });
    default.chain(others).collect()
}

fn distinct<'a>(ids: impl Iterator<Item = Option<&'a str>>) -> BTreeSet<&'a str> {
    ids.flatten().filter(|id| !id.is_empty()).collect()
}

type Policies<T> = Vec<(String, Option<T>)>;

async fn headers_policies(
    aws: &Aws,
    config: &DistributionConfig,
    resource: &str,
) -> Result<Policies<ResponseHeadersPolicyConfig>> {
    let mut policies = Vec::new();
    for id in distinct(behaviors(config).iter().map(|b| b.headers_policy)) {
        let policy = observe::cloudfront::headers_policy(aws, id, resource).await?;
        policies.push((id.to_owned(), policy));
    }
    Ok(policies)
}

async fn cache_policies(
    aws: &Aws,
    config: &DistributionConfig,
    resource: &str,
) -> Result<Policies<CachePolicyConfig>> {
    let mut policies = Vec::new();
    for id in distinct(behaviors(config).iter().map(|b| b.cache_policy)) {
        let policy = observe::cloudfront::cache_policy(aws, id, resource).await?;
        policies.push((id.to_owned(), policy));
    }
    Ok(policies)
}

/// Standard logging v2 deliveries of the distribution's access logs, described for a person.
async fn log_deliveries(aws: &Aws, distribution_arn: &str) -> Result<Vec<String>> {
    let deliveries = observe::cloudfront::access_log_deliveries(aws, distribution_arn).await?;
    Ok(deliveries
        .into_iter()
        .map(|delivery| {
            format!(
                "delivery source `{}` → {} ({})",
                delivery.delivery_source_name.unwrap_or_default(),
                delivery.delivery_destination_arn.unwrap_or_default(),
                delivery
                    .delivery_destination_type
                    .as_ref()
                    .map_or("unknown type", |t| t.as_str())
            )
        })
        .collect())
}

fn origin_buckets(config: &DistributionConfig) -> Vec<String> {
    let mut buckets: Vec<String> = config
        .origins
        .iter()
        .flat_map(|o| &o.items)
        .filter_map(|o| origin_bucket(&o.domain_name).map(|(b, _)| b.to_owned()))
        .collect();
    buckets.dedup();
    buckets
}

/// Whether each bucket exists (in any account and region).
async fn buckets_exist(aws: &Aws, buckets: &[String]) -> Result<Vec<(String, bool)>> {
    let mut found = Vec::new();
    for bucket in buckets {
        found.push((
            bucket.clone(),
            super::s3::locate(aws, bucket).await?.is_some(),
        ));
    }
    Ok(found)
}

// ---- evaluation --------------------------------------------------------------------------------

fn uses_default_certificate(c: &DistributionConfig) -> bool {
    c.viewer_certificate
        .as_ref()
        .is_none_or(|v| v.cloud_front_default_certificate == Some(true))
}

fn origin_access_control(c: &DistributionConfig) -> Outcome {
    let mut problems = Vec::new();
    let mut ok = Vec::new();
    for origin in c.origins.iter().flat_map(|o| &o.items) {
        let Some((bucket, endpoint)) = origin_bucket(&origin.domain_name) else {
            continue;
        };
        let oai = origin
            .s3_origin_config
            .as_ref()
            .map_or("", |s| s.origin_access_identity.as_str());
        let oac = origin.origin_access_control_id.as_deref().unwrap_or("");
        match endpoint {
            S3Endpoint::Website => problems.push(format!(
                "origin `{}` is the website endpoint of `{bucket}` (public, HTTP only, no OAC)",
                origin.id
            )),
            S3Endpoint::Rest if !oai.is_empty() => problems.push(format!(
                "origin `{}` uses the legacy origin access identity {oai}",
                origin.id
            )),
            S3Endpoint::Rest if oac.is_empty() => problems.push(format!(
                "origin `{}` has no origin access control (the bucket must be public)",
                origin.id
            )),
            S3Endpoint::Rest => ok.push(format!("origin `{}` → OAC {oac}", origin.id)),
        }
    }
    if problems.is_empty() && ok.is_empty() {
        return Outcome::pass("no S3 origin");
    }
    Outcome::unless(&problems, ok.join(", "))
}

fn viewer_https(c: &DistributionConfig) -> Outcome {
    let problems: Vec<String> = behaviors(c)
        .iter()
        .filter(|b| {
            !matches!(
                b.viewer,
                ViewerProtocolPolicy::RedirectToHttps | ViewerProtocolPolicy::HttpsOnly
            )
        })
        .map(|b| format!("{} behavior allows {}", b.path, b.viewer.as_str()))
        .collect();
    Outcome::unless(
        &problems,
        "redirect-to-https or https-only on every behavior",
    )
}

fn custom_certificate(c: &DistributionConfig) -> Outcome {
    let Some(v) = c
        .viewer_certificate
        .as_ref()
        .filter(|_| !uses_default_certificate(c))
    else {
        return Outcome::exception(
            "no custom domain: the *.cloudfront.net name is served with CloudFront's own \
             certificate",
        );
    };
    match (&v.acm_certificate_arn, &v.ssl_support_method) {
        (Some(arn), Some(SslSupportMethod::SniOnly)) => Outcome::pass(format!("{arn}, sni-only")),
        (Some(arn), method) => Outcome::fail(format!(
            "{arn} with SSL support method {} (dedicated IPs: use sni-only)",
            method.as_ref().map_or("none", SslSupportMethod::as_str)
        )),
        (None, _) => Outcome::fail(format!(
            "IAM server certificate {} instead of ACM",
            v.iam_certificate_id.as_deref().unwrap_or("(unknown)")
        )),
    }
}

fn tls_minimum(c: &DistributionConfig) -> Outcome {
    if uses_default_certificate(c) {
        return Outcome::exception(
            "no custom domain: CloudFront's *.cloudfront.net certificate always accepts TLSv1 and \
             its policy cannot be changed; a `site.domain` enforces TLSv1.2_2025",
        );
    }
    let minimum = c
        .viewer_certificate
        .as_ref()
        .and_then(|v| v.minimum_protocol_version.as_ref())
        .map_or("none", MinimumProtocolVersion::as_str);
    if TLS_MINIMUMS.contains(&minimum) {
        Outcome::pass(minimum)
    } else {
        Outcome::fail(format!("minimum protocol version {minimum}"))
    }
}

fn default_root_object(c: &DistributionConfig) -> Outcome {
    match c.default_root_object.as_deref().filter(|o| !o.is_empty()) {
        Some(object) => Outcome::pass(object),
        None => Outcome::fail("no default root object (`/` lists or errors at the origin)"),
    }
}

fn legacy_enabled(c: &DistributionConfig) -> Option<String> {
    c.logging
        .as_ref()
        .filter(|l| l.enabled)
        .map(|l| format!("legacy logging to {}/{}", l.bucket, l.prefix))
}

fn access_logging(c: &DistributionConfig, deliveries: &[String]) -> Outcome {
    let mut on: Vec<String> = deliveries.to_vec();
    on.extend(legacy_enabled(c));
    if on.is_empty() {
        Outcome::fail("no standard logging v2 delivery and legacy logging off")
    } else {
        Outcome::pass(on.join("; "))
    }
}

fn legacy_logging(c: &DistributionConfig, deliveries: &[String]) -> Outcome {
    match (legacy_enabled(c), deliveries.is_empty()) {
        (Some(legacy), _) => Outcome::pass(legacy),
        (None, false) => Outcome::exception(
            "standard logging v2 delivers the access logs (see SW.CloudFront.Logging); Security \
             Hub's CloudFront.5 checks only legacy logging, which needs an ACL-enabled bucket",
        ),
        (None, true) => Outcome::fail("no access logging"),
    }
}

fn security_headers(
    c: &DistributionConfig,
    policies: &Policies<ResponseHeadersPolicyConfig>,
) -> Outcome {
    let mut problems = Vec::new();
    let mut ok = BTreeSet::new();
    for b in behaviors(c) {
        let Some(id) = b.headers_policy.filter(|id| !id.is_empty()) else {
            problems.push(format!(
                "{} behavior has no response headers policy",
                b.path
            ));
            continue;
        };
        let hsts = policies
            .iter()
            .find(|(p, _)| p == id)
            .and_then(|(_, config)| config.as_ref())
            .and_then(|c| c.security_headers_config.as_ref())
            .and_then(|s| s.strict_transport_security.as_ref());
        let Some(hsts) = hsts else {
            problems.push(format!("policy {id} sets no Strict-Transport-Security"));
            continue;
        };
        let mut weak = Vec::new();
        if hsts.access_control_max_age_sec < HSTS_MIN_AGE {
            weak.push(format!("max-age {}", hsts.access_control_max_age_sec));
        }
        if hsts.include_subdomains != Some(true) {
            weak.push("no includeSubDomains".to_owned());
        }
        if !hsts.r#override {
            weak.push("does not override the origin".to_owned());
        }
        if weak.is_empty() {
            ok.insert(format!(
                "policy {id}: HSTS max-age {}, includeSubDomains, override",
                hsts.access_control_max_age_sec
            ));
        } else {
            problems.push(format!("policy {id} HSTS: {}", weak.join(", ")));
        }
    }
    Outcome::unless(&problems, ok.into_iter().collect::<Vec<_>>().join("; "))
}

/// The controls read from the response headers policies.
fn check_headers(
    sink: &mut Sink<'_>,
    config: &DistributionConfig,
    headers: Result<&Policies<ResponseHeadersPolicyConfig>, &Error>,
) {
    sink.check(
        CF_SECURITY_HEADERS,
        headers.map(|h| security_headers(config, h)),
    );
    sink.check(
        CF_CONTENT_SECURITY_POLICY,
        headers.map(|h| content_security_policy(config, h)),
    );
}

/// The headers policies' Content-Security-Policy must be strict (`crate::csp::weaknesses`). With
/// Override off and a viewer-response function on the behavior (sitewarden's `"auto"`), each page's
/// own policy comes from deploy, which writes only strict ones; the policy here is what error
/// responses get, so it must be strict too.
fn content_security_policy(
    c: &DistributionConfig,
    policies: &Policies<ResponseHeadersPolicyConfig>,
) -> Outcome {
    let mut problems = Vec::new();
    let mut ok = BTreeSet::new();
    for b in behaviors(c) {
        let Some(id) = b.headers_policy.filter(|id| !id.is_empty()) else {
            continue; // CF_SECURITY_HEADERS names a behavior without a policy
        };
        let csp = policies
            .iter()
            .find(|(p, _)| p == id)
            .and_then(|(_, config)| config.as_ref())
            .and_then(|c| c.security_headers_config.as_ref())
            .and_then(|s| s.content_security_policy.as_ref());
        let Some(csp) = csp else {
            problems.push(format!("policy {id} sets no Content-Security-Policy"));
            continue;
        };
        let weak = crate::csp::weaknesses(&csp.content_security_policy);
        if weak.is_empty() {
            let how = if csp.r#override {
                "strict, overriding"
            } else {
                "strict site-wide policy; pages may carry their own"
            };
            ok.insert(format!("policy {id}: {how}"));
        } else {
            problems.push(format!(
                "policy {id} Content-Security-Policy: {}",
                weak.join(", ")
            ));
        }
    }
    Outcome::unless(&problems, ok.into_iter().collect::<Vec<_>>().join("; "))
}

fn waf(c: &DistributionConfig) -> Outcome {
    match c.web_acl_id.as_deref().filter(|id| !id.is_empty()) {
        Some(acl) => Outcome::pass(format!("web ACL {acl}")),
        None => Outcome::exception(
            "no web ACL: WAF is optional for a static site (cost per request) and is not \
             configured; reported so the choice stays visible",
        ),
    }
}

fn origin_tls(c: &DistributionConfig) -> Outcome {
    let mut problems = Vec::new();
    let mut custom = 0;
    for origin in c.origins.iter().flat_map(|o| &o.items) {
        let Some(config) = &origin.custom_origin_config else {
            continue;
        };
        custom += 1;
        if config.origin_protocol_policy != OriginProtocolPolicy::HttpsOnly {
            problems.push(format!(
                "origin `{}` protocol policy {}",
                origin.id,
                config.origin_protocol_policy.as_str()
            ));
        }
        let old: Vec<&str> = config
            .origin_ssl_protocols
            .iter()
            .flat_map(|p| &p.items)
            .filter(|p| **p != SslProtocol::TlSv12)
            .map(SslProtocol::as_str)
            .collect();
        if !old.is_empty() {
            problems.push(format!("origin `{}` allows {}", origin.id, old.join(", ")));
        }
    }
    if custom == 0 {
        return Outcome::pass("S3 REST origins only (signed by OAC over HTTPS)");
    }
    Outcome::unless(&problems, "custom origins https-only with TLSv1.2")
}

fn buckets_outcome(buckets: &[(String, bool)]) -> Outcome {
    let missing: Vec<String> = buckets
        .iter()
        .filter(|(_, exists)| !exists)
        .map(|(b, _)| format!("origin bucket `{b}` does not exist (anyone could create it)"))
        .collect();
    let names: Vec<String> = buckets.iter().map(|(b, _)| format!("`{b}`")).collect();
    Outcome::unless(
        &missing,
        if names.is_empty() {
            "no S3 origin".to_owned()
        } else {
            format!("origin bucket {} exists", names.join(", "))
        },
    )
}

fn methods_and_cache_key(
    c: &DistributionConfig,
    policies: &Policies<CachePolicyConfig>,
) -> Outcome {
    let mut problems = Vec::new();
    for b in behaviors(c) {
        let extra: Vec<&str> = b
            .methods
            .iter()
            .filter(|m| !matches!(m, Method::Get | Method::Head | Method::Options))
            .map(Method::as_str)
            .collect();
        if !extra.is_empty() {
            problems.push(format!("{} behavior allows {}", b.path, extra.join(", ")));
        }
        let policy = b
            .cache_policy
            .and_then(|id| policies.iter().find(|(p, _)| p == id))
            .and_then(|(_, config)| config.as_ref())
            .and_then(|c| c.parameters_in_cache_key_and_forwarded_to_origin.as_ref());
        let (query, cookies) = match (policy, b.forwarded) {
            (Some(p), _) => (
                p.query_strings_config.as_ref().is_some_and(|q| {
                    q.query_string_behavior != CachePolicyQueryStringBehavior::None
                }),
                p.cookies_config
                    .as_ref()
                    .is_some_and(|c| c.cookie_behavior != CachePolicyCookieBehavior::None),
            ),
            (None, Some(f)) => (
                f.query_string,
                f.cookies
                    .as_ref()
                    .is_some_and(|c| c.forward != ItemSelection::None),
            ),
            (None, None) => (false, false),
        };
        if query {
            problems.push(format!(
                "{} behavior keys the cache on query strings",
                b.path
            ));
        }
        if cookies {
            problems.push(format!("{} behavior keys the cache on cookies", b.path));
        }
    }
    Outcome::unless(
        &problems,
        "GET/HEAD only; no query strings or cookies in the cache key",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Status;
    use aws_sdk_cloudfront::types::{
        AllowedMethods, CustomOriginConfig, DefaultCacheBehavior, Origin, OriginSslProtocols,
        Origins, ResponseHeadersPolicySecurityHeadersConfig,
        ResponseHeadersPolicyStrictTransportSecurity, S3OriginConfig, ViewerCertificate,
    };

    fn behavior(policy: ViewerProtocolPolicy) -> DefaultCacheBehavior {
        DefaultCacheBehavior::builder()
            .target_origin_id("o")
            .viewer_protocol_policy(policy)
            .allowed_methods(
                AllowedMethods::builder()
                    .quantity(2)
                    .items(Method::Get)
                    .items(Method::Head)
                    .build()
                    .unwrap(),
            )
            .response_headers_policy_id("h")
            .cache_policy_id("c")
            .build()
            .unwrap()
    }

    fn origin(domain: &str, oai: Option<&str>, oac: Option<&str>) -> Origin {
        Origin::builder()
            .id("o")
            .domain_name(domain)
            .set_s3_origin_config(
                oai.map(|i| S3OriginConfig::builder().origin_access_identity(i).build()),
            )
            .set_origin_access_control_id(oac.map(str::to_owned))
            .build()
            .unwrap()
    }

    fn config(origin: Origin, certificate: ViewerCertificate) -> DistributionConfig {
        DistributionConfig::builder()
            .caller_reference("r")
            .comment("sitewarden:docs")
            .enabled(true)
            .default_root_object("index.html")
            .origins(
                Origins::builder()
                    .quantity(1)
                    .items(origin)
                    .build()
                    .unwrap(),
            )
            .default_cache_behavior(behavior(ViewerProtocolPolicy::RedirectToHttps))
            .viewer_certificate(certificate)
            .build()
            .unwrap()
    }

    fn domain_certificate(minimum: MinimumProtocolVersion) -> ViewerCertificate {
        ViewerCertificate::builder()
            .cloud_front_default_certificate(false)
            .acm_certificate_arn("arn:aws:acm:us-east-1:1:certificate/c")
            .ssl_support_method(SslSupportMethod::SniOnly)
            .minimum_protocol_version(minimum)
            .build()
    }

    fn secure() -> DistributionConfig {
        config(
            origin("b.s3.eu-west-1.amazonaws.com", Some(""), Some("OAC1")),
            domain_certificate(MinimumProtocolVersion::TlSv122025),
        )
    }

    #[test]
    fn the_sitewarden_distribution_passes() {
        let c = secure();
        for outcome in [
            origin_access_control(&c),
            viewer_https(&c),
            custom_certificate(&c),
            tls_minimum(&c),
            default_root_object(&c),
            origin_tls(&c),
        ] {
            assert_eq!(outcome.status, Status::Pass, "{}", outcome.evidence);
        }
        assert_eq!(origin_access_control(&c).evidence, "origin `o` → OAC OAC1");
        assert_eq!(waf(&c).status, Status::Exception);
        let deliveries = vec!["delivery source `s` → arn (S3)".to_owned()];
        assert_eq!(access_logging(&c, &deliveries).status, Status::Pass);
        assert_eq!(legacy_logging(&c, &deliveries).status, Status::Exception);
        assert_eq!(access_logging(&c, &[]).status, Status::Fail);
        assert_eq!(legacy_logging(&c, &[]).status, Status::Fail);
    }

    #[test]
    fn website_origins_oai_and_missing_oac_fail() {
        let website = config(
            origin("b.s3-website-eu-west-1.amazonaws.com", None, None),
            domain_certificate(MinimumProtocolVersion::TlSv122025),
        );
        assert!(
            origin_access_control(&website)
                .evidence
                .contains("website endpoint of `b`")
        );
        let oai = config(
            origin(
                "b.s3.amazonaws.com",
                Some("origin-access-identity/cloudfront/E1"),
                None,
            ),
            domain_certificate(MinimumProtocolVersion::TlSv122025),
        );
        assert!(
            origin_access_control(&oai)
                .evidence
                .contains("legacy origin access identity")
        );
        let unsigned = config(
            origin("b.s3.amazonaws.com", Some(""), None),
            domain_certificate(MinimumProtocolVersion::TlSv122025),
        );
        assert_eq!(origin_access_control(&unsigned).status, Status::Fail);
    }

    #[test]
    fn old_tls_and_http_fail_default_certificate_is_an_exception() {
        let old = config(
            origin("b.s3.amazonaws.com", Some(""), Some("O")),
            domain_certificate(MinimumProtocolVersion::TlSv122019),
        );
        assert_eq!(
            tls_minimum(&old),
            Outcome::fail("minimum protocol version TLSv1.2_2019")
        );
        let default = config(
            origin("b.s3.amazonaws.com", Some(""), Some("O")),
            ViewerCertificate::builder()
                .cloud_front_default_certificate(true)
                .minimum_protocol_version(MinimumProtocolVersion::TlSv1)
                .build(),
        );
        assert_eq!(tls_minimum(&default).status, Status::Exception);
        assert_eq!(custom_certificate(&default).status, Status::Exception);
        let mut http = secure();
        http.default_cache_behavior = Some(behavior(ViewerProtocolPolicy::AllowAll));
        assert_eq!(
            viewer_https(&http),
            Outcome::fail("default behavior allows allow-all")
        );
    }

    #[test]
    fn hsts_must_be_a_year_with_subdomains_and_override() {
        let policy = |age: i32, subdomains: bool| {
            let hsts = ResponseHeadersPolicyStrictTransportSecurity::builder()
                .access_control_max_age_sec(age)
                .include_subdomains(subdomains)
                .r#override(true)
                .build()
                .unwrap();
            vec![(
                "h".to_owned(),
                Some(
                    ResponseHeadersPolicyConfig::builder()
                        .name("p")
                        .security_headers_config(
                            ResponseHeadersPolicySecurityHeadersConfig::builder()
                                .strict_transport_security(hsts)
                                .build(),
                        )
                        .build()
                        .unwrap(),
                ),
            )]
        };
        let c = secure();
        assert_eq!(
            security_headers(&c, &policy(63_072_000, true)).status,
            Status::Pass
        );
        assert_eq!(
            security_headers(&c, &policy(300, false)).evidence,
            "policy h HSTS: max-age 300, no includeSubDomains"
        );
        let mut none = secure();
        let mut bare = behavior(ViewerProtocolPolicy::HttpsOnly);
        bare.response_headers_policy_id = None;
        none.default_cache_behavior = Some(bare);
        assert_eq!(
            security_headers(&none, &Vec::new()).evidence,
            "default behavior has no response headers policy"
        );
    }

    #[test]
    fn a_weak_content_security_policy_fails() {
        let policy = |csp: &str, r#override: bool| {
            let csp =
                aws_sdk_cloudfront::types::ResponseHeadersPolicyContentSecurityPolicy::builder()
                    .content_security_policy(csp)
                    .r#override(r#override)
                    .build()
                    .unwrap();
            vec![(
                "h".to_owned(),
                Some(
                    ResponseHeadersPolicyConfig::builder()
                        .name("p")
                        .security_headers_config(
                            ResponseHeadersPolicySecurityHeadersConfig::builder()
                                .content_security_policy(csp)
                                .build(),
                        )
                        .build()
                        .unwrap(),
                ),
            )]
        };
        let c = secure();
        let strict = content_security_policy(&c, &policy(crate::config::DEFAULT_CSP, false));
        assert_eq!(
            (strict.status, strict.evidence.as_str()),
            (
                Status::Pass,
                "policy h: strict site-wide policy; pages may carry their own"
            )
        );
        assert_eq!(
            content_security_policy(&c, &policy("default-src 'self' 'unsafe-inline'", true))
                .evidence,
            "policy h Content-Security-Policy: 'unsafe-inline' in script-src, object-src is not \
             'none', base-uri is not 'self' or 'none', frame-ancestors is not 'none' or 'self', no \
             form-action: forms may post anywhere"
        );
        assert_eq!(
            content_security_policy(&c, &Vec::new()).evidence,
            "policy h sets no Content-Security-Policy"
        );
    }

    #[test]
    fn custom_origins_must_use_tls12_and_buckets_must_exist() {
        let custom = Origin::builder()
            .id("web")
            .domain_name("b.s3-website-eu-west-1.amazonaws.com")
            .custom_origin_config(
                CustomOriginConfig::builder()
                    .http_port(80)
                    .https_port(443)
                    .origin_protocol_policy(OriginProtocolPolicy::HttpOnly)
                    .origin_ssl_protocols(
                        OriginSslProtocols::builder()
                            .quantity(2)
                            .items(SslProtocol::TlSv1)
                            .items(SslProtocol::TlSv12)
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        let c = config(
            custom,
            domain_certificate(MinimumProtocolVersion::TlSv122025),
        );
        assert_eq!(
            origin_tls(&c).evidence,
            "origin `web` protocol policy http-only; origin `web` allows TLSv1"
        );
        assert_eq!(
            buckets_outcome(&[("b".to_owned(), false)]).status,
            Status::Fail
        );
        assert_eq!(
            buckets_outcome(&[("b".to_owned(), true)]).status,
            Status::Pass
        );
    }
}
