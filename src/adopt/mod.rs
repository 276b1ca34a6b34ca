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

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::types::{ServerSideEncryption, WebsiteConfiguration};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::aws::Aws;
use crate::config::{BucketName, Config, DomainName, SiteName};
use crate::error::{AwsResultExt as _, Error, Exit, Result};
use crate::names::SiteNames;
use crate::output::{Printer, escape};
use crate::provision::{
    self, Action, Adoption, Change, Ctx, DistributionRef, Known, Plan, buckets,
};
use crate::settings::Settings;

/// Objects re-encrypted at once.
const REENCRYPT_CONCURRENCY: usize = 16;
/// The TTL resolvers give an alias answer (an alias record has none of its own).
const ALIAS_TTL: Duration = Duration::from_mins(1);
/// Added to the old record's TTL before public access ends.
const DNS_GRACE_MARGIN: Duration = Duration::from_secs(30);
/// `CopyObject` copies up to 5 GiB; larger objects need a multipart copy.
const COPY_LIMIT: i64 = 5 * 1024 * 1024 * 1024;

/// The steps of an adoption, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    Prepare,
    Distribution,
    Dns,
    Close,
    Config,
}

impl Step {
    const ALL: [Step; 5] = [
        Step::Prepare,
        Step::Distribution,
        Step::Dns,
        Step::Close,
        Step::Config,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Prepare => "prepare",
            Step::Distribution => "distribution",
            Step::Dns => "dns",
            Step::Close => "close",
            Step::Config => "config",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Step::Prepare => "key, log bucket; versioning, access logs and lifecycle on the bucket",
            Step::Distribution => {
                "certificate, CloudFront with OAC in front of the bucket (public read still on)"
            }
            Step::Dns => "DNS alias from the website endpoint to the distribution",
            Step::Close => {
                "Block Public Access, secure policy, ACLs off, SSE-KMS, website hosting off"
            }
            Step::Config => "write the site's config file",
        }
    }
}

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
    /// Wait after the DNS switch (default: [`dns_grace`] of the replaced record's TTL).
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

/// What the bucket shows before any step: how it serves the site today.
struct Survey {
    website: Option<WebsiteConfiguration>,
    policy: Option<Value>,
    /// Statements that let anyone read, kept until the DNS switch.
    public_statements: Vec<Value>,
    /// All four Block Public Access flags are on: public read has ended.
    public_access_blocked: bool,
}

impl Survey {
    fn keep_public(&self) -> bool {
        !self.public_access_blocked
            && (self.website.is_some() || !self.public_statements.is_empty())
    }
}

/// The website's redirects and error handling, as the config expresses them.
#[derive(Debug, Default, Clone, Serialize, serde::Deserialize)]
pub struct Translated {
    pub redirects: Vec<crate::config::Redirect>,
    pub spa_fallback: Option<String>,
    /// What could not be translated, for a warning.
    pub skipped: Vec<String>,
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

/// Checks the flags (before any AWS call) and reads how the bucket serves the site today.
async fn open(settings: &Settings, printer: &Printer, options: &Options) -> Result<Target> {
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
    let existing = existing_config(settings, &bucket)?;

    // The bucket's region decides where the site lives.
    let probe = Aws::connect(settings, Some(crate::audit::flags_region(settings).await)).await?;
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
        let translated = match &survey.website {
            Some(website) => translate(&aws.s3, bucket.as_str(), website).await?,
            None => saved_record(&aws.s3, &log_bucket(&name, &account), bucket.as_str())
                .await?
                .unwrap_or_default(),
        };
        for skipped in &translated.skipped {
            printer.warn(format_args!("not carried over from the website: {skipped}"));
        }
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
    };
    // Before any change: the domain's zone exists and its records can move to the distribution
    // (the DNS step's own checks, run as a plan).
    provision::cloudfront::check(&config)?;
    if config.site.domain.is_some() && config.dns.mode == crate::config::DnsMode::Route53 {
        let check = Ctx {
            apply: false,
            adopt: ctx.adopt.clone(),
            ..ctx
        };
        provision::dns::reconcile(&check, &Known::default(), &mut Plan::default())
            .await
            .map_err(Error::before_any_change)?;
    }
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
            // Nothing is applied in a dry run, so later steps see what earlier ones would change:
            // each change is shown once, at the first step that makes it.
            changes.retain(|c| {
                !steps.iter().any(|s: &StepReport| {
                    s.changes
                        .iter()
                        .any(|e| e.resource == c.resource && e.detail == c.detail)
                })
            });
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

/// What one step needs beyond the reconciliation context.
struct StepInput<'a> {
    survey: &'a Survey,
    config_text: Option<&'a str>,
    config_path: &'a Path,
    reencrypt: bool,
    dns_grace: Option<Duration>,
}

async fn run_step(
    ctx: &Ctx<'_>,
    step: Step,
    what: &StepInput<'_>,
    known: &mut Known,
    plan: &mut Plan,
) -> Result<()> {
    match step {
        Step::Prepare => {
            provision::kms::reconcile_key(ctx, known, plan).await?;
            buckets::reconcile_log_bucket(ctx, known, plan).await?;
            buckets::reconcile_content_bucket(ctx, known, plan).await?;
            if let Some(website) = &what.survey.website {
                save_record(ctx, what.survey, website, ctx.config, plan).await?;
            }
        }
        Step::Distribution => {
            provision::acm::reconcile(ctx, known, plan).await?;
            provision::cloudfront::reconcile(ctx, known, plan).await?;
            provision::kms::reconcile_key_policy(ctx, known, plan).await?;
            buckets::reconcile_content_policy(ctx, known, plan).await?;
        }
        Step::Dns => {
            // A resumed run may find the distribution unchanged but still deploying an earlier
            // change: the live domain moves only onto a deployed distribution.
            if ctx.apply
                && let Some(distribution) = &known.distribution
            {
                provision::cloudfront::ensure_deployed(ctx, &distribution.id).await?;
            }
            let old_ttl = if ctx.apply {
                website_record_ttl(ctx).await?
            } else {
                None
            };
            let before = plan.changes.len();
            provision::dns::reconcile(ctx, known, plan).await?;
            // Resolvers that cached the website answer keep using it until its TTL runs out: the
            // bucket keeps serving publicly that long before step `close` ends it.
            if let Some(ttl) = old_ttl
                && plan.changes.len() > before
            {
                let grace = what.dns_grace.unwrap_or_else(|| dns_grace(ttl));
                if !grace.is_zero() {
                    ctx.printer.info(format_args!(
                        "waiting {} s for DNS caches to drop the website endpoint before public \
                         access ends (--dns-grace to change)",
                        grace.as_secs()
                    ));
                    tokio::time::sleep(grace).await;
                }
            }
        }
        Step::Close => {
            let close = Ctx {
                adopt: Some(Adoption::default()),
                ..*ctx
            };
            buckets::reconcile_content_bucket(&close, known, plan).await?;
            buckets::reconcile_content_policy(&close, known, plan).await?;
            if what.reencrypt {
                reencrypt(&close, known.key_arn.as_deref(), plan).await?;
            }
            if what.survey.website.is_some() {
                close.change(
                    plan,
                    format!("s3 bucket {}", ctx.names.content_bucket),
                    Action::Delete,
                    "static website hosting (the distribution serves the site now)",
                );
                if close.apply {
                    ctx.aws
                        .s3
                        .delete_bucket_website()
                        .bucket(&ctx.names.content_bucket)
                        .send()
                        .await
                        .op(
                            "DeleteBucketWebsite",
                            &format!("bucket `{}`", ctx.names.content_bucket),
                        )?;
                }
            }
        }
        Step::Config => {
            if let Some(text) = what.config_text {
                ctx.change(
                    plan,
                    format!("file {}", what.config_path.display()),
                    Action::Create,
                    "the adopted site's config (`sitewarden deploy` publishes from `site.source`)",
                );
                if ctx.apply {
                    std::fs::write(what.config_path, text).map_err(|e| {
                        Error::Other(anyhow::anyhow!(
                            "cannot write `{}`: {e}",
                            what.config_path.display()
                        ))
                    })?;
                }
            }
        }
    }
    Ok(())
}

/// The TTL of the records that still send the site's names to the website endpoint (the longest;
/// an alias counts as [`ALIAS_TTL`]), or `None` when none does.
async fn website_record_ttl(ctx: &Ctx<'_>) -> Result<Option<Duration>> {
    let mut longest = None;
    for name in provision::dns::site_names(ctx.config) {
        let sets = crate::audit::dns::records_of(ctx.aws, name.as_str()).await?;
        for set in sets.unwrap_or_default() {
            if provision::dns::serves_website(&set).is_some() {
                let ttl = set
                    .ttl
                    .and_then(|t| u64::try_from(t).ok())
                    .map_or(ALIAS_TTL, Duration::from_secs);
                longest = longest.max(Some(ttl));
            }
        }
    }
    Ok(longest)
}

/// How long to keep public access after the DNS switch: the old record's TTL plus a margin.
fn dns_grace(old_ttl: Duration) -> Duration {
    old_ttl + DNS_GRACE_MARGIN
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
    format!("{}-logs-{account}", name.as_str())
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
        provision::cloudfront::find_by_comment(aws, &names.distribution_comment, &names.site)
            .await?
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

/// The host name a website bucket serves (the bucket's own name) when a Route53 record at that
/// name points at a website endpoint (an alias, or a CNAME to `<bucket>.s3-website…`).
async fn served_name(aws: &Aws, bucket: &BucketName) -> Result<Option<DomainName>> {
    let Ok(name) = DomainName::try_from(bucket.as_str().to_owned()) else {
        return Ok(None); // not a host name, so no website is reached through it
    };
    let sets = crate::audit::dns::records_of(aws, name.as_str())
        .await?
        .unwrap_or_default();
    Ok(sets
        .iter()
        .any(|s| provision::dns::serves_website(s).is_some())
        .then_some(name))
}

/// The region of an existing bucket; a missing bucket is the user's input error.
async fn bucket_region(aws: &Aws, bucket: &str) -> Result<String> {
    match aws.s3.head_bucket().bucket(bucket).send().await {
        Ok(out) => Ok(out.bucket_region.unwrap_or_else(|| aws.region.clone())),
        Err(e) => {
            let raw = e.raw_response();
            let region = raw
                .and_then(|r| r.headers().get("x-amz-bucket-region"))
                .map(str::to_owned);
            match (raw.map(|r| r.status().as_u16()), region) {
                (Some(404), _) => Err(Error::usage_with_hint(
                    format!("bucket `{bucket}` does not exist"),
                    "adopt takes over an existing bucket; `sitewarden up` creates a new site",
                )),
                (Some(301 | 400), Some(region)) => Ok(region),
                _ => Err(Error::aws("HeadBucket", format!("bucket `{bucket}`"), e)),
            }
        }
    }
}

async fn survey(s3: &Client, bucket: &str) -> Result<Survey> {
    let resource = format!("bucket `{bucket}`");
    let website = s3
        .get_bucket_website()
        .bucket(bucket)
        .send()
        .await
        .or_missing(
            &["NoSuchWebsiteConfiguration"],
            "GetBucketWebsite",
            &resource,
        )?
        .map(|o| {
            let mut w = WebsiteConfiguration::builder();
            w = w
                .set_index_document(o.index_document)
                .set_error_document(o.error_document)
                .set_redirect_all_requests_to(o.redirect_all_requests_to)
                .set_routing_rules(o.routing_rules);
            w.build()
        });
    let policy = buckets::observe_policy(s3, bucket).await?;
    let public_statements = policy
        .as_ref()
        .map(|doc| {
            crate::audit::policy::statements(doc)
                .into_iter()
                .filter(|s| s.allows() && s.everyone())
                .map(|s| s.value().clone())
                .collect()
        })
        .unwrap_or_default();
    let block = buckets::observe_public_access_block(s3, bucket).await?;
    let public_access_blocked = buckets::diff_public_access_block(block.as_ref()).is_none();
    Ok(Survey {
        website,
        policy,
        public_statements,
        public_access_blocked,
    })
}

/// The website's routing rules, redirect-all and per-object redirects
/// (`x-amz-website-redirect-location`) as config redirects, and an `index.html` error document
/// as the SPA fallback.
async fn translate(
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

fn redirect(from: &str, to: &str, status: u16) -> crate::config::Redirect {
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
        let head = s3
            .head_object()
            .bucket(bucket)
            .key(&key)
            .send()
            .await
            .op("HeadObject", &format!("object `{}`", escape(&key)))?;
        if let Some(location) = head.website_redirect_location.filter(|l| !l.is_empty()) {
            redirects.push(redirect(&format!("/{key}"), &location, 301));
        }
    }
    Ok(redirects)
}

/// Every current object's key and size, except sitewarden's own state.
async fn list_keys(s3: &Client, bucket: &str) -> Result<Vec<(String, i64)>> {
    let mut keys = Vec::new();
    let mut pages = s3.list_objects_v2().bucket(bucket).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.op("ListObjectsV2", &format!("bucket `{bucket}`"))?;
        for object in page.contents() {
            if let Some(key) = &object.key
                && !key.starts_with(crate::deploy::manifest::STATE_PREFIX)
            {
                keys.push((key.clone(), object.size.unwrap_or(0)));
            }
        }
    }
    Ok(keys)
}

/// Where step 1 keeps what the website said, in the (private) log bucket.
fn record_key(bucket: &str) -> String {
    format!("adopt/{bucket}.json")
}

/// Saves what the bucket served the site with before anything changed: written once, never
/// overwritten, so it keeps the original even when a run resumes.
async fn save_record(
    ctx: &Ctx<'_>,
    survey: &Survey,
    website: &WebsiteConfiguration,
    config: &Config,
    plan: &mut Plan,
) -> Result<()> {
    let bucket = &ctx.names.content_bucket;
    let log_bucket = &ctx.names.log_bucket;
    let key = record_key(bucket);
    if saved_value(&ctx.aws.s3, log_bucket, bucket)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let record = json!({
        "bucket": bucket,
        "website": {
            "index_document": website.index_document.as_ref().map(|d| &d.suffix),
            "error_document": website.error_document.as_ref().map(|d| &d.key),
            "redirect_all_requests_to": website.redirect_all_requests_to.as_ref().map(|r| &r.host_name),
            "routing_rules": website.routing_rules().iter().map(|r| format!("{r:?}")).collect::<Vec<_>>(),
        },
        "policy": survey.policy,
        "translated": Translated {
            redirects: config.redirects.clone(),
            spa_fallback: config.deploy.spa_fallback.clone(),
            skipped: Vec::new(),
        },
    });
    ctx.change(
        plan,
        format!("s3 object {log_bucket}/{key}"),
        Action::Create,
        "the website configuration, bucket policy and redirects as they were, kept for resuming and reference",
    );
    if ctx.apply {
        ctx.aws
            .s3
            .put_object()
            .bucket(log_bucket)
            .key(&key)
            .content_type("application/json")
            .body(
                serde_json::to_vec_pretty(&record)
                    .expect("a JSON value serializes")
                    .into(),
            )
            .send()
            .await
            .op("PutObject", &format!("object `{log_bucket}/{key}`"))?;
    }
    Ok(())
}

async fn saved_value(s3: &Client, log_bucket: &str, bucket: &str) -> Result<Option<Value>> {
    let key = record_key(bucket);
    let Some(out) = s3
        .get_object()
        .bucket(log_bucket)
        .key(&key)
        .send()
        .await
        .or_missing(
            &["NoSuchKey", "NoSuchBucket"],
            "GetObject",
            &format!("object `{log_bucket}/{key}`"),
        )?
    else {
        return Ok(None);
    };
    let bytes = out
        .body
        .collect()
        .await
        .map_err(|e| Error::Other(anyhow::anyhow!("reading `{log_bucket}/{key}`: {e}")))?
        .into_bytes();
    Ok(serde_json::from_slice(&bytes).ok())
}

/// The redirects step 1 saved, for a run that resumes after the website configuration is gone.
async fn saved_record(s3: &Client, log_bucket: &str, bucket: &str) -> Result<Option<Translated>> {
    Ok(saved_value(s3, log_bucket, bucket)
        .await?
        .and_then(|v| serde_json::from_value(v["translated"].clone()).ok()))
}

struct ConfigInput<'a> {
    name: &'a SiteName,
    domain: Option<&'a DomainName>,
    source: &'a Path,
    region: &'a str,
    bucket: &'a BucketName,
    translated: &'a Translated,
}

/// The adopted site's `sitewarden.toml`.
fn config_text(input: &ConfigInput<'_>) -> String {
    use std::fmt::Write as _;
    let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
    let mut text = format!(
        "# sitewarden.toml for the site adopted from the S3 website bucket `{bucket}` by `sitewarden adopt`.\n\
         # Reference: README.md (\"Configuration\"); `sitewarden init` writes a fully commented file.\n\n\
         [site]\nname = {name}\n",
        bucket = input.bucket.as_str(),
        name = quote(input.name.as_str()),
    );
    if let Some(domain) = input.domain {
        let _ = writeln!(text, "domain = {}", quote(domain.as_str()));
    }
    let _ = writeln!(
        text,
        "# Folder `sitewarden deploy` publishes, relative to this file.\nsource = {}\nregion = {}\n\
         # The adopted bucket keeps its name and objects.\nbucket = {}",
        quote(&input.source.to_string_lossy()),
        quote(input.region),
        quote(input.bucket.as_str()),
    );
    if let Some(fallback) = &input.translated.spa_fallback {
        let _ = writeln!(
            text,
            "\n[deploy]\n# The website's error document was index.html.\nspa_fallback = {}",
            quote(fallback)
        );
    }
    for r in &input.translated.redirects {
        let _ = writeln!(
            text,
            "\n# Carried over from the website configuration.\n[[redirects]]\nfrom = {}\nto = {}\nstatus = {}",
            quote(&r.from),
            quote(&r.to),
            u16::from(r.status)
        );
    }
    text
}

/// Existing objects re-encrypted with the site key by copying each onto itself (metadata kept;
/// with versioning the earlier version stays recoverable until the lifecycle expires it).
async fn reencrypt(ctx: &Ctx<'_>, key_arn: Option<&str>, plan: &mut Plan) -> Result<()> {
    let s3 = &ctx.aws.s3;
    let bucket = ctx.names.content_bucket.clone();
    let mut todo = Vec::new();
    for (key, size) in list_keys(s3, &bucket).await? {
        let head = s3
            .head_object()
            .bucket(&bucket)
            .key(&key)
            .send()
            .await
            .op("HeadObject", &format!("object `{}`", escape(&key)))?;
        let encrypted = head.server_side_encryption == Some(ServerSideEncryption::AwsKms)
            && key_arn.is_some_and(|arn| head.ssekms_key_id.as_deref() == Some(arn));
        if !encrypted {
            if size > COPY_LIMIT {
                return Err(Error::failure_with_hint(
                    format!(
                        "object `{}` is larger than 5 GiB and cannot be re-encrypted by CopyObject",
                        escape(&key)
                    ),
                    "re-upload it (`sitewarden deploy`) or run adopt with --no-reencrypt",
                ));
            }
            todo.push((key, head.website_redirect_location));
        }
    }
    if todo.is_empty() {
        return Ok(());
    }
    ctx.change(
        plan,
        format!("s3 bucket {bucket}"),
        Action::Update,
        format!(
            "re-encrypt {} existing object(s) with the site key (copy in place; earlier versions kept)",
            todo.len()
        ),
    );
    if !ctx.apply {
        return Ok(());
    }
    let key_arn = key_arn
        .ok_or_else(|| {
            Error::Other(anyhow::anyhow!(
                "the site key is not known after step `prepare`"
            ))
        })?
        .to_owned();
    let limit = Arc::new(Semaphore::new(REENCRYPT_CONCURRENCY));
    let mut tasks = tokio::task::JoinSet::new();
    for (key, redirect) in todo {
        let (s3, bucket, key_arn, limit) =
            (s3.clone(), bucket.clone(), key_arn.clone(), limit.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire().await;
            s3.copy_object()
                .bucket(&bucket)
                .key(&key)
                .copy_source(crate::deploy::history::copy_source_current(&bucket, &key))
                .metadata_directive(aws_sdk_s3::types::MetadataDirective::Copy)
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .ssekms_key_id(&key_arn)
                .bucket_key_enabled(true)
                .set_website_redirect_location(redirect)
                .send()
                .await
                .op("CopyObject", &format!("object `{}`", escape(&key)))
                .map(|_| ())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.map_err(|e| Error::Other(e.into()))??;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::types::{Condition, Redirect as S3Redirect, RoutingRule};

    #[test]
    fn public_access_outlives_the_cached_website_answer() {
        assert_eq!(dns_grace(ALIAS_TTL), Duration::from_secs(90));
        assert_eq!(dns_grace(Duration::from_mins(5)), Duration::from_secs(330));
    }

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

    #[test]
    fn the_written_config_is_valid_and_carries_the_redirects() {
        let translated = Translated {
            redirects: vec![
                redirect("/old-blog/*", "/blog/:splat", 301),
                redirect("/old-page.html", "/about/", 301),
            ],
            spa_fallback: None,
            skipped: Vec::new(),
        };
        let text = config_text(&ConfigInput {
            name: &SiteName::try_from("www-example-com".to_owned()).unwrap(),
            domain: Some(&DomainName::try_from("www.example.com".to_owned()).unwrap()),
            source: Path::new("dist"),
            region: "eu-west-1",
            bucket: &BucketName::try_from("www.example.com".to_owned()).unwrap(),
            translated: &translated,
        });
        let config = Config::parse(&text, Path::new("sitewarden.toml")).unwrap();
        assert_eq!(config.site.bucket.unwrap().as_str(), "www.example.com");
        assert_eq!(config.site.region.unwrap().as_str(), "eu-west-1");
        let redirects: Vec<(&str, &str)> = config
            .redirects
            .iter()
            .map(|r| (r.from.as_str(), r.to.as_str()))
            .collect();
        assert_eq!(
            redirects,
            [
                ("/old-blog/*", "/blog/:splat"),
                ("/old-page.html", "/about/")
            ]
        );
    }
}
