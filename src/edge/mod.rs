//! The edge: how CloudFront serves a viewer's request, modelled in the crate (the "visitor's
//! view"). This first part runs the site's CloudFront Function in an embedded JavaScript engine
//! (`QuickJS`), with the event and response shapes CloudFront documents, so that neither the tests
//! nor a user need Node.js.
//!
//! The function's code comes in as text (`provision` renders it): the edge reads no config.

pub mod event;
pub mod function;

pub use event::{Fields, Outcome, Request, Response};
pub use function::{Function, Limits};
