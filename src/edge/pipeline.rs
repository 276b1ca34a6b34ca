//! One viewer request through the distribution, in CloudFront's order:
//!
//! 1. a method the cache behavior does not allow is answered 403 ("Allowed HTTP methods",
//!    "Values that you specify when you create or update a distribution": CloudFront serves only
//!    the chosen methods and answers others with an error; with GET/HEAD it is 403);
//! 2. the viewer-request function runs; a response it generates goes straight to the viewer,
//!    without the cache, the origin, the error pages or a viewer-response function ("Determine
//!    function purpose"). A function that fails is a 503 ("Troubleshooting ... 503 errors":
//!    CloudFront returns 503 when a function has an execution error);
//! 3. the default root object replaces the uri `/` only, never a subfolder's `/` ("Specify a
//!    default root object");
//! 4. the origin is asked for the uri, percent-decoded into the key; the query string is not
//!    forwarded (managed cache policy `CachingOptimized`: none in the cache key or the origin
//!    request). A missing key is 403: S3 answers so when the reader (the OAC) may not
//!    `s3:ListBucket`;
//! 5. an origin status of 400 or more with a custom error response for it is replaced by the
//!    configured `ResponsePagePath`, fetched from the origin (no viewer-request function runs for
//!    it), with the configured `ResponseCode` ("Generate custom error responses");
//! 6. the response headers policy adds, overrides and removes headers; it applies to every
//!    response of the cache behavior, those a function generated included (the Developer Guide
//!    names responses from the cache and the origin; function-generated responses observed on
//!    CloudFront carry the policy's headers too);
//! 7. a viewer-response function runs only when the origin status is below 400 ("Restrictions on
//!    all edge functions": CloudFront doesn't invoke edge functions for viewer response events
//!    when the origin returns HTTP status code 400 or higher), and cannot change the status;
//! 8. the object's Content-Type, Cache-Control, ETag, Last-Modified and `x-amz-meta-*` headers
//!    reach the viewer as S3 sent them; a HEAD response has the headers and no body.

use std::collections::BTreeMap;
use std::future::Future;

use super::event::{Outcome, Request, Response};
use super::headers::Headers;
use super::model::Distribution;
use crate::error::Result;

/// An object as the origin serves it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Object {
    pub body: Vec<u8>,
    pub content_type: Option<String>,
    pub cache_control: Option<String>,
    /// `x-amz-meta-<name>`, by name without the prefix.
    pub metadata: BTreeMap<String, String>,
    pub etag: Option<String>,
    /// An HTTP date.
    pub last_modified: Option<String>,
}

/// Where the distribution's objects come from.
pub trait Origin {
    /// The object at `key`; `None` when the origin answers 403 (a missing key, or one the
    /// bucket policy denies CloudFront).
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Object>>>;
}

/// What the viewer-request function did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FunctionTrace {
    Forward(String),
    Respond(u16),
    Error(String),
}

/// How a response came about, for the request log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace {
    /// `None`: no viewer-request function is associated (or the method was refused first).
    pub function: Option<FunctionTrace>,
    /// The custom error page served instead of the origin's error.
    pub error_page: Option<String>,
    /// Why the viewer-response function failed.
    pub viewer_response_error: Option<String>,
    /// Why the origin could not be read.
    pub origin_error: Option<String>,
}

/// A response on its way to the viewer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub status: u16,
    /// `content-length` included (also for a HEAD response, which has no body).
    pub headers: Headers,
    pub body: Vec<u8>,
    pub trace: Trace,
}

/// S3's answer to a reader without `s3:GetObject` on the key (or `s3:ListBucket`, for a missing
/// one).
const ACCESS_DENIED: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
    <Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";

impl Distribution {
    /// Serves `request` from `origin`.
    pub async fn serve(&self, origin: &impl Origin, request: Request) -> Served {
        let head = request.method == "HEAD";
        let mut trace = Trace::default();
        let mut served = self.respond(origin, request, &mut trace).await;
        served
            .headers
            .set("content-length", served.body.len().to_string());
        if head {
            served.body.clear();
        }
        served.trace = trace;
        served
    }

    async fn respond(&self, origin: &impl Origin, request: Request, trace: &mut Trace) -> Served {
        if !self.allowed_methods.contains(&request.method) {
            return self.generated(
                403,
                "This distribution is not configured to allow the HTTP request method that was \
                 used for this request.",
            );
        }
        let request = match &self.viewer_request {
            None => request,
            Some(function) => match function.viewer_request(&request) {
                Ok(Outcome::Forward(forwarded)) => {
                    trace.function = Some(FunctionTrace::Forward(forwarded.uri.clone()));
                    forwarded
                }
                Ok(Outcome::Respond(response)) => {
                    trace.function = Some(FunctionTrace::Respond(response.status));
                    return self.function_response(&response);
                }
                Err(e) => {
                    trace.function = Some(FunctionTrace::Error(e.to_string()));
                    return self.generated(503, "The CloudFront function returned an error.");
                }
            },
        };
        let uri = match &self.default_root_object {
            Some(root) if request.uri == "/" => format!("/{root}"),
            _ => request.uri.clone(),
        };
        let fetched = match origin.get(&key_of(&uri)).await {
            Ok(fetched) => fetched,
            Err(e) => {
                trace.origin_error = Some(e.to_string());
                return self.generated(502, "CloudFront wasn't able to connect to the origin.");
            }
        };
        let Some(object) = fetched else {
            return self.origin_error(origin, 403, trace).await;
        };
        let mut served = with_object(200, object);
        if let Some(policy) = &self.headers_policy {
            policy.apply(&mut served.headers);
        }
        if let Some(function) = &self.viewer_response {
            self.viewer_response(function, &request, &mut served, trace);
        }
        served
    }

    /// An origin error: the custom error response for `status`, or the origin's own answer.
    async fn origin_error(&self, origin: &impl Origin, status: u16, trace: &mut Trace) -> Served {
        let page = match self.error_response(status) {
            Some(custom) => match &custom.page {
                Some(page) => origin
                    .get(&key_of(page))
                    .await
                    .ok()
                    .flatten()
                    .map(|object| (page.clone(), custom.response_code.unwrap_or(status), object)),
                None => None,
            },
            None => None,
        };
        // Without a page (or when the page itself cannot be read) the viewer gets the origin's
        // error.
        let mut served = if let Some((page, code, object)) = page {
            trace.error_page = Some(page);
            with_object(code, object)
        } else {
            let mut headers = Headers::default();
            headers.add("content-type", "application/xml");
            Served {
                status,
                headers,
                body: ACCESS_DENIED.as_bytes().to_vec(),
                trace: Trace::default(),
            }
        };
        if let Some(policy) = &self.headers_policy {
            policy.apply(&mut served.headers);
        }
        served
    }

    fn viewer_response(
        &self,
        function: &super::Function,
        request: &Request,
        served: &mut Served,
        trace: &mut Trace,
    ) {
        let response = Response {
            status: served.status,
            status_description: None,
            headers: served.headers.to_fields(),
        };
        match function.viewer_response(request, &response) {
            Ok(returned) => served.headers = Headers::from_fields(&returned.headers),
            Err(e) => {
                trace.viewer_response_error = Some(e.to_string());
                *served = self.generated(503, "The CloudFront function returned an error.");
            }
        }
    }

    /// A response the viewer-request function generated, with the policy's headers.
    fn function_response(&self, response: &Response) -> Served {
        let mut served = Served {
            status: response.status,
            headers: Headers::from_fields(&response.headers),
            body: Vec::new(),
            trace: Trace::default(),
        };
        if let Some(policy) = &self.headers_policy {
            policy.apply(&mut served.headers);
        }
        served
    }

    /// An error CloudFront itself answers with.
    fn generated(&self, status: u16, message: &str) -> Served {
        let mut headers = Headers::default();
        headers.add("content-type", "text/html");
        let body = format!(
            "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\">\n<HTML><HEAD>\
             <TITLE>ERROR: The request could not be satisfied</TITLE></HEAD><BODY>\n\
             <H1>{status} ERROR</H1>\n<H2>The request could not be satisfied.</H2>\n\
             <HR noshade size=\"1px\">\n{message}\n</BODY></HTML>\n"
        );
        let mut served = Served {
            status,
            headers,
            body: body.into_bytes(),
            trace: Trace::default(),
        };
        if let Some(policy) = &self.headers_policy {
            policy.apply(&mut served.headers);
        }
        served
    }
}

/// The S3 key of a request path: without its leading `/`, percent-decoded as S3 decodes it.
pub fn key_of(uri: &str) -> String {
    let path = uri.strip_prefix('/').unwrap_or(uri);
    percent_encoding::percent_decode_str(path)
        .decode_utf8_lossy()
        .into_owned()
}

/// The request path of an S3 key: `/` and the key with everything but unreserved characters and
/// `/` percent-encoded, which [`key_of`] turns back into the key.
pub fn uri_of(key: &str) -> String {
    format!("/{}", crate::aws::encode_key(key))
}

/// A response carrying `object` with the headers S3 sends for it.
fn with_object(status: u16, object: Object) -> Served {
    let mut headers = Headers::default();
    let pairs = [
        ("content-type", object.content_type),
        ("cache-control", object.cache_control),
        ("etag", object.etag),
        ("last-modified", object.last_modified),
    ];
    for (name, value) in pairs {
        if let Some(value) = value {
            headers.add(name, value);
        }
    }
    for (name, value) in object.metadata {
        headers.add(&format!("x-amz-meta-{name}"), value);
    }
    Served {
        status,
        headers,
        body: object.body,
        trace: Trace::default(),
    }
}

#[cfg(test)]
mod tests;
