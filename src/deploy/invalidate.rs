//! Stage 8, invalidate: only the paths of changed and deleted keys, collapsed to wildcards past a
//! limit (CloudFront bills invalidation paths past 1,000 a month; a wildcard counts as one).

use std::collections::BTreeSet;

use crate::aws::Aws;
use crate::error::{AwsResultExt as _, Result};

/// Everything but unreserved characters and `/` is encoded; `*` too, since it is the wildcard.
fn encode(path: &str) -> String {
    crate::aws::encode_key(path)
}

/// The viewer paths that can serve `key` from the cache.
fn viewer_paths(key: &str) -> Vec<String> {
    let mut paths = vec![format!("/{}", encode(key))];
    if key == "index.html" {
        paths.push("/".to_owned());
    } else if let Some(dir) = key.strip_suffix("/index.html") {
        // `/dir/` is rewritten to `dir/index.html` by the function; `/dir` redirects to it.
        paths.push(format!("/{}/", encode(dir)));
        paths.push(format!("/{}", encode(dir)));
    }
    paths
}

/// Invalidation paths for the changed keys: exact paths up to `limit`, then one wildcard per
/// top-level folder, then `/*`.
pub fn paths<'a>(keys: impl IntoIterator<Item = &'a str>, limit: usize) -> Vec<String> {
    let keys: Vec<&str> = keys.into_iter().collect();
    let exact: BTreeSet<String> = keys.iter().flat_map(|k| viewer_paths(k)).collect();
    if exact.len() <= limit {
        return exact.into_iter().collect();
    }
    let grouped: BTreeSet<String> = keys
        .iter()
        .flat_map(|k| match k.split_once('/') {
            Some((top, _)) => vec![format!("/{}/*", encode(top)), format!("/{}", encode(top))],
            None => viewer_paths(k),
        })
        .collect();
    if grouped.len() <= limit {
        grouped.into_iter().collect()
    } else {
        vec!["/*".to_owned()]
    }
}

/// Sends one invalidation; returns its id. Waits for completion when asked.
pub async fn send(
    aws: &Aws,
    distribution_id: &str,
    paths: &[String],
    reference: &str,
    wait: bool,
) -> Result<String> {
    use aws_sdk_cloudfront::types::{InvalidationBatch, Paths};
    let resource = format!("cloudfront distribution {distribution_id}");
    let batch = InvalidationBatch::builder()
        .caller_reference(reference)
        .paths(
            Paths::builder()
                .quantity(i32::try_from(paths.len()).unwrap_or(i32::MAX))
                .set_items(Some(paths.to_vec()))
                .build()?,
        )
        .build()?;
    let out = aws
        .cloudfront
        .create_invalidation()
        .distribution_id(distribution_id)
        .invalidation_batch(batch)
        .send()
        .await
        .op("CreateInvalidation", &resource)?;
    let id = out.invalidation.map(|i| i.id).unwrap_or_default();
    if wait {
        use aws_sdk_cloudfront::client::Waiters as _;
        aws.cloudfront
            .wait_until_invalidation_completed()
            .distribution_id(distribution_id)
            .id(&id)
            .wait(std::time::Duration::from_mins(15))
            .await
            .map_err(|e| anyhow::anyhow!("waiting for invalidation {id}: {e}"))?;
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_files_invalidate_their_folder_urls() {
        assert_eq!(paths(["a/index.html"], 15), ["/a", "/a/", "/a/index.html"]);
        assert_eq!(paths(["index.html"], 15), ["/", "/index.html"]);
        assert_eq!(paths(["app.css"], 15), ["/app.css"]);
    }

    #[test]
    fn special_characters_are_encoded() {
        assert_eq!(
            paths(["docs/a b#?%+*.html", "caf\u{e9}/index.html"], 15),
            [
                "/caf%C3%A9",
                "/caf%C3%A9/",
                "/caf%C3%A9/index.html",
                "/docs/a%20b%23%3F%25%2B%2A.html"
            ]
        );
    }

    #[test]
    fn many_paths_collapse_to_folder_wildcards_then_everything() {
        let keys: Vec<String> = (0..20)
            .map(|i| format!("blog/post-{i}.html"))
            .chain(["about.html".to_owned()])
            .collect();
        assert_eq!(
            paths(keys.iter().map(String::as_str), 15),
            ["/about.html", "/blog", "/blog/*"]
        );
        let keys: Vec<String> = (0..20).map(|i| format!("d{i}/x.html")).collect();
        assert_eq!(paths(keys.iter().map(String::as_str), 15), ["/*"]);
    }
}
