//! Resolves flags > environment > `sitewarden.toml` > defaults into one `Settings` (the type lives
//! in `site`, below the commands that take it; the command line is only read here).

use std::io::IsTerminal;

use crate::cli::{ColorChoice, GlobalArgs};
use crate::config::Region;
use crate::error::{Error, Result};
pub use crate::output::OutputSettings;
pub use crate::site::Settings;

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
}
