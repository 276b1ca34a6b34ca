//! Provisioning: the secure stack as a `Plan` of `Change`s, reconciled resource by resource.
//!
//! Every resource lives in its own file with the same four steps: *observe* the live state (read
//! calls only), compute the *desired* state from the config, *diff* the two into changes, and
//! *apply* those changes when not planning. The live resources are the state: they are found again
//! by deterministic names and the `sitewarden:site` tag.
//!
//! Order breaks the circular dependency between the key, the bucket and the distribution: key →
//! log bucket → content bucket → certificate → CloudFront → key and bucket policies that name the
//! distribution → DNS.

pub mod acm;
pub mod buckets;
pub mod cloudfront;
pub mod dns;
pub mod kms;
pub mod monitoring;
pub mod policy;

use std::fmt;

use serde::Serialize;

use crate::aws::Aws;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::names::{Resource, SiteNames};
use crate::output::Printer;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Delete,
    /// The resource exists and matches the config.
    #[serde(rename = "no-op")]
    NoOp,
}

impl Action {
    pub fn symbol(self) -> char {
        match self {
            Action::Create => '+',
            Action::Update => '~',
            Action::Delete => '-',
            Action::NoOp => '=',
        }
    }
}

/// One difference between the live resources and the config.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// What is changed, e.g. `s3 bucket docs-site-123456789012` (serialized in that form).
    #[serde(serialize_with = "display")]
    pub resource: Resource,
    pub action: Action,
    /// What will change, for a person.
    pub detail: String,
}

fn display<S: serde::Serializer>(resource: &Resource, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(resource)
}

/// The changes of one reconciliation, in the order they are (or would be) applied, and the
/// resources found as the config wants them (`no-op`).
#[derive(Debug, Default, Serialize)]
pub struct Plan {
    pub changes: Vec<Change>,
    pub unchanged: Vec<Change>,
    /// `dns.mode = "external"`: the records to keep at the DNS provider.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_records: Vec<ExternalRecord>,
    /// Alert subscriptions that wait for their recipient to confirm them (`[monitoring]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pending_confirmations: Vec<PendingConfirmation>,
}

/// An email subscription to an alert topic that its recipient has not confirmed yet: no alert
/// reaches the address until they click the link AWS Notifications sent them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PendingConfirmation {
    pub email: String,
    pub topic_arn: String,
}

/// A DNS record the user creates at their own DNS provider (`dns.mode = "external"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExternalRecord {
    pub name: String,
    #[serde(rename = "type")]
    pub rr_type: String,
    pub value: String,
    /// What it is for: `certificate validation` or `site`.
    pub purpose: &'static str,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.pending_confirmations {
            writeln!(
                f,
                "! {} has not confirmed the alert subscription to {}: no alert reaches it until \
                 the link in the email from AWS Notifications is clicked",
                p.email, p.topic_arn
            )?;
        }
        if self.changes.is_empty() {
            return writeln!(
                f,
                "No changes: the infrastructure matches the config ({} resources).",
                self.unchanged.len()
            );
        }
        for c in &self.changes {
            writeln!(f, "{} {}: {}", c.action.symbol(), c.resource, c.detail)?;
        }
        if !self.unchanged.is_empty() {
            writeln!(
                f,
                "= {} other resource(s) match the config (`--json` lists them)",
                self.unchanged.len()
            )?;
        }
        Ok(())
    }
}

/// What later steps learn from earlier ones (ARNs and ids that exist only once created).
#[derive(Debug, Default, Clone)]
pub struct Known {
    pub key_arn: Option<String>,
    pub certificate_arn: Option<String>,
    pub zone_id: Option<String>,
    pub distribution: Option<DistributionRef>,
    pub headers_policy_id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DistributionRef {
    pub id: String,
    pub arn: String,
    pub domain_name: String,
}

/// Everything a resource step needs.
pub struct Ctx<'a> {
    pub aws: &'a Aws,
    pub config: &'a Config,
    pub names: &'a SiteNames,
    pub account: &'a str,
    pub printer: &'a Printer,
    /// `false` for `plan`: observe and diff only, never write.
    pub apply: bool,
    /// Wait for certificates and distributions to be ready.
    pub wait: bool,
    /// Set by `adopt` while an existing public website bucket is being moved behind CloudFront.
    pub adopt: Option<Adoption>,
    /// The source folder, where there is one: CSP `"auto"` reads the error page's needs there.
    pub source: Option<&'a std::path::Path>,
}

impl crate::site::Session {
    /// The reconciliation context of this site: `apply` writes, `wait` waits for deployments.
    pub fn ctx<'a>(&'a self, printer: &'a Printer, apply: bool, wait: bool) -> Ctx<'a> {
        Ctx {
            aws: &self.aws,
            config: &self.config,
            names: &self.names,
            account: &self.account,
            printer,
            apply,
            wait,
            adopt: None,
            source: Some(&self.source),
        }
    }
}

/// How `adopt` bends the reconciliation of the bucket it takes over (see the adopt command).
#[derive(Debug, Clone, Default)]
pub struct Adoption {
    /// The site is still served by the bucket's public website endpoint: Block Public Access,
    /// object ownership, default encryption (anonymous readers cannot read SSE-KMS objects) and the
    /// TLS-only deny (the website endpoint is HTTP only) wait until DNS points at the distribution.
    pub keep_public: bool,
    /// The bucket policy statements that serve the site publicly, kept while `keep_public`.
    pub public_statements: Vec<serde_json::Value>,
}

impl Ctx<'_> {
    /// Records a change and, when applying, logs it before it is made.
    pub fn change(
        &self,
        plan: &mut Plan,
        resource: &Resource,
        action: Action,
        detail: impl Into<String>,
    ) {
        let change = Change {
            resource: resource.clone(),
            action,
            detail: detail.into(),
        };
        if self.apply {
            self.printer.info(format_args!(
                "{} {}: {}",
                change.action.symbol(),
                change.resource,
                change.detail
            ));
        }
        plan.unchanged.retain(|u| u.resource != change.resource);
        plan.changes.push(change);
    }

    /// Records `resource` as matching the config, unless a change to it was recorded: called by
    /// each resource step once it has diffed the resource.
    pub fn settled(&self, plan: &mut Plan, resource: &Resource) {
        let known = |c: &Change| c.resource == *resource;
        if plan.changes.iter().any(known) || plan.unchanged.iter().any(known) {
            return;
        }
        plan.unchanged.push(Change {
            resource: resource.clone(),
            action: Action::NoOp,
            detail: "matches the config".to_owned(),
        });
    }
}

/// What would stop `up` in a late step, checked before the first write so that a refusal changes
/// nothing: the function code's size, the hosted zone, and DNS records at the site's names that
/// sitewarden may not replace (the DNS step's own diff, run as a plan against the distribution
/// that exists, if any). Returns the hosted zone, for the steps that follow.
async fn preflight(ctx: &Ctx<'_>) -> Result<Option<String>> {
    cloudfront::check(ctx.config)?;
    monitoring::check(ctx).await?;
    if ctx.config.site.domain.is_none() || ctx.config.dns.mode == crate::config::DnsMode::External {
        return Ok(None);
    }
    let zone_id = dns::require_zone(ctx).await?;
    let distribution = crate::observe::distribution::find_site(ctx.aws, ctx.names)
        .await?
        .map(|d| DistributionRef {
            id: d.id,
            arn: d.arn,
            domain_name: d.domain_name,
        });
    let known = Known {
        zone_id: Some(zone_id),
        distribution,
        ..Known::default()
    };
    let check = Ctx {
        apply: false,
        adopt: ctx.adopt.clone(),
        ..*ctx
    };
    dns::reconcile(&check, &known, &mut Plan::default()).await?;
    Ok(known.zone_id)
}

/// Reconciles every resource in dependency order. With `ctx.apply == false` this is `plan`.
pub async fn reconcile(ctx: &Ctx<'_>) -> Result<(Plan, Known)> {
    let zone_id = if ctx.apply {
        preflight(ctx).await.map_err(Error::before_any_change)?
    } else {
        None
    };
    let mut plan = Plan::default();
    let mut known = Known {
        zone_id,
        ..Known::default()
    };
    kms::reconcile_key(ctx, &mut known, &mut plan).await?;
    buckets::reconcile_log_bucket(ctx, &mut known, &mut plan).await?;
    buckets::reconcile_content_bucket(ctx, &mut known, &mut plan).await?;
    acm::reconcile(ctx, &mut known, &mut plan).await?;
    cloudfront::reconcile(ctx, &mut known, &mut plan).await?;
    kms::reconcile_key_policy(ctx, &known, &mut plan).await?;
    buckets::reconcile_content_policy(ctx, &known, &mut plan).await?;
    dns::reconcile(ctx, &known, &mut plan).await?;
    monitoring::reconcile(ctx, &known, &mut plan).await?;
    Ok((plan, known))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::Kind;

    #[test]
    fn a_change_serializes_its_resource_as_text() {
        let change = Change {
            resource: Resource::new(Kind::Bucket, "docs-site-1"),
            action: Action::NoOp,
            detail: "matches the config".to_owned(),
        };
        assert_eq!(
            serde_json::to_value(&change).unwrap(),
            serde_json::json!({
                "resource": "s3 bucket docs-site-1",
                "action": "no-op",
                "detail": "matches the config",
            })
        );
    }
}
