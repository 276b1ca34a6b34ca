//! Content-Type and Cache-Control of each object.
//!
//! Content-Type comes from the extension (`mime_guess`), with `charset=utf-8` for text. Cache-Control
//! comes from the first matching `[[cache]]` glob, else: HTML `no-cache` (always revalidated, so a
//! deploy shows at once), fingerprinted names `public, max-age=31536000, immutable`, others a short
//! max-age.

use std::collections::BTreeMap;

use crate::config::CacheRule;

pub const HTML_CACHE: &str = "no-cache";
pub const IMMUTABLE_CACHE: &str = "public, max-age=31536000, immutable";
pub const DEFAULT_CACHE: &str = "public, max-age=300";

/// What a published object carries besides its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectHeaders {
    pub content_type: String,
    pub cache_control: String,
    /// User metadata (`x-amz-meta-<name>`), by name without the prefix.
    pub metadata: BTreeMap<String, String>,
}

/// The headers `deploy` publishes `key` with: the one place they are decided, so that `preview`
/// serves the folder with exactly what a deploy would set.
pub fn published(
    key: &str,
    rules: &[CacheRule],
    matchers: &[globset::GlobMatcher],
) -> ObjectHeaders {
    ObjectHeaders {
        content_type: content_type(key),
        cache_control: cache_control(key, rules, matchers),
        metadata: BTreeMap::new(),
    }
}

/// The user metadata of a published object: its SHA-256 (`x-amz-meta-sha256`, from which a lost
/// manifest is rebuilt) and, for a page under CSP `"auto"`, its own policy (`x-amz-meta-csp`, which
/// the viewer-response function turns into the header). Deploy uploads exactly this; `preview`
/// serves it.
pub fn metadata(sha256: &str, csp: Option<&str>) -> BTreeMap<String, String> {
    let mut metadata =
        BTreeMap::from([(super::manifest::SHA256_META.to_owned(), sha256.to_owned())]);
    if let Some(policy) = csp {
        metadata.insert(crate::csp::METADATA_KEY.to_owned(), policy.to_owned());
    }
    metadata
}

pub fn is_html(key: &str) -> bool {
    key.rsplit_once('.')
        .is_some_and(|(_, ext)| ext.eq_ignore_ascii_case("html") || ext.eq_ignore_ascii_case("htm"))
}

pub fn content_type(key: &str) -> String {
    let extension = key.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    let mime = match extension.as_deref() {
        // Not (or not correctly) in mime_guess's table.
        Some("webmanifest") => "application/manifest+json".to_owned(),
        Some("mjs" | "js") => "text/javascript".to_owned(),
        Some("map") => "application/json".to_owned(),
        Some("avif") => "image/avif".to_owned(),
        _ => mime_guess::from_path(key)
            .first_raw()
            .unwrap_or("application/octet-stream")
            .to_owned(),
    };
    if is_text(&mime) {
        format!("{mime}; charset=utf-8")
    } else {
        mime
    }
}

/// Whether a content type is text (gets a charset, and is scanned for secrets).
pub fn is_text(mime: &str) -> bool {
    let mime = mime.split(';').next().unwrap_or(mime);
    mime.starts_with("text/")
        || matches!(
            mime,
            "application/json"
                | "application/manifest+json"
                | "application/xml"
                | "image/svg+xml"
                | "application/javascript"
                | "application/ld+json"
                | "application/rss+xml"
                | "application/atom+xml"
                | "application/x-sh"
                | "application/toml"
                | "application/yaml"
        )
}

pub fn cache_control(key: &str, rules: &[CacheRule], matchers: &[globset::GlobMatcher]) -> String {
    if let Some(i) = matchers.iter().position(|m| m.is_match(key)) {
        return rules[i].cache_control.to_string();
    }
    if is_html(key) {
        HTML_CACHE.to_owned()
    } else if is_fingerprinted(key) {
        IMMUTABLE_CACHE.to_owned()
    } else {
        DEFAULT_CACHE.to_owned()
    }
}

/// A file name carrying a content hash after its name: `app.3f9a1c2b.js` (webpack: 8–64 lowercase
/// hex characters with letters and digits) or `index-B7xQ2kLm.css` (Vite: 8 letters and digits in
/// both cases). Segments are split at `.`, `-` and `_`, and the first one (the name) never counts.
/// A name that merely holds a number or a word (`photo_20240512.jpg`, `report-final2024.pdf`,
/// `logo-FullColor.svg`) is not one: a file wrongly taken as fingerprinted would stay cached in
/// browsers for a year.
pub fn is_fingerprinted(key: &str) -> bool {
    let name = key.rsplit('/').next().unwrap_or(key);
    let Some((stem, _extension)) = name.rsplit_once('.') else {
        return false;
    };
    stem.split(['.', '-', '_']).skip(1).any(|segment| {
        let has = |f: fn(&u8) -> bool| segment.as_bytes().iter().any(f);
        let all = |f: fn(&u8) -> bool| segment.as_bytes().iter().all(f);
        let hex = (8..=64).contains(&segment.len())
            && all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
            && has(u8::is_ascii_digit)
            && has(u8::is_ascii_lowercase);
        let vite = segment.len() == 8
            && all(u8::is_ascii_alphanumeric)
            && has(u8::is_ascii_lowercase)
            && has(u8::is_ascii_uppercase);
        hex || vite
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_have_charset_for_text() {
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("a/app.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("style.CSS"), "text/css; charset=utf-8");
        assert_eq!(content_type("logo.svg"), "image/svg+xml; charset=utf-8");
        assert_eq!(content_type("data.json"), "application/json; charset=utf-8");
        assert_eq!(
            content_type("site.webmanifest"),
            "application/manifest+json; charset=utf-8"
        );
        assert_eq!(content_type("photo.png"), "image/png");
        assert_eq!(content_type("font.woff2"), "font/woff2");
        assert_eq!(content_type("LICENSE"), "application/octet-stream");
        assert_eq!(content_type("blob.unknownext"), "application/octet-stream");
    }

    #[test]
    fn fingerprints_are_recognised() {
        for key in [
            "assets/app.3f9a1c2b.js",
            "index-B7xQ2kLm.css",
            "chunk_0a1b2c3d4e5f.js",
            "img/logo.abcdef0123456789.png",
        ] {
            assert!(is_fingerprinted(key), "{key}");
        }
        for key in [
            "index.html",
            "about-us.html",
            "favicon.ico",
            "docs/getting-started.js",
            "README",
            "app.12345678",
            // Names that hold a date or a number, not a content hash.
            "photo_20240512.jpg",
            "IMG20240512.jpg",
            "resume2024.pdf",
            "report-20240512.pdf",
            "3f9a1c2b4d5e.png",
            "logo-FullColor.svg",
            "docs_GettingStarted.pdf",
            "use-TypeScript.png",
            "report-final2024.pdf",
            "trip_IMG20240512.jpg",
        ] {
            assert!(!is_fingerprinted(key), "{key}");
        }
    }

    #[test]
    fn cache_rules_win_then_defaults() {
        let rules: Vec<CacheRule> = toml::from_str::<toml::Table>(
            "[[cache]]\nglob = \"fonts/**\"\ncache_control = \"public, max-age=86400\"\n",
        )
        .unwrap()["cache"]
            .clone()
            .try_into()
            .unwrap();
        let matchers: Vec<_> = rules.iter().map(|r| r.glob.matcher()).collect();
        assert_eq!(
            cache_control("fonts/a.woff2", &rules, &matchers),
            "public, max-age=86400"
        );
        assert_eq!(
            cache_control("docs/index.html", &rules, &matchers),
            HTML_CACHE
        );
        assert_eq!(
            cache_control("app.3f9a1c2b.js", &rules, &matchers),
            IMMUTABLE_CACHE
        );
        assert_eq!(
            cache_control("favicon.ico", &rules, &matchers),
            DEFAULT_CACHE
        );
    }
}
