//! `audit`: grades live resources against the security baseline (shared/BASELINE.md) and reports
//! every control as pass, fail, exception (documented, with the reason) or error (the evidence
//! could not be read, e.g. a missing permission), with Security Hub, Prowler and checkov ids.
//!
//! Targets: by default the configured site (content and log buckets, KMS key, the distribution
//! whose comment is `sitewarden:<site>`, its certificate, the domain's DNS). With `--bucket`,
//! `--distribution` or `--domain` no config is needed and the rest is discovered from what is given:
//! the distribution serving the bucket or the domain, the buckets behind the distribution, the key
//! of the bucket's default encryption, the distribution's certificate and names.
//!
//! Audit only reads: every AWS call is a Get/List/Describe/Head. Each service has one file that
//! collects evidence and evaluates it with pure functions; `controls.rs` is the table of controls
//! and `report.rs` renders text, JSON and SARIF.

mod acm;
mod ci;
mod cloudfront;
pub mod controls;
pub(crate) mod dns;
mod kms;
mod monitoring;
mod pages;
pub(crate) mod policy;
pub mod report;
mod s3;

use std::fmt;

use serde::Serialize;

pub use crate::names::{Kind, Resource};
pub use controls::Control;
pub use report::{Format, Report};

use crate::aws::Aws;
use crate::error::{Error, Exit, Result};
use crate::output::Printer;
use crate::site::Session;
use crate::site::Settings;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    /// A documented exception: not applicable to this resource, with the reason.
    Exception,
    /// The evidence could not be read (missing permission, throttling): not graded.
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Exception => "exception",
            Status::Error => "error",
        }
    }
}

/// An audited AWS resource: its identity and, when known, its ARN. Serialized as
/// `{kind, name, arn}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Audited {
    #[serde(flatten)]
    pub id: Resource,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
}

impl Audited {
    pub fn new(kind: Kind, name: impl fmt::Display, arn: Option<String>) -> Audited {
        Audited {
            id: Resource::new(kind, name),
            arn,
        }
    }
}

impl fmt::Display for Audited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}",
            self.id.kind,
            crate::output::escape(&self.id.name)
        )
    }
}

/// The result of evaluating one control on one resource's evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: Status,
    /// The observed value (or, for an exception, the reason).
    pub evidence: String,
}

impl Outcome {
    pub fn pass(evidence: impl Into<String>) -> Outcome {
        Outcome {
            status: Status::Pass,
            evidence: evidence.into(),
        }
    }

    pub fn fail(evidence: impl Into<String>) -> Outcome {
        Outcome {
            status: Status::Fail,
            evidence: evidence.into(),
        }
    }

    pub fn exception(reason: impl Into<String>) -> Outcome {
        Outcome {
            status: Status::Exception,
            evidence: reason.into(),
        }
    }

    /// Pass with `ok` when `problems` is empty, otherwise fail listing them.
    pub fn unless(problems: &[String], ok: impl Into<String>) -> Outcome {
        if problems.is_empty() {
            Outcome::pass(ok)
        } else {
            Outcome::fail(problems.join("; "))
        }
    }
}

/// Where a control comes from in the other tools.
#[derive(Debug, Clone, Serialize)]
pub struct Mappings {
    pub security_hub: &'static [&'static str],
    pub prowler: &'static [&'static str],
    pub checkov: &'static [&'static str],
}

/// One control evaluated on one resource.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub control: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    pub resource: Audited,
    pub status: Status,
    pub evidence: String,
    pub remediation: &'static str,
    pub mappings: Mappings,
}

impl Finding {
    pub fn new(control: &'static Control, resource: Audited, outcome: Outcome) -> Finding {
        Finding {
            control: control.id,
            title: control.title,
            severity: control.severity,
            resource,
            status: outcome.status,
            evidence: outcome.evidence,
            remediation: control.remediation,
            mappings: Mappings {
                security_hub: control.security_hub,
                prowler: control.prowler,
                checkov: control.checkov,
            },
        }
    }
}

/// Collects the findings of one resource.
pub struct Sink<'a> {
    resource: Audited,
    findings: &'a mut Vec<Finding>,
}

impl<'a> Sink<'a> {
    pub fn new(findings: &'a mut Vec<Finding>, resource: Audited) -> Sink<'a> {
        Sink { resource, findings }
    }

    /// Records `control` from its evaluation, or as `error` when its evidence could not be read.
    pub fn check(&mut self, control: &'static Control, outcome: Result<Outcome, &Error>) {
        debug_assert_eq!(control.kind, self.resource.id.kind, "{}", control.id);
        let outcome = outcome.unwrap_or_else(|e| Outcome {
            status: Status::Error,
            evidence: e.to_string(),
        });
        self.findings
            .push(Finding::new(control, self.resource.clone(), outcome));
    }

    /// Records the documented exceptions of this kind of resource.
    pub fn exceptions(&mut self) {
        for control in controls::of_kind(self.resource.id.kind) {
            if let Some(reason) = control.exception {
                self.check(control, Ok(Outcome::exception(reason)));
            }
        }
    }

    /// The resource does not exist: every control of its kind fails with `why` (documented
    /// exceptions stay exceptions).
    pub fn missing(&mut self, why: &str) {
        self.every(|_| Outcome::fail(why));
        self.exceptions();
    }

    /// The resource could not be read at all (a denied Describe/Get): every control of its kind is
    /// reported as `error` with the reason (documented exceptions stay exceptions).
    pub fn unreadable(&mut self, error: &Error) {
        for control in controls::of_kind(self.resource.id.kind) {
            if control.exception.is_none() {
                self.check(control, Err(error));
            }
        }
        self.exceptions();
    }

    /// Every control that is not a documented exception gets `outcome`.
    pub fn every(&mut self, outcome: impl Fn(&Control) -> Outcome) {
        for control in controls::of_kind(self.resource.id.kind) {
            if control.exception.is_none() {
                self.check(control, Ok(outcome(control)));
            }
        }
    }
}

/// Both pieces of evidence, or the first error.
pub fn both<'a, A, B>(
    a: &'a Result<A>,
    b: &'a Result<B>,
) -> std::result::Result<(&'a A, &'a B), &'a Error> {
    Ok((a.as_ref()?, b.as_ref()?))
}

/// What the command line asked for.
#[derive(Debug, Default)]
pub struct Options {
    pub bucket: Option<String>,
    pub distribution: Option<String>,
    pub domain: Option<String>,
    /// `None`: text, or JSON with the global `--json`.
    pub format: Option<Format>,
    pub fail_on: Option<Severity>,
}

impl Options {
    fn targets_given(&self) -> bool {
        self.bucket.is_some() || self.distribution.is_some() || self.domain.is_some()
    }

    /// Checks the names given by flags before any AWS call, normalising the domain (lowercase,
    /// no trailing dot) and the distribution id (uppercase).
    fn check(&mut self) -> Result<()> {
        if let Some(bucket) = &self.bucket
            && (!(3..=255).contains(&bucket.len())
                || !bucket
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)))
        {
            return Err(Error::usage_with_hint(
                format!(
                    "--bucket: `{}` is not a bucket name",
                    crate::output::escape(bucket)
                ),
                "bucket names are 3-63 lowercase letters, digits, dots and hyphens (names from \
                 before 2018 in us-east-1: up to 255, also capitals and underscores)",
            ));
        }
        if let Some(id) = &mut self.distribution {
            *id = id.to_ascii_uppercase();
            if !(1..=64).contains(&id.len()) || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(Error::usage_with_hint(
                    format!(
                        "--distribution: `{}` is not a CloudFront distribution id",
                        crate::output::escape(id)
                    ),
                    "ids look like `E2QWRUHAPOMQZL` (`aws cloudfront list-distributions`)",
                ));
            }
        }
        if let Some(domain) = &mut self.domain {
            let normal = domain.trim_end_matches('.').to_ascii_lowercase();
            crate::config::DomainName::try_from(normal.clone())
                .map_err(|e| Error::usage(format!("--domain: {e}")))?;
            *domain = normal;
        }
        Ok(())
    }
}

/// The bucket's role: the log bucket has documented exceptions (SSE-S3, no logging of itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketRole {
    Content,
    Log,
}

/// What a bucket that does not exist means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IfMissing {
    /// Named by `--bucket`: a usage error.
    Error,
    /// The configured site's: every control fails.
    Fail,
}

/// What to audit and how to find it.
struct Targets {
    site: Option<String>,
    buckets: Vec<(String, BucketRole)>,
    if_missing: IfMissing,
    key: Option<String>,
    distribution: DistributionTarget,
    domains: Vec<String>,
    /// `dns.mode = "external"`: records are not in this account's Route53.
    external_dns: bool,
    /// The file results point at in SARIF (the config file, when there is one).
    artifact: Option<String>,
    /// The configured site's config and names: its monitoring is audited too.
    site_config: Option<(crate::config::Config, crate::names::SiteNames)>,
}

enum DistributionTarget {
    /// No distribution is expected (a bucket-only audit).
    None,
    /// The distribution with this id.
    Id(String),
    /// The configured site's distribution is missing: `why`.
    Missing(String),
    /// The distributions could not be listed (e.g. a denied `ListDistributions`).
    Unreadable(Error),
}

pub async fn run(settings: &Settings, mut options: Options) -> Result<Exit> {
    options.check()?;
    let format = match (options.format, settings.output.json) {
        (None | Some(Format::Json), true) => Format::Json,
        (Some(format), false) => format,
        (None, false) => Format::Text,
        (Some(format), true) => {
            return Err(Error::usage_with_hint(
                format!("`--json` conflicts with `--format {}`", format.as_str()),
                "pass one of them",
            ));
        }
    };
    let (aws, account, targets) = if options.targets_given() {
        let aws = Aws::connect(settings, Some(settings.flags_region().await)).await?;
        let account = aws.account_id().await?;
        let targets = discover(&aws, &options).await?;
        (aws, account, targets)
    } else {
        let session = Session::open(settings).await?;
        let targets = configured(&session, settings).await?;
        (session.aws, session.account, targets)
    };
    let findings = collect(&aws, &account, &targets).await?;
    let report = Report::new(
        targets.site,
        findings,
        options.fail_on,
        aws.requests.snapshot(),
    );
    let output = crate::output::OutputSettings {
        json: matches!(format, Format::Json | Format::Sarif),
        ..settings.output
    };
    let printer = Printer::new(output);
    match format {
        Format::Text | Format::Json => printer.data(&report)?,
        Format::Sarif => printer.data(&report::sarif(&report, targets.artifact.as_deref()))?,
        Format::Markdown => printer.markdown(&report)?,
    }
    Ok(if report.failed {
        Exit::AuditFailed
    } else {
        Exit::Success
    })
}

/// The configured site's resources.
async fn configured(session: &Session, settings: &Settings) -> Result<Targets> {
    let names = &session.names;
    let config = &session.config;
    let distribution = match crate::observe::distribution::find_site(&session.aws, names).await {
        Ok(Some(d)) => DistributionTarget::Id(d.id),
        Ok(None) => DistributionTarget::Missing(format!(
            "no distribution has the comment `{}` (run `sitewarden up`)",
            names.distribution_comment
        )),
        Err(e) => DistributionTarget::Unreadable(e),
    };
    Ok(Targets {
        site: Some(names.site.clone()),
        buckets: vec![
            (names.content_bucket.clone(), BucketRole::Content),
            (names.log_bucket.clone(), BucketRole::Log),
        ],
        if_missing: IfMissing::Fail,
        key: Some(
            config
                .kms
                .key_arn
                .as_ref()
                .map_or_else(|| names.kms_alias.clone(), |k| k.as_str().to_owned()),
        ),
        distribution,
        domains: crate::names::site_names(config)
            .into_iter()
            .map(ToString::to_string)
            .collect(),
        external_dns: config.dns.mode == crate::config::DnsMode::External,
        artifact: Some(settings.config_path.display().to_string()),
        site_config: Some((config.clone(), names.clone())),
    })
}

/// Resources named by flags, and what they lead to.
async fn discover(aws: &Aws, options: &Options) -> Result<Targets> {
    let found = match (&options.distribution, &options.domain, &options.bucket) {
        (Some(id), _, _) => Ok(Some(id.clone())),
        (None, Some(domain), _) => {
            cloudfront::find(aws, |d| cloudfront::serves_name(d, domain)).await
        }
        (None, None, Some(bucket)) => {
            cloudfront::find(aws, |d| cloudfront::serves_bucket(d, bucket)).await
        }
        (None, None, None) => Ok(None),
    };
    // A denied ListDistributions leaves the distribution ungraded (`error`), not the whole audit.
    let distribution = match found {
        Ok(Some(id)) => DistributionTarget::Id(id),
        Ok(None) => DistributionTarget::None,
        Err(e) => DistributionTarget::Unreadable(e),
    };
    Ok(Targets {
        site: None,
        buckets: options
            .bucket
            .iter()
            .map(|b| (b.clone(), BucketRole::Content))
            .collect(),
        if_missing: IfMissing::Error,
        key: None,
        distribution,
        domains: options.domain.iter().cloned().collect(),
        external_dns: false,
        artifact: None,
        site_config: None,
    })
}

/// The distribution a site should have, when it could not be found or listed.
fn unfound_distribution(targets: &Targets) -> Audited {
    let name = targets
        .site
        .as_deref()
        .map_or_else(|| "(none)".to_owned(), |site| format!("sitewarden:{site}"));
    Audited::new(Kind::Distribution, name, None)
}

/// Evaluates every target; what one resource reveals (the bucket's key, the distribution's
/// origins, certificate and names) completes a flags-only audit.
async fn collect(aws: &Aws, account: &str, targets: &Targets) -> Result<Vec<Finding>> {
    let mut findings = Vec::new();
    let distribution = audit_distribution(aws, targets, &mut findings).await?;
    let distribution = distribution.as_ref();
    let bucket_key = audit_buckets(aws, account, targets, distribution, &mut findings).await?;
    if let Some(key) = targets.key.clone().or(bucket_key) {
        kms::audit(
            aws,
            &key,
            targets.site.is_some(),
            distribution.map(|d| d.arn.as_str()),
            &mut findings,
        )
        .await?;
    }
    if let Some(arn) = distribution.and_then(|d| d.certificate_arn.as_deref()) {
        acm::audit(aws, arn, &mut findings).await?;
    }
    let domains = if targets.domains.is_empty() {
        distribution.map(|d| d.aliases.clone()).unwrap_or_default()
    } else {
        targets.domains.clone()
    };
    let dns_target = dns::Target {
        names: &domains,
        distribution_domain: distribution.map(|d| d.domain_name.as_str()),
        external: targets.external_dns,
        distribution_error: match &targets.distribution {
            DistributionTarget::Unreadable(e) => Some(e),
            _ => None,
        },
    };
    dns::audit(aws, &dns_target, &mut findings).await?;
    if let Some((config, names)) = &targets.site_config {
        let target = monitoring::Target {
            config,
            names,
            account,
            distribution_id: distribution.and_then(|d| d.arn.rsplit('/').next()),
        };
        monitoring::audit(aws, &target, &mut findings).await?;
        if let Some(ci) = &config.ci {
            let deploy_policy = crate::iam::policy_for(
                crate::iam::Purpose::Deploy,
                names,
                account,
                &aws.region,
                config
                    .kms
                    .key_arn
                    .as_ref()
                    .map(crate::config::KmsKeyArn::as_str),
                &crate::iam::Scope::default(),
            )
            .0;
            let target = ci::Target {
                site: &names.site,
                ci,
                deploy_policy: &deploy_policy,
            };
            ci::audit(aws, &target, &mut findings).await?;
        }
    }
    Ok(findings)
}

/// The distribution's findings, and what it reveals (origins, certificate, names).
async fn audit_distribution(
    aws: &Aws,
    targets: &Targets,
    findings: &mut Vec<Finding>,
) -> Result<Option<cloudfront::DistributionFacts>> {
    Ok(match &targets.distribution {
        DistributionTarget::None => None,
        DistributionTarget::Id(id) => cloudfront::audit(aws, id, findings).await?,
        DistributionTarget::Missing(why) => {
            Sink::new(findings, unfound_distribution(targets)).missing(why);
            None
        }
        DistributionTarget::Unreadable(e) => {
            Sink::new(findings, unfound_distribution(targets)).unreadable(e);
            None
        }
    })
}

/// The findings of the named buckets (or, with none named, the distribution's origin buckets);
/// returns the first bucket's default KMS key.
async fn audit_buckets(
    aws: &Aws,
    account: &str,
    targets: &Targets,
    distribution: Option<&cloudfront::DistributionFacts>,
    findings: &mut Vec<Finding>,
) -> Result<Option<String>> {
    let mut buckets = targets.buckets.clone();
    if buckets.is_empty()
        && let Some(d) = distribution
    {
        // Origin buckets that do not exist are CloudFront.12's finding.
        buckets.extend(
            d.origin_buckets
                .iter()
                .map(|b| (b.clone(), BucketRole::Content)),
        );
    }
    let explicit = targets.buckets.len();
    let mut key = None;
    for (i, (bucket, role)) in buckets.iter().enumerate() {
        let Some(s3) = s3::locate(aws, bucket).await? else {
            match targets.if_missing {
                IfMissing::Error if i < explicit => {
                    return Err(Error::usage_with_hint(
                        format!("bucket `{bucket}` does not exist"),
                        "check the name (bucket names are global)",
                    ));
                }
                IfMissing::Error => {}
                IfMissing::Fail => Sink::new(findings, s3::resource(bucket)).missing(&format!(
                    "bucket `{bucket}` does not exist (run `sitewarden up`)"
                )),
            }
            continue;
        };
        let role =
            if targets.site.is_none() && s3::is_sitewarden_log_bucket(&s3, account, bucket).await {
                BucketRole::Log // named by `--bucket`: graded as the log bucket it is
            } else {
                *role
            };
        let facts = s3::audit(&s3, account, bucket, role, findings).await?;
        if key.is_none() {
            key = facts.kms_key;
        }
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_audited_resource_keeps_its_kind_name_arn_shape() {
        let bucket = Audited::new(Kind::Bucket, "b", Some("arn:aws:s3:::b".to_owned()));
        assert_eq!(
            serde_json::to_string(&bucket).unwrap(),
            r#"{"kind":"bucket","name":"b","arn":"arn:aws:s3:::b"}"#
        );
        let name = Audited::new(Kind::Name, "a\nb", None);
        assert_eq!(
            serde_json::to_string(&name).unwrap(),
            r#"{"kind":"name","name":"a\nb"}"#
        );
        assert_eq!(name.to_string(), "dns name a\\nb");
    }
}
