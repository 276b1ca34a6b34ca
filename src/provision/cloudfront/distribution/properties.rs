//! The distribution config projected onto the properties sitewarden sets, so that the live and the
//! desired config compare property by property.

use aws_sdk_cloudfront::types::{
    Aliases, CustomErrorResponses, DefaultCacheBehavior, DistributionConfig, FunctionAssociations,
    HttpVersion, Method, MinimumProtocolVersion, Origin, PriceClass, SslSupportMethod,
    ViewerCertificate,
};

use super::super::Properties;

/// The properties sitewarden sets, by name; the projection of live and desired configs alike.
pub(super) fn properties(c: &DistributionConfig) -> Properties {
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
    use aws_sdk_cloudfront::types::{MinimumProtocolVersion, SslSupportMethod, ViewerCertificate};

    use super::super::tests::{ARN, build, config};
    use super::*;
    use crate::provision::cloudfront::diff_properties;

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
}
