//! A static file server for the harness's own tests: serves a folder on a free 127.0.0.1 port with
//! one chosen `Content-Security-Policy`, `dir/` → `dir/index.html`, `dir` → 301 `dir/` and `404.html`
//! for what is missing.

use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Serves until dropped.
pub struct Server {
    pub url: String,
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

/// Serves `root`, every response carrying `csp` (none when empty).
pub fn serve(root: &Path, csp: &str) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let addr = listener.local_addr().expect("local address");
    let stop = Arc::new(AtomicBool::new(false));
    let (root, csp, stopped) = (root.to_owned(), csp.to_owned(), stop.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            if stopped.load(Ordering::Relaxed) {
                break;
            }
            let Ok(stream) = stream else { continue };
            let (root, csp) = (root.clone(), csp.clone());
            std::thread::spawn(move || answer(stream, &root, &csp));
        }
    });
    Server {
        url: format!("http://{addr}"),
        addr,
        stop,
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// One request per connection (`Connection: close`).
fn answer(mut stream: TcpStream, root: &Path, csp: &str) {
    let mut reader = BufReader::new(&stream);
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    // The rest of the head; the server needs none of it.
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        line.clear();
    }
    let mut parts = request.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let folder = !path.ends_with('/') && resolve(root, &format!("{path}/")).is_some();
    let (status, file) = match resolve(root, path) {
        Some(file) => ("200 OK", file),
        None if folder => ("301 Moved Permanently", PathBuf::new()),
        None => ("404 Not Found", root.join("404.html")),
    };
    let body = std::fs::read(&file).unwrap_or_default();
    let kind = mime_guess::from_path(&file).first_or_octet_stream();
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if folder {
        let _ = write!(head, "Location: {path}/\r\n");
    }
    if !csp.is_empty() {
        let _ = write!(head, "Content-Security-Policy: {csp}\r\n");
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    if method != "HEAD" {
        let _ = stream.write_all(&body);
    }
}

/// The file a URL path names: `x/` is `x/index.html`; nothing outside `root`.
fn resolve(root: &Path, path: &str) -> Option<PathBuf> {
    let relative = path.trim_start_matches('/');
    if relative.split('/').any(|part| part == "..") {
        return None;
    }
    let mut file = root.join(relative);
    if path.ends_with('/') {
        file.push("index.html");
    }
    file.is_file().then_some(file)
}
