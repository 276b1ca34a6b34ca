//! The rendered function runs in the embedded engine ([`crate::edge::Function`]) with sample
//! viewer requests: the JavaScript is tested as CloudFront would run it, not only as text.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Value, json};

use super::*;
use crate::edge::{Fields, Function, Outcome, Request};

const SITE: &str = r#"
[site]
name = "docs"
source = "dist"
domain = "example.com"
aliases = ["www.example.com"]

[[redirects]]
from = "/old"
to = "/new"
status = 302

[[redirects]]
from = "/blog/*"
to = "/posts/:splat"

[[redirects]]
from = "/blog/archive/*"
to = "https://archive.example.org/:splat"
status = 308
"#;

fn config(text: &str) -> Config {
    Config::parse(text, Path::new("sitewarden.toml")).unwrap()
}

/// A GET for `uri` exactly as given (a `?` in it is part of the path) with the raw `query`.
fn event(host: &str, uri: &str, query: &str) -> Request {
    let mut request = Request::get(host, "/");
    uri.clone_into(&mut request.uri);
    request.querystring = Fields::from_query(query);
    request
}

/// Runs the rendered function on each request: what it returned, as the function returned it.
fn run(config: &Config, events: &[Request]) -> Vec<Value> {
    let function = Function::load(&render(config).unwrap()).unwrap();
    events
        .iter()
        .map(|request| function.viewer_request(request).unwrap().to_json())
        .collect()
}

fn location(response: &Value) -> (u64, &str) {
    (
        response["statusCode"].as_u64().unwrap(),
        response["headers"]["location"]["value"].as_str().unwrap(),
    )
}

#[test]
fn directory_indexes_and_assets() {
    let none = "";
    let out = run(
        &config(SITE),
        &[
            event("example.com", "/docs/", none),
            event("example.com", "/docs", none),
            event("example.com", "/a.css", none),
            event("example.com", "/", none),
            event("example.com", "/docs", "page=2"),
            event(
                "example.com",
                "/.well-known/apple-app-site-association",
                none,
            ),
        ],
    );
    assert_eq!(out[0]["uri"], "/docs/index.html");
    assert_eq!(location(&out[1]), (301, "/docs/"));
    assert_eq!(out[1]["statusDescription"], "Moved Permanently");
    assert_eq!(out[2]["uri"], "/a.css");
    assert!(out[2].get("statusCode").is_none());
    assert_eq!(out[3]["uri"], "/index.html");
    assert_eq!(location(&out[4]), (301, "/docs/?page=2"));
    // Extensionless by standard: served as the file it is.
    assert_eq!(out[5]["uri"], "/.well-known/apple-app-site-association");
    assert!(out[5].get("statusCode").is_none());
}

#[test]
fn configured_redirects_exact_and_splat_keep_the_query() {
    let none = "";
    let multi = "a=1&a=2&b";
    let out = run(
        &config(SITE),
        &[
            event("example.com", "/old", none),
            event("example.com", "/blog/2024/post.html", "x=y%20z"),
            event("example.com", "/blog/archive/2019/", none),
            event("example.com", "/constructor", none),
            event("example.com", "/old", multi),
        ],
    );
    assert_eq!(location(&out[0]), (302, "/new"));
    assert_eq!(location(&out[1]), (301, "/posts/2024/post.html?x=y%20z"));
    // The longer prefix wins although it is listed after `/blog/*`.
    assert_eq!(
        location(&out[2]),
        (308, "https://archive.example.org/2019/")
    );
    assert_eq!(location(&out[3]), (301, "/constructor/"));
    assert_eq!(location(&out[4]), (302, "/new?a=1&a=2&b"));
}

#[test]
fn www_redirects_to_the_apex() {
    let out = run(
        &config(SITE),
        &[
            event("www.example.com", "/docs/", "q=1"),
            event("WWW.Example.com", "/", ""),
            event("example.com", "/x.txt", ""),
        ],
    );
    assert_eq!(location(&out[0]), (301, "https://example.com/docs/?q=1"));
    assert_eq!(location(&out[1]), (301, "https://example.com/"));
    assert_eq!(out[2]["uri"], "/x.txt");
}

#[test]
fn spa_fallback_keeps_extensionless_routes() {
    let spa = config(
        "[site]\nname = \"app\"\nsource = \"dist\"\n[deploy]\nspa_fallback = \"/index.html\"\n",
    );
    let out = run(&spa, &[event("d1.cloudfront.net", "/users/42", "")]);
    assert_eq!(out[0]["uri"], "/users/42");
}

#[test]
fn settings_are_embedded_as_json() {
    assert_eq!(
        TEMPLATE.matches(PLACEHOLDER).count(),
        1,
        "the placeholder appears once, as code"
    );
    let code = render(&config(SITE)).unwrap();
    assert!(!code.contains(PLACEHOLDER));
    assert!(code.contains(r#""wwwHosts":["www.example.com"]"#), "{code}");
    assert!(
        code.contains(r#""/old":{"status":302,"to":"/new"}"#),
        "{code}"
    );
    assert_eq!(
        summary(&config(SITE)),
        "directory indexes, 3 redirect(s), www → apex"
    );
}

#[test]
fn too_many_redirects_are_refused_with_a_hint() {
    let mut text = "[site]\nname = \"big\"\nsource = \"dist\"\n".to_owned();
    for i in 0..400 {
        write!(
            text,
            "[[redirects]]\nfrom = \"/old/page-{i}\"\nto = \"/new/page-{i}\"\n"
        )
        .unwrap();
    }
    let err = render(&config(&text)).unwrap_err();
    assert!(
        err.to_string().contains("over CloudFront's limit of 10240"),
        "{err}"
    );
    assert!(err.hint().unwrap().contains(":splat"));
}

#[test]
fn the_query_joins_a_target_query_and_goes_before_its_fragment() {
    let site = config(
        "[site]\nname = \"docs\"\nsource = \"dist\"\n\
         [[redirects]]\nfrom = \"/search\"\nto = \"/find?src=old\"\n\
         [[redirects]]\nfrom = \"/page\"\nto = \"/new#section\"\n\
         [[redirects]]\nfrom = \"/both\"\nto = \"https://example.org/x?y=1#z\"\n\
         [[redirects]]\nfrom = \"/open\"\nto = \"/x?\"\n\
         [[redirects]]\nfrom = \"/hash-first\"\nto = \"/x#a?b\"\n",
    );
    let q = "q=1";
    let out = run(
        &site,
        &[
            event("d1.cloudfront.net", "/search", q),
            event("d1.cloudfront.net", "/page", q),
            event("d1.cloudfront.net", "/both", q),
            event("d1.cloudfront.net", "/open", q),
            event("d1.cloudfront.net", "/hash-first", q),
            event("d1.cloudfront.net", "/both", ""),
        ],
    );
    assert_eq!(location(&out[0]).1, "/find?src=old&q=1");
    assert_eq!(location(&out[1]).1, "/new?q=1#section");
    assert_eq!(location(&out[2]).1, "https://example.org/x?y=1&q=1#z");
    assert_eq!(location(&out[3]).1, "/x?q=1");
    // The `?` after the `#` is part of the fragment.
    assert_eq!(location(&out[4]).1, "/x?q=1#a?b");
    assert_eq!(location(&out[5]).1, "https://example.org/x?y=1#z");
}

#[test]
fn a_non_ascii_from_matches_the_percent_encoded_path_browsers_send() {
    // `/café` written decomposed (e + combining acute), as some editors save it.
    let site = config(
        "[site]\nname = \"docs\"\nsource = \"dist\"\n\
         [[redirects]]\nfrom = \"/cafe\u{301}\"\nto = \"/menu\"\n\
         [[redirects]]\nfrom = \"/文档/*\"\nto = \"/docs/:splat\"\n\
         [[redirects]]\nfrom = \"/price\"\nto = \"/tarifs/été 2024\"\n",
    );
    let none = "";
    let out = run(
        &site,
        &[
            event("d1.cloudfront.net", "/caf%C3%A9", none),
            // Not what browsers send, but the same path.
            event("d1.cloudfront.net", "/caf%c3%a9", none),
            event("d1.cloudfront.net", "/café", none),
            event("d1.cloudfront.net", "/caf%C3%A9s", none),
            event(
                "d1.cloudfront.net",
                "/%E6%96%87%E6%A1%A3/guide/%e2%82%ac",
                none,
            ),
            event("d1.cloudfront.net", "/price", none),
            // Raw from a client other than a browser: encoded whole, as a browser would.
            event("d1.cloudfront.net", "/\u{1F600} x", none),
        ],
    );
    assert_eq!(location(&out[0]), (301, "/menu"));
    assert_eq!(location(&out[1]), (301, "/menu"));
    assert_eq!(location(&out[2]), (301, "/menu"));
    assert_eq!(location(&out[3]), (301, "/caf%C3%A9s/"));
    assert_eq!(location(&out[4]), (301, "/docs/guide/%E2%82%AC"));
    assert_eq!(location(&out[5]), (301, "/tarifs/%C3%A9t%C3%A9%202024"));
    assert_eq!(location(&out[6]), (301, "/%F0%9F%98%80%20x/"));
    let code = render(&site).unwrap();
    assert!(code.contains(r#""/caf%C3%A9":{"#), "{code}");
    assert!(code.contains(r#""from":"/%E6%96%87%E6%A1%A3/""#), "{code}");
}

#[test]
fn a_splat_or_a_path_cannot_make_a_location_that_names_another_host() {
    let site = config(
        "[site]\nname = \"docs\"\nsource = \"dist\"\n\
         [[redirects]]\nfrom = \"/go/*\"\nto = \"/:splat\"\n\
         [[redirects]]\nfrom = \"/docs/*\"\nto = \"/:splat/index\"\n",
    );
    let none = "";
    let uris = [
        "/go//evil.com",
        "/go/\\evil.com",
        "/go/\\/\\evil.com",
        "/go/%2F%2Fevil.com",
        "/go/a",
        "/go/",
        "/docs//evil.com",
        "//3627734734",
        "//evil%2Eexample",
        "/\t/evil",
        "/go/\n/evil",
    ];
    let events: Vec<Request> = uris
        .iter()
        .map(|uri| event("d1.cloudfront.net", uri, none))
        .collect();
    let out = run(&site, &events);
    let locations: Vec<&str> = out.iter().map(|o| location(o).1).collect();
    assert_eq!(
        locations,
        [
            "/evil.com",
            "/evil.com",
            "/evil.com",
            "/%2F%2Fevil.com",
            "/a",
            "/",
            "/evil.com/index",
            "/3627734734/",
            "/evil%2Eexample/",
            "/%09/evil/",
            "/%0A/evil",
        ]
    );
}

/// The queries each corpus path is sent with.
const CORPUS_QUERIES: [&str; 3] = ["", "q=1", "next=//evil.com&next=@evil.com"];

/// The corpus's paths. A lone surrogate is valid in a JSON string but no request can carry it
/// (a request is UTF-8): such lines are left out, and counted.
fn corpus_paths(corpus: &Path) -> (Vec<String>, usize) {
    let text = std::fs::read_to_string(corpus).unwrap();
    let mut paths = Vec::new();
    let mut unsendable = 0;
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        match serde_json::from_str(line) {
            Ok(path) => paths.push(path),
            Err(_) if lone_surrogate_escape(line) => unsendable += 1,
            Err(e) => panic!("{line}: {e}"),
        }
    }
    (paths, unsendable)
}

/// Whether a JSON line has a `\uD800`-`\uDFFF` escape (serde refuses the lone ones).
fn lone_surrogate_escape(line: &str) -> bool {
    line.to_ascii_lowercase()
        .match_indices("\\ud")
        .any(|(i, _)| line[i + 3..].starts_with(|c: char| "89abcdefABCDEF".contains(c)))
}

/// Runs every path of the hostile corpus, with and without a query, on every host of the site,
/// and resolves each Location as a browser does (WHATWG URL parsing, `new URL(location, base)`).
fn run_corpus(config: &Config, paths: &[String], hosts: &[&str], allowed: &[&str]) -> Value {
    let function = Function::load(&render(config).unwrap()).unwrap();
    let mut failures = Vec::new();
    let mut events = 0;
    let mut redirects = 0;
    for host in hosts {
        for uri in paths {
            for query in CORPUS_QUERIES {
                events += 1;
                let response = match function.viewer_request(&event(host, uri, query)) {
                    Ok(Outcome::Forward(_)) => continue,
                    Ok(Outcome::Respond(response)) => response,
                    Err(e) => {
                        failures.push(json!({ "host": host, "uri": uri, "error": e.to_string() }));
                        continue;
                    }
                };
                redirects += 1;
                let location = response.headers.get("location").unwrap_or_default();
                // The page the browser asked for: this host, whatever the path says.
                let mut base = url::Url::parse(&format!("https://{host}/")).unwrap();
                base.set_path(uri);
                let url = match base.join(location) {
                    Ok(url) => url,
                    Err(e) => {
                        failures.push(json!({ "host": host, "uri": uri, "location": location, "error": e.to_string() }));
                        continue;
                    }
                };
                let resolved_host = &url[url::Position::BeforeHost..url::Position::AfterPort];
                if !location.bytes().all(|b| (0x21..=0x7e).contains(&b))
                    || !["http", "https"].contains(&url.scheme())
                    || !allowed.contains(&resolved_host)
                {
                    failures.push(json!({ "host": host, "uri": uri, "location": location, "resolved": url.as_str() }));
                }
            }
        }
    }
    let failures: Vec<String> = failures.iter().map(Value::to_string).collect();
    json!({ "paths": paths.len(), "events": events, "redirects": redirects, "failures": failures })
}

const HOSTILE_REDIRECTS: &str = r#"
[[redirects]]
from = "/old"
to = "/new"

[[redirects]]
from = "/café"
to = "/menu?lang=fr#top"

[[redirects]]
from = "/away"
to = "https://archive.example.org/"

[[redirects]]
from = "/go/*"
to = "/:splat"

[[redirects]]
from = "/blog/*"
to = "/posts/:splat"

[[redirects]]
from = "/blog/archive/*"
to = "https://archive.example.org/:splat"

[[redirects]]
from = "/docs/*"
to = "/:splat/index"

[[redirects]]
from = "/ext/*"
to = "https://archive.example.org/search?q=:splat"
"#;

#[test]
fn no_hostile_path_redirects_to_a_host_the_config_does_not_name() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/hostile-paths.txt");
    let (paths, unsendable) = corpus_paths(&corpus);
    assert_eq!(unsendable, 3, "the lone-surrogate lines left out");
    let domain = "[site]\nname = \"docs\"\nsource = \"dist\"\ndomain = \"example.com\"\n\
                  aliases = [\"www.example.com\"]\n";
    let domainless = "[site]\nname = \"docs\"\nsource = \"dist\"\n";
    let spa = "[deploy]\nspa_fallback = \"/index.html\"\n";
    let site_hosts = ["example.com", "www.example.com", "WWW.Example.com"];
    let site_allowed = ["example.com", "www.example.com", "archive.example.org"];
    let cloudfront = ["d111111abcdef8.cloudfront.net"];
    let cloudfront_allowed = ["d111111abcdef8.cloudfront.net", "archive.example.org"];
    let cases = [
        (
            format!("{domain}{HOSTILE_REDIRECTS}"),
            &site_hosts[..],
            &site_allowed[..],
        ),
        (
            format!("{domain}{spa}{HOSTILE_REDIRECTS}"),
            &site_hosts[..],
            &site_allowed[..],
        ),
        (
            format!("{domainless}{HOSTILE_REDIRECTS}"),
            &cloudfront[..],
            &cloudfront_allowed[..],
        ),
        (
            format!("{domainless}{spa}{HOSTILE_REDIRECTS}"),
            &cloudfront[..],
            &cloudfront_allowed[..],
        ),
        // Everything elsewhere, as a website's redirect-all becomes.
        (
            format!(
                "{domainless}[[redirects]]\nfrom = \"/*\"\nto = \"https://archive.example.org/:splat\"\n"
            ),
            &cloudfront[..],
            &cloudfront_allowed[..],
        ),
    ];
    let mut report = String::new();
    for (text, hosts, allowed) in cases {
        let out = run_corpus(&config(&text), &paths, hosts, allowed);
        assert!(out["paths"].as_u64().unwrap() >= 300, "{}", out["paths"]);
        assert!(out["redirects"].as_u64().unwrap() >= 1000, "{out}");
        let failures = out["failures"].as_array().unwrap();
        if !failures.is_empty() {
            let shown: Vec<&str> = failures.iter().take(10).filter_map(Value::as_str).collect();
            writeln!(
                report,
                "{} of {} requests redirect off the site for\n{text}\nfor instance:\n{}\n",
                failures.len(),
                out["events"],
                shown.join("\n")
            )
            .unwrap();
        }
    }
    assert!(report.is_empty(), "{report}");
}

#[test]
fn the_code_leaves_the_comments_in_the_template() {
    let code = render(&config(SITE)).unwrap();
    let comments: Vec<&str> = code
        .lines()
        .filter(|l| l.trim_start().starts_with("//"))
        .collect();
    assert_eq!(
        comments,
        [
            "// sitewarden viewer-request function (CloudFront Functions, runtime cloudfront-js-2.0)."
        ]
    );
    // The bytes left under CloudFront's limit are the room for redirects.
    let bare = render(&config("[site]\nname = \"docs\"\nsource = \"dist\"\n")).unwrap();
    assert!(bare.len() < 3500, "{} bytes:\n{bare}", bare.len());
}

#[test]
fn the_viewer_response_function_loads_and_fits() {
    let code = render_csp();
    assert!(code.starts_with("// sitewarden viewer-response function"));
    assert_eq!(
        code.lines()
            .filter(|l| l.trim_start().starts_with("//"))
            .count(),
        1
    );
    assert!(code.contains("x-amz-meta-csp") && code.contains("content-security-policy"));
    assert!(code.len() < 1024, "{} bytes", code.len());
    let function = Function::load(&code).unwrap();
    let response = |metadata: Option<&str>| {
        let mut headers = Fields::default();
        headers.add("content-type", "text/html; charset=utf-8");
        if let Some(policy) = metadata {
            headers.add("x-amz-meta-csp", policy);
        }
        crate::edge::Response {
            status: 200,
            status_description: Some("OK".into()),
            headers,
        }
    };
    let page = "default-src 'self'; script-src 'self' 'sha256-x'";
    let out = function
        .viewer_response(&Request::get("h", "/a/"), &response(Some(page)))
        .unwrap();
    assert_eq!(out.headers.get("content-security-policy"), Some(page));
    assert_eq!(
        out.headers.get("x-amz-meta-csp"),
        None,
        "metadata not passed on"
    );
    assert_eq!(
        out.headers.get("content-type"),
        Some("text/html; charset=utf-8")
    );
    // Without metadata (an asset, or a page on the fallback), the headers policy's policy applies.
    let out = function
        .viewer_response(&Request::get("h", "/app.js"), &response(None))
        .unwrap();
    assert_eq!(out.headers.get("content-security-policy"), None);
    assert_eq!(out.status, 200);
}
