use std::collections::BTreeMap;

use aws_sdk_cloudfront::types::{
    CustomErrorResponse, CustomErrorResponses, DefaultCacheBehavior, DistributionConfig, EventType,
    FunctionAssociation, FunctionAssociations,
};

use super::*;
use crate::edge::headers::{HeadersPolicy, PolicyHeader};
use crate::edge::{ErrorResponse, Function};

/// Objects by key, each with a Content-Type.
struct Memory(BTreeMap<String, String>);

impl Origin for Memory {
    async fn get(&self, key: &str) -> Result<Option<Object>> {
        Ok(self.0.get(key).map(|body| Object {
            body: body.clone().into_bytes(),
            content_type: Some("text/html".into()),
            cache_control: Some("no-cache".into()),
            metadata: BTreeMap::from([("sha256".to_owned(), "ab".to_owned())]),
            etag: Some("\"e\"".into()),
            last_modified: None,
        }))
    }
}

fn origin() -> Memory {
    Memory(
        [
            ("index.html", "home"),
            ("404.html", "missing"),
            ("a/index.html", "a"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
    )
}

fn distribution() -> Distribution {
    Distribution {
        default_root_object: Some("index.html".into()),
        allowed_methods: vec!["GET".into(), "HEAD".into()],
        error_responses: vec![ErrorResponse {
            error_code: 403,
            page: Some("/404.html".into()),
            response_code: Some(404),
        }],
        headers_policy: Some(HeadersPolicy {
            set: vec![
                PolicyHeader {
                    name: "X-Frame-Options".into(),
                    value: "DENY".into(),
                    r#override: true,
                },
                PolicyHeader {
                    name: "Cache-Control".into(),
                    value: "no-store".into(),
                    r#override: false,
                },
            ],
            remove: Vec::new(),
        }),
        viewer_request: None,
        viewer_response: None,
    }
}

fn serve(distribution: &Distribution, method: &str, target: &str) -> Served {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(distribution.serve(&origin(), Request::get("h", target).method(method)))
}

trait Method {
    fn method(self, method: &str) -> Request;
}

impl Method for Request {
    fn method(mut self, method: &str) -> Request {
        method.clone_into(&mut self.method);
        self
    }
}

fn body(served: &Served) -> &str {
    std::str::from_utf8(&served.body).unwrap()
}

#[test]
fn the_default_root_object_is_only_for_the_root() {
    let d = distribution();
    let root = serve(&d, "GET", "/");
    assert_eq!((root.status, body(&root)), (200, "home"));
    // `/a/` is not the root: without a function it is the key `a/`, which is not there.
    let sub = serve(&d, "GET", "/a/");
    assert_eq!((sub.status, body(&sub)), (404, "missing"));
    assert_eq!(sub.trace.error_page.as_deref(), Some("/404.html"));
}

#[test]
fn an_origin_error_gets_the_configured_page_and_code_or_stays_the_origins() {
    let mut d = distribution();
    let missing = serve(&d, "GET", "/nope.html");
    assert_eq!((missing.status, body(&missing)), (404, "missing"));
    d.error_responses[0].response_code = Some(200);
    d.error_responses[0].page = Some("/index.html".into());
    let spa = serve(&d, "GET", "/app/route");
    assert_eq!((spa.status, body(&spa)), (200, "home"));
    d.error_responses.clear();
    let plain = serve(&d, "GET", "/nope.html");
    assert_eq!(plain.status, 403);
    assert!(body(&plain).contains("AccessDenied"), "{}", body(&plain));
    assert_eq!(plain.headers.get("x-frame-options"), Some("DENY"));
}

#[test]
fn the_policy_overrides_or_keeps_the_origins_headers() {
    let served = serve(&distribution(), "GET", "/index.html");
    assert_eq!(served.headers.get("x-frame-options"), Some("DENY"));
    // Override false: the object's own Cache-Control stays.
    assert_eq!(served.headers.get("cache-control"), Some("no-cache"));
    assert_eq!(served.headers.get("content-type"), Some("text/html"));
    assert_eq!(served.headers.get("etag"), Some("\"e\""));
    assert_eq!(served.headers.get("x-amz-meta-sha256"), Some("ab"));
}

#[test]
fn other_methods_are_refused_and_head_has_no_body() {
    let d = distribution();
    assert_eq!(serve(&d, "POST", "/index.html").status, 403);
    let head = serve(&d, "HEAD", "/index.html");
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.headers.get("content-length"), Some("4"));
}

#[test]
fn a_query_string_does_not_reach_the_origin_and_keys_are_decoded() {
    let d = distribution();
    let served = serve(&d, "GET", "/index.html?x=404.html");
    assert_eq!(body(&served), "home");
    assert_eq!(key_of("/caf%C3%A9/a%20b.html"), "café/a b.html");
    for key in [
        "café/a b.html",
        "a?b#c%d.html",
        "dir/index.html",
        "+&=.html",
    ] {
        let uri = uri_of(key);
        assert!(!uri.contains(['?', '#', ' ']), "{uri}");
        assert_eq!(key_of(&uri), key);
    }
}

#[test]
fn functions_forward_respond_or_fail_with_503() {
    let mut d = distribution();
    d.viewer_request = Some(
        Function::load(
            "function handler(e) { var r = e.request;\n\
             if (r.uri === '/go') { return { statusCode: 302, headers: { location: { value: '/a/' } } }; }\n\
             if (r.uri === '/boom') { throw new Error('boom'); }\n\
             if (r.uri.endsWith('/')) { r.uri += 'index.html'; } return r; }",
        )
        .unwrap(),
    );
    let sub = serve(&d, "GET", "/a/");
    assert_eq!((sub.status, body(&sub)), (200, "a"));
    assert_eq!(
        sub.trace.function,
        Some(FunctionTrace::Forward("/a/index.html".into()))
    );
    let go = serve(&d, "GET", "/go");
    assert_eq!((go.status, go.headers.get("location")), (302, Some("/a/")));
    // The policy applies to a function's response too.
    assert_eq!(go.headers.get("x-frame-options"), Some("DENY"));
    let boom = serve(&d, "GET", "/boom");
    assert_eq!(boom.status, 503);
    assert!(
        matches!(&boom.trace.function, Some(FunctionTrace::Error(m)) if m.contains("boom")),
        "{:?}",
        boom.trace
    );
}

#[test]
fn the_viewer_response_function_is_skipped_for_origin_errors() {
    let mut d = distribution();
    d.viewer_response = Some(
        Function::load(
            "function handler(e) { var r = e.response; r.headers['x-seen'] = { value: 'yes' };\n\
             delete r.headers['x-amz-meta-sha256']; r.statusCode = 500; return r; }",
        )
        .unwrap(),
    );
    let ok = serve(&d, "GET", "/index.html");
    assert_eq!(ok.status, 200, "the status stays");
    assert_eq!(ok.headers.get("x-seen"), Some("yes"));
    assert_eq!(ok.headers.get("x-amz-meta-sha256"), None);
    let missing = serve(&d, "GET", "/nope.html");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.headers.get("x-seen"), None);
}

#[test]
fn the_model_reads_cloudfronts_config() {
    let config = DistributionConfig::builder()
        .caller_reference("r")
        .comment("c")
        .enabled(true)
        .origins(
            aws_sdk_cloudfront::types::Origins::builder()
                .quantity(0)
                .set_items(Some(Vec::new()))
                .build()
                .unwrap(),
        )
        .default_root_object("index.html")
        .custom_error_responses(
            CustomErrorResponses::builder()
                .quantity(1)
                .items(
                    CustomErrorResponse::builder()
                        .error_code(404)
                        .response_page_path("/404.html")
                        .response_code("404")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .default_cache_behavior(
            DefaultCacheBehavior::builder()
                .target_origin_id("o")
                .viewer_protocol_policy(
                    aws_sdk_cloudfront::types::ViewerProtocolPolicy::RedirectToHttps,
                )
                .function_associations(
                    FunctionAssociations::builder()
                        .quantity(1)
                        .items(
                            FunctionAssociation::builder()
                                .event_type(EventType::ViewerRequest)
                                .function_arn("arn:f")
                                .build()
                                .unwrap(),
                        )
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let code = BTreeMap::from([(
        "arn:f".to_owned(),
        b"function handler(e) { return e.request; }".to_vec(),
    )]);
    let model = Distribution::new(&config, None, &code).unwrap();
    assert_eq!(model.default_root_object.as_deref(), Some("index.html"));
    assert_eq!(model.allowed_methods, ["GET", "HEAD"]);
    assert_eq!(
        model.error_response(404).map(|e| e.response_code),
        Some(Some(404))
    );
    assert!(model.viewer_request.is_some() && model.viewer_response.is_none());
    assert!(Distribution::new(&config, None, &BTreeMap::new()).is_err());
}
