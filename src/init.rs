//! `sitewarden init`: writes a commented `sitewarden.toml` from `templates/sitewarden.toml`.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Serialize;

use crate::cli::InitArgs;
use crate::config::{Config, DomainName, Region, SiteName};
use crate::error::{Error, Result};
use crate::output::{Printer, escape};
use crate::site::Settings;

const TEMPLATE: &str = include_str!("../templates/sitewarden.toml");

/// Build folders of common static site generators, in the order they are tried.
const BUILD_DIRS: &[&str] = &["dist", "public", "build", "_site", "out"];

#[derive(Debug, Serialize)]
pub struct InitSummary {
    pub config: PathBuf,
    pub name: String,
    pub domain: Option<String>,
    pub source: String,
    pub source_detected: bool,
}

impl fmt::Display for InitSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "wrote {} for site `{}` publishing `{}`{}",
            escape(&self.config.display().to_string()),
            self.name,
            escape(&self.source),
            self.domain.as_ref().map_or_else(
                || " on its *.cloudfront.net name".to_owned(),
                |d| format!(" on `{d}`")
            )
        )
    }
}

pub fn run(args: &InitArgs, settings: &Settings, printer: &Printer) -> Result<()> {
    let path = &settings.config_path;
    if path.exists() {
        return Err(Error::usage_with_hint(
            format!(
                "`{}` already exists; refusing to overwrite it",
                path.display()
            ),
            "edit it, or pass `-c FILE` to write another file",
        ));
    }
    let dir = settings.config_dir();
    let name = match &args.name {
        Some(name) => SiteName::try_from(name.clone())
            .map_err(|e| Error::usage(format!("invalid `--name`: {e}")))?,
        None => name_from_dir(dir)?,
    };
    let domain = args
        .domain
        .clone()
        .map(|d| {
            DomainName::try_from(d).map_err(|e| Error::usage(format!("invalid `--domain`: {e}")))
        })
        .transpose()?;
    let (source, source_detected) = match &args.source {
        Some(source) => (source.to_string_lossy().into_owned(), true),
        None => {
            if let Some(found) = BUILD_DIRS.iter().find(|d| dir.join(d).is_dir()) {
                ((*found).to_owned(), true)
            } else {
                printer.warn(format!(
                    "none of {} exists here; using `dist`: set `site.source` to your build folder",
                    BUILD_DIRS.join(", ")
                ));
                ("dist".to_owned(), false)
            }
        }
    };
    if source.contains('"') || source.contains('\\') || source.chars().any(char::is_control) {
        return Err(Error::usage(format!(
            "`--source {}` contains characters that cannot be written to sitewarden.toml",
            escape(&source)
        )));
    }
    let text = render(
        &name,
        domain.as_ref(),
        &source,
        settings.region.as_ref().map(Region::as_str),
    );
    // The template must always produce a config sitewarden accepts.
    Config::parse(&text, path)
        .context("the generated config does not parse (a bug in sitewarden)")?;
    write_new(path, &text)?;
    printer.data(&InitSummary {
        config: path.clone(),
        name: name.to_string(),
        domain: domain.map(|d| d.to_string()),
        source,
        source_detected,
    })?;
    Ok(())
}

fn render(
    name: &SiteName,
    domain: Option<&DomainName>,
    source: &str,
    region: Option<&str>,
) -> String {
    let domain = domain.map_or_else(
        || "# Serve on your own domain (default: the distribution's *.cloudfront.net name).\n\
            # domain = \"docs.example.com\""
            .to_owned(),
        |d| format!("# The site's address; a certificate and DNS records are managed for it.\ndomain = \"{d}\""),
    );
    let region = region.map_or_else(
        || "# Region of the buckets and key (default: your AWS profile's region).\n# region = \"eu-west-1\"".to_owned(),
        |r| format!("# Region of the buckets and key.\nregion = \"{r}\""),
    );
    TEMPLATE
        .replace("{{name}}", name.as_str())
        .replace("{{domain}}", &domain)
        .replace("{{source}}", source)
        .replace("{{region}}", &region)
}

/// A site name from the folder's name: lowercased, other characters turned into hyphens.
fn name_from_dir(dir: &Path) -> Result<SiteName> {
    let absolute = std::path::absolute(dir).context("cannot resolve the current folder")?;
    let raw = absolute
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let mut name = String::new();
    for c in raw.chars() {
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() {
            c
        } else {
            '-'
        };
        if !(c == '-' && (name.is_empty() || name.ends_with('-'))) {
            name.push(c);
        }
    }
    let name: String = name.trim_matches('-').chars().take(40).collect();
    let name = name.trim_end_matches('-').to_owned();
    SiteName::try_from(name).map_err(|_| {
        Error::usage_with_hint(
            format!(
                "cannot derive a site name from the folder `{}`",
                escape(&raw)
            ),
            "pass `--name`, e.g. `sitewarden init --name docs`",
        )
    })
}

fn write_new(path: &Path, text: &str) -> Result<()> {
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => Error::usage(format!(
                "`{}` already exists; refusing to overwrite it",
                path.display()
            )),
            _ => Error::Other(
                anyhow::Error::new(e).context(format!("cannot create `{}`", path.display())),
            ),
        })?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_renders_a_valid_config_with_and_without_domain() {
        let name = SiteName::try_from("docs".to_owned()).unwrap();
        let domain = DomainName::try_from("docs.example.com".to_owned()).unwrap();
        let with = render(&name, Some(&domain), "public", Some("eu-west-1"));
        let c = Config::parse(&with, Path::new("t.toml")).unwrap();
        assert_eq!(c.site.domain.unwrap().as_str(), "docs.example.com");
        assert_eq!(c.site.source, Path::new("public"));
        assert_eq!(c.site.region.unwrap().as_str(), "eu-west-1");
        let without = render(&name, None, "dist", None);
        let c = Config::parse(&without, Path::new("t.toml")).unwrap();
        assert!(c.site.domain.is_none() && c.site.region.is_none());
    }

    #[test]
    fn every_commented_example_in_the_template_is_valid() {
        // Uncommenting the examples must give a config sitewarden accepts.
        let name = SiteName::try_from("docs".to_owned()).unwrap();
        let text = render(&name, None, "dist", None);
        let uncommented: String = text
            .lines()
            .map(|l| {
                l.strip_prefix("# ")
                    .filter(|r| is_toml_line(r))
                    .unwrap_or(l)
            })
            .fold(String::new(), |text, l| text + l + "\n");
        let c = Config::parse(&uncommented, Path::new("t.toml")).expect("uncommented template");
        assert_eq!(c.site.domain.unwrap().as_str(), "docs.example.com");
        assert_eq!(c.redirects.len(), 1);
        assert_eq!(c.cache.len(), 1);
        assert_eq!(c.headers.extra.len(), 1);
        assert!(c.headers.hsts_preload || c.kms.key_arn.is_some());
        assert!(c.cdn.web_acl_id.is_some() && c.cdn.cache_policy_id.is_some());
    }

    fn is_toml_line(line: &str) -> bool {
        let key = line.split(" = ").next().unwrap_or("");
        line.starts_with('[')
            || (line.contains(" = ")
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-\"".contains(c)))
    }

    #[test]
    fn folder_names_become_site_names() {
        assert_eq!(
            name_from_dir(Path::new("/tmp/My Site_v2"))
                .unwrap()
                .as_str(),
            "my-site-v2"
        );
        assert!(name_from_dir(Path::new("/tmp/__")).is_err());
    }
}
