//! The response headers policy `sitewarden-<site>`: the security headers every response carries
//! (HSTS, CSP, nosniff, frame DENY, referrer policy, Permissions-Policy and the configured extra
//! headers), each overriding whatever the origin sent.
//!
//! `X-XSS-Protection` is deliberately not set: browsers removed their XSS auditors, the header can
//! itself introduce leaks, and the Content-Security-Policy is the protection that works.

use aws_sdk_cloudfront::types::{
    FrameOptionsList, ReferrerPolicyList, ResponseHeadersPolicyConfig,
    ResponseHeadersPolicyContentSecurityPolicy, ResponseHeadersPolicyContentTypeOptions,
    ResponseHeadersPolicyCustomHeader, ResponseHeadersPolicyCustomHeadersConfig,
    ResponseHeadersPolicyFrameOptions, ResponseHeadersPolicyReferrerPolicy,
    ResponseHeadersPolicySecurityHeadersConfig, ResponseHeadersPolicyStrictTransportSecurity,
};

use super::{Properties, diff_properties, resource_name};
use crate::config::Headers;
use crate::error::{AwsResultExt as _, Result};
use crate::names::{Kind, Resource};
use crate::provision::{Action, Ctx, Plan};

/// Two years, the HSTS preload list's expectation.
pub(super) const HSTS_MAX_AGE: i32 = 63_072_000;

/// Returns the policy id; `None` in `plan` when it would be created.
pub(super) async fn reconcile(ctx: &Ctx<'_>, plan: &mut Plan) -> Result<Option<String>> {
    let cloudfront = &ctx.aws.cloudfront;
    let name = resource_name(ctx);
    let resource = Resource::new(Kind::ResponseHeadersPolicy, &name);
    let desired = desired(&name, &ctx.config.headers)?;
    let Some(live) = crate::observe::cloudfront::headers_policy_named(ctx.aws, &name).await? else {
        ctx.change(
            plan,
            &resource,
            Action::Create,
            "create security headers policy (HSTS, CSP, nosniff, frame DENY, referrer policy, Permissions-Policy)",
        );
        if !ctx.apply {
            return Ok(None);
        }
        let created = cloudfront
            .create_response_headers_policy()
            .response_headers_policy_config(desired)
            .send()
            .await
            .op("CreateResponseHeadersPolicy", &resource)?;
        let id = created
            .response_headers_policy
            .map(|p| p.id)
            .ok_or_else(|| {
                anyhow::anyhow!("CreateResponseHeadersPolicy answered without the policy")
            })?;
        return Ok(Some(id));
    };
    let live_properties = live
        .response_headers_policy_config
        .as_ref()
        .map(properties)
        .unwrap_or_default();
    let changes = diff_properties(&live_properties, &properties(&desired));
    if !changes.is_empty() {
        ctx.change(plan, &resource, Action::Update, changes.join("; "));
        if ctx.apply {
            let etag = crate::observe::cloudfront::headers_policy_config_etag(
                ctx.aws, &live.id, &resource,
            )
            .await?;
            cloudfront
                .update_response_headers_policy()
                .id(&live.id)
                .set_if_match(etag)
                .response_headers_policy_config(desired)
                .send()
                .await
                .op("UpdateResponseHeadersPolicy", &resource)?;
        }
    }
    ctx.settled(plan, &resource);
    Ok(Some(live.id))
}

pub(super) async fn destroy(ctx: &Ctx<'_>, plan: &mut Plan) -> Result<()> {
    let cloudfront = &ctx.aws.cloudfront;
    let name = resource_name(ctx);
    let resource = Resource::new(Kind::ResponseHeadersPolicy, &name);
    let Some(live) = crate::observe::cloudfront::headers_policy_named(ctx.aws, &name).await? else {
        return Ok(());
    };
    ctx.change(
        plan,
        &resource,
        Action::Delete,
        "delete response headers policy",
    );
    if ctx.apply {
        let etag =
            crate::observe::cloudfront::headers_policy_etag(ctx.aws, &live.id, &resource).await?;
        cloudfront
            .delete_response_headers_policy()
            .id(&live.id)
            .set_if_match(etag)
            .send()
            .await
            .op("DeleteResponseHeadersPolicy", &resource)?;
    }
    Ok(())
}

/// The policy for `name` with the site's `[headers]`.
pub fn desired(name: &str, headers: &Headers) -> Result<ResponseHeadersPolicyConfig> {
    let security = ResponseHeadersPolicySecurityHeadersConfig::builder()
        .strict_transport_security(
            ResponseHeadersPolicyStrictTransportSecurity::builder()
                .r#override(true)
                .include_subdomains(headers.hsts_include_subdomains)
                .preload(headers.hsts_preload)
                .access_control_max_age_sec(HSTS_MAX_AGE)
                .build()?,
        )
        .content_security_policy(
            ResponseHeadersPolicyContentSecurityPolicy::builder()
                .r#override(true)
                .content_security_policy(headers.content_security_policy.as_str())
                .build()?,
        )
        .content_type_options(
            ResponseHeadersPolicyContentTypeOptions::builder()
                .r#override(true)
                .build()?,
        )
        .frame_options(
            ResponseHeadersPolicyFrameOptions::builder()
                .r#override(true)
                .frame_option(FrameOptionsList::Deny)
                .build()?,
        )
        .referrer_policy(
            ResponseHeadersPolicyReferrerPolicy::builder()
                .r#override(true)
                .referrer_policy(ReferrerPolicyList::StrictOriginWhenCrossOrigin)
                .build()?,
        )
        .build();
    let custom = std::iter::once(("Permissions-Policy", headers.permissions_policy.as_str()))
        .chain(headers.extra.iter().map(|(n, v)| (n.as_str(), v.as_str())))
        .map(|(header, value)| {
            ResponseHeadersPolicyCustomHeader::builder()
                .header(header)
                .value(value)
                .r#override(true)
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ResponseHeadersPolicyConfig::builder()
        .name(name)
        .comment("sitewarden: security headers")
        .security_headers_config(security)
        .custom_headers_config(
            ResponseHeadersPolicyCustomHeadersConfig::builder()
                .quantity(i32::try_from(custom.len()).unwrap_or(i32::MAX))
                .set_items(Some(custom))
                .build()?,
        )
        .build()?)
}

fn overriding(value: impl Into<String>, r#override: bool) -> String {
    let value = value.into();
    if r#override {
        format!("{value} (override)")
    } else {
        format!("{value} (origin's value kept)")
    }
}

/// The headers a policy sets, by header name.
pub(super) fn properties(config: &ResponseHeadersPolicyConfig) -> Properties {
    let mut props = Properties::new();
    let mut add = |name: &str, value: String| props.push((name.to_owned(), value));
    if let Some(security) = &config.security_headers_config {
        if let Some(hsts) = &security.strict_transport_security {
            let mut value = format!("max-age={}", hsts.access_control_max_age_sec);
            if hsts.include_subdomains == Some(true) {
                value.push_str("; includeSubDomains");
            }
            if hsts.preload == Some(true) {
                value.push_str("; preload");
            }
            add(
                "Strict-Transport-Security",
                overriding(value, hsts.r#override),
            );
        }
        if let Some(csp) = &security.content_security_policy {
            add(
                "Content-Security-Policy",
                overriding(csp.content_security_policy.as_str(), csp.r#override),
            );
        }
        if let Some(nosniff) = &security.content_type_options {
            add(
                "X-Content-Type-Options",
                overriding("nosniff", nosniff.r#override),
            );
        }
        if let Some(frame) = &security.frame_options {
            add(
                "X-Frame-Options",
                overriding(frame.frame_option.as_str(), frame.r#override),
            );
        }
        if let Some(referrer) = &security.referrer_policy {
            add(
                "Referrer-Policy",
                overriding(referrer.referrer_policy.as_str(), referrer.r#override),
            );
        }
        if let Some(xss) = &security.xss_protection {
            let value = if xss.protection { "1" } else { "0" };
            add("X-XSS-Protection", overriding(value, xss.r#override));
        }
    }
    for header in config
        .custom_headers_config
        .iter()
        .flat_map(ResponseHeadersPolicyCustomHeadersConfig::items)
    {
        add(
            &header.header,
            overriding(header.value.as_str(), header.r#override),
        );
    }
    if config.cors_config.is_some() {
        add("CORS headers", "configured".to_owned());
    }
    if config
        .server_timing_headers_config
        .as_ref()
        .is_some_and(|s| s.enabled)
    {
        add("Server-Timing", "enabled".to_owned());
    }
    if config
        .remove_headers_config
        .as_ref()
        .is_some_and(|r| r.quantity > 0)
    {
        add("removed headers", "configured".to_owned());
    }
    props
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DEFAULT_CSP, DEFAULT_PERMISSIONS_POLICY};

    fn headers(preload: bool) -> Headers {
        Headers {
            hsts_preload: preload,
            ..Headers::default()
        }
    }

    #[test]
    fn desired_policy_sets_every_security_header_with_override() {
        let config = desired("sitewarden-docs", &headers(false)).unwrap();
        let props = properties(&config);
        let value = |name: &str| {
            props
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(
            value("Strict-Transport-Security"),
            Some("max-age=63072000; includeSubDomains (override)")
        );
        assert_eq!(
            value("Content-Security-Policy"),
            Some(format!("{DEFAULT_CSP} (override)").as_str())
        );
        assert_eq!(value("X-Content-Type-Options"), Some("nosniff (override)"));
        assert_eq!(value("X-Frame-Options"), Some("DENY (override)"));
        assert_eq!(
            value("Referrer-Policy"),
            Some("strict-origin-when-cross-origin (override)")
        );
        assert_eq!(
            value("Permissions-Policy"),
            Some(format!("{DEFAULT_PERMISSIONS_POLICY} (override)").as_str())
        );
        assert_eq!(value("X-XSS-Protection"), None);
        assert!(DEFAULT_CSP.contains("form-action 'self'"));
        assert!(!DEFAULT_PERMISSIONS_POLICY.contains("interest-cohort"));
    }

    /// The header tests of the Mozilla HTTP Observatory's scoring (baseline 100; bonuses only
    /// when the score without them is at least 90; 100 and more is A+), applied to the policy.
    fn observatory_score(config: &ResponseHeadersPolicyConfig) -> i32 {
        let security = config.security_headers_config.as_ref().unwrap();
        let csp = security
            .content_security_policy
            .as_ref()
            .map(|c| c.content_security_policy.clone())
            .unwrap_or_default();
        let directive = |name: &str| {
            csp.split(';')
                .map(str::trim)
                .find(|d| d.split_whitespace().next() == Some(name))
                .map(|d| d.split_whitespace().skip(1).collect::<Vec<_>>())
        };
        let script = directive("script-src").or_else(|| directive("default-src"));
        let (mut penalty, mut bonus) = (0, 0);
        match &script {
            None => penalty -= 25,
            Some(s)
                if s.iter()
                    .any(|v| *v == "'unsafe-inline'" || *v == "data:" || *v == "https:") =>
            {
                penalty -= 20;
            }
            Some(s) if s.contains(&"'unsafe-eval'") => penalty -= 10,
            Some(_) if directive("default-src") == Some(vec!["'none'"]) => bonus += 10,
            Some(_) => bonus += 5,
        }
        match security.strict_transport_security.as_ref() {
            None => penalty -= 20,
            Some(h) if h.access_control_max_age_sec < 15_768_000 => penalty -= 10,
            Some(h) if h.preload == Some(true) => bonus += 5,
            Some(_) => {}
        }
        if security.content_type_options.is_none() {
            penalty -= 5;
        }
        if directive("frame-ancestors").is_some() {
            bonus += 5;
        } else if security.frame_options.is_none() {
            penalty -= 20;
        }
        let private = [
            "no-referrer",
            "same-origin",
            "strict-origin",
            "strict-origin-when-cross-origin",
        ];
        if security
            .referrer_policy
            .as_ref()
            .is_some_and(|r| private.contains(&r.referrer_policy.as_str()))
        {
            bonus += 5;
        }
        let score = 100 + penalty;
        if score >= 90 { score + bonus } else { score }
    }

    #[test]
    fn the_default_headers_score_a_plus_on_the_observatory_rubric() {
        let default = observatory_score(&desired("p", &Headers::default()).unwrap());
        assert_eq!(default, 115, "A+ (100 or more)");
        let apex = Headers {
            hsts_include_subdomains: false,
            ..Headers::default()
        };
        assert_eq!(observatory_score(&desired("p", &apex).unwrap()), default);
        // The model tells weaker sets apart: an inline-script CSP is no A+.
        let unsafe_inline = Headers {
            content_security_policy: "default-src 'self' 'unsafe-inline'"
                .to_owned()
                .try_into()
                .unwrap(),
            ..Headers::default()
        };
        assert_eq!(
            observatory_score(&desired("p", &unsafe_inline).unwrap()),
            80
        );
    }

    #[test]
    fn include_subdomains_can_be_turned_off() {
        let apex = Headers {
            hsts_include_subdomains: false,
            ..Headers::default()
        };
        let live = properties(&desired("p", &headers(false)).unwrap());
        let want = properties(&desired("p", &apex).unwrap());
        assert_eq!(
            diff_properties(&live, &want),
            [
                "Strict-Transport-Security max-age=63072000; includeSubDomains (override) → \
              max-age=63072000 (override)"
            ]
        );
    }

    #[test]
    fn preload_and_extra_headers_are_diffed_by_name() {
        let mut with_extra = headers(true);
        with_extra.extra.insert(
            "X-Robots-Tag".to_owned().try_into().unwrap(),
            "noindex".to_owned().try_into().unwrap(),
        );
        let live = properties(&desired("p", &headers(false)).unwrap());
        let want = properties(&desired("p", &with_extra).unwrap());
        assert_eq!(
            diff_properties(&live, &want),
            [
                "Strict-Transport-Security max-age=63072000; includeSubDomains (override) → \
                 max-age=63072000; includeSubDomains; preload (override)",
                "X-Robots-Tag none → noindex (override)",
            ]
        );
    }
}
