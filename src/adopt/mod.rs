//! `adopt`: moves an existing public S3 website (the classic proof of concept: a bucket named like
//! the domain, website hosting, a public-read policy, a Route53 alias to the website endpoint)
//! behind the secure stack, keeping the bucket and its objects, with the domain served at every
//! moment.
//!
//! Five steps, each a reconciliation of live state, so each is idempotent and an interrupted
//! `adopt` completes when run again:
//!
//! 1. **prepare**: the site key and the log bucket; versioning, access logs, lifecycle and tags on
//!    the bucket. The website configuration, policy and redirects are saved in the log bucket
//!    (`adopt/<bucket>.json`) so a resumed run still knows the redirects once the website
//!    configuration is gone.
//! 2. **distribution**: certificate, OAC, headers policy, function (with the website's redirects),
//!    distribution on the bucket's REST endpoint, key policy, and a bucket policy that allows the
//!    distribution while the public read still serves the site; waits until deployed.
//! 3. **dns**: the domain's alias moves from the website endpoint to the distribution.
//! 4. **close**: Block Public Access ×4 (which ends public read at once), the secure bucket policy,
//!    ACLs disabled, default SSE-KMS, existing objects re-encrypted in place (`--no-reencrypt` to
//!    skip), and only then the website configuration deleted.
//! 5. **config**: `sitewarden.toml` for the adopted site (an existing one naming this bucket is used
//!    as is, so edits made before a resumed run count).
//!
//! Default encryption and re-encryption wait until step 4, after the DNS switch: the website
//! endpoint serves anonymous readers, who cannot read SSE-KMS objects, so encrypting earlier would
//! take the site down before CloudFront serves it. The TLS-only deny waits for the same reason (the
//! website endpoint is HTTP only).

mod config_text;
mod record;
mod reencrypt;
mod steps;
mod survey;
mod translate;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::aws::Aws;
use crate::config::{BucketName, Config, DomainName, SiteName};
use crate::error::{Error, Exit, Result};
use crate::names::SiteNames;
use crate::output::{Printer, escape};
use crate::provision::{self, Adoption, Change, Ctx, DistributionRef, Known, Plan};
use crate::site::Settings;

use config_text::{ConfigInput, config_text};
use record::saved_record;
use steps::{StepInput, run_step};
use survey::{Survey, bucket_region, served_name, survey};
use translate::translate;

pub use steps::Step;
pub use translate::Translated;

/// What the command line asked for.
#[derive(Debug)]
pub struct Options {
    pub bucket: String,
    pub domain: Option<String>,
    pub name: Option<String>,
    pub source: PathBuf,
    pub dry_run: bool,
    /// Apply the steps up to this one and stop (e.g. to check the distribution before DNS moves).
    pub stop_after: Option<Step>,
    pub reencrypt: bool,
    /// Wait after the DNS switch (default: [`steps::dns_grace`] of the replaced record's TTL).
    pub dns_grace: Option<Duration>,
}

#[derive(Debug, Serialize)]
pub struct StepReport {
    pub step: Step,
    pub number: usize,
    pub title: &'static str,
    pub changes: Vec<Change>,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub site: String,
    pub bucket: String,
    pub config_path: String,
    pub dry_run: bool,
    pub steps: Vec<StepReport>,
    /// Set when `--stop-after` ended the run before the last step.
    pub stopped_after: Option<Step>,
    pub distribution: Option<DistributionRef>,
    pub requests: std::collections::BTreeMap<String, u64>,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.dry_run { "would" } else { "did" };
        writeln!(
            f,
            "Adopting bucket `{}` as site `{}` ({verb}):",
            escape(&self.bucket),
            self.site
        )?;
        for step in &self.steps {
            writeln!(
                f,
                "Step {}/{} {}: {}",
                step.number,
                Step::ALL.len(),
                step.step.as_str(),
                step.title
            )?;
            if step.changes.is_empty() {
                writeln!(f, "  nothing to do")?;
            }
            for c in &step.changes {
                let symbol = c.action.symbol();
                writeln!(f, "  {symbol} {}: {}", c.resource, c.detail)?;
            }
        }
        if let Some(step) = self.stopped_after {
            writeln!(
                f,
                "Stopped after step `{}`: run the same `sitewarden adopt` again to continue.",
                step.as_str()
            )?;
        } else if !self.dry_run {
            writeln!(
                f,
                "Adopted: `{}` describes the site; `sitewarden audit` grades it.",
                self.config_path
            )?;
        }
        if let Some(d) = &self.distribution {
            writeln!(f, "CloudFront: https://{} ({})", d.domain_name, d.id)?;
        }
        Ok(())
    }
}

/// The site to adopt, resolved from the flags, the bucket and any config file already written.
struct Target {
    aws: Aws,
    account: String,
    bucket: BucketName,
    survey: Survey,
    config: Config,
    /// The config file to write in step `config` (`None`: it exists already).
    config_text: Option<String>,
}

/// The bucket, domain and site name the flags give (checked before any AWS call); without
/// `--name`, the name comes from the domain or the bucket.
fn flags(options: &Options) -> Result<(BucketName, Option<DomainName>, SiteName)> {
    let bucket = BucketName::try_from(options.bucket.clone())
        .map_err(|e| Error::usage(format!("--bucket: {e}")))?;
    let domain = options
        .domain
        .clone()
        .map(|d| DomainName::try_from(d.trim_end_matches('.').to_ascii_lowercase()))
        .transpose()
        .map_err(|e| Error::usage(format!("--domain: {e}")))?;
    let name = match &options.name {
        Some(n) => {
            SiteName::try_from(n.clone()).map_err(|e| Error::usage(format!("--name: {e}")))?
        }
        None => SiteName::try_from(site_name_from(
            domain.as_ref().map_or(bucket.as_str(), DomainName::as_str),
        ))
        .map_err(|e| {
            Error::usage_with_hint(format!("cannot derive a site name: {e}"), "pass --name")
        })?,
    };
    Ok((bucket, domain, name))
}

/// Checks the flags (before any AWS call) and reads how the bucket serves the site today.
async fn open(settings: &Settings, printer: &Printer, options: &Options) -> Result<Target> {
    let (bucket, domain, name) = flags(options)?;
    let existing = existing_config(settings, &bucket)?;

    // The bucket's region decides where the site lives.
    let probe = Aws::connect(settings, Some(settings.flags_region().await)).await?;
    let region = bucket_region(&probe, bucket.as_str()).await?;
    let aws = if region == probe.region {
        probe
    } else {
        Aws::connect(settings, Some(region.clone())).await?
    };
    let account = aws.account_id().await?;
    let survey = survey(&aws.s3, bucket.as_str()).await?;

    // The bucket of a website is named like the host it serves: without --domain, a record at
    // that name serving from the website endpoint names the domain that must move first.
    let domain = match domain {
        None if existing.is_none() && survey.keep_public() => {
            let inferred = served_name(&aws, &bucket).await?;
            if let Some(name) = &inferred {
                printer.info(format_args!(
                    "no --domain: `{name}` serves from the bucket's website endpoint, so its DNS \
                     moves to the distribution before public access ends"
                ));
            }
            inferred
        }
        domain => domain,
    };
    let (config, config_text) = if let Some(config) = existing {
        (config, None)
    } else {
        let log_bucket = log_bucket(&name, &account);
        let translated = website_rules(&aws, printer, &survey, &bucket, &log_bucket).await?;
        let text = config_text(&ConfigInput {
            name: &name,
            domain: domain.as_ref(),
            source: &options.source,
            region: &region,
            bucket: &bucket,
            translated: &translated,
        });
        let config = Config::parse(&text, &settings.config_path)?;
        (config, Some(text))
    };
    if config_text.is_some() {
        refuse_taken_name(&aws, &config, &account, &bucket).await?;
    }
    if config.site.domain.is_none() && survey.keep_public() {
        printer.warn(format_args!(
            "no --domain: the bucket's website endpoint stops serving at step `close`; readers \
             must use the CloudFront domain (or pass --domain to move the DNS alias first)"
        ));
    }
    Ok(Target {
        aws,
        account,
        bucket,
        survey,
        config,
        config_text,
    })
}

/// The website's redirects for the new config: translated from the website configuration, or,
/// once step `close` has removed it, the ones step `prepare` saved; what is not carried over is
/// warned about.
async fn website_rules(
    aws: &Aws,
    printer: &Printer,
    survey: &Survey,
    bucket: &BucketName,
    log_bucket: &str,
) -> Result<Translated> {
    let translated = match &survey.website {
        Some(website) => translate(&aws.s3, bucket.as_str(), website).await?,
        None => saved_record(&aws.s3, log_bucket, bucket.as_str())
            .await?
            .unwrap_or_default(),
    };
    for skipped in &translated.skipped {
        printer.warn(format_args!("not carried over from the website: {skipped}"));
    }
    Ok(translated)
}

pub async fn run(settings: &Settings, printer: &Printer, options: Options) -> Result<Exit> {
    let Target {
        aws,
        account,
        bucket,
        survey,
        config,
        config_text,
    } = open(settings, printer, &options).await?;
    let names = SiteNames::new(&config, &account);
    let adoption = Adoption {
        keep_public: survey.keep_public(),
        public_statements: survey.public_statements.clone(),
    };
    let ctx = Ctx {
        aws: &aws,
        config: &config,
        names: &names,
        account: &account,
        printer,
        apply: !options.dry_run,
        wait: true,
        adopt: Some(adoption),
        source: None,
    };
    check_before_any_change(&ctx).await?;
    let mut known = Known::default();
    let mut steps = Vec::new();
    let mut stopped_after = None;
    for (i, step) in Step::ALL.into_iter().enumerate() {
        if ctx.apply {
            printer.info(format_args!(
                "step {}/5 {}: {}",
                i + 1,
                step.as_str(),
                step.title()
            ));
        }
        let mut plan = Plan::default();
        let what = StepInput {
            survey: &survey,
            config_text: config_text.as_deref(),
            config_path: &settings.config_path,
            reencrypt: options.reencrypt,
            dns_grace: options.dns_grace,
        };
        run_step(&ctx, step, &what, &mut known, &mut plan).await?;
        let mut changes = plan.changes;
        if !ctx.apply {
            changes = first_shown(&steps, changes);
        }
        steps.push(StepReport {
            step,
            number: i + 1,
            title: step.title(),
            changes,
        });
        if ctx.apply && options.stop_after == Some(step) && step != Step::Config {
            stopped_after = Some(step);
            break;
        }
    }
    printer.data(&Summary {
        site: names.site.clone(),
        bucket: bucket.as_str().to_owned(),
        config_path: settings.config_path.display().to_string(),
        dry_run: options.dry_run,
        steps,
        stopped_after,
        distribution: known.distribution,
        requests: aws.requests.snapshot(),
    })?;
    Ok(Exit::Success)
}

/// Before any change: the distribution's settings are valid, and the domain's zone exists and its
/// records can move to the distribution (the DNS step's own checks, run as a plan).
async fn check_before_any_change(ctx: &Ctx<'_>) -> Result<()> {
    let config = ctx.config;
    provision::cloudfront::check(config)?;
    if config.site.domain.is_some() && config.dns.mode == crate::config::DnsMode::Route53 {
        let check = Ctx {
            apply: false,
            adopt: ctx.adopt.clone(),
            ..*ctx
        };
        provision::dns::reconcile(&check, &Known::default(), &mut Plan::default())
            .await
            .map_err(Error::before_any_change)?;
    }
    Ok(())
}

/// Nothing is applied in a dry run, so later steps see what earlier ones would change: each
/// change is shown once, at the first step that makes it.
fn first_shown(earlier: &[StepReport], mut changes: Vec<Change>) -> Vec<Change> {
    changes.retain(|c| {
        !earlier.iter().any(|s| {
            s.changes
                .iter()
                .any(|e| e.resource == c.resource && e.detail == c.detail)
        })
    });
    changes
}

/// A site name from a domain or bucket name: `www.example.com` → `www-example-com`.
pub fn site_name_from(text: &str) -> String {
    let mut name = String::new();
    for c in text.to_ascii_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c);
        } else if !name.ends_with('-') && !name.is_empty() {
            name.push('-');
        }
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        name.insert_str(0, "site-");
    }
    name.truncate(40);
    let trimmed = name.trim_end_matches('-');
    if trimmed.len() < 3 {
        format!("{trimmed}-site")
    } else {
        trimmed.to_owned()
    }
}

fn log_bucket(name: &SiteName, account: &str) -> String {
    crate::names::log_bucket(name.as_str(), account)
}

/// The config file already there: a resumed adoption of this bucket, used as is; any other site's
/// config is refused (nothing is overwritten).
fn existing_config(settings: &Settings, bucket: &BucketName) -> Result<Option<Config>> {
    if !settings.config_path.exists() {
        return Ok(None);
    }
    let config = settings.load_config()?;
    if config.site.bucket.as_ref() == Some(bucket) {
        return Ok(Some(config));
    }
    Err(Error::usage_with_hint(
        format!(
            "`{}` describes site `{}`, not the bucket `{bucket}`: adopt writes a new config file",
            settings.config_path.display(),
            config.site.name.as_str(),
            bucket = bucket.as_str()
        ),
        "run adopt in another folder, or pass `--config <new file>`",
    ))
}

/// A new adoption must not take over another site's resources, which are found by the site name:
/// a distribution of that name in front of another bucket means the name is taken.
async fn refuse_taken_name(
    aws: &Aws,
    config: &Config,
    account: &str,
    bucket: &BucketName,
) -> Result<()> {
    let names = SiteNames::new(config, account);
    let Some(found) =
        crate::observe::distribution::find(aws, &names.distribution_comment, &names.site).await?
    else {
        return Ok(());
    };
    let rest_endpoint = format!("{}.s3.", bucket.as_str());
    let fronts_this_bucket = found.origins.as_ref().is_some_and(|o| {
        o.items
            .iter()
            .any(|o| o.domain_name.starts_with(&rest_endpoint))
    });
    if fronts_this_bucket {
        return Ok(()); // this adoption, resumed without its config file
    }
    Err(Error::usage_with_hint(
        format!(
            "site name `{}` is taken: distribution {} (`{}`) serves another bucket",
            names.site, found.id, names.distribution_comment
        ),
        "pass --name with a name of its own for the adopted site",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_names_come_from_the_domain() {
        assert_eq!(site_name_from("www.example.com"), "www-example-com");
        assert_eq!(site_name_from("Docs.Example.COM"), "docs-example-com");
        assert_eq!(site_name_from("1st.example.com"), "site-1st-example-com");
        assert_eq!(site_name_from("ab"), "ab-site");
        let long = site_name_from(&"a.".repeat(40));
        assert!(long.len() <= 40 && !long.ends_with('-'), "{long}");
        for text in ["www.example.com", "1st.example.com", "ab", &"a-".repeat(30)] {
            assert!(SiteName::try_from(site_name_from(text)).is_ok(), "{text}");
        }
    }
}
