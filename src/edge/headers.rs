//! Response headers, and a response headers policy applied to them as CloudFront applies it
//! ("Understand response headers policies", CloudFront Developer Guide):
//!
//! - each security header and custom header has an `Override` setting: `true` replaces a header
//!   of that name the origin sent, `false` adds the header only when the origin sent none ("If the
//!   origin response includes one or more of the headers that are added in a response headers
//!   policy, the policy can specify if CloudFront uses the header it received from the origin or
//!   overwrites that header", "Add or remove HTTP headers in CloudFront responses with a policy");
//! - `RemoveHeadersConfig` removes the named headers CloudFront received from the origin.
//!
//! CORS headers (which depend on the request's `Origin`) and `Server-Timing` are not modelled:
//! sitewarden's policy sets neither.

use aws_sdk_cloudfront::types::{
    ResponseHeadersPolicyConfig, ResponseHeadersPolicyCustomHeadersConfig,
    ResponseHeadersPolicyXssProtection,
};

use super::event::Fields;

/// Response headers: lower-case names in the order they were added; a name may repeat.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    /// The first value of `name` (any case).
    pub fn get(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Adds a value after those `name` has.
    pub fn add(&mut self, name: &str, value: impl Into<String>) {
        self.0.push((name.to_ascii_lowercase(), value.into()));
    }

    /// Replaces every value of `name` with `value`.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.remove(name);
        self.add(name, value);
    }

    pub fn remove(&mut self, name: &str) {
        let name = name.to_ascii_lowercase();
        self.0.retain(|(n, _)| *n != name);
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The form a viewer-response function sees.
    pub fn to_fields(&self) -> Fields {
        let mut fields = Fields::default();
        for (name, value) in &self.0 {
            fields.add(name.clone(), value.clone());
        }
        fields
    }

    /// The headers a viewer-response function left.
    pub fn from_fields(fields: &Fields) -> Headers {
        let mut headers = Headers::default();
        for (name, values) in fields.iter() {
            for value in values {
                headers.add(name, value.clone());
            }
        }
        headers
    }
}

/// One header a policy sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyHeader {
    pub name: String,
    pub value: String,
    /// `true`: replaces the origin's header; `false`: only added when the origin sent none.
    pub r#override: bool,
}

/// The headers a response headers policy adds and removes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeadersPolicy {
    pub set: Vec<PolicyHeader>,
    pub remove: Vec<String>,
}

impl HeadersPolicy {
    /// The policy's security headers (in the values CloudFront sends), then its custom headers
    /// and the headers it removes.
    pub fn from_config(config: &ResponseHeadersPolicyConfig) -> HeadersPolicy {
        let mut set = Vec::new();
        let mut header = |name: &str, value: String, r#override: bool| {
            set.push(PolicyHeader {
                name: name.to_owned(),
                value,
                r#override,
            });
        };
        if let Some(security) = &config.security_headers_config {
            if let Some(hsts) = &security.strict_transport_security {
                let mut value = format!("max-age={}", hsts.access_control_max_age_sec);
                if hsts.include_subdomains == Some(true) {
                    value.push_str("; includeSubDomains");
                }
                if hsts.preload == Some(true) {
                    value.push_str("; preload");
                }
                header("Strict-Transport-Security", value, hsts.r#override);
            }
            if let Some(csp) = &security.content_security_policy {
                let value = csp.content_security_policy.clone();
                header("Content-Security-Policy", value, csp.r#override);
            }
            if let Some(nosniff) = &security.content_type_options {
                header(
                    "X-Content-Type-Options",
                    "nosniff".into(),
                    nosniff.r#override,
                );
            }
            if let Some(frame) = &security.frame_options {
                let value = frame.frame_option.as_str().to_owned();
                header("X-Frame-Options", value, frame.r#override);
            }
            if let Some(referrer) = &security.referrer_policy {
                let value = referrer.referrer_policy.as_str().to_owned();
                header("Referrer-Policy", value, referrer.r#override);
            }
            if let Some(xss) = &security.xss_protection {
                header("X-XSS-Protection", xss_value(xss), xss.r#override);
            }
        }
        for custom in config
            .custom_headers_config
            .as_ref()
            .map(ResponseHeadersPolicyCustomHeadersConfig::items)
            .unwrap_or_default()
        {
            header(&custom.header, custom.value.clone(), custom.r#override);
        }
        let remove = config
            .remove_headers_config
            .as_ref()
            .map(|r| r.items().iter().map(|h| h.header.clone()).collect())
            .unwrap_or_default();
        HeadersPolicy { set, remove }
    }

    /// Applies the policy to the headers of a response on its way to the viewer.
    pub fn apply(&self, headers: &mut Headers) {
        for name in &self.remove {
            headers.remove(name);
        }
        for header in &self.set {
            if header.r#override {
                headers.set(&header.name, header.value.clone());
            } else if headers.get(&header.name).is_none() {
                headers.add(&header.name, header.value.clone());
            }
        }
    }
}

/// `0`, `1`, `1; mode=block` or `1; report=<uri>`.
fn xss_value(xss: &ResponseHeadersPolicyXssProtection) -> String {
    if !xss.protection {
        return "0".to_owned();
    }
    if xss.mode_block == Some(true) {
        "1; mode=block".to_owned()
    } else if let Some(uri) = xss.report_uri.as_deref().filter(|u| !u.is_empty()) {
        format!("1; report={uri}")
    } else {
        "1".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(r#override: bool) -> HeadersPolicy {
        HeadersPolicy {
            set: vec![PolicyHeader {
                name: "Cache-Control".into(),
                value: "no-store".into(),
                r#override,
            }],
            remove: vec!["X-Powered-By".into()],
        }
    }

    fn origin() -> Headers {
        let mut headers = Headers::default();
        headers.add("Cache-Control", "public, max-age=300");
        headers.add("X-Powered-By", "S3");
        headers
    }

    #[test]
    fn an_overriding_header_replaces_the_origins() {
        let mut headers = origin();
        policy(true).apply(&mut headers);
        assert_eq!(headers.get("cache-control"), Some("no-store"));
        assert_eq!(headers.get("x-powered-by"), None);
    }

    #[test]
    fn a_header_without_override_keeps_the_origins_and_fills_a_gap() {
        let mut headers = origin();
        policy(false).apply(&mut headers);
        assert_eq!(headers.get("cache-control"), Some("public, max-age=300"));
        let mut empty = Headers::default();
        policy(false).apply(&mut empty);
        assert_eq!(empty.get("Cache-Control"), Some("no-store"));
    }
}
