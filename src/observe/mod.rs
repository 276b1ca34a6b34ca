//! Readers of live AWS state shared by the subsystems above (provision, deploy, audit, adopt), so
//! one question about a resource has one answer: the site's distribution is found the same way by
//! the deploy that invalidates it, the audit that grades it and the DNS step that points at it.

pub mod bucket;
pub mod certificate;
pub mod cloudfront;
pub mod distribution;
pub mod dns;
pub mod iam;
pub mod key;
pub mod monitoring;
pub mod objects;
