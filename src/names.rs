//! Deterministic names of a site's resources: how sitewarden finds them again without a state file.

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

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
