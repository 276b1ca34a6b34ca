//! A local HTTP/1.1 server (hyper) on 127.0.0.1 that answers every request through the
//! distribution model, and logs each one in a line.
//!
//! The functions' engine is not `Send`: the server runs on the calling thread, inside a
//! `tokio::task::LocalSet`, one task per connection. A preview serves one person; one thread is
//! plenty, and the origin's SDK calls still use the runtime's workers.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::future::Future;
use std::rc::Rc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::event::Request;
use super::model::Distribution;
use super::pipeline::{FunctionTrace, Origin, Served};
use crate::error::{Error, Result};
use crate::output::escape;

/// Listens on 127.0.0.1:`port` (0: any free port). A port in use is the user's to change.
pub async fn bind(port: u16) -> Result<TcpListener> {
    TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            Error::usage_with_hint(
                format!("port {port} on 127.0.0.1 is in use"),
                "pass another `--port`, or `--port 0` for any free port",
            )
        } else {
            Error::Other(
                anyhow::Error::new(e).context(format!("cannot listen on 127.0.0.1:{port}")),
            )
        }
    })
}

/// Serves until `shutdown` completes. Must run inside a `LocalSet`.
pub async fn serve<O: Origin + 'static>(
    listener: TcpListener,
    distribution: Rc<Distribution>,
    origin: Rc<O>,
    log: Rc<dyn Fn(&str)>,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let (distribution, origin, log) = (distribution.clone(), origin.clone(), log.clone());
                tokio::task::spawn_local(async move {
                    let service = service_fn(move |request| {
                        let (distribution, origin, log) =
                            (distribution.clone(), origin.clone(), log.clone());
                        async move {
                            Ok::<_, Infallible>(handle(&distribution, &*origin, &*log, &request).await)
                        }
                    });
                    // A viewer that hangs up mid-response is no error of the preview's.
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        }
    }
}

async fn handle(
    distribution: &Distribution,
    origin: &impl Origin,
    log: &dyn Fn(&str),
    incoming: &hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let method = incoming.method().as_str().to_owned();
    let target = incoming
        .uri()
        .path_and_query()
        .map_or("/", hyper::http::uri::PathAndQuery::as_str)
        .to_owned();
    let mut request = Request::new(&method, &target);
    for (name, value) in incoming.headers() {
        if let Ok(value) = value.to_str() {
            request = request.header(name.as_str(), value);
        }
    }
    let served = distribution.serve(origin, request).await;
    log(&log_line(&method, &target, &served));
    let mut response = hyper::Response::builder().status(served.status);
    for (name, value) in served.headers.iter() {
        response = response.header(name, value);
    }
    response
        .body(Full::new(Bytes::from(served.body)))
        .unwrap_or_else(|e| {
            log(&format!(
                "502 {method} {}  invalid response: {e}",
                escape(&target)
            ));
            let mut bad = hyper::Response::new(Full::new(Bytes::new()));
            *bad.status_mut() = hyper::StatusCode::BAD_GATEWAY;
            bad
        })
}

/// `STATUS METHOD PATH  function: forward URI | respond STATUS | error MSG | none`, then the error
/// page and any other failure.
pub fn log_line(method: &str, target: &str, served: &Served) -> String {
    let trace = &served.trace;
    let function = match &trace.function {
        None => "none".to_owned(),
        Some(FunctionTrace::Forward(uri)) => format!("forward {}", escape(uri)),
        Some(FunctionTrace::Respond(status)) => format!("respond {status}"),
        Some(FunctionTrace::Error(message)) => format!("error {message}"),
    };
    let mut line = format!(
        "{} {method} {}  function: {function}",
        served.status,
        escape(target)
    );
    if let Some(page) = &trace.error_page {
        let _ = write!(line, "  error page: {}", escape(page));
    }
    if let Some(error) = &trace.viewer_response_error {
        let _ = write!(line, "  viewer-response: error {error}");
    }
    if let Some(error) = &trace.origin_error {
        let _ = write!(line, "  origin: error {error}");
    }
    line
}
