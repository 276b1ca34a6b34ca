//! Content-Security-Policy `"auto"`: a strict policy per HTML page, built from what the page really
//! contains, and the checks of how strict a policy is.
//!
//! [`analyse`] reads one page (inline `<script>`/`<style>` elements, event-handler and `style`
//! attributes, external origins by directive); [`Page::policy`] turns that into the page's policy, or
//! into the reason it falls back to the site-wide policy; [`weaknesses`] names what makes a policy
//! weaker than strict (audit, and the tests of what this module builds). Pure: no I/O, no AWS.
//!
//! Delivery limits (CloudFront and S3 documentation, checked):
//! - S3 user-defined metadata: at most 2 KB per object, counted as the UTF-8 bytes of every
//!   `x-amz-meta-*` key and value together ("Working with object metadata"). A page's policy travels
//!   as `x-amz-meta-csp` beside `x-amz-meta-sha256`, so it gets [`METADATA_ROOM`] bytes.
//! - CloudFront response headers policy: the `ContentSecurityPolicy` value of a
//!   `SecurityHeadersConfig` is at most 1783 characters ("Quotas": response headers policies),
//!   [`HEADERS_POLICY_ROOM`]; the site-wide policy (error pages) must fit there.
//! - CloudFront: a request or an origin response, headers included, is at most 20,480 bytes
//!   ("Quotas": general quotas); a policy within the metadata room fits with room to spare.
//! - CloudFront Functions: 10 KB of code (`provision::cloudfront::function`); the viewer-response
//!   function copies the metadata into the header, so its size does not grow with the site.

mod analyse;
mod build;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

pub use analyse::analyse;
pub use build::{BASE, weaknesses};

/// The user-metadata key of a page's policy (`x-amz-meta-csp`).
pub const METADATA_KEY: &str = "csp";
/// S3's limit on all user metadata of one object, keys and values.
pub const METADATA_LIMIT: usize = 2048;
/// What is left for the policy next to `sha256` = 64 hex digits and the `csp` key itself.
pub const METADATA_ROOM: usize = METADATA_LIMIT - "sha256".len() - 64 - METADATA_KEY.len();
/// CloudFront's limit on the Content-Security-Policy value of a response headers policy.
pub const HEADERS_POLICY_ROOM: usize = 1783;
/// Changes whenever the analysis or the policy it builds changes: stored policies computed under
/// another version are computed again (see `deploy`'s basis fingerprint).
pub const ANALYSIS_VERSION: u32 = 1;

/// The fetch directives a page's external sources are sorted into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Directive {
    Script,
    Style,
    Img,
    Font,
    Connect,
    Frame,
    Media,
    Manifest,
    Form,
}

impl Directive {
    pub fn name(self) -> &'static str {
        match self {
            Directive::Script => "script-src",
            Directive::Style => "style-src",
            Directive::Img => "img-src",
            Directive::Font => "font-src",
            Directive::Connect => "connect-src",
            Directive::Frame => "frame-src",
            Directive::Media => "media-src",
            Directive::Manifest => "manifest-src",
            Directive::Form => "form-action",
        }
    }
}

/// What one page needs from its policy. Hashes are CSP source expressions (`'sha256-…'`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// Inline `<script>` elements (executable types only).
    pub scripts: BTreeSet<String>,
    /// Inline `<style>` elements.
    pub styles: BTreeSet<String>,
    /// Event-handler attributes (`onclick=…`): need `'unsafe-hashes'` in `script-src`.
    pub handlers: BTreeSet<String>,
    /// `style=` attributes: need `'unsafe-hashes'` in `style-src`.
    pub style_attributes: BTreeSet<String>,
    /// External origins (`https://host[:port]`) by directive.
    pub origins: BTreeMap<Directive, BTreeSet<String>>,
    /// `data:` URLs for fonts (images always allow `data:`).
    pub data_fonts: bool,
    /// What no strict policy can allow, each said for a person (`javascript:` URLs, plugins, …).
    pub blocked: BTreeSet<String>,
}

/// A page's policy, or why it gets the site-wide one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Strict and complete: everything the page uses is allowed.
    Strict(String),
    /// Strict, but parts of the page that no strict policy allows stay blocked (listed).
    Partial {
        policy: String,
        blocked: Vec<String>,
    },
    /// Over the room it has: the page carries no policy of its own and gets the site-wide one.
    TooLong { length: usize, room: usize },
}

impl Outcome {
    /// The policy the page carries itself, if any.
    pub fn policy(&self) -> Option<&str> {
        match self {
            Outcome::Strict(p) | Outcome::Partial { policy: p, .. } => Some(p),
            Outcome::TooLong { .. } => None,
        }
    }

    /// Why the page is on a fallback, for the deploy summary; `None` when it is not.
    pub fn fallback_reason(&self) -> Option<String> {
        match self {
            Outcome::Strict(_) => None,
            Outcome::Partial { blocked, .. } => Some(format!(
                "no strict policy allows {}: blocked under the page's own policy",
                blocked.join(", ")
            )),
            Outcome::TooLong { length, room } => Some(format!(
                "its policy is {length} bytes, over the {room} bytes it can carry: served with \
                 the site-wide policy, which blocks its inline scripts, styles and handlers"
            )),
        }
    }
}

impl Page {
    /// This page's strict policy within `room` bytes.
    pub fn outcome(&self, room: usize) -> Outcome {
        let policy = build::policy(self);
        if policy.len() > room {
            return Outcome::TooLong {
                length: policy.len(),
                room,
            };
        }
        if self.blocked.is_empty() {
            Outcome::Strict(policy)
        } else {
            Outcome::Partial {
                policy,
                blocked: self.blocked.iter().cloned().collect(),
            }
        }
    }

    /// How many distinct inline hashes the page's policy lists.
    pub fn hash_count(&self) -> usize {
        self.scripts.len() + self.styles.len() + self.handlers.len() + self.style_attributes.len()
    }

    /// Every inline hash, for counting distinct hashes across a site.
    pub fn hashes(&self) -> impl Iterator<Item = &String> {
        self.scripts
            .iter()
            .chain(&self.styles)
            .chain(&self.handlers)
            .chain(&self.style_attributes)
    }
}

/// The site-wide policy of the response headers policy in auto mode: the strict policy of the page
/// served for errors (`404.html` or the SPA fallback), which never passes the viewer-response
/// function, when it fits CloudFront's limit; else [`BASE`], and the reason.
pub fn site_policy(error_page: Option<&Page>) -> (String, Option<String>) {
    let Some(page) = error_page else {
        return (BASE.to_owned(), None);
    };
    match page.outcome(HEADERS_POLICY_ROOM) {
        Outcome::TooLong { length, room } => (
            BASE.to_owned(),
            Some(format!(
                "as the error page its policy ({length} characters) does not fit the headers \
                 policy's {room}: error responses get the policy without its hashes"
            )),
        ),
        outcome => (
            outcome.policy().unwrap_or(BASE).to_owned(),
            outcome.fallback_reason(),
        ),
    }
}
