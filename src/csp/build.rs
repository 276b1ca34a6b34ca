//! [`Page`] → its policy string, and what makes any policy weaker than strict.
//!
//! The strict form: `default-src 'self'`; `script-src`/`style-src` with `'self'`, the page's hashes
//! (plus `'unsafe-hashes'` and the attribute hashes only where the page has such attributes) and its
//! external origins; `img-src 'self' data:` (the one scheme source allowed: images cannot run script,
//! and stylesheets the analysis does not read often inline icons as `data:`); `connect-src` stays
//! `'self'` (`fetch()` targets cannot be read from HTML); `object-src 'none'`; `base-uri 'self'`;
//! `form-action 'self'` (plus form targets); `frame-ancestors 'none'`. Never `'unsafe-inline'`,
//! `'unsafe-eval'`, `*` or a scheme-only source. Fetch directives that would only repeat
//! `default-src 'self'` are left out; every list is sorted, so one page always gets one string.

use super::{Directive, Page};

/// The policy of a page with nothing inline and nothing external (and the site-wide policy when the
/// error page's own does not fit): the project's fixed default.
pub const BASE: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; \
                        base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

pub(super) fn policy(page: &Page) -> String {
    let origins = |d: Directive| page.origins.get(&d).into_iter().flatten().cloned();
    let with_hashes = |hashes: &std::collections::BTreeSet<String>,
                       attributes: &std::collections::BTreeSet<String>,
                       d: Directive| {
        let mut sources: Vec<String> = hashes.iter().cloned().collect();
        if !attributes.is_empty() {
            sources.push("'unsafe-hashes'".to_owned());
            sources.extend(attributes.iter().cloned());
        }
        sources.extend(origins(d));
        sources
    };
    let mut directives = vec!["default-src 'self'".to_owned()];
    let mut add = |d: Directive, base: &[&str], extra: Vec<String>, always: bool| {
        if extra.is_empty() && !always {
            return;
        }
        let mut words = vec![d.name().to_owned()];
        words.extend(base.iter().map(|s| (*s).to_owned()));
        words.extend(extra);
        directives.push(words.join(" "));
    };
    add(
        Directive::Script,
        &["'self'"],
        with_hashes(&page.scripts, &page.handlers, Directive::Script),
        false,
    );
    add(
        Directive::Style,
        &["'self'"],
        with_hashes(&page.styles, &page.style_attributes, Directive::Style),
        false,
    );
    add(
        Directive::Img,
        &["'self'", "data:"],
        origins(Directive::Img).collect(),
        true,
    );
    let font: &[&str] = if page.data_fonts {
        &["'self'", "data:"]
    } else {
        &["'self'"]
    };
    add(
        Directive::Font,
        font,
        origins(Directive::Font).collect(),
        page.data_fonts,
    );
    for d in [
        Directive::Connect,
        Directive::Frame,
        Directive::Media,
        Directive::Manifest,
    ] {
        add(d, &["'self'"], origins(d).collect(), false);
    }
    directives.push("object-src 'none'".to_owned());
    directives.push("base-uri 'self'".to_owned());
    let mut form = vec!["form-action 'self'".to_owned()];
    form.extend(origins(Directive::Form));
    directives.push(form.join(" "));
    directives.push("frame-ancestors 'none'".to_owned());
    directives.join("; ")
}

/// What makes `policy` weaker than the strict form, each said for a person; empty when strict.
pub fn weaknesses(policy: &str) -> Vec<String> {
    let directives: Vec<(String, Vec<&str>)> = policy
        .split(';')
        .filter_map(|d| {
            let mut words = d.split_ascii_whitespace();
            let name = words.next()?.to_ascii_lowercase();
            Some((name, words.collect()))
        })
        .collect();
    let get = |name: &str| {
        directives
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let mut out = Vec::new();
    let default = get("default-src");
    match get("script-src").or_else(|| default.clone()) {
        None => out.push("no script-src or default-src: scripts load from anywhere".to_owned()),
        Some(sources) => {
            if sources
                .iter()
                .any(|s| s.eq_ignore_ascii_case("'unsafe-inline'"))
            {
                out.push("'unsafe-inline' in script-src".to_owned());
            }
        }
    }
    for (name, sources) in &directives {
        if !(name.ends_with("-src") || name == "form-action" || name == "frame-ancestors") {
            continue;
        }
        for source in sources {
            let lower = source.to_ascii_lowercase();
            let scheme_only = lower.ends_with(':') && !lower.starts_with('\'');
            let allowed = lower == "data:" && (name == "img-src" || name == "font-src");
            if lower == "*" || (scheme_only && !allowed) {
                out.push(format!("`{source}` in {name}"));
            } else if lower.contains("://*") || lower.starts_with("*.") {
                out.push(format!("the wildcard `{source}` in {name}"));
            }
        }
    }
    let is = |name: &str, want: &[&str]| {
        get(name).is_some_and(|v| !v.is_empty() && v.iter().all(|s| want.contains(s)))
    };
    if !(is("object-src", &["'none'"])
        || get("object-src").is_none() && default.as_deref() == Some(&["'none'"][..]))
    {
        out.push("object-src is not 'none'".to_owned());
    }
    if !is("base-uri", &["'self'", "'none'"]) {
        out.push("base-uri is not 'self' or 'none'".to_owned());
    }
    if !is("frame-ancestors", &["'none'", "'self'"]) {
        out.push("frame-ancestors is not 'none' or 'self'".to_owned());
    }
    if get("form-action").is_none() {
        out.push("no form-action: forms may post anywhere".to_owned());
    }
    out
}
