//! What a config file that cannot be used reports: the file, then the position (`toml`'s line and
//! column) or the key, and a hint when there is something to run.

use std::path::PathBuf;

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
    /// The file is not UTF-8: what it looks like, and where the first stray byte is.
    #[error("invalid config file `{path}`: {message}")]
    Encoding { path: PathBuf, message: String },
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
            ConfigError::Encoding { path, .. } => Some(format!(
                "save it as UTF-8: in the editor's encoding menu, or with \
                 `iconv -f <encoding> -t UTF-8 {0} > {0}.utf8`",
                path.display()
            )),
            _ => None,
        }
    }
}

/// `toml` reports "TOML parse error at line L, column C" followed by a source excerpt; keep the
/// position and the message, drop the excerpt (the file is the user's own).
pub(super) fn format_toml_error(e: &toml::de::Error) -> String {
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
    use crate::config::tests::error_of;

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
    fn not_toml() {
        assert_eq!(
            error_of("[site\nname = 1"),
            "invalid config file `sitewarden.toml`: line 1, column 6: unclosed table, expected `]`"
        );
    }
}
