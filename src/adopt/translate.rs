//! Translation of the website configuration into the config's terms: routing rules, redirect-all
//! and per-object redirects become `[[redirects]]`, an `index.html` error document the SPA
//! fallback; what has no equivalent is reported.

use aws_sdk_s3::Client;
use aws_sdk_s3::types::WebsiteConfiguration;
use serde::Serialize;

use crate::error::Result;
use crate::output::escape;

use super::survey::list_keys;

/// The website's redirects and error handling, as the config expresses them.
#[derive(Debug, Default, Clone, Serialize, serde::Deserialize)]
pub struct Translated {
    pub redirects: Vec<crate::config::Redirect>,
    pub spa_fallback: Option<String>,
    /// What could not be translated, for a warning.
    pub skipped: Vec<String>,
}

/// The website's routing rules, redirect-all and per-object redirects
/// (`x-amz-website-redirect-location`) as config redirects, and an `index.html` error document
/// as the SPA fallback.
pub(super) async fn translate(
    s3: &Client,
    bucket: &str,
    website: &WebsiteConfiguration,
) -> Result<Translated> {
    let mut out = Translated::default();
    if let Some(all) = &website.redirect_all_requests_to {
        let protocol = all.protocol.as_ref().map_or("https", |p| p.as_str());
        out.redirects.push(redirect(
            "/*",
            &format!("{protocol}://{}/:splat", all.host_name),
            301,
        ));
        return Ok(out);
    }
    let (spa_fallback, skipped) = documents(website);
    out.spa_fallback = spa_fallback;
    out.skipped = skipped;
    for rule in website.routing_rules() {
        match rule_redirect(rule) {
            Ok(r) => out.redirects.push(r),
            Err(why) => out.skipped.push(why),
        }
    }
    out.redirects.extend(object_redirects(s3, bucket).await?);
    Ok(out)
}

/// The website's index and error documents: an `index.html` error document is an SPA fallback;
/// names the distribution does not use (it serves `dir/index.html` for `dir/` and `/404.html` for
/// a missing page) are reported, as the objects stay where they are.
fn documents(website: &WebsiteConfiguration) -> (Option<String>, Vec<String>) {
    let mut skipped = Vec::new();
    if let Some(index) = &website.index_document
        && index.suffix != "index.html"
    {
        skipped.push(format!(
            "index document `{}`: the distribution serves `dir/index.html` for `dir/`; \
             publish the pages under that name",
            escape(&index.suffix)
        ));
    }
    let spa_fallback = match website.error_document.as_ref().map(|e| e.key.as_str()) {
        Some("index.html") => Some("/index.html".to_owned()),
        None | Some("404.html") => None,
        Some(other) => {
            skipped.push(format!(
                "error document `{}`: the distribution answers missing pages with `/404.html`; \
                 publish the page under that name, or set `deploy.spa_fallback = \"/{}\"` to \
                 serve it with status 200",
                escape(other),
                escape(other)
            ));
            None
        }
    };
    (spa_fallback, skipped)
}

pub(super) fn redirect(from: &str, to: &str, status: u16) -> crate::config::Redirect {
    crate::config::Redirect {
        from: from.to_owned(),
        to: to.to_owned(),
        status: crate::config::RedirectStatus::try_from(status).unwrap_or_default(),
    }
}

/// One website routing rule as a redirect, or why it has no equivalent.
fn rule_redirect(
    rule: &aws_sdk_s3::types::RoutingRule,
) -> std::result::Result<crate::config::Redirect, String> {
    let condition = rule.condition.as_ref();
    if let Some(code) = condition.and_then(|c| c.http_error_code_returned_equals.as_deref()) {
        return Err(format!(
            "a rule on HTTP error {code} (CloudFront custom error responses cover 403/404)"
        ));
    }
    let prefix = condition
        .and_then(|c| c.key_prefix_equals.as_deref())
        .unwrap_or("");
    let target = rule.redirect.as_ref();
    let status = target
        .and_then(|r| r.http_redirect_code.as_deref())
        .and_then(|c| c.parse().ok())
        .filter(|c| [301, 302, 307, 308].contains(c))
        .unwrap_or(301);
    let path = match (
        target.and_then(|r| r.replace_key_with.as_deref()),
        target.and_then(|r| r.replace_key_prefix_with.as_deref()),
    ) {
        (Some(key), _) => format!("/{key}"),
        (None, Some(new_prefix)) => format!("/{new_prefix}:splat"),
        (None, None) => "/:splat".to_owned(),
    };
    let to = match target.and_then(|r| r.host_name.as_deref()) {
        Some(host) => {
            let protocol = target
                .and_then(|r| r.protocol.as_ref())
                .map_or("https", |p| p.as_str());
            format!("{protocol}://{host}{path}")
        }
        None => path,
    };
    Ok(redirect(&format!("/{prefix}*"), &to, status))
}

/// Objects that redirect (`x-amz-website-redirect-location`): read with one `HeadObject` each, as
/// listings do not show it.
async fn object_redirects(s3: &Client, bucket: &str) -> Result<Vec<crate::config::Redirect>> {
    let mut redirects = Vec::new();
    for key in list_keys(s3, bucket).await?.into_iter().map(|(k, _)| k) {
        let resource = format!("object `{}`", escape(&key));
        // Deleted since the listing: nothing to do for it.
        let Some(head) = crate::observe::objects::head(s3, bucket, &key, None, &resource).await?
        else {
            continue;
        };
        if let Some(location) = head.website_redirect_location.filter(|l| !l.is_empty()) {
            redirects.push(redirect(&format!("/{key}"), &location, 301));
        }
    }
    Ok(redirects)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::types::{Condition, Redirect as S3Redirect, RoutingRule};

    fn rule(prefix: Option<&str>, redirect: S3Redirect) -> RoutingRule {
        RoutingRule::builder()
            .set_condition(prefix.map(|p| Condition::builder().key_prefix_equals(p).build()))
            .redirect(redirect)
            .build()
    }

    #[test]
    fn routing_rules_become_redirects() {
        let prefix = rule(
            Some("old-blog/"),
            S3Redirect::builder()
                .replace_key_prefix_with("blog/")
                .http_redirect_code("301")
                .build(),
        );
        let r = rule_redirect(&prefix).unwrap();
        assert_eq!(
            (r.from.as_str(), r.to.as_str()),
            ("/old-blog/*", "/blog/:splat")
        );
        assert_eq!(u16::from(r.status), 301);

        let page = rule(
            Some("docs/"),
            S3Redirect::builder()
                .replace_key_with("manual.html")
                .host_name("docs.example.com")
                .http_redirect_code("302")
                .build(),
        );
        let r = rule_redirect(&page).unwrap();
        assert_eq!(
            (r.from.as_str(), r.to.as_str(), u16::from(r.status)),
            ("/docs/*", "https://docs.example.com/manual.html", 302)
        );

        let on_error = RoutingRule::builder()
            .condition(
                Condition::builder()
                    .http_error_code_returned_equals("404")
                    .build(),
            )
            .redirect(
                S3Redirect::builder()
                    .replace_key_with("missing.html")
                    .build(),
            )
            .build();
        assert!(
            rule_redirect(&on_error)
                .unwrap_err()
                .contains("HTTP error 404")
        );
    }

    #[test]
    fn index_and_error_documents_the_distribution_does_not_use_are_reported() {
        use aws_sdk_s3::types::{ErrorDocument, IndexDocument};
        let website = |index: &str, error: Option<&str>| {
            WebsiteConfiguration::builder()
                .index_document(IndexDocument::builder().suffix(index).build().unwrap())
                .set_error_document(error.map(|e| ErrorDocument::builder().key(e).build().unwrap()))
                .build()
        };
        assert_eq!(
            documents(&website("index.html", Some("404.html"))),
            (None, Vec::new())
        );
        assert_eq!(
            documents(&website("index.html", Some("index.html"))),
            (Some("/index.html".to_owned()), Vec::new())
        );
        let (fallback, skipped) = documents(&website("default.htm", Some("errors/oops.html")));
        assert_eq!(fallback, None);
        assert_eq!(skipped.len(), 2, "{skipped:?}");
        assert!(
            skipped[0].starts_with("index document `default.htm`"),
            "{skipped:?}"
        );
        assert!(
            skipped[1].starts_with("error document `errors/oops.html`"),
            "{skipped:?}"
        );
    }
}
