//! The rendered function runs under `node` with sample viewer-request events: the JavaScript is
//! tested as CloudFront would run it, not only as text. Without `node` these tests fail unless
//! `SITEWARDEN_SKIP_NODE=1` says to skip them.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use super::*;

/// Loads the function file into a fresh context and prints `handler(event)` for each event.
const HARNESS: &str = r"
const fs = require('fs');
const vm = require('vm');
const context = {};
vm.createContext(context);
vm.runInContext(fs.readFileSync(process.argv[1], 'utf8'), context);
const events = JSON.parse(fs.readFileSync(0, 'utf8'));
process.stdout.write(JSON.stringify(events.map((event) => context.handler(event))));
";

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

fn event(host: &str, uri: &str, query: &Value) -> Value {
    json!({
        "version": "1.0",
        "context": { "eventType": "viewer-request" },
        "viewer": { "ip": "192.0.2.1" },
        "request": {
            "method": "GET",
            "uri": uri,
            "querystring": query,
            "headers": { "host": { "value": host } },
            "cookies": {}
        }
    })
}

/// Runs the rendered function on each event; `None` when node is missing and skipping is allowed.
fn run(config: &Config, events: &[Value]) -> Option<Vec<Value>> {
    let out = node(HARNESS, config, &Value::from(events.to_vec()))?;
    Some(serde_json::from_value(out).unwrap())
}

/// Runs `harness` under node with the rendered function's file as its argument and `input` on
/// stdin; `None` when node is missing and skipping is allowed.
fn node(harness: &str, config: &Config, input: &Value) -> Option<Value> {
    let code = render(config).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("viewer-request.js");
    std::fs::write(&file, code).unwrap();
    let child = Command::new("node")
        .arg("-e")
        .arg(harness)
        .arg(&file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if std::env::var("SITEWARDEN_SKIP_NODE").as_deref() == Ok("1") => {
            eprintln!("skipping: cannot run node ({e})");
            return None;
        }
        Err(e) => panic!("cannot run `node` ({e}); install Node.js or set SITEWARDEN_SKIP_NODE=1"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "node failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

fn location(response: &Value) -> (u64, &str) {
    (
        response["statusCode"].as_u64().unwrap(),
        response["headers"]["location"]["value"].as_str().unwrap(),
    )
}

#[test]
fn directory_indexes_and_assets() {
    let none = json!({});
    let Some(out) = run(
        &config(SITE),
        &[
            event("example.com", "/docs/", &none),
            event("example.com", "/docs", &none),
            event("example.com", "/a.css", &none),
            event("example.com", "/", &none),
            event("example.com", "/docs", &json!({ "page": { "value": "2" } })),
            event(
                "example.com",
                "/.well-known/apple-app-site-association",
                &none,
            ),
        ],
    ) else {
        return;
    };
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
    let none = json!({});
    let multi = json!({ "a": { "value": "1", "multiValue": [{ "value": "1" }, { "value": "2" }] }, "b": { "value": "" } });
    let Some(out) = run(
        &config(SITE),
        &[
            event("example.com", "/old", &none),
            event(
                "example.com",
                "/blog/2024/post.html",
                &json!({ "x": { "value": "y%20z" } }),
            ),
            event("example.com", "/blog/archive/2019/", &none),
            event("example.com", "/constructor", &none),
            event("example.com", "/old", &multi),
        ],
    ) else {
        return;
    };
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
    let Some(out) = run(
        &config(SITE),
        &[
            event(
                "www.example.com",
                "/docs/",
                &json!({ "q": { "value": "1" } }),
            ),
            event("WWW.Example.com", "/", &json!({})),
            event("example.com", "/x.txt", &json!({})),
        ],
    ) else {
        return;
    };
    assert_eq!(location(&out[0]), (301, "https://example.com/docs/?q=1"));
    assert_eq!(location(&out[1]), (301, "https://example.com/"));
    assert_eq!(out[2]["uri"], "/x.txt");
}

#[test]
fn spa_fallback_keeps_extensionless_routes() {
    let spa = config(
        "[site]\nname = \"app\"\nsource = \"dist\"\n[deploy]\nspa_fallback = \"/index.html\"\n",
    );
    let Some(out) = run(&spa, &[event("d1.cloudfront.net", "/users/42", &json!({}))]) else {
        return;
    };
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
    let q = json!({ "q": { "value": "1" } });
    let Some(out) = run(
        &site,
        &[
            event("d1.cloudfront.net", "/search", &q),
            event("d1.cloudfront.net", "/page", &q),
            event("d1.cloudfront.net", "/both", &q),
            event("d1.cloudfront.net", "/open", &q),
            event("d1.cloudfront.net", "/hash-first", &q),
            event("d1.cloudfront.net", "/both", &json!({})),
        ],
    ) else {
        return;
    };
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
    let none = json!({});
    let Some(out) = run(
        &site,
        &[
            event("d1.cloudfront.net", "/caf%C3%A9", &none),
            // Not what browsers send, but the same path.
            event("d1.cloudfront.net", "/caf%c3%a9", &none),
            event("d1.cloudfront.net", "/café", &none),
            event("d1.cloudfront.net", "/caf%C3%A9s", &none),
            event(
                "d1.cloudfront.net",
                "/%E6%96%87%E6%A1%A3/guide/%e2%82%ac",
                &none,
            ),
            event("d1.cloudfront.net", "/price", &none),
            // Raw from a client other than a browser: encoded whole, as a browser would.
            event("d1.cloudfront.net", "/\u{1F600} x", &none),
        ],
    ) else {
        return;
    };
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
    let none = json!({});
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
    let events: Vec<Value> = uris
        .iter()
        .map(|uri| event("d1.cloudfront.net", uri, &none))
        .collect();
    let Some(out) = run(&site, &events) else {
        return;
    };
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

/// Runs every path of the hostile corpus, with and without a query, on every host of the site,
/// and resolves each Location as a browser does (WHATWG URL parsing, `new URL(location, base)`).
const CORPUS_HARNESS: &str = r"
const fs = require('fs');
const vm = require('vm');
const context = {};
vm.createContext(context);
vm.runInContext(fs.readFileSync(process.argv[1], 'utf8'), context);
const { corpus, hosts, allowed } = JSON.parse(fs.readFileSync(0, 'utf8'));
const paths = fs.readFileSync(corpus, 'utf8').split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => JSON.parse(line));
const queries = [
    {},
    { q: { value: '1' } },
    { next: { value: '//evil.com', multiValue: [{ value: '//evil.com' }, { value: '@evil.com' }] } },
];
// As JSON text: a lone surrogate in a path is valid JavaScript but not valid JSON for serde.
const failures = [];
const fail = (failure) => failures.push(JSON.stringify(failure));
let events = 0;
let redirects = 0;
for (const host of hosts) {
    for (const uri of paths) {
        for (const querystring of queries) {
            events++;
            const request = { method: 'GET', uri, querystring, headers: { host: { value: host } }, cookies: {} };
            let out;
            try {
                out = context.handler({ version: '1.0', context: { eventType: 'viewer-request' }, viewer: { ip: '192.0.2.1' }, request });
            } catch (e) {
                fail({ host, uri, error: String(e) });
                continue;
            }
            if (out.statusCode === undefined) {
                continue;
            }
            redirects++;
            const location = out.headers.location.value;
            // The page the browser asked for: this host, whatever the path says.
            const base = new URL('https://' + host + '/');
            base.pathname = uri;
            let url;
            try {
                url = new URL(location, base);
            } catch (e) {
                fail({ host, uri, location, error: String(e) });
                continue;
            }
            if (!/^[\x21-\x7e]*$/.test(location) || !['http:', 'https:'].includes(url.protocol)
                || !allowed.includes(url.host)) {
                fail({ host, uri, location, resolved: url.href });
            }
        }
    }
}
process.stdout.write(JSON.stringify({ paths: paths.length, events, redirects, failures }));
";

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
    let domain = "[site]\nname = \"docs\"\nsource = \"dist\"\ndomain = \"example.com\"\n\
                  aliases = [\"www.example.com\"]\n";
    let domainless = "[site]\nname = \"docs\"\nsource = \"dist\"\n";
    let spa = "[deploy]\nspa_fallback = \"/index.html\"\n";
    let site_hosts = json!(["example.com", "www.example.com", "WWW.Example.com"]);
    let site_allowed = json!(["example.com", "www.example.com", "archive.example.org"]);
    let cloudfront = json!(["d111111abcdef8.cloudfront.net"]);
    let cloudfront_allowed = json!(["d111111abcdef8.cloudfront.net", "archive.example.org"]);
    let cases = [
        (
            format!("{domain}{HOSTILE_REDIRECTS}"),
            &site_hosts,
            &site_allowed,
        ),
        (
            format!("{domain}{spa}{HOSTILE_REDIRECTS}"),
            &site_hosts,
            &site_allowed,
        ),
        (
            format!("{domainless}{HOSTILE_REDIRECTS}"),
            &cloudfront,
            &cloudfront_allowed,
        ),
        (
            format!("{domainless}{spa}{HOSTILE_REDIRECTS}"),
            &cloudfront,
            &cloudfront_allowed,
        ),
        // Everything elsewhere, as a website's redirect-all becomes.
        (
            format!(
                "{domainless}[[redirects]]\nfrom = \"/*\"\nto = \"https://archive.example.org/:splat\"\n"
            ),
            &cloudfront,
            &cloudfront_allowed,
        ),
    ];
    let mut report = String::new();
    for (text, hosts, allowed) in cases {
        let input = json!({ "corpus": corpus, "hosts": hosts, "allowed": allowed });
        let Some(out) = node(CORPUS_HARNESS, &config(&text), &input) else {
            return;
        };
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
