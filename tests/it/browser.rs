//! Pages in a real browser: headless Chromium ([`cdp`]) loads the example sites and reports CSP
//! violations, console errors, exceptions and failed requests.
//!
//! The harness tests serve a folder with a chosen policy from a server of their own ([`serve`]),
//! to show that the harness sees what a browser refuses; the preview tests load every page of every
//! example through `sitewarden preview`.

mod cdp;
mod serve;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use sha2::{Digest as _, Sha256};

use self::cdp::chromium;
use self::serve::serve;

/// The example sites built from a generator (or by hand) and the folder each publishes.
const EXAMPLES: [(&str, &str); 4] = [
    ("handwritten", "site"),
    ("mdbook", "book"),
    ("sphinx", "html"),
    ("hugo", "public"),
];

fn example(name: &str) -> PathBuf {
    let (_, source) = EXAMPLES
        .iter()
        .find(|(n, _)| *n == name)
        .expect("a known example");
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
        .join(source)
}

/// The `'sha256-…'` source a CSP needs to allow this inline script.
fn script_hash(script: &str) -> String {
    let digest = Sha256::digest(script.as_bytes());
    format!("'sha256-{}'", aws_smithy_types::base64::encode(digest))
}

/// The text of the first inline `<script>` of an HTML file.
fn first_inline_script(html: &str) -> &str {
    let start = html.find("<script>").expect("an inline <script>") + "<script>".len();
    let end = start + html[start..].find("</script>").expect("</script>");
    &html[start..end]
}

#[test]
fn a_strict_csp_reports_the_inline_script_and_handler_it_blocks() {
    let site = example("handwritten");
    let server = serve(&site, "script-src 'self'");
    let mut page = chromium().page();

    let report = page.load(&format!("{}/", server.url));
    assert!(report.loaded, "{report:#?}");
    let html = std::fs::read_to_string(site.join("index.html")).unwrap();
    let hash = script_hash(first_inline_script(&html));
    let violations = report.violations();
    assert!(
        violations
            .iter()
            .any(|v| v.contains("inline script") && v.contains(&hash)),
        "no violation names the inline script ({hash}): {report:#?}"
    );
    // The blocked script did not run.
    assert_eq!(
        page.eval("document.getElementById('year').textContent"),
        "year"
    );

    page.eval("document.getElementById('greet').click()");
    let clicked = page.settle();
    // Chromium reports a blocked handler when the click dispatches it, or (newer releases) already
    // when the parser meets the attribute: either way once, and the handler never runs.
    assert!(
        violations
            .iter()
            .chain(clicked.violations().iter())
            .any(|v| v.contains("inline event handler")),
        "the blocked onclick is not reported: {report:#?} {clicked:#?}"
    );
    assert_eq!(
        page.eval("document.getElementById('out').textContent"),
        "not clicked"
    );
}

#[test]
fn a_permissive_csp_reports_nothing_and_the_handlers_run() {
    let csp =
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'";
    let server = serve(&example("handwritten"), csp);
    let mut page = chromium().page();

    let report = page.load(&format!("{}/", server.url));
    report.assert_clean();
    let document = report.document.as_ref().expect("the document's response");
    assert_eq!(document.status, 200);
    assert_eq!(
        document
            .headers
            .get("content-security-policy")
            .map(String::as_str),
        Some(csp)
    );
    let year = page.eval("document.getElementById('year').textContent");
    assert!(
        year.as_str().is_some_and(|y| y.starts_with("Built ")),
        "{year}"
    );

    page.eval("document.getElementById('greet').click()");
    page.settle().assert_clean();
    assert_eq!(
        page.eval("document.getElementById('out').textContent"),
        "clicked"
    );

    // The folder page (reached through the redirect `dir` → `dir/`) and the 404 page, in the same
    // tab.
    let folder = page.load(&format!("{}/dir", server.url));
    folder.assert_clean();
    assert_eq!(page.eval("document.title"), "A folder page");
    let redirects: Vec<_> = folder
        .redirects
        .iter()
        .map(|r| (r.status, r.location.as_str()))
        .collect();
    assert_eq!(redirects, [(301, "/dir/")]);
    let document = folder
        .document
        .as_ref()
        .expect("the folder page's response");
    assert_eq!(
        (document.status, document.url.as_str()),
        (200, format!("{}/dir/", server.url).as_str())
    );
    let missing = page.load(&format!("{}/no/such/page", server.url));
    assert_eq!(missing.document.as_ref().map(|d| d.status), Some(404));
    assert_eq!(page.eval("document.title"), "Not found");
}

#[test]
fn a_script_error_and_console_errors_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("index.html"),
        "<!doctype html><title>broken</title>\
         <script>console.error('logged on purpose'); undefinedFunction();</script>\
         <img src=\"/missing.png\" alt=\"\">",
    )
    .unwrap();
    let server = serve(dir.path(), "");
    let mut page = chromium().page();

    let report = page.load(&format!("{}/", server.url));
    assert!(report.loaded, "{report:#?}");
    assert!(report.violations().is_empty(), "{report:#?}");
    let errors = report.errors();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("undefinedFunction is not defined")),
        "the exception is not reported: {report:#?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("logged on purpose")),
        "console.error is not reported: {report:#?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("404")),
        "the missing image is not reported: {report:#?}"
    );
}

/// A policy every example satisfies: its own origin plus inline code and `data:` images.
const PERMISSIVE: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; \
                          style-src 'self' 'unsafe-inline'; img-src 'self' data:";

/// The examples themselves are sound, whatever the policy: under [`PERMISSIVE`] every page loads
/// with no error and no failed request (and the harness finds the same pages the preview tests
/// load).
#[test]
fn every_example_page_is_clean_under_a_permissive_policy() {
    let mut page = chromium().page();
    for (name, _) in EXAMPLES {
        let root = example(name);
        let server = serve(&root, PERMISSIVE);
        let pages = pages(&root);
        assert!(pages.len() >= 3, "{name}: {pages:?}");
        for (_, path) in pages {
            page.load(&format!("{}{path}", server.url)).assert_clean();
        }
    }
}

/// The generators' search pages find what the books say, from their checked-in index.
#[test]
fn the_sphinx_and_mdbook_searches_find_a_page() {
    let mut page = chromium().page();
    let sphinx = serve(&example("sphinx"), PERMISSIVE);
    page.load(&format!("{}/search.html?q=installation", sphinx.url))
        .assert_clean();
    let found =
        page.eval("[...document.querySelectorAll('#search-results li a')].map(a => a.textContent)");
    assert!(
        found
            .as_array()
            .is_some_and(|a| a.contains(&"Installation".into())),
        "sphinx search: {found}"
    );

    let mdbook = serve(&example("mdbook"), PERMISSIVE);
    page.load(&format!("{}/?search=headers", mdbook.url))
        .assert_clean();
    let found = page.eval(
        "[...document.querySelectorAll('#mdbook-searchresults li a')].map(a => a.textContent)",
    );
    assert!(
        found.as_array().is_some_and(|a| a
            .iter()
            .any(|t| t.as_str().is_some_and(|t| t.contains("Headers")))),
        "mdbook search: {found}"
    );
}

/// Every HTML page of a site folder and its URL path: `x/index.html` is `/x/`.
fn pages(root: &Path) -> Vec<(PathBuf, String)> {
    let mut pages = Vec::new();
    let mut folders = vec![root.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "html") {
                let relative = path.strip_prefix(root).unwrap().to_string_lossy();
                let url = match relative.strip_suffix("index.html") {
                    Some(folder) if folder.is_empty() || folder.ends_with('/') => {
                        format!("/{folder}")
                    }
                    _ => format!("/{relative}"),
                };
                pages.push((path, url));
            }
        }
    }
    pages.sort();
    pages
}

/// `sitewarden preview --port 0` of one example (local, or `--remote` against the emulator after
/// `up`); killed on drop.
struct Preview {
    url: String,
    child: Child,
}

impl Preview {
    fn start(example: &str) -> Preview {
        Preview::spawn(example, &[])
    }

    /// `up` of the example to the emulator, then `preview --remote`: what visitors get.
    fn remote(example: &str) -> Preview {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(example);
        crate::support::Run::new(&dir).arg("up").run();
        let endpoint = crate::support::emulator().endpoint.clone();
        Preview::spawn(
            example,
            &["--endpoint-url", &endpoint, "preview", "--remote"],
        )
    }

    fn spawn(example: &str, args: &[&str]) -> Preview {
        let config = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(example)
            .join("sitewarden.toml");
        let args: Vec<&str> = if args.is_empty() {
            vec!["preview"]
        } else {
            args.to_vec()
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_sitewarden"))
            .arg("-c")
            .arg(&config)
            .args(args)
            .args(["--port", "0"])
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_CONFIG_FILE", "/nonexistent/sitewarden-test")
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/sitewarden-test",
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sitewarden preview");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("preview stdout"))
            .read_line(&mut first)
            .expect("read the preview's first line");
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in the preview's first line: {first:?}"))
            .trim_end_matches('/')
            .to_owned();
        Preview { url, child }
    }
}

impl Drop for Preview {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A policy as strict as the visitor's view asks: no `'unsafe-inline'` in `script-src`, no `*`
/// and no scheme-only source (but `data:` for images and fonts), and `object-src 'none'`,
/// `base-uri 'self'`, `frame-ancestors 'none'`, `form-action 'self'`.
fn assert_strict(csp: &str, page: &str) {
    let directives: std::collections::BTreeMap<&str, Vec<&str>> = csp
        .split(';')
        .filter_map(|d| {
            let mut words = d.split_whitespace();
            Some((words.next()?, words.collect()))
        })
        .collect();
    let script = directives
        .get("script-src")
        .or_else(|| directives.get("default-src"))
        .unwrap_or_else(|| panic!("{page}: no script-src: {csp}"));
    assert!(!script.contains(&"'unsafe-inline'"), "{page}: {csp}");
    for (name, sources) in &directives {
        for source in sources {
            let scheme_only = source.ends_with(':') && !source.starts_with('\'');
            let allowed_scheme = *source == "data:" && matches!(*name, "img-src" | "font-src");
            assert!(
                *source != "*" && (!scheme_only || allowed_scheme),
                "{page}: {name} {source}: {csp}"
            );
        }
    }
    for (name, value) in [
        ("object-src", "'none'"),
        ("base-uri", "'self'"),
        ("frame-ancestors", "'none'"),
        ("form-action", "'self'"),
    ] {
        assert_eq!(
            directives.get(name),
            Some(&vec![value]),
            "{page}: {name}: {csp}"
        );
    }
}

/// Loads every page of `example` through `preview`: each runs its handlers (fired once) with no
/// violation and no error, under a strict policy, with the security headers; then the 404 page.
fn every_page_is_clean(example: &str, preview: &Preview) {
    let mut page = chromium().page();
    let pages = pages(&self::example(example));
    assert!(!pages.is_empty());
    for (_, path) in pages {
        let mut report = page.load(&format!("{}{path}", preview.url));
        page.eval(FIRE_HANDLERS);
        let fired = page.settle();
        report.log.extend(fired.log);
        report.console.extend(fired.console);
        report.exceptions.extend(fired.exceptions);
        report.failed.extend(fired.failed);
        report.assert_clean();
        let document = report.document.as_ref().expect("the document's response");
        let header = |name: &str| document.headers.get(name).map(String::as_str);
        assert_strict(header("content-security-policy").unwrap_or_default(), &path);
        assert_eq!(header("x-content-type-options"), Some("nosniff"), "{path}");
        assert_eq!(header("x-frame-options"), Some("DENY"), "{path}");
        assert!(
            header("strict-transport-security").is_some_and(|h| h.starts_with("max-age=")),
            "{path}"
        );
        assert_eq!(
            header("referrer-policy"),
            Some("strict-origin-when-cross-origin"),
            "{path}"
        );
        assert!(
            !document
                .headers
                .keys()
                .any(|h| h.starts_with("x-amz-meta-csp")),
            "{path}: {:?}",
            document.headers
        );
    }
    // The error page: no viewer-response function runs for it (the origin answered 403), so
    // the headers policy's site-wide policy must cover it. Its own 404 is the one error.
    let url = format!("{}/no/such/page.html", preview.url);
    let missing = page.load(&url);
    let document = missing.document.as_ref().expect("the error response");
    if !self::example(example).join("404.html").exists() {
        // No error page: S3's AccessDenied XML passes through (shown by the browser's own
        // viewer, whose inline styles are not the site's).
        assert_eq!(document.status, 403, "{missing:#?}");
        return;
    }
    assert_eq!(document.status, 404, "{missing:#?}");
    assert_eq!(missing.violations(), Vec::<&str>::new(), "{missing:#?}");
    let errors: Vec<&str> = missing
        .errors()
        .into_iter()
        .filter(|e| !e.contains(&format!("status of {} ", document.status)) || !e.contains(&url))
        .collect();
    assert_eq!(errors, Vec::<&str>::new(), "{missing:#?}");
}

#[test]
fn every_handwritten_page_is_clean_in_preview() {
    let preview = Preview::start("handwritten");
    every_page_is_clean("handwritten", &preview);
    // As configured: a folder gets its index page, `/old/*` redirects to `/dir/`.
    let mut page = chromium().page();
    let report = page.load(&format!("{}/dir", preview.url));
    assert_eq!(
        report.redirects.first().map(|r| r.status),
        Some(301),
        "{report:#?}"
    );
    let landed = report.document.as_ref().map(|d| d.url.as_str());
    assert!(landed.is_some_and(|u| u.ends_with("/dir/")), "{report:#?}");
    let report = page.load(&format!("{}/old/x", preview.url));
    assert_eq!(
        report
            .redirects
            .first()
            .map(|r| (r.status, r.location.as_str())),
        Some((301, "/dir/x")),
        "{report:#?}"
    );
}

#[test]
fn every_mdbook_page_is_clean_in_preview() {
    every_page_is_clean("mdbook", &Preview::start("mdbook"));
}

#[test]
fn every_sphinx_page_is_clean_in_preview() {
    every_page_is_clean("sphinx", &Preview::start("sphinx"));
}

#[test]
fn every_hugo_page_is_clean_in_preview() {
    every_page_is_clean("hugo", &Preview::start("hugo"));
}

/// The same pages as deployed: `up` to the emulator, then `preview --remote` serves the live
/// distribution (its functions, headers policy, error pages) and the bucket's objects.
#[test]
fn every_example_page_is_clean_as_deployed() {
    for (name, _) in EXAMPLES {
        every_page_is_clean(name, &Preview::remote(name));
    }
}

/// Dispatches, on every element, the event of each of its `on…` attributes, except a handler that
/// leaves the page (`history.`, `location`): the page would be gone before it is looked at.
const FIRE_HANDLERS: &str = "for (const e of document.querySelectorAll('*')) \
    for (const a of e.getAttributeNames()) \
        if (a.startsWith('on') && !/history\\.|location/.test(e.getAttribute(a))) \
            e.dispatchEvent(new Event(a.slice(2)))";

/// The "before" numbers: the violations today's fixed default CSP causes on every example page.
#[test]
#[ignore = "a survey, not a check: run with --ignored --nocapture to print the table"]
fn survey_the_default_csp_on_every_example_page() {
    let mut page = chromium().page();
    for (name, _) in EXAMPLES {
        let root = example(name);
        let server = serve(&root, sitewarden::config::DEFAULT_CSP);
        for (_, path) in pages(&root) {
            let mut report = page.load(&format!("{}{path}", server.url));
            // Inline handlers are checked when they fire: fire each once (blocked, they do nothing).
            page.eval(FIRE_HANDLERS);
            let fired = page.settle();
            report.log.extend(fired.log);
            let violations = report.violations();
            let count = |what: &str| violations.iter().filter(|v| v.contains(what)).count();
            println!(
                "{name:<12} {path:<28} violations {:>2} (script {}, handler {}, style {})  \
                 errors {}  {} ms",
                violations.len(),
                count("inline script"),
                count("inline event handler"),
                count("inline style"),
                report.errors().len(),
                report.elapsed.as_millis()
            );
            for error in report.errors() {
                println!("    {error}");
            }
        }
    }
}
