//! The five steps of an adoption (prepare, distribution, dns, close, config), each a reconciliation
//! of live state through provision's operations, so each is idempotent and resumable.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::error::{AwsResultExt as _, Error, Result};
use crate::provision::{self, Action, Adoption, Ctx, Known, Plan, buckets};

use super::record::save_record;
use super::reencrypt::reencrypt;
use super::survey::{Survey, website_record_ttl};
use crate::names::{Kind, Resource};

/// Added to the old record's TTL before public access ends.
const DNS_GRACE_MARGIN: Duration = Duration::from_secs(30);

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
    pub(super) const ALL: [Step; 5] = [
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

    pub(super) fn title(self) -> &'static str {
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

/// What one step needs beyond the reconciliation context.
pub(super) struct StepInput<'a> {
    pub(super) survey: &'a Survey,
    pub(super) config_text: Option<&'a str>,
    pub(super) config_path: &'a Path,
    pub(super) reencrypt: bool,
    pub(super) dns_grace: Option<Duration>,
}

pub(super) async fn run_step(
    ctx: &Ctx<'_>,
    step: Step,
    what: &StepInput<'_>,
    known: &mut Known,
    plan: &mut Plan,
) -> Result<()> {
    match step {
        Step::Prepare => prepare(ctx, what.survey, known, plan).await,
        Step::Distribution => distribution(ctx, known, plan).await,
        Step::Dns => dns(ctx, what.dns_grace, known, plan).await,
        Step::Close => close(ctx, what, known, plan).await,
        Step::Config => write_config(ctx, what, plan),
    }
}

/// Step 1: the site key, the log bucket and the bucket's settings that leave public read as it
/// is; the website as it was is saved for a resumed run.
async fn prepare(ctx: &Ctx<'_>, survey: &Survey, known: &mut Known, plan: &mut Plan) -> Result<()> {
    provision::kms::reconcile_key(ctx, known, plan).await?;
    buckets::reconcile_log_bucket(ctx, known, plan).await?;
    buckets::reconcile_content_bucket(ctx, known, plan).await?;
    if let Some(website) = &survey.website {
        save_record(ctx, survey, website, ctx.config, plan).await?;
    }
    Ok(())
}

/// Step 2: CloudFront in front of the bucket, allowed by the key and bucket policies while the
/// public read still serves the site.
async fn distribution(ctx: &Ctx<'_>, known: &mut Known, plan: &mut Plan) -> Result<()> {
    provision::acm::reconcile(ctx, known, plan).await?;
    provision::cloudfront::reconcile(ctx, known, plan).await?;
    provision::kms::reconcile_key_policy(ctx, known, plan).await?;
    buckets::reconcile_content_policy(ctx, known, plan).await
}

/// Step 3: the domain's records move to the distribution, then public access stays on while
/// resolvers may still hold the website answer.
async fn dns(
    ctx: &Ctx<'_>,
    grace: Option<Duration>,
    known: &mut Known,
    plan: &mut Plan,
) -> Result<()> {
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
        let grace = grace.unwrap_or_else(|| dns_grace(ttl));
        if !grace.is_zero() {
            ctx.printer.info(format_args!(
                "waiting {} s for DNS caches to drop the website endpoint before public \
                 access ends (--dns-grace to change)",
                grace.as_secs()
            ));
            tokio::time::sleep(grace).await;
        }
    }
    Ok(())
}

/// Step 4: public read ends (Block Public Access, the secure policy, ACLs off, SSE-KMS), objects
/// are re-encrypted, and only then website hosting is turned off.
async fn close(
    ctx: &Ctx<'_>,
    what: &StepInput<'_>,
    known: &mut Known,
    plan: &mut Plan,
) -> Result<()> {
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
            &Resource::new(Kind::Bucket, &ctx.names.content_bucket),
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
    Ok(())
}

/// Step 5: the adopted site's `sitewarden.toml`, unless one naming this bucket exists already.
fn write_config(ctx: &Ctx<'_>, what: &StepInput<'_>, plan: &mut Plan) -> Result<()> {
    if let Some(text) = what.config_text {
        ctx.change(
            plan,
            &Resource::new(Kind::File, what.config_path.display()),
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
    Ok(())
}

/// How long to keep public access after the DNS switch: the old record's TTL plus a margin.
fn dns_grace(old_ttl: Duration) -> Duration {
    old_ttl + DNS_GRACE_MARGIN
}

#[cfg(test)]
mod tests {
    use super::super::survey::ALIAS_TTL;
    use super::*;

    #[test]
    fn public_access_outlives_the_cached_website_answer() {
        assert_eq!(dns_grace(ALIAS_TTL), Duration::from_secs(90));
        assert_eq!(dns_grace(Duration::from_mins(5)), Duration::from_secs(330));
    }
}
