//! Monitoring (`[monitoring]`): an alert topic that a person is subscribed to, alarms on the
//! distribution's error rates, and EventBridge rules that turn the CloudTrail management events
//! weakening the site's resources into readable alerts.
//!
//! - **Topics** `sitewarden-<site>-alerts`: one in us-east-1 (alarms on CloudFront's metrics, the
//!   CloudFront, Route53 and ACM rules) and, for a site elsewhere, one in the site's region (the
//!   S3 and KMS rules: EventBridge publishes only to a topic of the rule's region). Each is
//!   encrypted with a key of its region (`alias/sitewarden-alerts/<site>`) whose policy lets this
//!   account's CloudWatch and EventBridge use it, and its policy lets only this site's alarms and
//!   rules publish, over TLS. With `sns_topic_arn` the user's topics are used as they are.
//! - **Alarms** (`alarms.rs`), **rules** (`rules.rs`).
//!
//! Reconciled last, once the distribution, certificate and zone they watch are known.
//! `enabled = false` removes what an earlier run created; without a `[monitoring]` address or
//! topic nothing is read or written.

mod alarms;
mod key;
mod rules;
mod topic;

use super::{Ctx, Known, Plan};
use crate::aws::Regional;
use crate::error::{Error, Result};
use crate::observe::monitoring as observe;

/// The topic each region's alarms and rules publish to (`None` in `plan` when it would be
/// created).
#[derive(Debug, Default)]
struct Topics(Vec<(String, Option<String>)>);

impl Topics {
    fn arn_in(&self, region: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(r, _)| r == region)
            .and_then(|(_, arn)| arn.as_deref())
    }
}

/// The user's topic of `region` (`sns_topic_arn`), if the config names its own topics.
fn configured_topic<'a>(ctx: &'a Ctx<'_>, region: &str) -> Option<&'a str> {
    ctx.config
        .monitoring
        .sns_topic_arn
        .iter()
        .find(|t| t.region() == region)
        .map(crate::config::SnsTopicArn::as_str)
}

/// What would stop the monitoring step, checked before `up` writes anything: a user's topic for
/// every region that needs one, and topics that exist.
pub async fn check(ctx: &Ctx<'_>) -> Result<()> {
    let m = &ctx.config.monitoring;
    if !m.is_on() || m.sns_topic_arn.is_empty() {
        return Ok(());
    }
    for regional in ctx.aws.monitoring.regions() {
        let Some(arn) = configured_topic(ctx, &regional.region) else {
            return Err(Error::usage_with_hint(
                format!(
                    "`monitoring.sns_topic_arn` has no topic in {}: the site's {} publish there",
                    regional.region,
                    if regional.region == crate::aws::US_EAST_1 {
                        "alarms and CloudFront, Route53 and ACM rules"
                    } else {
                        "S3 and KMS rules"
                    }
                ),
                "add a topic of that region to `sns_topic_arn` (a list), or use `email`",
            ));
        };
        if observe::topic(regional, arn).await?.is_none() {
            return Err(Error::usage_with_hint(
                format!("`monitoring.sns_topic_arn`: topic {arn} does not exist"),
                "create it first, or use `email` and let sitewarden create the site's topics",
            ));
        }
    }
    Ok(())
}

/// Reconciles the site's monitoring; with `enabled = false`, removes it.
pub async fn reconcile(ctx: &Ctx<'_>, known: &Known, plan: &mut Plan) -> Result<()> {
    let m = &ctx.config.monitoring;
    if m.is_turned_off() {
        return remove(ctx, plan).await;
    }
    if !m.is_on() {
        // Nothing is reconciled, but monitoring left by an earlier config is named.
        let global = &ctx.aws.monitoring.global;
        let arn = observe::topic_arn(&global.region, ctx.account, &ctx.names.alerts_topic());
        if observe::topic(global, &arn).await?.is_some() {
            ctx.printer.warn(format_args!(
                "the site's monitoring ({arn}, its alarms and rules) exists but `[monitoring]` \
                 names no address or topic: it is no longer reconciled; set \
                 `monitoring.enabled = false` to remove it"
            ));
        }
        return Ok(());
    }
    let mut topics = Topics::default();
    for regional in ctx.aws.monitoring.regions() {
        let arn = match configured_topic(ctx, &regional.region) {
            Some(arn) => {
                // The user's topic replaces the site's own, if an earlier run created one.
                topic::remove(ctx, regional, plan).await?;
                key::remove(ctx, regional, plan).await?;
                Some(arn.to_owned())
            }
            None => topic::reconcile(ctx, regional, plan).await?,
        };
        topics.0.push((regional.region.clone(), arn));
    }
    alarms::reconcile(ctx, known, &topics, plan).await?;
    rules::reconcile(ctx, known, &topics, plan).await
}

/// Removes every monitoring resource carrying the site's names: rules, alarms, and the site's own
/// topics (with their subscriptions) and keys. The user's topics are never touched.
pub async fn remove(ctx: &Ctx<'_>, plan: &mut Plan) -> Result<()> {
    rules::remove(ctx, plan).await?;
    alarms::remove(ctx, plan).await?;
    for regional in ctx.aws.monitoring.regions() {
        topic::remove(ctx, regional, plan).await?;
        key::remove(ctx, regional, plan).await?;
    }
    Ok(())
}

/// `<name> in <region>`: how plans name the regional monitoring resources.
fn regional_name(name: &str, regional: &Regional) -> String {
    format!("{name} in {}", regional.region)
}
