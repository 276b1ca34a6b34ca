//! The config values that have a shape (names, domains, regions, ARNs, ids, globs, header names and
//! values, redirect statuses): newtypes deserialized through `TryFrom`, so `toml` reports a bad value
//! with its exact position.

use std::fmt;

use serde::{Deserialize, Serialize};

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
    /// A repository `OWNER/NAME` (GitHub's rules: owner 1-39 letters, digits, hyphens; name
    /// 1-100 letters, digits, `.`, `-`, `_`): never a wildcard, since it names who may deploy.
    RepoPath,
    check_repo
);
string_newtype!(
    /// A branch or environment name as it appears in an OIDC subject claim: no wildcard, no `:`
    /// (the claim's separator), no spaces or control characters.
    CiName,
    check_ci_name
);
string_newtype!(
    /// An email address for alert subscriptions (`local@domain`, no spaces or angle brackets).
    EmailAddress,
    check_email
);
string_newtype!(
    /// An SNS standard topic ARN (`arn:aws:sns:<region>:<account>:<name>`).
    SnsTopicArn,
    check_topic_arn
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

impl HeaderValue {
    /// For the model's built-in defaults, constants that need no check.
    pub(super) fn unchecked(value: &str) -> HeaderValue {
        HeaderValue(value.to_owned())
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

fn check_repo(v: &str) -> Result<(), String> {
    let ok = v.split_once('/').is_some_and(|(owner, name)| {
        (1..=39).contains(&owner.len())
            && owner
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !owner.starts_with('-')
            && (1..=100).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            && name != "."
            && name != ".."
    });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{v}` is not a repository `OWNER/NAME` (letters, digits and `-` in the owner; \
             letters, digits, `.`, `-` and `_` in the name; no wildcards)"
        ))
    }
}

fn check_ci_name(v: &str) -> Result<(), String> {
    let ok = (1..=255).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_graphic() && !b"*?[]:\\\"'~^".contains(&b))
        && !v.starts_with('-')
        && !v.starts_with('/')
        && !v.ends_with('/')
        && !v.contains("..");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{v}` is not a branch or environment name for a trust policy (no wildcards, `:`, \
             spaces or `..`)"
        ))
    }
}

fn check_email(v: &str) -> Result<(), String> {
    let ok = v.len() <= 254
        && v.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && check_domain(&domain.to_ascii_lowercase()).is_ok()
        })
        && v.bytes()
            .all(|b| b.is_ascii_graphic() && !b"<>()[],;:\\\"".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{v}` is not an email address (expected `name@example.com`)"
        ))
    }
}

fn check_topic_arn(v: &str) -> Result<(), String> {
    let parts: Vec<&str> = v.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "sns"
        && check_region(parts[3]).is_ok()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && (1..=256).contains(&parts[5].len())
        && parts[5]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{v}` is not an SNS topic ARN (expected `arn:aws:sns:<region>:<account>:<name>`; \
             FIFO topics cannot receive alarms)"
        ))
    }
}

impl SnsTopicArn {
    /// The topic's region.
    pub fn region(&self) -> &str {
        self.0.split(':').nth(3).unwrap_or_default()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::{MINIMAL, error_of};

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
    fn domain_within() {
        let d = |s: &str| DomainName::try_from(s.to_owned()).unwrap();
        assert!(d("example.com").is_within(&d("example.com")));
        assert!(d("a.b.example.com").is_within(&d("example.com")));
        assert!(!d("badexample.com").is_within(&d("example.com")));
        assert!(!d("example.com").is_within(&d("a.example.com")));
    }
}
