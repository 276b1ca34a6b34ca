//! Deterministic names of a site's resources: how sitewarden finds them again without a state file.

use std::fmt;

use serde::Serialize;

use crate::config::{Config, DomainName};

/// Prefix of sitewarden's private state in the content bucket (denied to CloudFront).
pub const STATE_PREFIX: &str = ".sitewarden/";

/// Tag key on every resource sitewarden creates; its value is the site name.
pub const SITE_TAG: &str = "sitewarden:site";

/// The site's names: the domain first, then the aliases. Empty for a domainless site.
pub fn site_names(config: &Config) -> Vec<&DomainName> {
    config
        .site
        .domain
        .iter()
        .chain(&config.site.aliases)
        .collect()
}

/// Whether `host` is an S3 website endpoint (`s3-website-REGION…` or `s3-website.REGION…`, with
/// the bucket name in front for a CNAME's value).
pub fn is_website_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host.starts_with("s3-website") || host.contains(".s3-website")
}

/// The log bucket of `site` in `account`: `<site>-logs-<account>`.
pub fn log_bucket(site: &str, account: &str) -> String {
    format!("{site}-logs-{account}")
}

/// The site whose log bucket in `account` is named `bucket`, if the name has that form.
pub fn log_bucket_site<'a>(bucket: &'a str, account: &str) -> Option<&'a str> {
    bucket
        .strip_suffix(account)?
        .strip_suffix("-logs-")
        .filter(|site| !site.is_empty())
}

/// The kinds of AWS resource sitewarden plans, audits and names in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Bucket,
    Key,
    Distribution,
    Certificate,
    Name,
    Zone,
    /// An S3 object, named `bucket/key`.
    Object,
    /// A Route53 record set, named `name TYPE`.
    Record,
    OriginAccessControl,
    ResponseHeadersPolicy,
    Function,
    DeliverySource,
    DeliveryDestination,
    /// A CloudWatch Logs delivery, named `source → destination`.
    Delivery,
    /// A local file (the config file `adopt` writes).
    File,
    /// An SNS topic, named by its ARN.
    Topic,
    /// An SNS subscription, named `endpoint → topic`.
    Subscription,
    /// A CloudWatch metric alarm.
    Alarm,
    /// An EventBridge rule, named `name in region`.
    Rule,
    /// An IAM role.
    Role,
    /// An IAM OIDC identity provider, named by its URL host.
    OidcProvider,
    /// An IAM user.
    User,
    /// An IAM managed policy, named by its ARN.
    Policy,
    /// The CloudTrail trails of a region, named `management events in <region>`.
    Trail,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Bucket => "s3 bucket",
            Kind::Key => "kms key",
            Kind::Distribution => "cloudfront distribution",
            Kind::Certificate => "acm certificate",
            Kind::Name => "dns name",
            Kind::Zone => "route53 hosted zone",
            Kind::Object => "s3 object",
            Kind::Record => "route53 record",
            Kind::OriginAccessControl => "cloudfront origin access control",
            Kind::ResponseHeadersPolicy => "cloudfront response headers policy",
            Kind::Function => "cloudfront function",
            Kind::DeliverySource => "cloudwatch logs delivery source",
            Kind::DeliveryDestination => "cloudwatch logs delivery destination",
            Kind::Delivery => "cloudwatch logs delivery",
            Kind::File => "file",
            Kind::Topic => "sns topic",
            Kind::Subscription => "sns subscription",
            Kind::Alarm => "cloudwatch alarm",
            Kind::Rule => "eventbridge rule",
            Kind::Role => "iam role",
            Kind::OidcProvider => "iam oidc provider",
            Kind::User => "iam user",
            Kind::Policy => "iam policy",
            Kind::Trail => "cloudtrail",
        })
    }
}

/// The identity of one AWS resource: what plan changes, audit findings and error messages name.
/// Displayed as `<kind> <name>`, e.g. `s3 bucket docs-site-123456789012`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Resource {
    pub kind: Kind,
    /// Bucket name, key alias, id or ARN, distribution id or comment, domain, record, ….
    pub name: String,
}

impl Resource {
    pub fn new(kind: Kind, name: impl fmt::Display) -> Resource {
        Resource {
            kind,
            name: name.to_string(),
        }
    }

    /// The Route53 record set `name` (without its trailing dot) of type `rr_type`.
    pub fn record(name: &str, rr_type: &str) -> Resource {
        Resource::new(
            Kind::Record,
            format!("{} {rr_type}", name.trim_end_matches('.')),
        )
    }

    /// The CloudWatch Logs delivery from `source` to `destination`.
    pub fn delivery(source: &str, destination: &str) -> Resource {
        Resource::new(Kind::Delivery, format!("{source} → {destination}"))
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.name)
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SiteNames {
    pub site: String,
    pub content_bucket: String,
    pub log_bucket: String,
    pub kms_alias: String,
    /// The CloudFront distribution's comment, also used to find it again.
    pub distribution_comment: String,
}

impl SiteNames {
    pub fn new(config: &Config, account: &str) -> SiteNames {
        let site = config.site.name.as_str();
        SiteNames {
            site: site.to_owned(),
            content_bucket: config
                .site
                .bucket
                .as_ref()
                .map_or_else(|| format!("{site}-site-{account}"), ToString::to_string),
            log_bucket: log_bucket(site, account),
            kms_alias: format!("alias/sitewarden/{site}"),
            distribution_comment: format!("sitewarden:{site}"),
        }
    }
}

/// The names of the monitoring resources (`[monitoring]`).
impl SiteNames {
    /// The alert topic in each region: `sitewarden-<site>-alerts`.
    pub fn alerts_topic(&self) -> String {
        format!("sitewarden-{}-alerts", self.site)
    }

    /// The alias of the key that encrypts the alert topic of a region. Under its own prefix, so
    /// that it never is the content key alias of another site (`alias/sitewarden/<site>`).
    pub fn alerts_key_alias(&self) -> String {
        format!("alias/sitewarden-alerts/{}", self.site)
    }

    /// A monitoring alarm or rule: `sitewarden-<site>-<what>`.
    pub fn monitor(&self, what: &str) -> String {
        format!("sitewarden-{}-{what}", self.site)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn a_resource_displays_as_its_kind_and_name() {
        assert_eq!(
            Resource::new(Kind::Bucket, "docs-site-1").to_string(),
            "s3 bucket docs-site-1"
        );
        assert_eq!(
            Resource::record("www.example.com.", "AAAA").to_string(),
            "route53 record www.example.com AAAA"
        );
        assert_eq!(
            Resource::delivery("a-cf", "a-cf-s3").to_string(),
            "cloudwatch logs delivery a-cf → a-cf-s3"
        );
        assert_eq!(
            Resource::new(Kind::ResponseHeadersPolicy, "p").to_string(),
            "cloudfront response headers policy p"
        );
    }

    #[test]
    fn a_resource_serializes_its_kind_and_name() {
        let json = serde_json::to_value(Resource::new(Kind::Zone, "example.com.")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "zone", "name": "example.com."})
        );
    }

    #[test]
    fn names_follow_the_site_name_and_account() {
        let config = Config::parse(
            "[site]\nname = \"docs\"\nsource = \"dist\"\n",
            Path::new("sitewarden.toml"),
        )
        .unwrap();
        let names = SiteNames::new(&config, "123456789012");
        assert_eq!(names.content_bucket, "docs-site-123456789012");
        assert_eq!(names.log_bucket, "docs-logs-123456789012");
        assert_eq!(names.kms_alias, "alias/sitewarden/docs");
        assert_eq!(names.distribution_comment, "sitewarden:docs");
    }

    #[test]
    fn a_log_bucket_name_gives_back_its_site() {
        let account = "123456789012";
        let name = log_bucket("docs", account);
        assert_eq!(log_bucket_site(&name, account), Some("docs"));
        assert_eq!(log_bucket_site("docs-site-123456789012", account), None);
        assert_eq!(log_bucket_site("docs-logs-210987654321", account), None);
        assert_eq!(log_bucket_site("-logs-123456789012", account), None);
    }

    #[test]
    fn configured_bucket_wins() {
        let config = Config::parse(
            "[site]\nname = \"docs\"\nsource = \"dist\"\nbucket = \"legacy.example.com\"\n",
            Path::new("sitewarden.toml"),
        )
        .unwrap();
        assert_eq!(
            SiteNames::new(&config, "123456789012").content_bucket,
            "legacy.example.com"
        );
    }

    #[test]
    fn longest_site_name_still_makes_valid_bucket_names() {
        let name = "a".repeat(40);
        let config = Config::parse(
            &format!("[site]\nname = \"{name}\"\nsource = \"dist\"\n"),
            Path::new("sitewarden.toml"),
        )
        .unwrap();
        let names = SiteNames::new(&config, "123456789012");
        assert!(names.content_bucket.len() <= 63);
        assert!(names.log_bucket.len() <= 63);
    }
}
