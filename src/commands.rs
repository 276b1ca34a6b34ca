//! `plan`, `up` and `destroy`: glue between the command line and `provision`; `preview` in its
//! own file.

mod preview;

pub use preview::preview;

use std::collections::BTreeMap;
use std::fmt;
use std::io::IsTerminal as _;

use serde::Serialize;

use crate::error::{Error, Exit, Result};
use crate::output::Printer;
use crate::provision::{self, Ctx, DistributionRef, Plan};
pub use crate::site::Session;
use crate::site::Settings;

#[derive(Debug, Serialize)]
pub struct Summary {
    pub site: String,
    #[serde(flatten)]
    pub plan: Plan,
    /// Set once the distribution exists.
    pub distribution: Option<DistributionRef>,
    /// The content deploy that followed (`up` without `--infra-only`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deploy: Option<crate::deploy::Summary>,
    pub requests: BTreeMap<String, u64>,
    #[serde(skip)]
    applied: bool,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.applied {
            if self.plan.is_empty() {
                writeln!(f, "Site `{}` is up to date: no changes.", self.site)?;
            } else {
                writeln!(
                    f,
                    "Site `{}`: applied {} change(s).",
                    self.site,
                    self.plan.changes.len()
                )?;
            }
        } else {
            write!(f, "{}", self.plan)?;
        }
        if let Some(deploy) = &self.deploy {
            write!(f, "{deploy}")?;
        }
        if let Some(d) = &self.distribution {
            writeln!(f, "CloudFront: https://{} ({})", d.domain_name, d.id)?;
        }
        Ok(())
    }
}

impl crate::output::Markdown for Summary {
    fn markdown(&self) -> String {
        use crate::output::{cell, code};
        use std::fmt::Write as _;
        let verb = if self.applied { "up" } else { "plan" };
        let mut out = format!("## sitewarden {verb}: site {}\n\n", code(&self.site));
        for p in &self.plan.pending_confirmations {
            let _ = writeln!(
                out,
                "> [!WARNING]\n> {} has not confirmed the alert subscription to {}\n",
                code(&p.email),
                code(&p.topic_arn)
            );
        }
        if self.plan.changes.is_empty() {
            let _ = writeln!(
                out,
                "No infrastructure change: {} resource(s) match the config.\n",
                self.plan.unchanged.len()
            );
        } else {
            out.push_str("| | resource | change |\n| --- | --- | --- |\n");
            for c in &self.plan.changes {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} |",
                    c.action.symbol(),
                    code(&c.resource.to_string()),
                    cell(&c.detail)
                );
            }
            let _ = writeln!(
                out,
                "\n{} other resource(s) match the config.\n",
                self.plan.unchanged.len()
            );
        }
        if let Some(deploy) = &self.deploy {
            out.push_str(&deploy.markdown());
        }
        out
    }
}

/// The printer for `--format`: `json` is `--json`; `markdown` conflicts with `--json`.
fn formatted(
    settings: &Settings,
    format: Option<crate::output::Format>,
) -> Result<(Printer, Option<crate::output::Format>)> {
    let json = settings.output.json;
    match format {
        Some(crate::output::Format::Markdown) if json => Err(crate::error::Error::usage_with_hint(
            "`--json` conflicts with `--format markdown`",
            "pass one of them",
        )),
        Some(crate::output::Format::Json) => Ok((
            Printer::new(crate::settings::OutputSettings {
                json: true,
                ..settings.output
            }),
            None,
        )),
        Some(crate::output::Format::Text) if json => Err(crate::error::Error::usage_with_hint(
            "`--json` conflicts with `--format text`",
            "pass one of them",
        )),
        other => Ok((Printer::new(settings.output), other)),
    }
}

/// Prints a result as `--format` asks (`None`: text, or JSON with `--json`).
fn print<T: Serialize + fmt::Display + crate::output::Markdown>(
    printer: &Printer,
    value: &T,
    format: Option<crate::output::Format>,
) -> Result<()> {
    match format {
        Some(crate::output::Format::Markdown) => printer.markdown(value)?,
        _ => printer.data(value)?,
    }
    Ok(())
}

pub async fn plan(
    settings: &Settings,
    detailed_exitcode: bool,
    infra_only: bool,
    format: Option<crate::output::Format>,
) -> Result<Exit> {
    let (printer, format) = formatted(settings, format)?;
    let printer = &printer;
    let session = Session::open(settings).await?;
    // As in `up`: the source is checked first, so what `up` would refuse, `plan` refuses too.
    let local = if infra_only {
        None
    } else {
        let source = settings.config_dir().join(&session.config.site.source);
        Some(crate::deploy::prepare(&session, &source, printer)?)
    };
    let ctx = session.ctx(printer, false, false);
    let (mut plan, known) = provision::reconcile(&ctx).await?;
    if let Some(ci) = &session.config.ci {
        crate::ci::reconcile(&ctx, ci, false, &mut plan).await?;
    }
    let content = match &local {
        Some(local) => Some(crate::deploy::preview(&session, local, printer).await?),
        None => None,
    };
    let pending = !plan.is_empty()
        || content
            .as_ref()
            .is_some_and(|c| c.uploaded > 0 || c.deleted > 0);
    let summary = Summary {
        site: session.names.site.clone(),
        plan,
        distribution: known.distribution,
        deploy: content,
        requests: session.aws.requests.snapshot(),
        applied: false,
    };
    print(printer, &summary, format)?;
    Ok(if pending && detailed_exitcode {
        Exit::ChangesPending
    } else {
        Exit::Success
    })
}

pub async fn up(
    settings: &Settings,
    printer: &Printer,
    options: crate::deploy::Options,
    infra_only: bool,
) -> Result<Exit> {
    let wait = options.wait;
    let session = Session::open(settings).await?;
    let source = settings.config_dir().join(&session.config.site.source);
    // The source is checked before anything is created: bad input changes nothing remotely.
    let local = if infra_only {
        None
    } else {
        Some(crate::deploy::prepare(&session, &source, printer)?)
    };
    let ctx = session.ctx(printer, true, wait);
    let (mut plan, known) = provision::reconcile(&ctx).await?;
    if let Some(ci) = &session.config.ci {
        crate::ci::reconcile(&ctx, ci, false, &mut plan).await?;
    }
    let deploy = match local {
        Some(local) => {
            let mut summary =
                crate::deploy::deploy(&session, local, &source, printer, options).await?;
            summary.requests.clear();
            Some(summary)
        }
        None => None,
    };
    printer.data(&Summary {
        site: session.names.site.clone(),
        plan,
        distribution: known.distribution,
        deploy,
        requests: session.aws.requests.snapshot(),
        applied: true,
    })?;
    Ok(Exit::Success)
}

pub async fn deploy(
    settings: &Settings,
    options: crate::deploy::Options,
    format: Option<crate::output::Format>,
) -> Result<Exit> {
    let (printer, format) = formatted(settings, format)?;
    let printer = &printer;
    let session = Session::open(settings).await?;
    let source = settings.config_dir().join(&session.config.site.source);
    let local = crate::deploy::prepare(&session, &source, printer)?;
    let summary = crate::deploy::deploy(&session, local, &source, printer, options).await?;
    print(printer, &summary, format)?;
    Ok(Exit::Success)
}

pub async fn history(settings: &Settings, printer: &Printer) -> Result<Exit> {
    let session = Session::open(settings).await?;
    printer.data(&crate::deploy::history(&session).await?)?;
    Ok(Exit::Success)
}

pub async fn rollback(
    settings: &Settings,
    printer: &Printer,
    target: Option<&str>,
    options: crate::deploy::Options,
) -> Result<Exit> {
    let session = Session::open(settings).await?;
    printer.data(&crate::deploy::rollback(&session, target, printer, options).await?)?;
    Ok(Exit::Success)
}

/// What `unlock` did.
#[derive(Debug, Serialize)]
pub struct Unlocked {
    /// The lease that was broken; `None` when the site had none.
    pub broken: Option<crate::deploy::lock::LeaseInfo>,
    pub requests: BTreeMap<String, u64>,
}

impl fmt::Display for Unlocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.broken {
            None => writeln!(f, "The site has no deploy lease; nothing to break."),
            Some(lease) => writeln!(
                f,
                "Broke the site's lease: {}",
                crate::output::escape(&lease.describe())
            ),
        }
    }
}

pub async fn unlock(settings: &Settings, printer: &Printer, force: bool) -> Result<Exit> {
    let session = Session::open(settings).await?;
    let broken =
        crate::deploy::lock::break_lease(&session.aws.s3, &session.names.content_bucket, force)
            .await?;
    printer.data(&Unlocked {
        broken,
        requests: session.aws.requests.snapshot(),
    })?;
    Ok(Exit::Success)
}

pub async fn iam_policy(
    settings: &Settings,
    printer: &Printer,
    purpose: crate::iam::Purpose,
) -> Result<Exit> {
    let session = Session::open(settings).await?;
    let scope = match purpose {
        crate::iam::Purpose::Provision | crate::iam::Purpose::Ci => {
            crate::iam::discover(&session.ctx(printer, false, false)).await
        }
        crate::iam::Purpose::Deploy => crate::iam::Scope::default(),
    };
    let document = crate::iam::policy_for(
        purpose,
        &session.names,
        &session.account,
        &session.aws.region,
        session
            .config
            .kms
            .key_arn
            .as_ref()
            .map(crate::config::KmsKeyArn::as_str),
        &scope,
    );
    printer.data(&document)?;
    Ok(Exit::Success)
}

/// What `destroy` removes beyond the distribution, its policies, DNS records and certificate.
#[derive(Debug, Clone, Copy)]
pub struct Destroy {
    /// Both buckets and every version of their objects.
    pub delete_content: bool,
    /// Leave the key alone (otherwise its deletion is scheduled).
    pub keep_key: bool,
}

pub async fn destroy(settings: &Settings, printer: &Printer, what: Destroy) -> Result<Exit> {
    let session = Session::open(settings).await?;
    // Show what would go, then ask.
    let mut preview = Plan::default();
    destroy_all(&session.ctx(printer, false, true), &mut preview, what).await?;
    if preview.is_empty() {
        printer.data(&Summary {
            site: session.names.site.clone(),
            plan: preview,
            distribution: None,
            deploy: None,
            requests: session.aws.requests.snapshot(),
            applied: true,
        })?;
        return Ok(Exit::Success);
    }
    if !settings.yes {
        confirm(&session.names.site, &preview)?;
    }
    let mut plan = Plan::default();
    destroy_all(&session.ctx(printer, true, true), &mut plan, what).await?;
    printer.data(&Summary {
        site: session.names.site.clone(),
        plan,
        distribution: None,
        deploy: None,
        requests: session.aws.requests.snapshot(),
        applied: true,
    })?;
    Ok(Exit::Success)
}

/// Reverse dependency order: monitoring first (the teardown that follows is no alert), DNS
/// (nothing points at a deleted distribution), then CloudFront, the certificate, the key
/// (scheduled, recoverable for 30 days), and the buckets only on request.
async fn destroy_all(ctx: &Ctx<'_>, plan: &mut Plan, what: Destroy) -> Result<()> {
    provision::monitoring::remove(ctx, plan).await?;
    crate::ci::remove(ctx, plan).await?;
    provision::dns::destroy(ctx, plan).await?;
    provision::cloudfront::destroy(ctx, plan).await?;
    provision::acm::destroy(ctx, plan).await?;
    if !what.keep_key {
        provision::kms::schedule_deletion(ctx, plan, !what.delete_content).await?;
    }
    provision::buckets::destroy(ctx, plan, what.delete_content).await
}

fn confirm(site: &str, plan: &Plan) -> Result<()> {
    eprint!("{plan}");
    if !std::io::stdin().is_terminal() {
        return Err(Error::usage_with_hint(
            format!("refusing to destroy site `{site}` without confirmation"),
            "pass `-y` to confirm in scripts",
        ));
    }
    eprint!("Destroy site `{site}`? Type the site name to confirm: ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    if answer.trim() == site {
        Ok(())
    } else {
        Err(Error::usage("destroy cancelled: nothing was changed"))
    }
}
