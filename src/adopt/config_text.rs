//! The `sitewarden.toml` an adoption writes for the adopted site.

use std::path::Path;

use crate::config::{BucketName, DomainName, SiteName};

use super::translate::Translated;

pub(super) struct ConfigInput<'a> {
    pub(super) name: &'a SiteName,
    pub(super) domain: Option<&'a DomainName>,
    pub(super) source: &'a Path,
    pub(super) region: &'a str,
    pub(super) bucket: &'a BucketName,
    pub(super) translated: &'a Translated,
}

/// The adopted site's `sitewarden.toml`.
pub(super) fn config_text(input: &ConfigInput<'_>) -> String {
    use std::fmt::Write as _;
    let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
    let mut text = format!(
        "# sitewarden.toml for the site adopted from the S3 website bucket `{bucket}` by `sitewarden adopt`.\n\
         # Reference: README.md (\"Configuration\"); `sitewarden init` writes a fully commented file.\n\n\
         [site]\nname = {name}\n",
        bucket = input.bucket.as_str(),
        name = quote(input.name.as_str()),
    );
    if let Some(domain) = input.domain {
        let _ = writeln!(text, "domain = {}", quote(domain.as_str()));
    }
    let _ = writeln!(
        text,
        "# Folder `sitewarden deploy` publishes, relative to this file.\nsource = {}\nregion = {}\n\
         # The adopted bucket keeps its name and objects.\nbucket = {}",
        quote(&input.source.to_string_lossy()),
        quote(input.region),
        quote(input.bucket.as_str()),
    );
    if let Some(fallback) = &input.translated.spa_fallback {
        let _ = writeln!(
            text,
            "\n[deploy]\n# The website's error document was index.html.\nspa_fallback = {}",
            quote(fallback)
        );
    }
    for r in &input.translated.redirects {
        let _ = writeln!(
            text,
            "\n# Carried over from the website configuration.\n[[redirects]]\nfrom = {}\nto = {}\nstatus = {}",
            quote(&r.from),
            quote(&r.to),
            u16::from(r.status)
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::super::translate::redirect;
    use super::*;
    use crate::config::Config;

    #[test]
    fn the_written_config_is_valid_and_carries_the_redirects() {
        let translated = Translated {
            redirects: vec![
                redirect("/old-blog/*", "/blog/:splat", 301),
                redirect("/old-page.html", "/about/", 301),
            ],
            spa_fallback: None,
            skipped: Vec::new(),
        };
        let text = config_text(&ConfigInput {
            name: &SiteName::try_from("www-example-com".to_owned()).unwrap(),
            domain: Some(&DomainName::try_from("www.example.com".to_owned()).unwrap()),
            source: Path::new("dist"),
            region: "eu-west-1",
            bucket: &BucketName::try_from("www.example.com".to_owned()).unwrap(),
            translated: &translated,
        });
        let config = Config::parse(&text, Path::new("sitewarden.toml")).unwrap();
        assert_eq!(config.site.bucket.unwrap().as_str(), "www.example.com");
        assert_eq!(config.site.region.unwrap().as_str(), "eu-west-1");
        let redirects: Vec<(&str, &str)> = config
            .redirects
            .iter()
            .map(|r| (r.from.as_str(), r.to.as_str()))
            .collect();
        assert_eq!(
            redirects,
            [
                ("/old-blog/*", "/blog/:splat"),
                ("/old-page.html", "/about/")
            ]
        );
    }
}
