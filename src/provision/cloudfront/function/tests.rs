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
    let code = render(config).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("viewer-request.js");
    std::fs::write(&file, code).unwrap();
    let child = Command::new("node")
        .arg("-e")
        .arg(HARNESS)
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
        .write_all(Value::from(events.to_vec()).to_string().as_bytes())
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
