use super::analyse::classify_for_tests as classify;
use super::*;

const ALERT: &str = "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='";

#[test]
fn hashes_match_known_values() {
    // printf '%s' 'alert(1)' | openssl dgst -sha256 -binary | base64
    assert_eq!(analyse::hash(b"alert(1)"), ALERT);
}

#[test]
fn the_policy_of_a_small_page_is_exact() {
    let page = analyse(
        b"<!doctype html><title>t</title><script>alert(1)</script>\
          <p style=\"color: red\" onclick='go(\"a&amp;b\")'>x</p>",
    );
    assert_eq!(
        page.outcome(METADATA_ROOM),
        Outcome::Strict(format!(
            "default-src 'self'; script-src 'self' {ALERT} 'unsafe-hashes' \
             'sha256-Ipa05pujtPBPuLVwDUiGadu6pbHL/wmDUkoUIMZlrXE='; style-src 'self' \
             'unsafe-hashes' 'sha256-NerDAUWfwD31YdZHveMrq0GLjsNFMwxLpZl0dPUeCcw='; \
             img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; \
             frame-ancestors 'none'"
        ))
    );
    assert!(weaknesses(page.outcome(METADATA_ROOM).policy().unwrap()).is_empty());
}

#[test]
fn a_page_without_inline_code_gets_the_fixed_default() {
    assert_eq!(build::policy(&analyse(b"<p>hi</p>")), BASE);
    assert_eq!(BASE, crate::config::DEFAULT_CSP);
    assert!(weaknesses(BASE).is_empty());
    assert_eq!(site_policy(None), (BASE.to_owned(), None));
}

#[test]
fn inline_text_is_hashed_raw_and_attributes_decoded() {
    // Entities stay as written inside <script>/<style>; CR LF is LF, as the browser's input stream.
    let page =
        analyse(b"<script>a\r\nb</script><style>body{color:red}</style><i style='color:&#32;red'>");
    assert_eq!(
        page.scripts.iter().collect::<Vec<_>>(),
        ["'sha256-fhj3NzEbLcOy8mndeDlrA1HxT7Zu+oefdoyyMYGIPHg='"]
    );
    assert_eq!(
        page.styles.iter().collect::<Vec<_>>(),
        ["'sha256-FcQqt3aNlV7AZnGV4zkQRVeCeJOxbMPnQSx258L803E='"]
    );
    assert_eq!(
        page.style_attributes.iter().collect::<Vec<_>>(),
        ["'sha256-NerDAUWfwD31YdZHveMrq0GLjsNFMwxLpZl0dPUeCcw='"]
    );
    // `</p>` inside a script is text, not a tag.
    let page = analyse(b"<script>x = '<p onclick=\"y\">';</script>");
    assert!(page.handlers.is_empty());
    assert_eq!(page.hash_count(), 1);
}

#[test]
fn data_and_external_scripts_are_not_hashed() {
    let page = analyse(
        b"<script type=application/json>{}</script>\
          <script type=\"application/ld+json\">{}</script><script type=text/template><b></script>\
          <script src=app.js>ignored()</script><script type=module>alert(1)</script>\
          <script type=importmap>{}</script>",
    );
    assert_eq!(page.scripts.len(), 2, "module and importmap: {page:?}");
    assert!(page.scripts.contains(ALERT));
    assert!(page.origins.is_empty());
}

#[test]
fn external_origins_go_to_their_directive() {
    let page = analyse(
        br#"<script src="https://cdn.example.com/a.js"></script>
        <script src="//CDN2.example.com:8443/b.js"></script>
        <script type="text/x-template" src="https://never.example/t"></script>
        <link rel="stylesheet" href="https://fonts.example.com/css?family=X">
        <link rel=preload as=font href="https://fonts.example.net/f.woff2" crossorigin>
        <link rel="icon" href="/favicon.ico"><link rel=modulepreload href=http://m.example/x.js>
        <img src="https://img.example/a.png" srcset="https://img2.example/a,b.png 2x, /local.png 3x">
        <img src="data:image/png;base64,AAAA">
        <iframe src="https://www.youtube-nocookie.com/embed/x"></iframe>
        <video poster=https://poster.example/p.jpg><source src=https://media.example/v.mp4></video>
        <form action="https://forms.example/post"><button formaction=/local>x</button></form>
        <style>@import "https://style.example/i.css"; @font-face{src:url(data:font/woff2;base64,AA)}
          body{background:url('https://bg.example/b.png')}</style>
        <a href="https://elsewhere.example/">links are not fetches</a>"#,
    );
    let get = |d: Directive| {
        page.origins
            .get(&d)
            .map(|s| s.iter().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
    };
    assert_eq!(
        get(Directive::Script),
        [
            "https://cdn.example.com",
            "https://cdn2.example.com:8443",
            "https://m.example"
        ]
    );
    assert_eq!(
        get(Directive::Style),
        ["https://fonts.example.com", "https://style.example"]
    );
    assert_eq!(get(Directive::Font), ["https://fonts.example.net"]);
    assert_eq!(
        get(Directive::Img),
        [
            "https://bg.example",
            "https://img.example",
            "https://img2.example",
            "https://poster.example"
        ]
    );
    assert_eq!(get(Directive::Frame), ["https://www.youtube-nocookie.com"]);
    assert_eq!(get(Directive::Media), ["https://media.example"]);
    assert_eq!(get(Directive::Form), ["https://forms.example"]);
    assert!(page.data_fonts);
    assert!(page.blocked.is_empty(), "{:?}", page.blocked);
    let policy = page.outcome(METADATA_ROOM).policy().unwrap().to_owned();
    assert!(
        policy.contains("; font-src 'self' data: https://fonts.example.net;"),
        "{policy}"
    );
    assert!(
        policy.contains("; form-action 'self' https://forms.example;"),
        "{policy}"
    );
    assert!(weaknesses(&policy).is_empty(), "{policy}");
}

#[test]
fn what_no_strict_policy_allows_is_listed() {
    let page = analyse(
        b"<a href=' JaVa\tScript:alert(1)'>x</a><object data=x.swf></object>\
          <script src='data:text/javascript,alert(1)'></script><base href='https://other.example/'>\
          <iframe src='ftp://files.example/'></iframe><script>alert(1)</script>",
    );
    let outcome = page.outcome(METADATA_ROOM);
    let Outcome::Partial { policy, blocked } = &outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(
        blocked,
        &[
            "`<base href>` to another origin (base-uri is 'self')",
            "`data:` URLs in script-src (`<script>`)",
            "`ftp:` in frame-src (`<iframe>`)",
            "`javascript:` URLs (`<a href>`)",
            "plugins (`<object>`; object-src is 'none')",
        ]
    );
    assert!(policy.contains(ALERT) && !policy.contains("data:text"));
    assert!(
        outcome
            .fallback_reason()
            .unwrap()
            .starts_with("no strict policy allows")
    );
}

#[test]
fn a_page_over_its_room_falls_back_to_the_site_wide_policy() {
    let scripts = (0..40)
        .map(|i| format!("<script>f({i})</script>"))
        .collect::<Vec<_>>()
        .concat();
    let page = analyse(scripts.as_bytes());
    assert_eq!(page.scripts.len(), 40);
    let outcome = page.outcome(METADATA_ROOM);
    assert!(
        matches!(outcome, Outcome::TooLong { room: METADATA_ROOM, length } if length > METADATA_ROOM),
        "{outcome:?}"
    );
    assert_eq!(outcome.policy(), None);
    // As the error page it does not fit the headers policy either: the base policy, with why.
    let (policy, reason) = site_policy(Some(&page));
    assert_eq!(policy, BASE);
    assert!(
        reason
            .unwrap()
            .contains("does not fit the headers policy's 1783")
    );
    // A small error page's hashes are in the site-wide policy.
    let small = analyse(b"<script>alert(1)</script>");
    assert!(site_policy(Some(&small)).0.contains(ALERT));
    assert_eq!(METADATA_ROOM, 1975);
}

#[test]
fn urls_are_classified_as_the_url_parser_reads_them() {
    for (url, want) in [
        ("/a.js", "Same"),
        ("a.js", "Same"),
        ("", "Same"),
        ("HTTPS://Ex.COM:443/x", "Origin(\"https://ex.com\")"),
        ("http://ex.com:80/", "Origin(\"https://ex.com\")"),
        ("http://ex.com:8080/", "Origin(\"https://ex.com:8080\")"),
        ("https://user:pw@ex.com/", "Origin(\"https://ex.com\")"),
        ("/\\ex.com/x", "Origin(\"https://ex.com\")"),
        ("\x01 java\nscript:x", "Javascript"),
        ("data:,x", "Data"),
        ("blob:https://ex.com/1", "Other(\"blob:\")"),
        ("https://ex*.com/", "Other(\"the host `ex*.com`\")"),
    ] {
        assert_eq!(classify(url), want, "{url}");
    }
}

#[test]
fn weak_policies_are_named() {
    assert_eq!(
        weaknesses("default-src 'self' 'unsafe-inline' https:; img-src *"),
        [
            "'unsafe-inline' in script-src",
            "`https:` in default-src",
            "`*` in img-src",
            "object-src is not 'none'",
            "base-uri is not 'self' or 'none'",
            "frame-ancestors is not 'none' or 'self'",
            "no form-action: forms may post anywhere",
        ]
    );
    assert_eq!(
        weaknesses(
            "default-src 'none'; script-src https://*.example.com; base-uri 'none'; frame-ancestors 'self'; form-action 'self'"
        ),
        ["the wildcard `https://*.example.com` in script-src"]
    );
}

/// Every HTML file under `dir`, recursively.
fn html_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            html_files(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"))
        {
            out.push(path);
        }
    }
}

/// Every example page gets a strict policy of its own (`SITEWARDEN_EXAMPLES` names another
/// folder of sites to measure); the totals are printed for `--nocapture`.
#[test]
fn every_example_page_gets_a_strict_policy() {
    let root = std::env::var_os("SITEWARDEN_EXAMPLES").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"),
        std::path::PathBuf::from,
    );
    let mut files = Vec::new();
    html_files(&root, &mut files);
    assert!(!files.is_empty(), "no pages under {}", root.display());
    let mut hashes = std::collections::BTreeSet::new();
    let mut fallbacks = Vec::new();
    for file in &files {
        let page = analyse(&std::fs::read(file).unwrap());
        hashes.extend(page.hashes().cloned());
        match page.outcome(METADATA_ROOM) {
            Outcome::Strict(policy) => assert!(weaknesses(&policy).is_empty(), "{policy}"),
            other => fallbacks.push(format!("{}: {other:?}", file.display())),
        }
    }
    eprintln!(
        "{} pages, {} distinct inline hashes, {} on a fallback",
        files.len(),
        hashes.len(),
        fallbacks.len()
    );
    if std::env::var_os("SITEWARDEN_EXAMPLES").is_none() {
        assert_eq!(fallbacks, Vec::<String>::new());
    } else {
        eprintln!("{fallbacks:#?}");
    }
}
