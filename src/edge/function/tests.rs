use std::time::Duration;

use super::*;
use crate::edge::{Outcome, Request};

fn small(time: Duration) -> Limits {
    Limits {
        memory: 4 * 1024 * 1024,
        time,
    }
}

#[test]
fn the_handler_sees_the_event_and_can_change_the_request() {
    let function = Function::load(
        "function handler(event) {
            var r = event.request;
            r.uri = r.uri + 'index.html';
            r.headers['x-seen'] = { value: [event.version, event.context.eventType, event.viewer.ip,
                r.method, r.headers.host.value, r.querystring.a.multiValue.length,
                r.cookies.id.value].join(' ') };
            return r;
        }",
    )
    .unwrap();
    let request = Request::get("example.com", "/docs/?a=1&a=2").header("Cookie", "id=7");
    let Outcome::Forward(out) = function.viewer_request(&request).unwrap() else {
        panic!("not forwarded");
    };
    assert_eq!(out.uri, "/docs/index.html");
    assert_eq!(
        out.headers.get("x-seen"),
        Some("1.0 viewer-request 192.0.2.1 GET example.com 2 7")
    );
    assert_eq!(out.querystring.values("a"), ["1", "2"]);
    // The code stays loaded: a second call sees a fresh event.
    let Outcome::Forward(again) = function.viewer_request(&request).unwrap() else {
        panic!("not forwarded");
    };
    assert_eq!(again.uri, "/docs/index.html");
}

#[test]
fn a_returned_response_is_a_response() {
    let function = Function::load(
        "function handler(event) {
            return { statusCode: 404, statusDescription: 'Not Found', headers: {} };
        }",
    )
    .unwrap();
    let Outcome::Respond(out) = function.viewer_request(&Request::get("h", "/")).unwrap() else {
        panic!("not a response");
    };
    assert_eq!(out.status, 404);
    assert_eq!(out.status_description.as_deref(), Some("Not Found"));
}

#[test]
fn an_endless_loop_is_an_error_not_a_hang() {
    let function = Function::load_with(
        "function handler(event) { for (;;) {} }",
        small(Duration::from_millis(100)),
    )
    .unwrap();
    let err = function
        .viewer_request(&Request::get("h", "/"))
        .unwrap_err();
    assert!(err.to_string().contains("time limit"), "{err}");
    // A `catch` in the code cannot swallow the interruption.
    let stubborn = Function::load_with(
        "function handler(event) { for (;;) { try { for (;;) {} } catch (e) {} } }",
        small(Duration::from_millis(100)),
    )
    .unwrap();
    assert!(stubborn.viewer_request(&Request::get("h", "/")).is_err());
    // Nor can the top level of the code.
    let err =
        Function::load_with("while (true) {}", small(Duration::from_millis(100))).unwrap_err();
    assert!(err.to_string().contains("time limit"), "{err}");
}

#[test]
fn memory_is_limited() {
    let function = Function::load_with(
        "function handler(event) { var a = []; for (;;) { a.push('x'.repeat(1024) + a.length); } }",
        small(Duration::from_mins(1)),
    )
    .unwrap();
    let err = function
        .viewer_request(&Request::get("h", "/"))
        .unwrap_err();
    assert!(err.to_string().contains("out of memory"), "{err}");
}

#[test]
fn code_errors_are_errors() {
    let err = Function::load("function handler(event) {").unwrap_err();
    assert!(
        err.to_string().contains("SyntaxError") || err.to_string().contains("loading"),
        "{err}"
    );
    let err = Function::load("var x = 1;").unwrap_err();
    assert!(err.to_string().contains("no `handler`"), "{err}");
    let thrower = Function::load("function handler(event) { throw new Error('boom'); }").unwrap();
    let err = thrower.viewer_request(&Request::get("h", "/")).unwrap_err();
    assert!(err.to_string().contains("boom"), "{err}");
    let nothing = Function::load("function handler(event) {}").unwrap();
    assert!(nothing.viewer_request(&Request::get("h", "/")).is_err());
}

#[test]
fn a_viewer_response_function_sees_both_and_sets_headers_but_not_the_status() {
    let function = Function::load(
        "function handler(event) {
            var r = event.response;
            var meta = r.headers['x-amz-meta-csp'];
            r.headers['content-security-policy'] = { value: meta.value + '; seen ' + event.context.eventType + ' ' + event.request.uri };
            delete r.headers['x-amz-meta-csp'];
            r.statusCode = 500;
            return r;
        }",
    )
    .unwrap();
    let mut headers = crate::edge::Fields::default();
    headers.add("x-amz-meta-csp", "default-src 'self'");
    headers.add("content-type", "text/html");
    let response = crate::edge::Response {
        status: 200,
        status_description: Some("OK".into()),
        headers,
    };
    let out = function
        .viewer_response(&Request::get("h", "/a/index.html"), &response)
        .unwrap();
    assert_eq!(out.status, 200);
    assert_eq!(
        out.headers.get("content-security-policy"),
        Some("default-src 'self'; seen viewer-response /a/index.html")
    );
    assert_eq!(out.headers.get("x-amz-meta-csp"), None);
    assert_eq!(out.headers.get("content-type"), Some("text/html"));
}

#[test]
fn a_viewer_response_function_must_return_an_object() {
    let function = Function::load("function handler(event) { return 3; }").unwrap();
    let response = crate::edge::Response {
        status: 200,
        status_description: None,
        headers: crate::edge::Fields::default(),
    };
    let err = function
        .viewer_response(&Request::get("h", "/"), &response)
        .unwrap_err();
    assert!(err.to_string().contains("no response object"), "{err}");
}
