//! Headless Chromium driven over the Chrome `DevTools` Protocol: one browser per test binary, one
//! websocket connection and one target (tab) per [`Page`], and what a page load reports.
//!
//! The browser is `$CHROMIUM` or `chromium` on `PATH`, started on first use with a fresh profile.
//! It runs under a `sh` guard that holds the read end of a pipe from this process: when the test
//! binary exits (statics are never dropped) the pipe closes and the guard ends Chromium and removes
//! its profile.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::net::TcpStream;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

/// How long a page may stay quiet after its load event before it counts as settled.
const SETTLE: Duration = Duration::from_millis(300);
/// The most one load may take, settle included: a cap against a hang, not a timing assertion.
const LOAD_CAP: Duration = Duration::from_secs(10);
/// The most one command may wait for its answer.
const COMMAND_CAP: Duration = Duration::from_secs(30);

pub struct Chromium {
    /// `ws://127.0.0.1:<port>/devtools/browser/<id>`.
    endpoint: String,
    child: Mutex<Child>,
    /// Closing it (at exit) tells the guard to end Chromium.
    _guard: Mutex<ChildStdin>,
}

/// The browser of this test binary, started on first use.
pub fn chromium() -> &'static Chromium {
    static CHROMIUM: OnceLock<Chromium> = OnceLock::new();
    CHROMIUM.get_or_init(Chromium::start)
}

/// `$CHROMIUM`, or `chromium` on `PATH`.
fn program() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".to_owned())
}

impl Chromium {
    fn start() -> Chromium {
        let program = program();
        let found = Command::new("sh")
            .args(["-c", "command -v \"$1\"", "sh", &program])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            found,
            "the browser tests need Chromium: `{program}` is not installed (set CHROMIUM to its \
             path, or install the Debian `chromium` package: scripts/test.sh installs it)"
        );
        let profile = tempfile::Builder::new()
            .prefix("sitewarden-chromium-")
            .tempdir()
            .expect("Chromium profile folder")
            .keep();
        // The guard: Chromium in the background, then wait for this process's end of stdin.
        let script = r#"profile=$1; shift
"$@" </dev/null &
browser=$!
cat >/dev/null
kill "$browser" 2>/dev/null
wait "$browser" 2>/dev/null
rm -rf "$profile""#;
        let mut child = Command::new("sh")
            .args(["-c", script, "sh"])
            .arg(&profile)
            .arg(&program)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--remote-debugging-port=0",
                "about:blank",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start `{program}`: {e}"));
        let guard = child.stdin.take().expect("guard stdin");
        let stderr = child.stderr.take().expect("Chromium stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        // Chromium keeps writing to stderr; the thread drains it for the browser's whole life.
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stderr).lines().map_while(Result::ok);
            let mut before = Vec::new();
            for line in lines.by_ref() {
                if let Some(at) = line.find("ws://") {
                    let _ = tx.send(Ok(line[at..].trim().to_owned()));
                    lines.for_each(drop);
                    return;
                }
                before.push(line);
            }
            let _ = tx.send(Err(before.join("\n")));
        });
        let endpoint = match rx.recv_timeout(Duration::from_mins(1)) {
            Ok(Ok(endpoint)) => endpoint,
            Ok(Err(stderr)) => panic!("`{program}` exited before listening:\n{stderr}"),
            Err(RecvTimeoutError::Timeout) => {
                panic!("`{program}` printed no `DevTools listening on ws://…` in 60 s")
            }
            Err(RecvTimeoutError::Disconnected) => panic!("`{program}`'s stderr reader ended"),
        };
        Chromium {
            endpoint,
            child: Mutex::new(child),
            _guard: Mutex::new(guard),
        }
    }

    /// A new tab with its own connection, with the Log, Runtime, Page and Network domains on.
    pub fn page(&self) -> Page {
        let (socket, _) = tungstenite::connect(self.endpoint.as_str())
            .unwrap_or_else(|e| panic!("connect to Chromium at {}: {e}", self.endpoint));
        let mut page = Page {
            socket,
            next_id: 0,
            session: None,
            target: String::new(),
            events: Vec::new(),
        };
        let target = page.call("Target.createTarget", &json!({"url": "about:blank"}));
        target["targetId"]
            .as_str()
            .expect("targetId")
            .clone_into(&mut page.target);
        let attached = page.call(
            "Target.attachToTarget",
            &json!({"targetId": page.target, "flatten": true}),
        );
        page.session = Some(
            attached["sessionId"]
                .as_str()
                .expect("sessionId")
                .to_owned(),
        );
        for domain in ["Log", "Runtime", "Page", "Network"] {
            page.call(&format!("{domain}.enable"), &json!({}));
        }
        page
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        if let Ok(child) = self.child.get_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One tab, attached over its own websocket connection; closed on drop.
pub struct Page {
    socket: WebSocket<tungstenite::stream::MaybeTlsStream<TcpStream>>,
    next_id: u64,
    session: Option<String>,
    target: String,
    /// Events received since the last [`Page::load`] started.
    events: Vec<Value>,
}

/// The main document's response.
#[derive(Debug, Clone)]
pub struct Document {
    pub status: u16,
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
    pub url: String,
}

/// A redirect the navigation followed: the response that sent it elsewhere.
#[derive(Debug, Clone)]
pub struct Redirect {
    pub status: u16,
    pub location: String,
}

/// What one page load showed.
#[derive(Debug, Default)]
pub struct Report {
    pub url: String,
    /// The load event fired within the cap (always true of a [`Page::settle`] report).
    pub loaded: bool,
    pub document: Option<Document>,
    pub redirects: Vec<Redirect>,
    /// `Log.entryAdded` at level error or warning: `level source: text (url:line)`. CSP violations
    /// are among them ("Refused to …", "… violates the following Content Security Policy …").
    pub log: Vec<String>,
    /// `console.error` and `console.warn` calls: `type: arguments`.
    pub console: Vec<String>,
    /// Uncaught exceptions: `description (url:line)`.
    pub exceptions: Vec<String>,
    /// Requests that failed (`Network.loadingFailed`): `url: error [blocked reason]`.
    pub failed: Vec<String>,
    pub elapsed: Duration,
}

impl Report {
    /// The log entries that are Content Security Policy violations.
    pub fn violations(&self) -> Vec<&str> {
        self.log
            .iter()
            .map(String::as_str)
            .filter(|l| is_violation(l))
            .collect()
    }

    /// Everything else that went wrong: log errors that are not violations, console errors and
    /// warnings, exceptions and failed requests.
    pub fn errors(&self) -> Vec<&str> {
        let log = self
            .log
            .iter()
            .filter(|l| l.starts_with("error") && !is_violation(l) && !is_favicon_probe(l));
        log.chain(&self.console)
            .chain(&self.exceptions)
            .chain(&self.failed)
            .map(String::as_str)
            .collect()
    }

    /// Panics, showing the whole report, unless the page loaded with no violation and no error.
    pub fn assert_clean(&self) {
        assert!(
            self.loaded && self.violations().is_empty() && self.errors().is_empty(),
            "{} is not clean: {self:#?}",
            self.url
        );
    }
}

fn is_violation(line: &str) -> bool {
    line.contains("Content Security Policy")
}

/// The browser asks for `/favicon.ico` of its own accord when a page names no icon; its 404 is no
/// error of the page (a site without an icon is fine, and a visitor's console hides it).
fn is_favicon_probe(line: &str) -> bool {
    line.starts_with("error network: ") && line.ends_with("/favicon.ico:null)")
}

impl Page {
    /// Sends one command on this page's session (the browser's before attaching) and returns its
    /// result; events that arrive meanwhile are kept for the report.
    pub fn call(&mut self, method: &str, params: &Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = &self.session {
            message["sessionId"] = json!(session);
        }
        self.socket
            .send(Message::text(message.to_string()))
            .unwrap_or_else(|e| panic!("send {method}: {e}"));
        let deadline = Instant::now() + COMMAND_CAP;
        loop {
            let now = Instant::now();
            assert!(now < deadline, "no answer to {method} in {COMMAND_CAP:?}");
            let Some(message) = self.receive(deadline - now) else {
                continue;
            };
            if message["id"] == id {
                if let Some(error) = message.get("error") {
                    panic!("{method} failed: {error}");
                }
                return message["result"].clone();
            }
            if message.get("method").is_some() {
                self.events.push(message);
            }
        }
    }

    /// The next message, or `None` when `wait` passes without one.
    fn receive(&mut self, wait: Duration) -> Option<Value> {
        let tungstenite::stream::MaybeTlsStream::Plain(stream) = self.socket.get_ref() else {
            unreachable!("Chromium's endpoint is plain ws://")
        };
        stream
            .set_read_timeout(Some(wait.max(Duration::from_millis(1))))
            .expect("set read timeout");
        match self.socket.read() {
            Ok(Message::Text(text)) => {
                Some(serde_json::from_str(&text).expect("a CDP message is JSON"))
            }
            Ok(_) => None,
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                None
            }
            Err(e) => panic!("Chromium connection: {e}"),
        }
    }

    /// Loads `url` and reports what happened until the page settled: its load event, then
    /// [`SETTLE`] with no new event, within [`LOAD_CAP`].
    pub fn load(&mut self, url: &str) -> Report {
        let start = Instant::now();
        self.events.clear();
        let navigated = self.call("Page.navigate", &json!({"url": url}));
        let mut report = self.settle_from(start, true, navigated["loaderId"].as_str());
        url.clone_into(&mut report.url);
        if let Some(error) = navigated.get("errorText") {
            report.failed.insert(0, format!("{url}: {error}"));
        }
        report
    }

    /// Reports what happened since the last report (after a click, say), once the page has been
    /// quiet for [`SETTLE`], within [`LOAD_CAP`].
    pub fn settle(&mut self) -> Report {
        self.settle_from(Instant::now(), false, None)
    }

    fn settle_from(&mut self, start: Instant, wait_load: bool, loader: Option<&str>) -> Report {
        let cap = start + LOAD_CAP;
        let mut load_fired = false;
        let mut seen = 0;
        let mut quiet_since = Instant::now();
        loop {
            // Events that came in with command answers count too.
            load_fired |= self.events[seen..]
                .iter()
                .any(|e| e["method"] == "Page.loadEventFired");
            if self.events.len() > seen {
                seen = self.events.len();
                quiet_since = Instant::now();
            }
            let ready = load_fired || !wait_load;
            let now = Instant::now();
            if now >= cap || (ready && now >= quiet_since + SETTLE) {
                break;
            }
            let until = if ready {
                (quiet_since + SETTLE).min(cap)
            } else {
                cap
            };
            if let Some(message) = self.receive(until - now)
                && message.get("method").is_some()
            {
                self.events.push(message);
            }
        }
        let events = std::mem::take(&mut self.events);
        let mut report = Report {
            url: self.url(),
            loaded: load_fired || !wait_load,
            ..Report::default()
        };
        let urls: BTreeMap<&str, &str> = events
            .iter()
            .filter(|e| e["method"] == "Network.requestWillBeSent")
            .filter_map(|e| {
                let params = &e["params"];
                Some((
                    params["requestId"].as_str()?,
                    params["request"]["url"].as_str()?,
                ))
            })
            .collect();
        for event in &events {
            report.note(event, loader.unwrap_or_default(), &urls);
        }
        report.elapsed = start.elapsed();
        report
    }

    /// The address the page shows now.
    pub fn url(&mut self) -> String {
        self.eval("location.href")
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Evaluates `expression` in the page (awaiting a promise) and returns its value.
    pub fn eval(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            &json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("`{expression}` threw: {exception}");
        }
        result["result"]["value"].clone()
    }
}

impl Report {
    fn note(&mut self, event: &Value, loader: &str, urls: &BTreeMap<&str, &str>) {
        let params = &event["params"];
        match event["method"].as_str().unwrap_or_default() {
            "Log.entryAdded" => {
                let entry = &params["entry"];
                let level = entry["level"].as_str().unwrap_or_default();
                if level == "error" || level == "warning" {
                    self.log.push(format!(
                        "{level} {}: {} ({}:{})",
                        entry["source"].as_str().unwrap_or_default(),
                        entry["text"].as_str().unwrap_or_default(),
                        entry["url"].as_str().unwrap_or_default(),
                        entry["lineNumber"],
                    ));
                }
            }
            "Runtime.consoleAPICalled" => {
                let kind = params["type"].as_str().unwrap_or_default();
                if kind == "error" || kind == "warning" {
                    let args: Vec<String> = params["args"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|a| match a.get("value") {
                            Some(Value::String(s)) => s.clone(),
                            Some(v) => v.to_string(),
                            None => a["description"].as_str().unwrap_or_default().to_owned(),
                        })
                        .collect();
                    self.console.push(format!("{kind}: {}", args.join(" ")));
                }
            }
            "Runtime.exceptionThrown" => {
                let details = &params["exceptionDetails"];
                let text = details["exception"]["description"]
                    .as_str()
                    .or_else(|| details["text"].as_str())
                    .unwrap_or_default();
                self.exceptions.push(format!(
                    "{text} ({}:{})",
                    details["url"].as_str().unwrap_or_default(),
                    details["lineNumber"]
                ));
            }
            "Network.loadingFailed" => {
                let blocked = params["blockedReason"].as_str().unwrap_or_default();
                self.failed.push(format!(
                    "{}: {} [{blocked}]",
                    params["requestId"]
                        .as_str()
                        .and_then(|id| urls.get(id))
                        .unwrap_or(&"?"),
                    params["errorText"].as_str().unwrap_or_default(),
                ));
            }
            "Network.requestWillBeSent" if params["requestId"] == loader => {
                if let Some(redirect) = params.get("redirectResponse") {
                    self.redirects.push(Redirect {
                        status: status(redirect),
                        location: header(redirect, "location").unwrap_or_default(),
                    });
                }
            }
            "Network.responseReceived" if params["requestId"] == loader => {
                let response = &params["response"];
                let headers = response["headers"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.to_lowercase(), v.as_str().unwrap_or_default().to_owned()))
                    .collect();
                self.document = Some(Document {
                    status: status(response),
                    headers,
                    url: response["url"].as_str().unwrap_or_default().to_owned(),
                });
            }
            _ => {}
        }
    }
}

fn status(response: &Value) -> u16 {
    response["status"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .unwrap_or_default()
}

fn header(response: &Value, name: &str) -> Option<String> {
    let headers = response["headers"].as_object()?;
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
        .map(str::to_owned)
}

impl Drop for Page {
    fn drop(&mut self) {
        // Not `call`: a drop must not panic, and nothing waits for the answer.
        let close =
            json!({"id": 0, "method": "Target.closeTarget", "params": {"targetId": self.target}});
        let _ = self.socket.send(Message::text(close.to_string()));
        let _ = self.socket.close(None);
    }
}
