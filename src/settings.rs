//! Resolves flags > environment > `sitewarden.toml` > defaults into one `Settings`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::cli::{ColorChoice, GlobalArgs};
use crate::config::{Config, Region};
use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct Settings {
    pub config_path: PathBuf,
    pub profile: Option<String>,
    /// `--region`, which wins over `site.region`.
    pub region: Option<Region>,
    pub endpoint_url: Option<String>,
    pub output: OutputSettings,
    pub yes: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct OutputSettings {
    pub json: bool,
    pub quiet: bool,
    pub verbose: bool,
    /// Colour on stderr.
    pub color: bool,
    /// Whether stderr is a terminal (progress bars only then).
    pub stderr_terminal: bool,
}

impl Settings {
    pub fn resolve(args: &GlobalArgs) -> Result<Settings> {
        let region = args
            .region
            .clone()
            .map(|r| {
                Region::try_from(r).map_err(|e| Error::usage(format!("invalid `--region`: {e}")))
            })
            .transpose()?;
        let endpoint_url = match args.endpoint_url.as_deref() {
            None | Some("") => None,
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                Some(url.trim_end_matches('/').to_owned())
            }
            Some(url) => {
                return Err(Error::usage_with_hint(
                    format!(
                        "invalid endpoint URL `{url}` (from `--endpoint-url` or `AWS_ENDPOINT_URL`)"
                    ),
                    "use a full URL such as `http://127.0.0.1:4566`",
                ));
            }
        };
        let stderr_terminal = std::io::stderr().is_terminal();
        let color = match args.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && stderr_terminal
            }
        };
        Ok(Settings {
            config_path: args.config.clone(),
            profile: args.profile.clone().filter(|p| !p.is_empty()),
            region,
            endpoint_url,
            output: OutputSettings {
                json: args.json,
                quiet: args.quiet,
                verbose: args.verbose,
                color,
                stderr_terminal,
            },
            yes: args.yes,
        })
    }

    pub fn load_config(&self) -> Result<Config> {
        Ok(Config::load(&self.config_path)?)
    }

    /// The region of the content and log buckets: `--region`, then `site.region`; `None` leaves it
    /// to the AWS profile/environment.
    pub fn site_region(&self, config: &Config) -> Option<String> {
        self.region
            .as_ref()
            .or(config.site.region.as_ref())
            .map(|r| r.as_str().to_owned())
    }

    /// Where the config file lives; relative paths in it (such as `site.source`) start here.
    pub fn config_dir(&self) -> &Path {
        self.config_path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    }
}
