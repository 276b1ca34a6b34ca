//! The cross-field checks of [`Config::validate`]: what a single value's type cannot express. Each
//! failure names the offending key.

use std::collections::{HashMap, HashSet};

use super::Config;
use super::redirect::{check_redirect_target, redirect_path};

/// CloudFront's limit on the `ContentSecurityPolicy` value of a response headers policy ("Quotas").
const MAX_FIXED_CSP: usize = 1783;

/// Headers the response headers policy already manages; `[headers.extra]` may not set them.
const MANAGED_HEADERS: &[&str] = &[
    "strict-transport-security",
    "content-security-policy",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
    "x-xss-protection",
    "permissions-policy",
];

impl Config {
    /// Cross-field checks. Returns the offending key and what is wrong.
    pub fn validate(&self) -> Result<(), (String, String)> {
        self.validate_site()?;
        self.validate_dns()?;
        self.validate_headers()?;
        self.validate_csp_syntax()?;
        self.validate_cache()?;
        self.validate_redirects()?;
        self.validate_deploy()?;
        self.validate_logging()?;
        self.validate_monitoring()
    }

    fn validate_site(&self) -> Result<(), (String, String)> {
        if self.site.source.as_os_str().is_empty() {
            return Err(err("site.source", "must name the folder to publish"));
        }
        if !self.site.aliases.is_empty() && self.site.domain.is_none() {
            return Err(err(
                "site.aliases",
                "aliases need `site.domain` (a domainless site is served on its *.cloudfront.net name)",
            ));
        }
        let mut seen = HashSet::new();
        for (i, alias) in self.site.aliases.iter().enumerate() {
            if Some(alias) == self.site.domain.as_ref() {
                return Err(err(
                    &format!("site.aliases[{i}]"),
                    &format!("`{alias}` is already `site.domain`"),
                ));
            }
            if !seen.insert(alias) {
                return Err(err(
                    &format!("site.aliases[{i}]"),
                    &format!("`{alias}` is listed twice"),
                ));
            }
        }
        Ok(())
    }

    fn validate_dns(&self) -> Result<(), (String, String)> {
        let Some(zone) = &self.dns.zone else {
            return Ok(());
        };
        let Some(domain) = &self.site.domain else {
            return Err(err(
                "dns.zone",
                "a DNS zone needs `site.domain`; remove `[dns]` for a domainless site",
            ));
        };
        if !domain.is_within(zone) {
            return Err(err(
                "site.domain",
                &format!("`{domain}` is not inside the DNS zone `{zone}`"),
            ));
        }
        for (i, alias) in self.site.aliases.iter().enumerate() {
            if !alias.is_within(zone) {
                return Err(err(
                    &format!("site.aliases[{i}]"),
                    &format!("`{alias}` is not inside the DNS zone `{zone}`"),
                ));
            }
        }
        Ok(())
    }

    fn validate_headers(&self) -> Result<(), (String, String)> {
        if self.headers.hsts_preload && !self.headers.hsts_include_subdomains {
            return Err(err(
                "headers.hsts_preload",
                "the HSTS preload list requires includeSubDomains; set \
                 `headers.hsts_include_subdomains = true` or `hsts_preload = false`",
            ));
        }
        // CloudFront's limit on the Content-Security-Policy of a response headers policy.
        if let super::Csp::Fixed(policy) = self.headers.csp()
            && policy.len() > MAX_FIXED_CSP
        {
            return Err(err(
                "headers.content_security_policy",
                &format!(
                    "the policy is {} characters; a CloudFront response headers policy holds at \
                     most {MAX_FIXED_CSP}: shorten it, or use \"auto\" (a policy per page)",
                    policy.len()
                ),
            ));
        }
        for name in self.headers.extra.keys() {
            let lower = name.as_str().to_ascii_lowercase();
            if MANAGED_HEADERS.contains(&lower.as_str()) {
                return Err(err(
                    &format!("headers.extra.{name}"),
                    "this header is set by the security headers policy; use the `[headers]` keys \
                     (content_security_policy, hsts_preload, permissions_policy) instead",
                ));
            }
        }
        Ok(())
    }

    fn validate_cache(&self) -> Result<(), (String, String)> {
        let mut seen = HashMap::new();
        for (i, rule) in self.cache.iter().enumerate() {
            if let Some(first) = seen.insert(rule.glob.as_str(), i) {
                return Err(err(
                    &format!("cache[{i}].glob"),
                    &format!("`{}` is already the glob of `cache[{first}]`", rule.glob),
                ));
            }
        }
        Ok(())
    }

    fn validate_redirects(&self) -> Result<(), (String, String)> {
        let mut seen = HashMap::new();
        for (i, r) in self.redirects.iter().enumerate() {
            if !r.from.starts_with('/') {
                return Err(err(
                    &format!("redirects[{i}].from"),
                    &format!("`{}` must be a path starting with `/`", r.from),
                ));
            }
            if r.from.chars().any(char::is_control) {
                return Err(err(
                    &format!("redirects[{i}].from"),
                    &format!("`{}` contains a control character", r.from.escape_debug()),
                ));
            }
            if r.from.matches('*').count() > 1 || (r.from.contains('*') && !r.from.ends_with('*')) {
                return Err(err(
                    &format!("redirects[{i}].from"),
                    &format!("`{}`: only one trailing `*` is supported", r.from),
                ));
            }
            check_redirect_target(&r.to)
                .map_err(|message| err(&format!("redirects[{i}].to"), &message))?;
            if r.to.contains(":splat") && !r.from.ends_with('*') {
                return Err(err(
                    &format!("redirects[{i}].to"),
                    "`:splat` needs a `from` ending in `*`",
                ));
            }
            // `/café` and `/caf%C3%A9` are the same path to a browser.
            if let Some(first) = seen.insert(redirect_path(&r.from), i) {
                return Err(err(
                    &format!("redirects[{i}].from"),
                    &format!("`{}` is already redirected by `redirects[{first}]`", r.from),
                ));
            }
        }
        self.check_redirect_loops()
    }

    /// A redirect whose target is itself redirected back leads browsers into a loop.
    fn check_redirect_loops(&self) -> Result<(), (String, String)> {
        let exact: HashMap<String, &str> = self
            .redirects
            .iter()
            .filter(|r| !r.from.contains('*') && r.to.starts_with('/'))
            .map(|r| (redirect_path(&r.from), r.to.as_str()))
            .collect();
        for (i, r) in self.redirects.iter().enumerate() {
            if r.from.contains('*') {
                let prefix = r.from.trim_end_matches('*');
                let target = r.to.replace(":splat", "");
                if r.to.starts_with('/') && target.starts_with(prefix) {
                    return Err(err(
                        &format!("redirects[{i}]"),
                        &format!(
                            "`{}` → `{}` redirects into its own pattern (a redirect loop)",
                            r.from, r.to
                        ),
                    ));
                }
                continue;
            }
            let mut path = vec![r.from.as_str()];
            let mut current = redirect_path(&r.from);
            while let Some(&next) = exact.get(&current) {
                if path.iter().any(|p| redirect_path(p) == redirect_path(next)) {
                    path.push(next);
                    return Err(err(
                        &format!("redirects[{i}]"),
                        &format!("redirect loop: {}", path.join(" → ")),
                    ));
                }
                path.push(next);
                current = redirect_path(next);
            }
        }
        Ok(())
    }

    fn validate_deploy(&self) -> Result<(), (String, String)> {
        let d = &self.deploy;
        if !(1..=256).contains(&d.concurrency) {
            return Err(err(
                "deploy.concurrency",
                &format!("`{}` is out of range 1-256", d.concurrency),
            ));
        }
        if !(d.mass_delete_threshold > 0.0 && d.mass_delete_threshold <= 1.0) {
            return Err(err(
                "deploy.mass_delete_threshold",
                &format!(
                    "`{}` must be a share of the site greater than 0 and at most 1 (0.5 = half)",
                    d.mass_delete_threshold
                ),
            ));
        }
        if !(1..=3000).contains(&d.invalidation_limit) {
            return Err(err(
                "deploy.invalidation_limit",
                &format!("`{}` is out of range 1-3000", d.invalidation_limit),
            ));
        }
        if let Some(spa) = &d.spa_fallback
            && (!spa.starts_with('/') || spa.ends_with('/'))
        {
            return Err(err(
                "deploy.spa_fallback",
                &format!("`{spa}` must be a file path starting with `/`, such as `/index.html`"),
            ));
        }
        for (list, name) in [(&d.exclude, "exclude"), (&d.allow, "allow")] {
            let mut seen = HashSet::new();
            for (i, g) in list.iter().enumerate() {
                if !seen.insert(g) {
                    return Err(err(
                        &format!("deploy.{name}[{i}]"),
                        &format!("`{g}` is listed twice"),
                    ));
                }
            }
        }
        Ok(())
    }

    fn validate_logging(&self) -> Result<(), (String, String)> {
        if !(1..=3650).contains(&self.logging.retention_days) {
            return Err(err(
                "logging.retention_days",
                &format!("`{}` is out of range 1-3650", self.logging.retention_days),
            ));
        }
        if !(1..=3650).contains(&self.logging.noncurrent_version_days) {
            return Err(err(
                "logging.noncurrent_version_days",
                &format!(
                    "`{}` is out of range 1-3650",
                    self.logging.noncurrent_version_days
                ),
            ));
        }
        Ok(())
    }

    fn validate_monitoring(&self) -> Result<(), (String, String)> {
        let m = &self.monitoring;
        if m.enabled == Some(true) && m.email.is_empty() && m.sns_topic_arn.is_empty() {
            return Err(err(
                "monitoring.enabled",
                "monitoring needs somewhere to send alerts: `email = [\"ops@example.com\"]` or \
                 `sns_topic_arn`",
            ));
        }
        if !m.email.is_empty() && !m.sns_topic_arn.is_empty() {
            return Err(err(
                "monitoring.sns_topic_arn",
                "give `email` (sitewarden creates the topics and subscribes the addresses) or \
                 `sns_topic_arn` (your own topics, with your own subscriptions), not both",
            ));
        }
        let mut seen = HashSet::new();
        for (i, address) in m.email.iter().enumerate() {
            if !seen.insert(address.as_str().to_ascii_lowercase()) {
                return Err(err(
                    &format!("monitoring.email[{i}]"),
                    &format!("`{address}` is listed twice"),
                ));
            }
        }
        let mut regions = HashSet::new();
        for (i, topic) in m.sns_topic_arn.iter().enumerate() {
            if !regions.insert(topic.region()) {
                return Err(err(
                    &format!("monitoring.sns_topic_arn[{i}]"),
                    &format!(
                        "a second topic in {}: give one topic per region",
                        topic.region()
                    ),
                ));
            }
        }
        if !m.sns_topic_arn.is_empty() {
            let mut needed = vec!["us-east-1"];
            if let Some(region) = &self.site.region {
                needed.push(region.as_str());
            }
            for region in needed {
                if !regions.contains(region) {
                    return Err(err(
                        "monitoring.sns_topic_arn",
                        &format!(
                            "no topic in {region}: alarms and the CloudFront, Route53 and ACM \
                             rules publish in us-east-1, the S3 and KMS rules in the site's \
                             region, and each publishes only to a topic of its own region"
                        ),
                    ));
                }
            }
        }
        for (key, rate) in [
            ("monitoring.error_rate_5xx", m.error_rate_5xx),
            ("monitoring.error_rate_4xx", m.error_rate_4xx),
        ] {
            if !(rate > 0.0 && rate <= 100.0) {
                return Err(err(
                    key,
                    &format!("`{rate}` is not a percentage above 0 and at most 100"),
                ));
            }
        }
        if m.min_requests == 0 {
            return Err(err(
                "monitoring.min_requests",
                "must be at least 1 (requests per 5 minutes)",
            ));
        }
        Ok(())
    }
}

fn err(key: &str, message: &str) -> (String, String) {
    (key.to_owned(), message.to_owned())
}

#[cfg(test)]
mod tests {
    use crate::config::tests::{MINIMAL, error_of, parse};

    #[test]
    fn monitoring_is_on_with_an_address_or_topic_and_checked() {
        let off = parse(MINIMAL).unwrap();
        assert!(!off.monitoring.is_on() && !off.monitoring.is_turned_off());
        let on = parse(&format!(
            "{MINIMAL}[monitoring]\nemail = [\"ops@example.com\"]\n"
        ))
        .unwrap();
        assert!(on.monitoring.is_on());
        assert!((on.monitoring.error_rate_5xx - 5.0).abs() < f64::EPSILON);
        let one = parse(&format!(
            "{MINIMAL}[monitoring]\nsns_topic_arn = \"arn:aws:sns:us-east-1:123456789012:ops\"\n"
        ))
        .unwrap();
        assert_eq!(one.monitoring.sns_topic_arn.len(), 1);
        let disabled = parse(&format!(
            "{MINIMAL}[monitoring]\nenabled = false\nemail = [\"ops@example.com\"]\n"
        ))
        .unwrap();
        assert!(!disabled.monitoring.is_on() && disabled.monitoring.is_turned_off());
        for (body, message) in [
            (
                "enabled = true\n",
                "`monitoring.enabled`: monitoring needs somewhere to send alerts",
            ),
            (
                "email = [\"ops@example.com\", \"OPS@example.com\"]\n",
                "`monitoring.email[1]`: `OPS@example.com` is listed twice",
            ),
            (
                "email = [\"ops@example.com\"]\nsns_topic_arn = \"arn:aws:sns:us-east-1:123456789012:t\"\n",
                "`monitoring.sns_topic_arn`: give `email`",
            ),
            (
                "sns_topic_arn = [\"arn:aws:sns:eu-west-1:123456789012:t\"]\n",
                "`monitoring.sns_topic_arn`: no topic in us-east-1",
            ),
            (
                "sns_topic_arn = [\"arn:aws:sns:us-east-1:123456789012:a\", \"arn:aws:sns:us-east-1:123456789012:b\"]\n",
                "`monitoring.sns_topic_arn[1]`: a second topic in us-east-1",
            ),
            (
                "email = [\"ops@example.com\"]\nerror_rate_5xx = 0.0\n",
                "`monitoring.error_rate_5xx`: `0` is not a percentage",
            ),
            (
                "email = [\"ops@example.com\"]\nerror_rate_4xx = 101\n",
                "`monitoring.error_rate_4xx`: `101` is not a percentage",
            ),
            (
                "email = [\"ops@example.com\"]\nmin_requests = 0\n",
                "`monitoring.min_requests`: must be at least 1",
            ),
            ("email = [\"not an address\"]\n", "is not an email address"),
            ("email = [\"a@b@example.com\"]\n", "is not an email address"),
            (
                "sns_topic_arn = \"arn:aws:sns:us-east-1:123456789012:t.fifo\"\n",
                "is not an SNS topic ARN",
            ),
        ] {
            let error = error_of(&format!("{MINIMAL}[monitoring]\n{body}"));
            assert!(error.contains(message), "{body}: {error}");
        }
        // The site's region must have a topic too when the config names it.
        let error = error_of(
            "[site]\nname = \"docs\"\nsource = \"dist\"\nregion = \"eu-west-1\"\n\
             [monitoring]\nsns_topic_arn = \"arn:aws:sns:us-east-1:123456789012:t\"\n",
        );
        assert!(error.contains("no topic in eu-west-1"), "{error}");
    }

    #[test]
    fn hsts_preload_needs_include_subdomains() {
        let apex = parse(&format!(
            "{MINIMAL}[headers]\nhsts_include_subdomains = false\n"
        ))
        .unwrap();
        assert!(!apex.headers.hsts_include_subdomains);
        assert_eq!(
            error_of(&format!(
                "{MINIMAL}[headers]\nhsts_include_subdomains = false\nhsts_preload = true\n"
            )),
            "invalid config file `sitewarden.toml`: `headers.hsts_preload`: the HSTS preload list \
             requires includeSubDomains; set `headers.hsts_include_subdomains = true` or \
             `hsts_preload = false`"
        );
    }

    #[test]
    fn csp_is_auto_or_a_fixed_policy_that_fits_cloudfront() {
        use crate::config::Csp;
        let fixed = parse(&format!(
            "{MINIMAL}[headers]\ncontent_security_policy = \"default-src 'none'\"\n"
        ))
        .unwrap();
        assert_eq!(fixed.headers.csp(), Csp::Fixed("default-src 'none'"));
        let auto = parse(&format!(
            "{MINIMAL}[headers]\ncontent_security_policy = \"auto\"\n"
        ))
        .unwrap();
        assert_eq!(auto.headers.csp(), Csp::Auto);
        let long = format!("default-src 'self' {}", "https://a.example ".repeat(100));
        assert_eq!(
            error_of(&format!(
                "{MINIMAL}[headers]\ncontent_security_policy = \"{long}\"\n"
            )),
            format!(
                "invalid config file `sitewarden.toml`: `headers.content_security_policy`: the \
                 policy is {} characters; a CloudFront response headers policy holds at most \
                 1783: shorten it, or use \"auto\" (a policy per page)",
                long.len()
            )
        );
    }

    #[test]
    fn duplicate_cache_glob() {
        assert_eq!(
            error_of(&format!(
                "{MINIMAL}[[cache]]\nglob = \"*.css\"\ncache_control = \"max-age=60\"\n\
                 [[cache]]\nglob = \"*.css\"\ncache_control = \"no-cache\"\n"
            )),
            "invalid config file `sitewarden.toml`: `cache[1].glob`: `*.css` is already the glob \
             of `cache[0]`"
        );
    }

    #[test]
    fn alias_outside_zone() {
        assert_eq!(
            error_of(
                "[site]\nname = \"docs\"\nsource = \"dist\"\ndomain = \"docs.example.com\"\n\
                 aliases = [\"docs.example.org\"]\n[dns]\nzone = \"example.com\"\n"
            ),
            "invalid config file `sitewarden.toml`: `site.aliases[0]`: `docs.example.org` is not \
             inside the DNS zone `example.com`"
        );
    }

    #[test]
    fn zone_suffix_is_not_enough() {
        // `badexample.com` ends with `example.com` but is not inside it.
        assert_eq!(
            error_of(
                "[site]\nname = \"docs\"\nsource = \"dist\"\ndomain = \"badexample.com\"\n\
                 [dns]\nzone = \"example.com\"\n"
            ),
            "invalid config file `sitewarden.toml`: `site.domain`: `badexample.com` is not inside \
             the DNS zone `example.com`"
        );
    }

    #[test]
    fn aliases_without_domain() {
        assert_eq!(
            error_of(&format!("{MINIMAL}aliases = [\"www.example.com\"]\n")),
            "invalid config file `sitewarden.toml`: `site.aliases`: aliases need `site.domain` \
             (a domainless site is served on its *.cloudfront.net name)"
        );
    }

    #[test]
    fn alias_repeats_domain() {
        assert_eq!(
            error_of(
                "[site]\nname = \"docs\"\nsource = \"dist\"\ndomain = \"example.com\"\n\
                 aliases = [\"www.example.com\", \"example.com\"]\n"
            ),
            "invalid config file `sitewarden.toml`: `site.aliases[1]`: `example.com` is already \
             `site.domain`"
        );
    }

    #[test]
    fn redirect_loop() {
        assert_eq!(
            error_of(&format!(
                "{MINIMAL}[[redirects]]\nfrom = \"/a\"\nto = \"/b\"\n\
                 [[redirects]]\nfrom = \"/b\"\nto = \"/a\"\n"
            )),
            "invalid config file `sitewarden.toml`: `redirects[0]`: redirect loop: /a → /b → /a"
        );
    }

    #[test]
    fn wildcard_redirect_into_itself() {
        assert_eq!(
            error_of(&format!(
                "{MINIMAL}[[redirects]]\nfrom = \"/docs/*\"\nto = \"/docs/v2/:splat\"\n"
            )),
            "invalid config file `sitewarden.toml`: `redirects[0]`: `/docs/*` → `/docs/v2/:splat` \
             redirects into its own pattern (a redirect loop)"
        );
    }

    #[test]
    fn redirect_from_not_a_path() {
        assert_eq!(
            error_of(&format!(
                "{MINIMAL}[[redirects]]\nfrom = \"old\"\nto = \"/new\"\n"
            )),
            "invalid config file `sitewarden.toml`: `redirects[0].from`: `old` must be a path \
             starting with `/`"
        );
    }

    #[test]
    fn splat_without_wildcard() {
        assert_eq!(
            error_of(&format!(
                "{MINIMAL}[[redirects]]\nfrom = \"/old\"\nto = \"/new/:splat\"\n"
            )),
            "invalid config file `sitewarden.toml`: `redirects[0].to`: `:splat` needs a `from` \
             ending in `*`"
        );
    }

    fn redirect_to_error(to: &str) -> String {
        let text = format!(
            "{MINIMAL}[[redirects]]\nfrom = \"/go/*\"\nto = {}\n",
            toml::Value::String(to.to_owned())
        );
        let prefix = "invalid config file `sitewarden.toml`: `redirects[0].to`: ";
        let error = error_of(&text);
        error.strip_prefix(prefix).unwrap_or(&error).to_owned()
    }

    #[test]
    fn redirect_to_another_host_through_a_path() {
        for to in ["//evil.com/x", "/\\evil.com", "//:splat", "/\\:splat"] {
            assert_eq!(
                redirect_to_error(to),
                format!(
                    "`{to}` starts with `//` or `/\\`, which browsers read as another host; write \
                     `https://host/…` to send visitors to another site"
                )
            );
        }
    }

    #[test]
    fn redirect_to_other_schemes() {
        for to in [
            "javascript:alert(1)",
            "ftp://example.org/",
            "HTTPS://example.org/",
            "https:/example.org",
            "\\\\evil.com",
            "example.org/x",
        ] {
            assert_eq!(
                redirect_to_error(to),
                format!("`{to}` must be a path starting with `/` or an http(s) URL")
            );
        }
    }

    #[test]
    fn redirect_splat_before_the_path_of_a_url() {
        for to in [
            "https://:splat",
            "https://:splat/",
            "https://example.org:splat",
            "https://example.org:splat/x",
            "https://ex:splat.org/",
            "https://example.org?q=:splat",
            "https://example.org#:splat",
        ] {
            assert_eq!(
                redirect_to_error(to),
                format!(
                    "`{to}`: `:splat` must come after `scheme://host/` (as in \
                     `https://example.org/:splat`), so that no request path can change the host"
                )
            );
        }
    }

    #[test]
    fn redirect_url_with_user_info() {
        for to in [
            "https://user@evil.com/",
            "https://example.org:pass@evil.com/:splat",
        ] {
            assert_eq!(
                redirect_to_error(to),
                format!(
                    "`{to}` has a user name before `@`, which hides the real host from readers; \
                     write the URL without it"
                )
            );
        }
    }

    #[test]
    fn redirect_url_without_a_host_name() {
        for (to, authority) in [
            ("https:///evil.com", ""),
            ("https://example.org\\evil.com/", "example.org\\evil.com"),
            ("https://evil%2Ecom/", "evil%2Ecom"),
            ("https://exämple.org/", "exämple.org"),
            ("https://evil.com:80x/", "evil.com:80x"),
            ("https://a..b/", "a..b"),
            ("https://[zz]/", "[zz]"),
        ] {
            assert_eq!(
                redirect_to_error(to),
                format!(
                    "`{to}`: `{authority}` is not a host name (ASCII letters, digits, `-` and \
                     `.`, an optional `:port`; an international name in its `xn--` form)"
                )
            );
        }
    }

    #[test]
    fn redirect_with_a_control_character() {
        assert_eq!(
            redirect_to_error("/new\tpage"),
            "`/new\\tpage` contains a control character"
        );
        assert_eq!(
            error_of(&format!(
                "{MINIMAL}[[redirects]]\nfrom = \"/old\\n\"\nto = \"/new\"\n"
            )),
            "invalid config file `sitewarden.toml`: `redirects[0].from`: `/old\\n` contains a \
             control character"
        );
    }

    #[test]
    fn redirect_targets_that_are_safe() {
        let c = parse(&format!(
            "{MINIMAL}[[redirects]]\nfrom = \"/go/*\"\nto = \"/:splat\"\n\
             [[redirects]]\nfrom = \"/docs/*\"\nto = \"/:splat/index\"\n\
             [[redirects]]\nfrom = \"/a/*\"\nto = \"https://example.org/:splat\"\n\
             [[redirects]]\nfrom = \"/b/*\"\nto = \"http://127.0.0.1:8080/x?from=:splat#top\"\n\
             [[redirects]]\nfrom = \"/c\"\nto = \"https://[2001:db8::1]\"\n\
             [[redirects]]\nfrom = \"/d\"\nto = \"https://example.org.?q=1\"\n\
             [[redirects]]\nfrom = \"/e\"\nto = \"/tarifs/été 2024\"\n"
        ))
        .unwrap();
        assert_eq!(c.redirects.len(), 7);
    }

    #[test]
    fn redirect_from_spelled_twice() {
        assert_eq!(
            error_of(&format!(
                "{MINIMAL}[[redirects]]\nfrom = \"/café\"\nto = \"/a\"\n\
                 [[redirects]]\nfrom = \"/caf%c3%a9\"\nto = \"/b\"\n"
            )),
            "invalid config file `sitewarden.toml`: `redirects[1].from`: `/caf%c3%a9` is already \
             redirected by `redirects[0]`"
        );
    }

    #[test]
    fn redirect_loop_through_another_spelling() {
        assert_eq!(
            error_of(&format!(
                "{MINIMAL}[[redirects]]\nfrom = \"/café\"\nto = \"/b\"\n\
                 [[redirects]]\nfrom = \"/b\"\nto = \"/caf%C3%A9\"\n"
            )),
            "invalid config file `sitewarden.toml`: `redirects[0]`: redirect loop: /café → /b → \
             /caf%C3%A9"
        );
    }

    #[test]
    fn concurrency_out_of_range() {
        assert_eq!(
            error_of(&format!("{MINIMAL}[deploy]\nconcurrency = 0\n")),
            "invalid config file `sitewarden.toml`: `deploy.concurrency`: `0` is out of range 1-256"
        );
    }

    #[test]
    fn mass_delete_threshold_out_of_range() {
        assert_eq!(
            error_of(&format!("{MINIMAL}[deploy]\nmass_delete_threshold = 50\n")),
            "invalid config file `sitewarden.toml`: `deploy.mass_delete_threshold`: `50` must be \
             a share of the site greater than 0 and at most 1 (0.5 = half)"
        );
        assert_eq!(
            error_of(&format!("{MINIMAL}[deploy]\nmass_delete_threshold = 1.5\n")),
            "invalid config file `sitewarden.toml`: `deploy.mass_delete_threshold`: `1.5` must be \
             a share of the site greater than 0 and at most 1 (0.5 = half)"
        );
    }

    #[test]
    fn managed_header_in_extra() {
        assert_eq!(
            error_of(&format!(
                "{MINIMAL}[headers.extra]\nStrict-Transport-Security = \"max-age=1\"\n"
            )),
            "invalid config file `sitewarden.toml`: `headers.extra.Strict-Transport-Security`: \
             this header is set by the security headers policy; use the `[headers]` keys \
             (content_security_policy, hsts_preload, permissions_policy) instead"
        );
    }

    #[test]
    fn zone_without_domain() {
        assert_eq!(
            error_of(&format!("{MINIMAL}[dns]\nzone = \"example.com\"\n")),
            "invalid config file `sitewarden.toml`: `dns.zone`: a DNS zone needs `site.domain`; \
             remove `[dns]` for a domainless site"
        );
    }

    #[test]
    fn retention_out_of_range() {
        assert_eq!(
            error_of(&format!("{MINIMAL}[logging]\nretention_days = 0\n")),
            "invalid config file `sitewarden.toml`: `logging.retention_days`: `0` is out of range \
             1-3650"
        );
    }

    #[test]
    fn spa_fallback_not_a_file() {
        assert_eq!(
            error_of(&format!(
                "{MINIMAL}[deploy]\nspa_fallback = \"index.html\"\n"
            )),
            "invalid config file `sitewarden.toml`: `deploy.spa_fallback`: `index.html` must be a \
             file path starting with `/`, such as `/index.html`"
        );
    }
}
