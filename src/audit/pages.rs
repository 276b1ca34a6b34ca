//! Each HTML page's live Content-Security-Policy (`SW.CloudFront.PageCSP`).
//!
//! With CSP `"auto"` a page's own policy travels in its object's metadata (`x-amz-meta-csp`) and
//! the viewer-response function turns it into the header, so the policy a visitor gets depends on
//! the object, the LIVE function code and the headers policy together. Audit asks the edge model
//! of the live distribution ([`crate::edge::live`]) for every HTML page of the origin bucket, with
//! each object's headers read by `HeadObject` (no body is downloaded), and grades the
//! Content-Security-Policy of the response with [`crate::csp::weaknesses`]. A page whose metadata
//! was rewritten out of band, a function that drops or loosens the policy, or a page uploaded
//! without deploy all show up here by key.
//!
//! Cost: one listing of the bucket and one `HeadObject` per HTML page, [`CONCURRENCY`] at a time.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_cloudfront::types::DistributionConfig;
use aws_sdk_s3::Client;

use super::Outcome;
use crate::aws::Aws;
use crate::edge::{Object, Origin, Request};
use crate::error::{Error, Result};
use crate::names::STATE_PREFIX;
use crate::observe;
use crate::output::escape;

/// `HeadObject` requests in flight at once.
const CONCURRENCY: usize = 16;
/// Weak pages named in the evidence; the rest are counted.
const SHOWN: usize = 10;

/// What one page gets as served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub key: String,
    /// The response's Content-Security-Policy.
    pub policy: Option<String>,
    /// Whether the object carries its own policy (`x-amz-meta-csp`).
    pub own: bool,
}

/// Grades every HTML page of the distribution's origin bucket.
pub async fn audit(aws: &Aws, config: &DistributionConfig, resource: &str) -> Result<Outcome> {
    let Some(bucket) = crate::edge::live::origin_bucket(config) else {
        return Ok(Outcome::exception(
            "the default origin is not an S3 bucket's REST endpoint: its pages are not read",
        ));
    };
    let s3 = match observe::bucket::locate(aws, &bucket).await? {
        observe::bucket::Location::Missing => {
            return Ok(Outcome::exception(format!(
                "origin bucket `{bucket}` does not exist (CloudFront.12): no pages to read"
            )));
        }
        location => observe::bucket::client_in(aws, location.region()),
    };
    let keys: Vec<String> = observe::objects::list(&s3, &bucket, None)
        .await?
        .into_iter()
        .map(|o| o.key)
        .filter(|k| is_page(k))
        .collect();
    let model = crate::edge::live::model(aws, config, resource).await?;
    let origin = Heads {
        objects: heads(&s3, &bucket, &keys).await?,
        s3,
        bucket,
    };
    let mut pages = Vec::with_capacity(keys.len());
    for key in keys {
        let Some(object) = origin.objects.get(&key) else {
            continue; // deleted since the listing
        };
        let own = object.metadata.contains_key(crate::csp::METADATA_KEY);
        let html = object
            .content_type
            .as_deref()
            .is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("text/html"));
        let uri = crate::edge::pipeline::uri_of(&key);
        let served = model.serve(&origin, Request::new("GET", &uri)).await;
        if !html || served.status != 200 || served.trace.error_page.is_some() {
            continue; // not served as this page (a redirect, an error, another type)
        }
        pages.push(Page {
            policy: served
                .headers
                .get("content-security-policy")
                .map(ToOwned::to_owned),
            key,
            own,
        });
    }
    Ok(grade(&pages))
}

/// Pass when every page's policy is strict; otherwise fail naming the weak pages and why.
pub fn grade(pages: &[Page]) -> Outcome {
    if pages.is_empty() {
        return Outcome::pass("no HTML pages in the origin bucket");
    }
    let mut weak = Vec::new();
    for page in pages {
        let problems = match &page.policy {
            None => vec!["no Content-Security-Policy".to_owned()],
            Some(policy) => crate::csp::weaknesses(policy),
        };
        if !problems.is_empty() {
            weak.push(format!("`{}`: {}", escape(&page.key), problems.join(", ")));
        }
    }
    if weak.is_empty() {
        let own = pages.iter().filter(|p| p.own).count();
        return Outcome::pass(format!(
            "{} HTML page(s), each served a strict policy ({own} with its own)",
            pages.len()
        ));
    }
    let more = weak.len().saturating_sub(SHOWN);
    let more = if more > 0 {
        format!("; and {more} more")
    } else {
        String::new()
    };
    Outcome::fail(format!(
        "{} of {} HTML page(s) served a policy weaker than strict: {}{more}",
        weak.len(),
        pages.len(),
        weak[..weak.len().min(SHOWN)].join("; ")
    ))
}

/// A key deploy publishes as an HTML page (its name is one `mime_guess` types `text/html`, as
/// deploy does), outside sitewarden's own state.
fn is_page(key: &str) -> bool {
    !key.starts_with(STATE_PREFIX)
        && !key.ends_with('/')
        && mime_guess::from_path(key).first_raw() == Some("text/html")
}

/// The headers of `keys` (bodies left empty), [`CONCURRENCY`] `HeadObject`s at a time.
async fn heads(s3: &Client, bucket: &str, keys: &[String]) -> Result<BTreeMap<String, Object>> {
    let limit = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let mut tasks = tokio::task::JoinSet::new();
    for key in keys {
        let (s3, bucket, key, limit) = (s3.clone(), bucket.to_owned(), key.clone(), limit.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire().await;
            let object = head(&s3, &bucket, &key).await?;
            Ok::<_, Error>((key, object))
        });
    }
    let mut objects = BTreeMap::new();
    while let Some(done) = tasks.join_next().await {
        if let (key, Some(object)) = done.map_err(|e| Error::Other(e.into()))?? {
            objects.insert(key, object);
        }
    }
    Ok(objects)
}

/// One object's headers as S3 serves them; `None` when it is not there.
async fn head(s3: &Client, bucket: &str, key: &str) -> Result<Option<Object>> {
    let resource = format!("s3 object {bucket}/{}", escape(key));
    let Some(out) = observe::objects::head(s3, bucket, key, None, &resource).await? else {
        return Ok(None);
    };
    Ok(Some(Object {
        body: Vec::new(),
        last_modified: out
            .last_modified
            .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::HttpDate).ok()),
        content_type: out.content_type,
        cache_control: out.cache_control,
        metadata: out.metadata.unwrap_or_default().into_iter().collect(),
        etag: out.e_tag,
    }))
}

/// The pages' headers, read up front; a key the viewer-request function rewrites to (or an error
/// page) is read when asked for.
struct Heads {
    objects: BTreeMap<String, Object>,
    s3: Client,
    bucket: String,
}

impl Origin for Heads {
    async fn get(&self, key: &str) -> Result<Option<Object>> {
        if key.starts_with(STATE_PREFIX) {
            return Ok(None); // the bucket policy denies CloudFront sitewarden's state
        }
        match self.objects.get(key) {
            Some(object) => Ok(Some(object.clone())),
            None => head(&self.s3, &self.bucket, key).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Status;

    fn page(key: &str, policy: Option<&str>) -> Page {
        Page {
            key: key.to_owned(),
            policy: policy.map(ToOwned::to_owned),
            own: true,
        }
    }

    const STRICT: &str = "default-src 'self'; script-src 'self' 'sha256-AAAA'; \
        style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'self'; \
        frame-ancestors 'none'; form-action 'self'";

    #[test]
    fn strict_pages_pass_and_weak_or_missing_ones_fail_by_key() {
        assert!(
            crate::csp::weaknesses(STRICT).is_empty(),
            "the fixture is strict"
        );
        let pass = grade(&[
            page("index.html", Some(STRICT)),
            page("a/b.html", Some(STRICT)),
        ]);
        assert_eq!(pass.status, Status::Pass, "{}", pass.evidence);
        assert!(
            pass.evidence.contains("2 HTML page(s)"),
            "{}",
            pass.evidence
        );

        let weak = STRICT.replace("'sha256-AAAA'", "'unsafe-inline'");
        let fail = grade(&[
            page("index.html", Some(STRICT)),
            page("docs/weak.html", Some(&weak)),
            page("bare.html", None),
        ]);
        assert_eq!(fail.status, Status::Fail);
        assert!(
            fail.evidence.starts_with("2 of 3 HTML page(s)"),
            "{}",
            fail.evidence
        );
        assert!(
            fail.evidence.contains("`docs/weak.html`: "),
            "{}",
            fail.evidence
        );
        assert!(fail.evidence.contains("unsafe-inline"), "{}", fail.evidence);
        assert!(
            fail.evidence
                .contains("`bare.html`: no Content-Security-Policy")
        );
        assert!(!fail.evidence.contains("`index.html`"), "{}", fail.evidence);
    }

    #[test]
    fn many_weak_pages_are_counted_past_the_first_ten() {
        let pages: Vec<Page> = (0..25).map(|i| page(&format!("p{i}.html"), None)).collect();
        let fail = grade(&pages);
        assert_eq!(fail.status, Status::Fail);
        assert!(
            fail.evidence.ends_with("; and 15 more"),
            "{}",
            fail.evidence
        );
        assert_eq!(
            fail.evidence.matches("no Content-Security-Policy").count(),
            SHOWN
        );
    }

    #[test]
    fn pages_are_html_keys_outside_the_state_prefix() {
        for key in ["index.html", "a/B.HTM", "dir.x/page.html"] {
            assert!(is_page(key), "{key}");
        }
        for key in [
            "app.js",
            "html",
            "dir.html/readme",
            ".sitewarden/manifest.html",
            "a.xhtml",
        ] {
            assert!(!is_page(key), "{key}");
        }
    }
}
