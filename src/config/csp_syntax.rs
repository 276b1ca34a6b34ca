//! What a configured Content-Security-Policy may say. Browsers skip what they cannot read — a
//! misspelt directive, a repeated one, an unquoted `self` — with at most a console warning, so
//! such a policy protects less than it reads; `sitewarden` refuses it with the directive named.
//! (Characters outside printable ASCII, a newline among them, are refused for every header value.)

use super::Config;

/// The directives of CSP Level 3 that browsers enforce (`navigate-to` and `plugin-types` are gone).
const DIRECTIVES: &[&str] = &[
    "base-uri",
    "block-all-mixed-content",
    "child-src",
    "connect-src",
    "default-src",
    "fenced-frame-src",
    "font-src",
    "form-action",
    "frame-ancestors",
    "frame-src",
    "img-src",
    "manifest-src",
    "media-src",
    "object-src",
    "prefetch-src",
    "report-to",
    "report-uri",
    "require-trusted-types-for",
    "sandbox",
    "script-src",
    "script-src-attr",
    "script-src-elem",
    "style-src",
    "style-src-attr",
    "style-src-elem",
    "trusted-types",
    "upgrade-insecure-requests",
    "webrtc",
    "worker-src",
];

/// The quoted keywords of a source list (nonces and hashes aside).
const KEYWORDS: &[&str] = &[
    "'self'",
    "'none'",
    "'unsafe-inline'",
    "'unsafe-eval'",
    "'strict-dynamic'",
    "'unsafe-hashes'",
    "'report-sample'",
    "'wasm-unsafe-eval'",
    "'inline-speculation-rules'",
];

const KEY: &str = "headers.content_security_policy";

impl Config {
    /// The configured policy read as a browser reads it (the computed `"auto"` policy aside).
    pub(super) fn validate_csp_syntax(&self) -> Result<(), (String, String)> {
        let policy = self.headers.content_security_policy.as_str();
        if policy == "auto" {
            return Ok(());
        }
        check_policy(policy).map_err(|message| (KEY.to_owned(), message))
    }
}

fn check_policy(policy: &str) -> Result<(), String> {
    let mut seen: Vec<String> = Vec::new();
    for directive in policy.split(';') {
        let mut tokens = directive.split_ascii_whitespace();
        let Some(name) = tokens.next() else {
            continue; // `a; ; b` and a trailing `;` are allowed
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(format!(
                "`{name}` is not a directive name (letters, digits and `-`); directives are \
                 separated by `;`"
            ));
        }
        let lower = name.to_ascii_lowercase();
        if !DIRECTIVES.contains(&lower.as_str()) {
            return Err(format!(
                "`{name}` is not a Content-Security-Policy directive: browsers ignore it, so it \
                 protects nothing"
            ));
        }
        if seen.contains(&lower) {
            return Err(format!(
                "`{name}` appears twice: browsers use the first and ignore the rest"
            ));
        }
        let sources: Vec<&str> = tokens.collect();
        if takes_sources(&lower) {
            check_sources(name, &sources)?;
        }
        seen.push(lower);
    }
    if seen.is_empty() {
        return Err("the policy has no directive".to_owned());
    }
    Ok(())
}

fn takes_sources(directive: &str) -> bool {
    directive.ends_with("-src")
        || matches!(directive, "base-uri" | "form-action" | "frame-ancestors")
}

fn check_sources(directive: &str, sources: &[&str]) -> Result<(), String> {
    for source in sources {
        let lower = source.to_ascii_lowercase();
        if lower.starts_with('\'') {
            let nonce_or_hash = ["'nonce-", "'sha256-", "'sha384-", "'sha512-"]
                .iter()
                .any(|p| lower.starts_with(p))
                && lower.len() > 2
                && lower.ends_with('\'');
            if !nonce_or_hash && !KEYWORDS.contains(&lower.as_str()) {
                return Err(format!(
                    "`{directive}`: `{source}` is not a source keyword (such as 'self', 'none', \
                     a 'nonce-…' or a 'sha256-…')"
                ));
            }
        } else if KEYWORDS.contains(&format!("'{lower}'").as_str()) {
            return Err(format!(
                "`{directive}`: `{source}` without quotes is a host named `{source}`; write \
                 `'{source}'`"
            ));
        }
    }
    if sources.len() > 1 && sources.iter().any(|s| s.eq_ignore_ascii_case("'none'")) {
        return Err(format!(
            "`{directive}`: 'none' with other sources is ignored by browsers; keep one or the other"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::tests::{MINIMAL, error_of, parse};

    fn csp_error(policy: &str) -> String {
        let text = format!(
            "{MINIMAL}[headers]\ncontent_security_policy = {}\n",
            toml::Value::String(policy.to_owned())
        );
        let error = error_of(&text);
        let prefix = "invalid config file `sitewarden.toml`: `headers.content_security_policy`: ";
        error.strip_prefix(prefix).unwrap_or(&error).to_owned()
    }

    #[test]
    fn policies_as_written_by_people_pass() {
        for policy in [
            crate::config::DEFAULT_CSP,
            "default-src 'self'; script-src 'self' 'sha256-abc=' https://cdn.example.org;",
            "DEFAULT-SRC 'SELF'; upgrade-insecure-requests",
            "default-src 'none'; img-src data: https:; report-to csp",
            "auto",
        ] {
            let text = format!("{MINIMAL}[headers]\ncontent_security_policy = \"{policy}\"\n");
            assert!(parse(&text).is_ok(), "{policy}: {:?}", parse(&text).err());
        }
    }

    #[test]
    fn misspelt_unknown_and_repeated_directives() {
        assert_eq!(
            csp_error("default-src 'self'; sc@ript-src 'self'"),
            "`sc@ript-src` is not a directive name (letters, digits and `-`); directives are \
             separated by `;`"
        );
        assert_eq!(
            csp_error("default-src 'self'; scirpt-src 'self'"),
            "`scirpt-src` is not a Content-Security-Policy directive: browsers ignore it, so it \
             protects nothing"
        );
        assert_eq!(
            csp_error("img-src 'self'; IMG-SRC data:"),
            "`IMG-SRC` appears twice: browsers use the first and ignore the rest"
        );
        assert_eq!(csp_error(" ; ;"), "the policy has no directive");
    }

    #[test]
    fn keywords_quoted_and_alone() {
        assert_eq!(
            csp_error("default-src self"),
            "`default-src`: `self` without quotes is a host named `self`; write `'self'`"
        );
        assert_eq!(
            csp_error("default-src 'slef'"),
            "`default-src`: `'slef'` is not a source keyword (such as 'self', 'none', a \
             'nonce-…' or a 'sha256-…')"
        );
        assert_eq!(
            csp_error("object-src 'none' 'self'"),
            "`object-src`: 'none' with other sources is ignored by browsers; keep one or the other"
        );
    }
}
