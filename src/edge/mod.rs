//! The edge: how CloudFront serves a viewer's request for a distribution, modelled in the crate
//! (the "visitor's view"). The site's CloudFront Functions run in an embedded JavaScript engine
//! (`QuickJS`) with the event and response shapes CloudFront documents; around them, the default
//! root object, the custom error responses, the response headers policy and the objects'
//! headers ([`pipeline`]); and a local HTTP server that serves the model ([`server`]).
//!
//! The model is built from CloudFront's own types ([`model`]), whether they are what `up` would
//! configure or what CloudFront holds; the edge reads no config.

pub mod bucket;
pub mod event;
pub mod function;
pub mod headers;
pub mod live;
pub mod model;
pub mod pipeline;
pub mod server;

pub use event::{Fields, Outcome, Request, Response};
pub use function::{Function, Limits};
pub use headers::{Headers, HeadersPolicy};
pub use model::{Distribution, ErrorResponse};
pub use pipeline::{Object, Origin, Served, Trace};
