//! The `sitewarden.toml` model: parsing (with line/column on every type error) and the cross-field
//! checks that a single value cannot express.
//!
//! Values that have a shape (names, domains, globs, ARNs, protocol versions) are newtypes deserialized
//! through `TryFrom`, so a bad value is reported by `toml` with its exact position. Checks that need
//! more than one field live in [`Config::validate`] and name the keys involved.
//!
//! This file holds the model (sections, enums, defaults) and [`Config::parse`]; `values` the
//! newtypes and their checks, `validate` the cross-field checks, `redirect` what a redirect may
//! say, and `error` [`ConfigError`] with its position and hint.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

mod csp_syntax;
mod encoding;
mod error;
mod redirect;
mod validate;
mod values;

pub use error::ConfigError;
use error::format_toml_error;
pub use redirect::redirect_path;
pub use values::{
    BucketName, CachePolicyId, CiName, DomainName, EmailAddress, Glob, HeaderName, HeaderValue,
    KmsKeyArn, RedirectStatus, Region, RepoPath, SiteName, SnsTopicArn, WebAclArn,
};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub site: Site,
    #[serde(default)]
    pub dns: Dns,
    #[serde(default)]
    pub tls: Tls,
    #[serde(default)]
    pub headers: Headers,
    #[serde(default)]
    pub cache: Vec<CacheRule>,
    #[serde(default)]
    pub redirects: Vec<Redirect>,
    #[serde(default)]
    pub deploy: Deploy,
    #[serde(default)]
    pub logging: Logging,
    #[serde(default)]
    pub kms: Kms,
    #[serde(default)]
    pub cdn: Cdn,
    #[serde(default)]
    pub monitoring: Monitoring,
    /// The CI deploy role (`sitewarden ci github` writes this section).
    pub ci: Option<Ci>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    pub name: SiteName,
    pub domain: Option<DomainName>,
    #[serde(default)]
    pub aliases: Vec<DomainName>,
    pub source: PathBuf,
    pub region: Option<Region>,
    /// An existing bucket to serve from instead of `<name>-site-<account>`.
    pub bucket: Option<BucketName>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DnsMode {
    #[default]
    Route53,
    External,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Dns {
    #[serde(default)]
    pub mode: DnsMode,
    /// The hosted zone; default: the longest hosted zone that contains the domain.
    pub zone: Option<DomainName>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
pub enum TlsMinimum {
    #[serde(rename = "TLSv1.2_2021")]
    Tls12_2021,
    #[default]
    #[serde(rename = "TLSv1.2_2025")]
    Tls12_2025,
    #[serde(rename = "TLSv1.3_2025")]
    Tls13_2025,
}

impl TlsMinimum {
    /// The CloudFront `MinimumProtocolVersion` value.
    pub fn as_str(self) -> &'static str {
        match self {
            TlsMinimum::Tls12_2021 => "TLSv1.2_2021",
            TlsMinimum::Tls12_2025 => "TLSv1.2_2025",
            TlsMinimum::Tls13_2025 => "TLSv1.3_2025",
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    #[serde(default)]
    pub minimum: TlsMinimum,
}

/// The fixed strict policy (no inline code, no external origins); in `"auto"` mode it is also the
/// site-wide policy when the error page needs nothing more.
pub const DEFAULT_CSP: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; \
                               base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
/// `headers.content_security_policy = "auto"` (the default): each HTML page gets a strict policy
/// computed at deploy from what it contains (see `csp`).
pub const AUTO_CSP: &str = "auto";

/// How the Content-Security-Policy is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Csp<'a> {
    /// A policy per page, computed at deploy.
    Auto,
    /// One policy for every response, as configured.
    Fixed(&'a str),
}
/// `interest-cohort` (Federated Learning of Cohorts) is gone from browsers; naming it only earns console warnings.
pub const DEFAULT_PERMISSIONS_POLICY: &str = "camera=(), microphone=(), geolocation=()";

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Headers {
    #[serde(default = "default_csp")]
    pub content_security_policy: HeaderValue,
    #[serde(default)]
    pub hsts_preload: bool,
    /// HSTS `includeSubDomains`; off only for an apex whose subdomains still serve plain HTTP.
    #[serde(default = "default_true")]
    pub hsts_include_subdomains: bool,
    #[serde(default = "default_permissions_policy")]
    pub permissions_policy: HeaderValue,
    /// Further response headers, name → value.
    #[serde(default)]
    pub extra: BTreeMap<HeaderName, HeaderValue>,
}

impl Default for Headers {
    fn default() -> Self {
        Headers {
            content_security_policy: default_csp(),
            hsts_preload: false,
            hsts_include_subdomains: true,
            permissions_policy: default_permissions_policy(),
            extra: BTreeMap::new(),
        }
    }
}

impl Deploy {
    /// The key of the page served for 403/404 (`404.html`, or the SPA fallback): CloudFront sends
    /// it without running a viewer-response function.
    pub fn error_page(&self) -> &str {
        self.spa_fallback
            .as_deref()
            .map_or("404.html", |spa| spa.trim_start_matches('/'))
    }
}

impl Headers {
    pub fn csp(&self) -> Csp<'_> {
        match self.content_security_policy.as_str() {
            AUTO_CSP => Csp::Auto,
            fixed => Csp::Fixed(fixed),
        }
    }
}

fn default_true() -> bool {
    true
}

fn default_csp() -> HeaderValue {
    HeaderValue::unchecked(AUTO_CSP)
}

fn default_permissions_policy() -> HeaderValue {
    HeaderValue::unchecked(DEFAULT_PERMISSIONS_POLICY)
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CacheRule {
    pub glob: Glob,
    pub cache_control: HeaderValue,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Redirect {
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub status: RedirectStatus,
}

pub const DEFAULT_CONCURRENCY: usize = 16;
pub const DEFAULT_MASS_DELETE_THRESHOLD: f64 = 0.5;
pub const DEFAULT_INVALIDATION_LIMIT: usize = 15;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Deploy {
    #[serde(default)]
    pub exclude: Vec<Glob>,
    /// Files the secret guard would refuse but that are meant to be published.
    #[serde(default)]
    pub allow: Vec<Glob>,
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Share of the published files (0 < x ≤ 1) one deploy may delete without `--allow-mass-delete`.
    #[serde(default = "default_mass_delete_threshold")]
    pub mass_delete_threshold: f64,
    /// Serve this file (e.g. `/index.html`) for unknown paths instead of `/404.html`.
    pub spa_fallback: Option<String>,
    /// Above this many changed paths, invalidations collapse to wildcards.
    #[serde(default = "default_invalidation_limit")]
    pub invalidation_limit: usize,
}

impl Default for Deploy {
    fn default() -> Self {
        Deploy {
            exclude: Vec::new(),
            allow: Vec::new(),
            concurrency: DEFAULT_CONCURRENCY,
            mass_delete_threshold: DEFAULT_MASS_DELETE_THRESHOLD,
            spa_fallback: None,
            invalidation_limit: DEFAULT_INVALIDATION_LIMIT,
        }
    }
}

fn default_concurrency() -> usize {
    DEFAULT_CONCURRENCY
}
fn default_mass_delete_threshold() -> f64 {
    DEFAULT_MASS_DELETE_THRESHOLD
}
fn default_invalidation_limit() -> usize {
    DEFAULT_INVALIDATION_LIMIT
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Logging {
    #[serde(default = "default_retention_days")]
    pub retention_days: u32,
    #[serde(default = "default_noncurrent_days")]
    pub noncurrent_version_days: u32,
}

impl Default for Logging {
    fn default() -> Self {
        Logging {
            retention_days: default_retention_days(),
            noncurrent_version_days: default_noncurrent_days(),
        }
    }
}

fn default_retention_days() -> u32 {
    365
}
fn default_noncurrent_days() -> u32 {
    90
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Kms {
    /// Use this existing customer-managed key instead of creating `alias/sitewarden/<name>`.
    pub key_arn: Option<KmsKeyArn>,
}

/// The CloudFront edge locations that serve the site (`PriceClass_All`: every location).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
pub enum PriceClass {
    #[serde(rename = "PriceClass_100")]
    Class100,
    #[serde(rename = "PriceClass_200")]
    Class200,
    #[default]
    #[serde(rename = "PriceClass_All")]
    All,
}

impl PriceClass {
    /// The CloudFront `PriceClass` value.
    pub fn as_str(self) -> &'static str {
        match self {
            PriceClass::Class100 => "PriceClass_100",
            PriceClass::Class200 => "PriceClass_200",
            PriceClass::All => "PriceClass_All",
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Cdn {
    #[serde(default)]
    pub price_class: PriceClass,
    /// An AWS WAF (v2, CLOUDFRONT scope) web ACL to attach. Unset: none is attached, and one
    /// attached outside sitewarden is left in place.
    pub web_acl_id: Option<WebAclArn>,
    /// A cache policy instead of the managed `CachingOptimized`.
    pub cache_policy_id: Option<CachePolicyId>,
}

/// `[ci]`: the deploy role that one repository's workflow assumes through OIDC, and the read-only
/// role its pull requests run `plan` with.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Ci {
    pub provider: CiProvider,
    /// `OWNER/NAME` on GitHub.
    pub repo: RepoPath,
    /// The branch whose pushes deploy (default `main`); the trust names it unless `environment`
    /// is set.
    pub branch: Option<CiName>,
    /// Deploy from this GitHub environment: the trust names the environment, not the branch.
    pub environment: Option<CiName>,
    /// `plan`: pull requests get a read-only role for `sitewarden plan`; `none`: no role.
    #[serde(default)]
    pub pull_requests: PullRequests,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum CiProvider {
    Github,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum PullRequests {
    /// A read-only role for `sitewarden plan` (no write action at all).
    #[default]
    Plan,
    /// No role: pull requests cannot reach AWS.
    None,
}

impl Ci {
    /// The branch whose pushes deploy.
    pub fn branch(&self) -> &str {
        self.branch.as_ref().map_or("main", CiName::as_str)
    }
}

/// `[monitoring]`: alerts by email (or to topics of the user's) when the site fails or someone
/// weakens it. On whenever an address or a topic is given, unless `enabled = false`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Monitoring {
    /// `false` removes the site's monitoring; unset: on when `email` or `sns_topic_arn` is given.
    pub enabled: Option<bool>,
    /// Addresses subscribed to the site's alert topics (each confirms by email).
    #[serde(default)]
    pub email: Vec<EmailAddress>,
    /// Existing topics to alert instead of creating the site's own: one in us-east-1 and, for a
    /// site outside us-east-1, one in the site's region (EventBridge rules publish in their region).
    #[serde(default, deserialize_with = "one_or_many")]
    pub sns_topic_arn: Vec<SnsTopicArn>,
    /// Alarm when more than this percentage of requests fail with a 5xx, over 5 minutes.
    #[serde(default = "default_error_rate_5xx")]
    pub error_rate_5xx: f64,
    /// Alarm when more than this percentage of requests get a 4xx, over 15 minutes.
    #[serde(default = "default_error_rate_4xx")]
    pub error_rate_4xx: f64,
    /// Requests per 5 minutes below which the error rates are not judged (one 404 at night
    /// pages nobody).
    #[serde(default = "default_min_requests")]
    pub min_requests: u32,
}

impl Default for Monitoring {
    fn default() -> Self {
        Monitoring {
            enabled: None,
            email: Vec::new(),
            sns_topic_arn: Vec::new(),
            error_rate_5xx: default_error_rate_5xx(),
            error_rate_4xx: default_error_rate_4xx(),
            min_requests: default_min_requests(),
        }
    }
}

impl Monitoring {
    /// Whether the site is monitored: an address or topic is given and `enabled` is not `false`.
    pub fn is_on(&self) -> bool {
        self.enabled != Some(false) && (!self.email.is_empty() || !self.sns_topic_arn.is_empty())
    }

    /// `enabled = false`: the site's monitoring resources, if any, are removed.
    pub fn is_turned_off(&self) -> bool {
        self.enabled == Some(false)
    }
}

fn default_error_rate_5xx() -> f64 {
    5.0
}
fn default_error_rate_4xx() -> f64 {
    15.0
}
fn default_min_requests() -> u32 {
    100
}

/// One value or a list of them (`sns_topic_arn = "arn:…"` or `["arn:…", "arn:…"]`); a bad value
/// keeps its own message and position.
fn one_or_many<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    use serde::de::{
        self, IntoDeserializer as _, SeqAccess, Visitor, value::SeqAccessDeserializer,
    };

    struct OneOrMany<T>(std::marker::PhantomData<T>);

    impl<'de, T: Deserialize<'de>> Visitor<'de> for OneOrMany<T> {
        type Value = Vec<T>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string or a list of strings")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<T>, E> {
            T::deserialize(v.into_deserializer()).map(|one| vec![one])
        }

        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Vec<T>, A::Error> {
            Vec::deserialize(SeqAccessDeserializer::new(seq))
        }
    }

    deserializer.deserialize_any(OneOrMany(std::marker::PhantomData))
}

impl Config {
    /// Reads, parses and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let text = encoding::decode(bytes).map_err(|message| ConfigError::Encoding {
            path: path.to_owned(),
            message,
        })?;
        Config::parse(&text, path)
    }

    /// Parses and validates config text; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: format_toml_error(&e),
        })?;
        config
            .validate()
            .map_err(|(key, message)| ConfigError::Invalid {
                path: path.to_owned(),
                key,
                message,
            })?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) const MINIMAL: &str = "[site]\nname = \"docs\"\nsource = \"dist\"\n";

    // Each bad config in these tests is rejected with a message naming the file and the position
    // or key.

    pub(super) fn parse(text: &str) -> Result<Config, String> {
        Config::parse(text, Path::new("sitewarden.toml")).map_err(|e| e.to_string())
    }

    pub(super) fn error_of(text: &str) -> String {
        parse(text).expect_err("config should be rejected")
    }

    #[test]
    fn minimal_config_gets_secure_defaults() {
        let c = parse(MINIMAL).unwrap();
        assert_eq!(c.site.name.as_str(), "docs");
        assert!(c.site.domain.is_none());
        assert_eq!(c.tls.minimum, TlsMinimum::Tls12_2025);
        assert_eq!(c.dns.mode, DnsMode::Route53);
        assert!(!c.headers.hsts_preload);
        assert!(c.headers.hsts_include_subdomains);
        assert_eq!(c.headers.csp(), Csp::Auto);
        assert_eq!(c.deploy.concurrency, DEFAULT_CONCURRENCY);
        assert!((c.deploy.mass_delete_threshold - 0.5).abs() < f64::EPSILON);
        assert_eq!(c.logging.retention_days, 365);
        assert_eq!(c.logging.noncurrent_version_days, 90);
    }

    #[test]
    fn full_config_parses() {
        let c = parse(
            r#"
[site]
name = "example-docs"
domain = "docs.example.com"
aliases = ["www.docs.example.com"]
source = "dist"
region = "eu-west-1"
[dns]
mode = "external"
zone = "example.com"
[tls]
minimum = "TLSv1.3_2025"
[headers]
content_security_policy = "default-src 'self'"
hsts_preload = true
extra = { "X-Robots-Tag" = "noindex" }
[[cache]]
glob = "assets/**"
cache_control = "public, max-age=31536000, immutable"
[[redirects]]
from = "/old-blog/*"
to = "/blog/:splat"
status = 308
[deploy]
exclude = ["**/*.map"]
allow = ["keys/public.pem"]
concurrency = 32
spa_fallback = "/index.html"
[logging]
retention_days = 30
[kms]
key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
"#,
        )
        .unwrap();
        assert_eq!(c.site.aliases[0].as_str(), "www.docs.example.com");
        assert_eq!(c.dns.mode, DnsMode::External);
        assert_eq!(c.tls.minimum.as_str(), "TLSv1.3_2025");
        assert_eq!(c.redirects[0].status.get(), 308);
        assert!(c.cache[0].glob.matcher().is_match("assets/app.js"));
        assert!(!c.cache[0].glob.matcher().is_match("index.html"));
        assert_eq!(c.headers.extra.len(), 1);
        assert_eq!(c.deploy.spa_fallback.as_deref(), Some("/index.html"));
    }

    #[test]
    fn bad_tls_minimum() {
        assert_eq!(
            error_of(&format!("{MINIMAL}[tls]\nminimum = \"TLSv1_2016\"\n")),
            "invalid config file `sitewarden.toml`: line 5, column 11: unknown variant \
             `TLSv1_2016`, expected one of `TLSv1.2_2021`, `TLSv1.2_2025`, `TLSv1.3_2025`"
        );
    }

    #[test]
    fn cdn_settings_default_to_every_edge_and_caching_optimized() {
        let c = parse(MINIMAL).unwrap();
        assert_eq!(c.cdn.price_class, PriceClass::All);
        assert!(c.cdn.web_acl_id.is_none() && c.cdn.cache_policy_id.is_none());
        let c = parse(&format!(
            "{MINIMAL}[cdn]\nprice_class = \"PriceClass_100\"\n\
             web_acl_id = \"arn:aws:wafv2:us-east-1:123456789012:global/webacl/site/0a1b2c3d\"\n\
             cache_policy_id = \"4135ea2d-6df8-44a3-9df3-4b5a84be39ad\"\n"
        ))
        .unwrap();
        assert_eq!(c.cdn.price_class.as_str(), "PriceClass_100");
        assert!(c.cdn.web_acl_id.is_some() && c.cdn.cache_policy_id.is_some());
    }

    #[test]
    fn bad_dns_mode() {
        assert_eq!(
            error_of(&format!("{MINIMAL}[dns]\nmode = \"manual\"\n")),
            "invalid config file `sitewarden.toml`: line 5, column 8: unknown variant `manual`, \
             expected `route53` or `external`"
        );
    }
}
