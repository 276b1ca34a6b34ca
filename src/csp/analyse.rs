//! One HTML page → what its policy must allow ([`Page`]).
//!
//! The page is tokenized as the WHATWG spec says (`html5gum`), switching to raw text inside
//! `<script>` and `<style>` as a browser's tree builder would. Hashes are of what browsers hash: an
//! inline element's text exactly as in the source (no entity decoding; the tokenizer's newline
//! normalization is the browser's too), an attribute's value after entity decoding (the tokenizer
//! decodes them). Not analysable from the HTML, and so not allowed: `fetch()`/XHR targets
//! (`connect-src` is `'self'`), `eval`, and the sources that same-origin stylesheets and scripts load
//! in turn.

use sha2::{Digest as _, Sha256};

use super::{Directive, Page};

/// Inline text being collected: whose, and whether it is hashed.
enum Inline {
    Script,
    Style,
    /// A `<script>` with `src` or of a non-executable type: its text never runs.
    Inert,
}

pub fn analyse(html: &[u8]) -> Page {
    let mut emitter = html5gum::DefaultEmitter::default();
    emitter.naively_switch_states(true);
    let mut page = Page::default();
    let mut inline: Option<(Inline, Vec<u8>)> = None;
    for token in html5gum::Tokenizer::new_with_emitter(html, emitter).flatten() {
        match token {
            html5gum::Token::StartTag(tag) => {
                let name = String::from_utf8_lossy(&tag.name).into_owned();
                let attributes: Vec<(String, String)> = tag
                    .attributes
                    .iter()
                    .map(|(k, v)| {
                        (
                            String::from_utf8_lossy(k).into_owned(),
                            String::from_utf8_lossy(&v.value).into_owned(),
                        )
                    })
                    .collect();
                if let Some(text) = inline.take() {
                    finish(&mut page, text);
                }
                inline = element(&mut page, &name, &attributes).map(|kind| (kind, Vec::new()));
            }
            html5gum::Token::String(text) => {
                if let Some((_, buffer)) = inline.as_mut() {
                    buffer.extend_from_slice(&text.value);
                }
            }
            html5gum::Token::EndTag(_) => {
                if let Some(text) = inline.take() {
                    finish(&mut page, text);
                }
            }
            _ => {}
        }
    }
    // A script or style left open at the end of the file still runs.
    if let Some(text) = inline.take() {
        finish(&mut page, text);
    }
    page
}

/// `'sha256-<base64>'`, the CSP hash source of `bytes`.
pub(super) fn hash(bytes: &[u8]) -> String {
    format!(
        "'sha256-{}'",
        aws_smithy_types::base64::encode(Sha256::digest(bytes))
    )
}

fn finish(page: &mut Page, (kind, text): (Inline, Vec<u8>)) {
    match kind {
        Inline::Script => {
            page.scripts.insert(hash(&text));
        }
        Inline::Style => {
            page.styles.insert(hash(&text));
            css_sources(page, &String::from_utf8_lossy(&text));
        }
        Inline::Inert => {}
    }
}

/// Records what one start tag needs; returns the kind of inline text that follows, if any.
fn element(page: &mut Page, name: &str, attributes: &[(String, String)]) -> Option<Inline> {
    let attr = |n: &str| {
        attributes
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    inline_attributes(page, attributes);
    let mut fetch = |directive: Directive, url: Option<&str>| {
        if let Some(url) = url {
            fetch_source(page, directive, url, name);
        }
    };
    match name {
        "script" => {
            if let Some(src) = attr("src") {
                if executable(attr("type")) {
                    fetch(Directive::Script, Some(src));
                }
                return Some(Inline::Inert);
            }
            return Some(if executable(attr("type")) {
                Inline::Script
            } else {
                Inline::Inert
            });
        }
        "style" => return Some(Inline::Style),
        "link" => link(
            page,
            attr("rel"),
            attr("as"),
            attr("href"),
            attr("imagesrcset"),
        ),
        "img" => {
            fetch(Directive::Img, attr("src"));
            srcset(page, attr("srcset"), name);
        }
        "source" => {
            fetch(Directive::Media, attr("src"));
            srcset(page, attr("srcset"), name);
        }
        "video" => {
            fetch(Directive::Media, attr("src"));
            fetch(Directive::Img, attr("poster"));
        }
        "audio" | "track" => fetch(Directive::Media, attr("src")),
        "iframe" | "frame" => fetch(Directive::Frame, attr("src")),
        "form" => fetch(Directive::Form, attr("action")),
        "input" | "button" => {
            if name == "input" && attr("type").is_some_and(|t| t.eq_ignore_ascii_case("image")) {
                fetch(Directive::Img, attr("src"));
            }
            fetch(Directive::Form, attr("formaction"));
        }
        "image" | "feimage" => fetch(Directive::Img, attr("href").or(attr("xlink:href"))),
        "object" | "embed" | "applet" => {
            page.blocked
                .insert(format!("plugins (`<{name}>`; object-src is 'none')"));
        }
        "base" => {
            if let Some(href) = attr("href")
                && !matches!(classify(href), Source::Same)
            {
                page.blocked
                    .insert("`<base href>` to another origin (base-uri is 'self')".to_owned());
            }
        }
        "a" | "area" if attr("href").is_some_and(|h| matches!(classify(h), Source::Javascript)) => {
            page.blocked
                .insert(format!("`javascript:` URLs (`<{name} href>`)"));
        }
        _ => {}
    }
    None
}

/// Event-handler and `style` attributes, on any element.
fn inline_attributes(page: &mut Page, attributes: &[(String, String)]) {
    for (key, value) in attributes {
        if key.len() > 2 && key.starts_with("on") && key.bytes().all(|b| b.is_ascii_lowercase()) {
            page.handlers.insert(hash(value.as_bytes()));
        } else if key == "style" {
            page.style_attributes.insert(hash(value.as_bytes()));
            css_sources(page, value);
        }
    }
}

/// Whether a `<script type>` runs: classic JavaScript types, modules, import maps and
/// speculation rules (both subject to `script-src`); JSON data, templates and the like do not.
fn executable(kind: Option<&str>) -> bool {
    let Some(kind) = kind.map(|t| t.trim().to_ascii_lowercase()) else {
        return true;
    };
    kind.is_empty()
        || matches!(
            kind.as_str(),
            "module"
                | "importmap"
                | "speculationrules"
                | "application/ecmascript"
                | "application/javascript"
                | "application/x-ecmascript"
                | "application/x-javascript"
                | "text/ecmascript"
                | "text/javascript"
                | "text/javascript1.0"
                | "text/javascript1.1"
                | "text/javascript1.2"
                | "text/javascript1.3"
                | "text/javascript1.4"
                | "text/javascript1.5"
                | "text/jscript"
                | "text/livescript"
                | "text/x-ecmascript"
                | "text/x-javascript"
        )
}

fn link(
    page: &mut Page,
    rel: Option<&str>,
    kind: Option<&str>,
    href: Option<&str>,
    imagesrcset: Option<&str>,
) {
    let rel = rel.unwrap_or_default().to_ascii_lowercase();
    let kind = kind.unwrap_or_default().to_ascii_lowercase();
    for token in rel.split_ascii_whitespace() {
        let directive = match token {
            "stylesheet" => Some(Directive::Style),
            "icon" | "apple-touch-icon" | "apple-touch-icon-precomposed" | "mask-icon" => {
                Some(Directive::Img)
            }
            "manifest" => Some(Directive::Manifest),
            "modulepreload" => Some(Directive::Script),
            "preload" | "prefetch" => match kind.as_str() {
                "script" | "worker" => Some(Directive::Script),
                "style" => Some(Directive::Style),
                "font" => Some(Directive::Font),
                "image" => {
                    srcset(page, imagesrcset, "link");
                    Some(Directive::Img)
                }
                "fetch" => Some(Directive::Connect),
                "audio" | "video" | "track" => Some(Directive::Media),
                "document" => Some(Directive::Frame),
                _ => None,
            },
            _ => None,
        };
        if let (Some(directive), Some(href)) = (directive, href) {
            fetch_source(page, directive, href, "link");
        }
    }
}

/// The URLs of a `srcset` (the spec's candidate parsing: a URL may hold commas, a trailing comma ends it).
fn srcset(page: &mut Page, value: Option<&str>, element: &str) {
    let Some(mut rest) = value else { return };
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == ',');
        if rest.is_empty() {
            return;
        }
        let end = rest
            .find(|c: char| c.is_ascii_whitespace())
            .unwrap_or(rest.len());
        let (url, after) = rest.split_at(end);
        let trimmed = url.trim_end_matches(',');
        fetch_source(page, Directive::Img, trimmed, element);
        rest = if trimmed.len() < url.len() {
            after
        } else {
            after.find(',').map_or("", |i| &after[i + 1..])
        };
    }
}

/// `url(…)` and `@import "…"` in CSS text: imports are style sources, URLs inside `@font-face` font
/// sources, others image sources.
fn css_sources(page: &mut Page, css: &str) {
    let lower = css.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower[from..].find("url(").map(|i| i + from) {
        let start = at + 4;
        let end = lower[start..].find(')').map_or(lower.len(), |i| i + start);
        let url = css[start..end].trim().trim_matches(['"', '\'']).trim();
        let before = &lower[..at];
        let font = before
            .rfind("@font-face")
            .is_some_and(|f| !before[f..].contains('}'));
        let import = before.trim_end().ends_with("@import");
        let directive = if import {
            Directive::Style
        } else if font {
            Directive::Font
        } else {
            Directive::Img
        };
        fetch_source(page, directive, url, "style");
        from = end.min(lower.len());
    }
    let mut from = 0;
    while let Some(at) = lower[from..].find("@import").map(|i| i + from) {
        let rest = css[at + 7..].trim_start();
        if let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'')
            && let Some(end) = rest[1..].find(quote)
        {
            fetch_source(page, Directive::Style, &rest[1..=end], "style");
        }
        from = at + 7;
    }
}

/// Where a URL points, as far as a policy cares.
#[derive(Debug, PartialEq, Eq)]
enum Source {
    /// Relative or empty: this site.
    Same,
    /// `https://host[:port]` (an `http:` URL is listed as its `https:` origin: the site is HTTPS
    /// only, and browsers upgrade or block mixed content anyway).
    Origin(String),
    Data,
    Javascript,
    /// Another scheme (lowercase), or a host a policy cannot name.
    Other(String),
}

fn fetch_source(page: &mut Page, directive: Directive, url: &str, element: &str) {
    match classify(url) {
        Source::Same => {}
        Source::Origin(origin) => {
            page.origins.entry(directive).or_default().insert(origin);
        }
        Source::Data if directive == Directive::Img => {}
        Source::Data if directive == Directive::Font => page.data_fonts = true,
        Source::Data => {
            page.blocked.insert(format!(
                "`data:` URLs in {} (`<{element}>`)",
                directive.name()
            ));
        }
        Source::Javascript => {
            page.blocked
                .insert(format!("`javascript:` URLs (`<{element}>`)"));
        }
        Source::Other(what) => {
            page.blocked
                .insert(format!("`{what}` in {} (`<{element}>`)", directive.name()));
        }
    }
}

fn classify(url: &str) -> Source {
    // The URL parser strips leading and trailing C0 controls and spaces and drops tabs and newlines.
    let url: String = url
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let slash = |c: char| c == '/' || c == '\\';
    let mut chars = url.chars();
    if let (Some(a), Some(b)) = (chars.next(), chars.next())
        && slash(a)
        && slash(b)
    {
        return origin(&url[2..], "https");
    }
    let scheme_end = url.find(':').filter(|&i| {
        let scheme = &url[..i];
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    let Some(end) = scheme_end else {
        return Source::Same;
    };
    let scheme = url[..end].to_ascii_lowercase();
    let rest = url[end + 1..].trim_start_matches(slash);
    match scheme.as_str() {
        "http" | "https" => origin(rest, &scheme),
        "data" => Source::Data,
        "javascript" => Source::Javascript,
        _ => Source::Other(format!("{scheme}:")),
    }
}

/// The origin of `authority/path…` as a CSP host source, always `https`.
fn origin(rest: &str, scheme: &str) -> Source {
    let authority = rest.split(['/', '\\', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let (host, port) = match host_port.rfind(':') {
        Some(i) if !host_port[i..].contains(']') => (&host_port[..i], &host_port[i + 1..]),
        _ => (host_port, ""),
    };
    let host = host.to_ascii_lowercase();
    let valid = !host.is_empty()
        && (host.starts_with('[')
            || host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')));
    if !valid || !port.chars().all(|c| c.is_ascii_digit()) {
        return Source::Other(format!("the host `{host}`"));
    }
    let default_port = if scheme == "https" { "443" } else { "80" };
    if port.is_empty() || port == default_port {
        Source::Origin(format!("https://{host}"))
    } else {
        Source::Origin(format!("https://{host}:{port}"))
    }
}

#[cfg(test)]
pub(super) fn classify_for_tests(url: &str) -> String {
    format!("{:?}", classify(url))
}
