//! `preview [--port N] [--remote]`: serve the site on 127.0.0.1 through the edge model.
//!
//! Local: the source folder with what `deploy` would set on each object, behind what `up` would
//! configure (the same function code, headers policy and error responses). Remote: what is live —
//! the distribution's config, its LIVE function code, the attached headers policy, and the
//! objects of its origin bucket.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use globset::{GlobSet, GlobSetBuilder};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::config::{CacheRule, Config, Glob};
use crate::edge::bucket::Bucket;
use crate::edge::{Distribution, Object, Origin};
use crate::error::{Error, Exit, Result};
use crate::names::{STATE_PREFIX, SiteNames};
use crate::output::{Printer, escape};
use crate::site::{Session, Settings};

/// Stands in for the account in the local names (the origin's bucket name is never used).
const NO_ACCOUNT: &str = "000000000000";

/// The first line on stdout: where the preview listens.
#[derive(Debug, Serialize)]
struct Listening {
    url: String,
}

impl fmt::Display for Listening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.url)
    }
}

pub async fn preview(
    settings: &Settings,
    printer: &Printer,
    port: u16,
    remote: bool,
) -> Result<Exit> {
    // The functions' engine is not `Send`: the server runs on this thread.
    tokio::task::LocalSet::new()
        .run_until(async {
            if remote {
                let (distribution, origin) = Box::pin(live(settings, printer)).await?;
                Box::pin(serve(printer, port, distribution, origin)).await
            } else {
                let (distribution, origin) = local(settings, printer)?;
                Box::pin(serve(printer, port, distribution, origin)).await
            }
        })
        .await?;
    Ok(Exit::Success)
}

async fn serve<O: Origin + 'static>(
    printer: &Printer,
    port: u16,
    distribution: Distribution,
    origin: O,
) -> Result<()> {
    // Ctrl-C is listened for before the URL is printed: a viewer told the URL can stop it.
    let shutdown = interrupted()?;
    let listener = crate::edge::server::bind(port).await?;
    let port = listener.local_addr()?.port();
    printer.data(&Listening {
        url: format!("http://127.0.0.1:{port}/"),
    })?;
    printer.info("Press Ctrl-C to stop.");
    let printer = *printer;
    let log: Rc<dyn Fn(&str)> = Rc::new(move |line: &str| printer.info(line));
    crate::edge::server::serve(
        listener,
        Rc::new(distribution),
        Rc::new(origin),
        log,
        shutdown,
    )
    .await
}

/// Completes on Ctrl-C (SIGINT); the handler is in place when this returns.
#[cfg(unix)]
fn interrupted() -> Result<impl std::future::Future<Output = ()>> {
    let mut signal = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    Ok(async move {
        signal.recv().await;
    })
}

#[cfg(not(unix))]
fn interrupted() -> Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// What `up` and `deploy` would publish, built without AWS.
fn local(settings: &Settings, printer: &Printer) -> Result<(Distribution, Folder)> {
    let config = settings.load_config()?;
    let names = SiteNames::new(&config, NO_ACCOUNT);
    let region = settings
        .site_region(&config)
        .unwrap_or_else(|| crate::aws::US_EAST_1.to_owned());
    let source = settings.config_dir().join(&config.site.source);
    let desired = crate::provision::cloudfront::desired(&config, &names, &region, Some(&source))?;
    let mut code = BTreeMap::from([(desired.function_arn, desired.function_code.into_bytes())]);
    code.extend(
        desired
            .csp_function
            .map(|(arn, function)| (arn, function.into_bytes())),
    );
    let distribution =
        Distribution::new(&desired.distribution, Some(&desired.headers_policy), &code)?;
    let folder = Folder::new(&settings.config_dir().join(&config.site.source), &config)?;
    for (key, reason) in folder.refused.borrow().iter() {
        printer.warn(format_args!(
            "not serving `{}`: {reason}; `deploy` would refuse to publish it",
            escape(key)
        ));
    }
    printer.info(format_args!(
        "Previewing `{}` from `{}` as `up` and `deploy` would publish it",
        names.site,
        escape(&folder.root.display().to_string())
    ));
    Ok((distribution, folder))
}

/// What visitors get now: the live distribution, its LIVE function and policy, its bucket.
async fn live(settings: &Settings, printer: &Printer) -> Result<(Distribution, Bucket)> {
    let session = Session::open(settings).await?;
    let aws = &session.aws;
    let summary = crate::observe::distribution::find_site(aws, &session.names)
        .await?
        .ok_or_else(|| {
            Error::usage_with_hint(
                format!(
                    "site `{}` has no CloudFront distribution",
                    session.names.site
                ),
                "run `sitewarden up` first, or `sitewarden preview` without `--remote`",
            )
        })?;
    let resource = format!("cloudfront distribution {}", summary.id);
    let (config, _) = crate::observe::distribution::config(aws, &summary.id, &resource).await?;
    let bucket = crate::edge::live::origin_bucket(&config).ok_or_else(|| {
        Error::Other(anyhow::anyhow!(
            "the origin of {resource} is not an S3 bucket's REST endpoint: the preview serves only those"
        ))
    })?;
    let distribution = crate::edge::live::model(aws, &config, &resource).await?;
    printer.info(format_args!(
        "Previewing the live distribution {} (https://{}) with the objects of bucket `{bucket}`",
        summary.id, summary.domain_name
    ));
    Ok((
        distribution,
        Bucket {
            s3: aws.s3.clone(),
            bucket,
        },
    ))
}

/// The source folder as an origin: the files `deploy` would publish, with its headers.
struct Folder {
    root: PathBuf,
    exclude: GlobSet,
    allow: GlobSet,
    rules: Vec<CacheRule>,
    matchers: Vec<globset::GlobMatcher>,
    /// The config, for what deploy decides from it per page (CSP `"auto"`).
    config: Config,
    /// Key → file, from the last walk.
    files: RefCell<BTreeMap<String, PathBuf>>,
    /// Keys deploy's guard refuses by name, with the reason.
    refused: RefCell<BTreeMap<String, String>>,
}

fn glob_set(globs: &[Glob]) -> GlobSet {
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        builder.add(glob.matcher().glob().clone());
    }
    builder.build().unwrap_or_else(|_| GlobSet::empty())
}

impl Folder {
    fn new(root: &Path, config: &Config) -> Result<Folder> {
        let folder = Folder {
            root: root.to_owned(),
            exclude: glob_set(&config.deploy.exclude),
            allow: glob_set(&config.deploy.allow),
            rules: config.cache.clone(),
            matchers: config.cache.iter().map(|r| r.glob.matcher()).collect(),
            config: config.clone(),
            files: RefCell::default(),
            refused: RefCell::default(),
        };
        folder.walk()?;
        Ok(folder)
    }

    /// Walks the folder with deploy's rules: `exclude` globs, links kept inside, NFC keys; what
    /// the guard refuses by name is left out.
    fn walk(&self) -> Result<()> {
        let (files, _) = crate::deploy::walk::walk(&self.root, &self.exclude)?;
        let refused: BTreeMap<String, String> =
            crate::deploy::guard::check_names(&files, &self.allow)
                .into_iter()
                .map(|f| (f.key, f.reason.to_owned()))
                .collect();
        let files = files
            .into_iter()
            .filter(|f| !refused.contains_key(&f.key))
            .map(|f| (f.key, f.path))
            .collect();
        *self.files.borrow_mut() = files;
        *self.refused.borrow_mut() = refused;
        Ok(())
    }

    fn read(&self, key: &str) -> Option<Object> {
        let path = self.files.borrow().get(key)?.clone();
        let body = std::fs::read(&path).ok()?;
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        let published = crate::deploy::headers::published(key, &self.rules, &self.matchers);
        let sha256 = Sha256::digest(&body)
            .iter()
            .fold(String::new(), |mut hex, b| {
                let _ = write!(hex, "{b:02x}");
                hex
            });
        let mut metadata = published.metadata;
        let policy = crate::deploy::csp::page_policy(&self.config, key, &body);
        metadata.extend(crate::deploy::headers::metadata(&sha256, policy.as_deref()));
        Some(Object {
            body,
            content_type: Some(published.content_type),
            cache_control: Some(published.cache_control),
            metadata,
            etag: Some(format!("\"{}\"", &sha256[..32])),
            last_modified: modified.and_then(|m| {
                aws_smithy_types::DateTime::from(m)
                    .fmt(aws_smithy_types::date_time::Format::HttpDate)
                    .ok()
            }),
        })
    }
}

impl Origin for Folder {
    async fn get(&self, key: &str) -> Result<Option<Object>> {
        // The bucket policy denies CloudFront the state prefix.
        if key.starts_with(STATE_PREFIX) {
            return Ok(None);
        }
        if let Some(object) = self.read(key) {
            return Ok(Some(object));
        }
        // A file added (or removed) since the last walk: walk again before answering 403. A
        // folder emptied meanwhile keeps the last walk.
        if self.walk().is_ok() {
            return Ok(self.read(key));
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use crate::edge::{Headers, HeadersPolicy};

    #[test]
    fn the_desired_policy_sends_cloudfronts_header_values() {
        let config = crate::provision::cloudfront::headers::desired(
            "p",
            &crate::config::Headers::default(),
            crate::config::DEFAULT_CSP,
        )
        .unwrap();
        let mut headers = Headers::default();
        HeadersPolicy::from_config(&config).apply(&mut headers);
        assert_eq!(
            headers.get("strict-transport-security"),
            Some("max-age=63072000; includeSubDomains")
        );
        assert_eq!(headers.get("x-content-type-options"), Some("nosniff"));
        assert_eq!(headers.get("x-frame-options"), Some("DENY"));
        assert_eq!(
            headers.get("referrer-policy"),
            Some("strict-origin-when-cross-origin")
        );
        assert_eq!(
            headers.get("content-security-policy"),
            Some(crate::config::DEFAULT_CSP)
        );
        assert_eq!(
            headers.get("permissions-policy"),
            Some(crate::config::DEFAULT_PERMISSIONS_POLICY)
        );
    }
}
