//! `preview` and `preview --remote` over HTTP: the binary serves on a free port, requests go
//! through a plain `TcpStream`, and the request log is read from its stderr.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::support::{ACCOUNT, Run, aws_clients, emulator, project, site_name};

/// A running `sitewarden preview`, killed when dropped.
struct Preview {
    child: Child,
    port: u16,
}

impl Preview {
    /// `preview --port 0 [--remote]` in `dir`; waits for the URL on its first stdout line.
    fn start(dir: &Path, remote: bool) -> Preview {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sitewarden"));
        command.current_dir(dir);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("AWS_") {
                command.env_remove(key);
            }
        }
        command
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_CONFIG_FILE", "/nonexistent/sitewarden-test")
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/sitewarden-test",
            )
            .env("AWS_EC2_METADATA_DISABLED", "true");
        if remote {
            command.args(["--endpoint-url", &emulator().endpoint]);
        }
        command.args(["preview", "--port", "0"]);
        if remote {
            command.arg("--remote");
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sitewarden preview");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("http://127.0.0.1:")
            .and_then(|rest| rest.strip_suffix('/'))
            .and_then(|p| p.parse().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let mut stderr = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
            panic!("no URL on stdout: {line:?}\n--- stderr ---\n{stderr}");
        };
        Preview { child, port }
    }

    fn get(&self, target: &str) -> Reply {
        self.request("GET", target)
    }

    fn request(&self, method: &str, target: &str) -> Reply {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            stream,
            "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            self.port
        )
        .unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        Reply::parse(&String::from_utf8_lossy(&raw))
    }

    /// Stops the preview with Ctrl-C (SIGINT), which must end it with exit 0; returns what it
    /// logged.
    fn stop(mut self) -> String {
        let interrupted = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(interrupted.success());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "preview ended with {status} on Ctrl-C");
        let mut stderr = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        stderr
    }
}

impl Drop for Preview {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn parse(raw: &str) -> Reply {
        let (head, body) = raw.split_once("\r\n\r\n").expect("a complete response");
        let mut lines = head.lines();
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers = lines
            .filter_map(|l| l.split_once(": "))
            .map(|(n, v)| (n.to_ascii_lowercase(), v.to_owned()))
            .collect();
        Reply {
            status,
            headers,
            body: body.to_owned(),
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

const INDEX: &str = "<h1>home</h1>\n";
const NOT_FOUND: &str = "<h1>not here</h1>\n";

/// A project named `site` with pages, an asset, a redirect and things deploy never publishes.
fn site(site: &str, extra: &str) -> tempfile::TempDir {
    let dir = project(
        site,
        &format!(
            "[[redirects]]\nfrom = \"/old/*\"\nto = \"/docs/:splat\"\nstatus = 302\n\n\
             [deploy]\nexclude = [\"**/*.map\"]\n{extra}"
        ),
    );
    let write = |key: &str, body: &str| {
        let path = dir.path().join("dist").join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    };
    write("index.html", INDEX);
    write("404.html", NOT_FOUND);
    write("docs/index.html", "<h1>docs</h1>\n");
    write("assets/app.3f9a1c2b.css", "body{}\n");
    write("assets/app.css.map", "{}\n");
    dir
}

/// What both previews must serve for the site.
fn check_site(preview: &Preview) {
    let home = preview.get("/");
    assert_eq!((home.status, home.body.as_str()), (200, INDEX), "{home:?}");
    for (name, value) in [
        (
            "strict-transport-security",
            "max-age=63072000; includeSubDomains",
        ),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "strict-origin-when-cross-origin"),
        ("content-type", "text/html; charset=utf-8"),
        ("cache-control", "no-cache"),
    ] {
        assert_eq!(home.header(name), Some(value), "{name} in {home:?}");
    }
    assert!(
        home.header("content-security-policy")
            .is_some_and(|c| c.contains("default-src"))
    );
    assert!(home.header("permissions-policy").is_some());
    assert!(home.header("x-amz-meta-sha256").is_some(), "{home:?}");

    let css = preview.get("/assets/app.3f9a1c2b.css");
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert_eq!(
        css.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let docs = preview.get("/docs/");
    assert_eq!((docs.status, docs.body.as_str()), (200, "<h1>docs</h1>\n"));
    let bare = preview.get("/docs");
    assert_eq!(
        (bare.status, bare.header("location")),
        (301, Some("/docs/"))
    );
    let moved = preview.get("/old/a.html?x=1");
    assert_eq!(
        (moved.status, moved.header("location")),
        (302, Some("/docs/a.html?x=1"))
    );
    assert_eq!(moved.header("x-frame-options"), Some("DENY"));
    let missing = preview.get("/missing.html");
    assert_eq!((missing.status, missing.body.as_str()), (404, NOT_FOUND));
    assert_eq!(missing.header("x-frame-options"), Some("DENY"));
    for hidden in ["/.sitewarden/manifest.json", "/assets/app.css.map"] {
        let reply = preview.get(hidden);
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (404, NOT_FOUND),
            "{hidden}"
        );
    }
    assert_eq!(preview.request("POST", "/").status, 403);
    let head = preview.request("HEAD", "/index.html");
    assert_eq!(head.status, 200);
    assert_eq!(head.body, "");
    assert_eq!(
        head.header("content-length"),
        Some(INDEX.len().to_string().as_str())
    );
    let query = preview.get("/index.html?page=404.html");
    assert_eq!((query.status, query.body.as_str()), (200, INDEX));
}

#[test]
fn preview_serves_the_folder_as_deploy_and_up_would_publish_it() {
    let name = site_name("preview");
    let dir = site(&name, "");
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(dist.join(".sitewarden")).unwrap();
    std::fs::write(dist.join(".sitewarden/manifest.json"), "{}").unwrap();
    std::fs::write(dist.join(".env"), "SECRET=1\n").unwrap();
    let preview = Preview::start(dir.path(), false);
    check_site(&preview);
    let secret = preview.get("/.env");
    assert_eq!((secret.status, secret.body.as_str()), (404, NOT_FOUND));
    let log = preview.stop();
    assert!(log.contains("not serving `.env`"), "{log}");
    for line in [
        "200 GET /  function: forward /index.html\n",
        "301 GET /docs  function: respond 301\n",
        "404 GET /missing.html  function: forward /missing.html  error page: /404.html\n",
        "403 POST /  function: none\n",
    ] {
        assert!(log.contains(line), "{line:?} not in:\n{log}");
    }
}

#[test]
fn preview_of_an_spa_serves_the_app_for_unknown_paths() {
    let name = site_name("preview-spa");
    let dir = site(&name, "spa_fallback = \"/index.html\"\n");
    let preview = Preview::start(dir.path(), false);
    let route = preview.get("/app/settings");
    assert_eq!((route.status, route.body.as_str()), (200, INDEX));
    assert_eq!(route.header("x-frame-options"), Some("DENY"));
}

#[test]
fn a_port_in_use_is_a_usage_error_naming_it() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let dir = site(&site_name("preview-port"), "");
    Run::new(dir.path())
        .offline()
        .args(["preview", "--port", &port])
        .status(2)
        .stderr_contains(format!("port {port} on 127.0.0.1 is in use"))
        .run();
}

#[tokio::test(flavor = "multi_thread")]
async fn preview_remote_serves_what_is_live() {
    let name = site_name("preview-live");
    let dir = site(&name, "");
    Run::new(dir.path()).json().arg("up").run();
    let remote = Preview::start(dir.path(), true);
    check_site(&remote);

    // A change made only in the bucket shows remotely, and not in the local preview.
    let aws = aws_clients("eu-west-1").await;
    aws.s3
        .put_object()
        .bucket(format!("{name}-site-{ACCOUNT}"))
        .key("index.html")
        .content_type("text/html")
        .body(b"<h1>changed live</h1>".to_vec().into())
        .send()
        .await
        .unwrap();
    let live = remote.get("/");
    assert_eq!(
        (live.status, live.body.as_str()),
        (200, "<h1>changed live</h1>")
    );
    assert_eq!(live.header("content-type"), Some("text/html"));
    assert_eq!(live.header("x-frame-options"), Some("DENY"));
    let local = Preview::start(dir.path(), false);
    assert_eq!(local.get("/").body, INDEX);
    let log = remote.stop();
    assert!(
        log.contains("200 GET /  function: forward /index.html\n"),
        "{log}"
    );
}
