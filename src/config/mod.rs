//! The `sitewarden.toml` model: parsing (with line/column on every type error) and the cross-field
//! checks that a single value cannot express.
//!
//! Values that have a shape (names, domains, globs, ARNs, protocol versions) are newtypes deserialized
//! through `TryFrom`, so a bad value is reported by `toml` with its exact position. Checks that need
//! more than one field live in [`Config::validate`] and name the keys involved.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A config file that could not be used, with the file name and position or key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid config file `{path}`: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid config file `{path}`: `{key}`: {message}")]
    Invalid {
        path: PathBuf,
        key: String,
        message: String,
    },
}

impl ConfigError {
    pub fn hint(&self) -> Option<String> {
        match self {
            ConfigError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                Some("run `sitewarden init` to write one, or pass `-c FILE`".to_owned())
            }
            _ => None,
        }
    }
}

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

pub const DEFAULT_CSP: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; \
                               base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
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

fn default_true() -> bool {
    true
}

fn default_csp() -> HeaderValue {
    HeaderValue(DEFAULT_CSP.to_owned())
}

fn default_permissions_policy() -> HeaderValue {
    HeaderValue(DEFAULT_PERMISSIONS_POLICY.to_owned())
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct RedirectStatus(u16);

impl Default for RedirectStatus {
    fn default() -> Self {
        RedirectStatus(301)
    }
}

impl RedirectStatus {
    pub fn get(self) -> u16 {
        self.0
    }
}

impl TryFrom<u16> for RedirectStatus {
    type Error = String;
    fn try_from(value: u16) -> Result<Self, Self::Error> {
        match value {
            301 | 302 | 307 | 308 => Ok(RedirectStatus(value)),
            _ => Err(format!(
                "redirect status `{value}` is not one of 301, 302, 307, 308"
            )),
        }
    }
}

impl From<RedirectStatus> for u16 {
    fn from(value: RedirectStatus) -> u16 {
        value.0
    }
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

macro_rules! string_newtype {
    ($(#[$meta:meta])* $name:ident, $check:path) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                $check(&value).map(|()| $name(value))
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_newtype!(
    /// Names every resource of the site: 3–40 characters, lowercase letters, digits and hyphens,
    /// starting with a letter, not ending with a hyphen (bucket- and DNS-safe with the suffixes
    /// `-site-<account>` and `-logs-<account>`).
    SiteName,
    check_site_name
);
string_newtype!(
    /// A lowercase fully qualified domain name without the trailing dot.
    DomainName,
    check_domain
);
string_newtype!(
    /// An AWS region code such as `eu-west-1`.
    Region,
    check_region
);
string_newtype!(
    /// An S3 bucket name (general purpose bucket rules).
    BucketName,
    check_bucket
);
string_newtype!(
    /// A KMS key ARN (`arn:aws:kms:<region>:<account>:key/<id>`).
    KmsKeyArn,
    check_kms_arn
);
string_newtype!(
    /// An AWS WAF (v2) web ACL ARN of `CLOUDFRONT` scope
    /// (`arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>`).
    WebAclArn,
    check_web_acl_arn
);
string_newtype!(
    /// A CloudFront cache policy id (a UUID).
    CachePolicyId,
    check_cache_policy_id
);
string_newtype!(
    /// A glob over paths relative to the source folder (globset syntax, `/` separators).
    Glob,
    check_glob
);
string_newtype!(
    /// An HTTP header name.
    HeaderName,
    check_header_name
);
string_newtype!(
    /// An HTTP header value: printable ASCII, not empty.
    HeaderValue,
    check_header_value
);

impl DomainName {
    /// Whether `self` is `zone` or a name below it.
    pub fn is_within(&self, zone: &DomainName) -> bool {
        self.0 == zone.0
            || self
                .0
                .strip_suffix(zone.as_str())
                .is_some_and(|rest| rest.ends_with('.'))
    }
}

impl Glob {
    pub fn matcher(&self) -> globset::GlobMatcher {
        // Checked on construction.
        build_glob(&self.0)
            .expect("glob validated when parsed")
            .compile_matcher()
    }
}

fn check_site_name(v: &str) -> Result<(), String> {
    let ok_chars = v
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let first_letter = v.bytes().next().is_some_and(|b| b.is_ascii_lowercase());
    if (3..=40).contains(&v.len())
        && ok_chars
        && first_letter
        && !v.ends_with('-')
        && !v.contains("--")
    {
        Ok(())
    } else {
        Err(format!(
            "site name `{v}` must be 3-40 characters of lowercase letters, digits and single hyphens, \
             start with a letter and not end with a hyphen"
        ))
    }
}

fn check_domain(v: &str) -> Result<(), String> {
    let labels: Vec<&str> = v.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    let tld_ok = labels
        .last()
        .is_some_and(|t| t.bytes().any(|b| b.is_ascii_lowercase()));
    if v.len() <= 253 && labels.len() >= 2 && labels.iter().all(label_ok) && tld_ok {
        Ok(())
    } else {
        Err(format!(
            "`{v}` is not a domain name (expected lowercase labels separated by dots, \
             such as `docs.example.com`, without a trailing dot or scheme)"
        ))
    }
}

fn check_region(v: &str) -> Result<(), String> {
    let parts: Vec<&str> = v.split('-').collect();
    let ok = parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty();
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{v}` is not an AWS region code (expected something like `eu-west-1`)"
        ))
    }
}

fn check_bucket(v: &str) -> Result<(), String> {
    let chars_ok = v
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    let ends_ok = v
        .bytes()
        .next()
        .zip(v.bytes().last())
        .is_some_and(|(a, z)| a.is_ascii_alphanumeric() && z.is_ascii_alphanumeric());
    let is_ip = v.split('.').count() == 4 && v.split('.').all(|p| p.parse::<u8>().is_ok());
    if (3..=63).contains(&v.len())
        && chars_ok
        && ends_ok
        && !v.contains("..")
        && !is_ip
        && !v.starts_with("xn--")
    {
        Ok(())
    } else {
        Err(format!(
            "`{v}` is not a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens, \
             starting and ending with a letter or digit)"
        ))
    }
}

fn check_kms_arn(v: &str) -> Result<(), String> {
    let parts: Vec<&str> = v.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "kms"
        && check_region(parts[3]).is_ok()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5]
            .strip_prefix("key/")
            .is_some_and(|id| !id.is_empty());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{v}` is not a KMS key ARN (expected `arn:aws:kms:<region>:<account>:key/<key-id>`; \
             aliases are not accepted)"
        ))
    }
}

fn check_web_acl_arn(v: &str) -> Result<(), String> {
    let parts: Vec<&str> = v.splitn(6, ':').collect();
    let resource: Vec<&str> = parts
        .get(5)
        .map_or_else(Vec::new, |r| r.split('/').collect());
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "wafv2"
        && parts[3] == "us-east-1"
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && resource.len() == 4
        && resource[0] == "global"
        && resource[1] == "webacl"
        && resource[2..].iter().all(|p| !p.is_empty());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{v}` is not a CloudFront web ACL ARN (expected \
             `arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>`: WAFv2, CLOUDFRONT scope)"
        ))
    }
}

fn check_cache_policy_id(v: &str) -> Result<(), String> {
    let groups: Vec<usize> = v.split('-').map(str::len).collect();
    if groups == [8, 4, 4, 4, 12] && v.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
        Ok(())
    } else {
        Err(format!(
            "`{v}` is not a CloudFront cache policy id (a UUID such as \
             `658327ea-f89d-4fab-a63d-7e88639e58f6`, CachingOptimized)"
        ))
    }
}

fn build_glob(v: &str) -> Result<globset::Glob, globset::Error> {
    globset::GlobBuilder::new(v)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
}

fn check_glob(v: &str) -> Result<(), String> {
    if v.is_empty() {
        return Err("glob must not be empty".to_owned());
    }
    if v.starts_with('/') {
        return Err(format!(
            "glob `{v}` must be relative to the source folder (remove the leading `/`)"
        ));
    }
    build_glob(v)
        .map(|_| ())
        .map_err(|e| format!("invalid glob `{v}`: {}", e.kind()))
}

fn check_header_name(v: &str) -> Result<(), String> {
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if !v.is_empty() && v.bytes().all(token) {
        Ok(())
    } else {
        Err(format!("`{v}` is not a valid HTTP header name"))
    }
}

fn check_header_value(v: &str) -> Result<(), String> {
    if v.trim().is_empty() {
        return Err("header value must not be empty".to_owned());
    }
    if let Some(c) = v.chars().find(|c| !(c.is_ascii_graphic() || *c == ' ')) {
        return Err(format!(
            "header value contains {c:?}; only printable ASCII is allowed"
        ));
    }
    Ok(())
}

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
    /// Reads, parses and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
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

    /// Cross-field checks. Returns the offending key and what is wrong.
    pub fn validate(&self) -> Result<(), (String, String)> {
        self.validate_site()?;
        self.validate_dns()?;
        self.validate_headers()?;
        self.validate_cache()?;
        self.validate_redirects()?;
        self.validate_deploy()?;
        self.validate_logging()
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
}

mod redirect;
use redirect::check_redirect_target;
pub use redirect::redirect_path;

fn err(key: &str, message: &str) -> (String, String) {
    (key.to_owned(), message.to_owned())
}

/// `toml` reports "TOML parse error at line L, column C" followed by a source excerpt; keep the
/// position and the message, drop the excerpt (the file is the user's own).
fn format_toml_error(e: &toml::de::Error) -> String {
    let message = e.message().trim_end();
    match (e.span(), toml_position(e)) {
        (Some(_), Some((line, col))) => format!("line {line}, column {col}: {message}"),
        _ => message.to_owned(),
    }
}

fn toml_position(e: &toml::de::Error) -> Option<(usize, usize)> {
    // The Display form starts with "TOML parse error at line L, column C".
    let text = e.to_string();
    let rest = text.strip_prefix("TOML parse error at line ")?;
    let (line, rest) = rest.split_once(", column ")?;
    let col: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((line.parse().ok()?, col.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "[site]\nname = \"docs\"\nsource = \"dist\"\n";

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(text, Path::new("sitewarden.toml")).map_err(|e| e.to_string())
    }

    fn error_of(text: &str) -> String {
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
        assert_eq!(c.headers.content_security_policy.as_str(), DEFAULT_CSP);
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

    // Each bad config below is rejected with a message naming the file and the position or key.

    #[test]
    fn unknown_key() {
        assert_eq!(
            error_of("[site]\nname = \"docs\"\nsource = \"dist\"\nsorce = \"x\"\n"),
            "invalid config file `sitewarden.toml`: line 4, column 1: unknown field `sorce`, \
             expected one of `name`, `domain`, `aliases`, `source`, `region`, `bucket`"
        );
    }

    #[test]
    fn missing_site_section() {
        assert_eq!(
            error_of("[tls]\nminimum = \"TLSv1.2_2025\"\n"),
            "invalid config file `sitewarden.toml`: line 1, column 1: missing field `site`"
        );
    }

    #[test]
    fn missing_source() {
        assert_eq!(
            error_of("[site]\nname = \"docs\"\n"),
            "invalid config file `sitewarden.toml`: line 1, column 1: missing field `source`"
        );
    }

    #[test]
    fn bad_site_name() {
        assert_eq!(
            error_of("[site]\nname = \"My_Site\"\nsource = \"dist\"\n"),
            "invalid config file `sitewarden.toml`: line 2, column 8: site name `My_Site` must be \
             3-40 characters of lowercase letters, digits and single hyphens, start with a letter \
             and not end with a hyphen"
        );
    }

    #[test]
    fn bad_domain() {
        assert_eq!(
            error_of(
                "[site]\nname = \"docs\"\nsource = \"dist\"\ndomain = \"https://Docs.example.com/\"\n"
            ),
            "invalid config file `sitewarden.toml`: line 4, column 10: `https://Docs.example.com/` \
             is not a domain name (expected lowercase labels separated by dots, such as \
             `docs.example.com`, without a trailing dot or scheme)"
        );
    }

    #[test]
    fn bad_region() {
        assert_eq!(
            error_of("[site]\nname = \"docs\"\nsource = \"dist\"\nregion = \"Ireland\"\n"),
            "invalid config file `sitewarden.toml`: line 4, column 10: `Ireland` is not an AWS \
             region code (expected something like `eu-west-1`)"
        );
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
    fn bad_cdn_settings() {
        assert_eq!(
            error_of(&format!(
                "{MINIMAL}[cdn]\nprice_class = \"PriceClass_50\"\n"
            )),
            "invalid config file `sitewarden.toml`: line 5, column 15: unknown variant \
             `PriceClass_50`, expected one of `PriceClass_100`, `PriceClass_200`, `PriceClass_All`"
        );
        assert_eq!(
            error_of(&format!(
                "{MINIMAL}[cdn]\nweb_acl_id = \"arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/a/b\"\n"
            )),
            "invalid config file `sitewarden.toml`: line 5, column 14: \
             `arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/a/b` is not a CloudFront web ACL \
             ARN (expected `arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>`: WAFv2, \
             CLOUDFRONT scope)"
        );
        assert_eq!(
            error_of(&format!(
                "{MINIMAL}[cdn]\ncache_policy_id = \"CachingOptimized\"\n"
            )),
            "invalid config file `sitewarden.toml`: line 5, column 19: `CachingOptimized` is not a \
             CloudFront cache policy id (a UUID such as `658327ea-f89d-4fab-a63d-7e88639e58f6`, \
             CachingOptimized)"
        );
    }

    #[test]
    fn bad_dns_mode() {
        assert_eq!(
            error_of(&format!("{MINIMAL}[dns]\nmode = \"manual\"\n")),
            "invalid config file `sitewarden.toml`: line 5, column 8: unknown variant `manual`, \
             expected `route53` or `external`"
        );
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
    fn bad_redirect_status() {
        assert_eq!(
            error_of(&format!(
                "{MINIMAL}[[redirects]]\nfrom = \"/a\"\nto = \"/b\"\nstatus = 303\n"
            )),
            "invalid config file `sitewarden.toml`: line 7, column 10: redirect status `303` is \
             not one of 301, 302, 307, 308"
        );
    }

    #[test]
    fn invalid_glob() {
        assert_eq!(
            error_of(&format!(
                "{MINIMAL}[[cache]]\nglob = \"assets/[a-\"\ncache_control = \"no-cache\"\n"
            )),
            "invalid config file `sitewarden.toml`: line 5, column 8: invalid glob `assets/[a-`: \
             unclosed character class; missing ']'"
        );
    }

    #[test]
    fn absolute_glob() {
        assert_eq!(
            error_of(&format!("{MINIMAL}[deploy]\nexclude = [\"/secret/**\"]\n")),
            "invalid config file `sitewarden.toml`: line 5, column 11: glob `/secret/**` must be \
             relative to the source folder (remove the leading `/`)"
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
    fn bad_header_name() {
        assert_eq!(
            error_of(&format!("{MINIMAL}[headers.extra]\n\"X Bad\" = \"1\"\n")),
            "invalid config file `sitewarden.toml`: line 5, column 1: `X Bad` is not a valid HTTP \
             header name"
        );
    }

    #[test]
    fn bad_kms_arn() {
        assert_eq!(
            error_of(&format!("{MINIMAL}[kms]\nkey_arn = \"alias/mine\"\n")),
            "invalid config file `sitewarden.toml`: line 5, column 11: `alias/mine` is not a KMS \
             key ARN (expected `arn:aws:kms:<region>:<account>:key/<key-id>`; aliases are not \
             accepted)"
        );
    }

    #[test]
    fn bad_bucket_name() {
        assert_eq!(
            error_of(&format!("{MINIMAL}bucket = \"My.Bucket\"\n")),
            "invalid config file `sitewarden.toml`: line 4, column 10: `My.Bucket` is not a valid \
             S3 bucket name (3-63 lowercase letters, digits, dots and hyphens, starting and ending \
             with a letter or digit)"
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

    #[test]
    fn not_toml() {
        assert_eq!(
            error_of("[site\nname = 1"),
            "invalid config file `sitewarden.toml`: line 1, column 6: unclosed table, expected `]`"
        );
    }

    #[test]
    fn domain_within() {
        let d = |s: &str| DomainName::try_from(s.to_owned()).unwrap();
        assert!(d("example.com").is_within(&d("example.com")));
        assert!(d("a.b.example.com").is_within(&d("example.com")));
        assert!(!d("badexample.com").is_within(&d("example.com")));
        assert!(!d("example.com").is_within(&d("a.example.com")));
    }
}
