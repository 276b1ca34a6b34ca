//! A region's alert topic `sitewarden-<site>-alerts`: encrypted with the region's alert key, a
//! policy that lets only this site's alarms and rules publish (over TLS), and the configured
//! email addresses subscribed.

use aws_sdk_sns::types::Tag;
use serde_json::Value;

use super::super::{Action, Ctx, PendingConfirmation, Plan, policy};
use super::{key, observe};
use crate::aws::{Regional, US_EAST_1};
use crate::error::{AwsResultExt as _, Result};
use crate::names::{Kind, Resource, SITE_TAG};

const TOPIC_POLICY: &str = include_str!("../../../templates/alerts-topic-policy.json");

fn arn(ctx: &Ctx<'_>, regional: &Regional) -> String {
    observe::topic_arn(&regional.region, ctx.account, &ctx.names.alerts_topic())
}

/// The topic policy: CloudWatch may publish for this site's alarms (us-east-1 only), EventBridge
/// for this site's rules of the region, both only for this account; nothing over plain HTTP.
pub fn topic_policy(ctx: &Ctx<'_>, region: &str, topic_arn: &str) -> Value {
    let mut doc = policy::render(
        TOPIC_POLICY,
        &[
            ("site", Some(&ctx.names.site)),
            ("account", Some(ctx.account)),
            ("topic", Some(topic_arn)),
        ],
    );
    let alarms: Vec<Value> = if region == US_EAST_1 {
        observe::ALARMS
            .iter()
            .map(|a| {
                Value::from(format!(
                    "arn:aws:cloudwatch:{US_EAST_1}:{}:alarm:{}",
                    ctx.account,
                    ctx.names.monitor(a.suffix)
                ))
            })
            .collect()
    } else {
        Vec::new()
    };
    let rules: Vec<Value> = observe::RULES
        .iter()
        .filter(|r| r.region(&ctx.aws.region) == region)
        .map(|r| {
            Value::from(format!(
                "arn:aws:events:{region}:{}:rule/{}",
                ctx.account,
                ctx.names.monitor(r.suffix)
            ))
        })
        .collect();
    if let Some(statements) = doc["Statement"].as_array_mut() {
        statements.retain_mut(|s| {
            let sources = match s["Sid"].as_str() {
                Some("AlarmsOfTheSitePublish") => &alarms,
                Some("RulesOfTheSitePublish") => &rules,
                _ => return true,
            };
            s["Condition"]["ArnEquals"]["aws:SourceArn"] = Value::Array(sources.clone());
            !sources.is_empty()
        });
    }
    doc
}

/// The topic's ARN once it exists (`None` in `plan` when it would be created).
pub(super) async fn reconcile(
    ctx: &Ctx<'_>,
    regional: &Regional,
    plan: &mut Plan,
) -> Result<Option<String>> {
    let key_arn = key::reconcile(ctx, regional, plan).await?;
    let arn = arn(ctx, regional);
    let resource = Resource::new(Kind::Topic, &arn);
    let desired_policy = topic_policy(ctx, &regional.region, &arn);
    let Some(attributes) = observe::topic(regional, &arn).await? else {
        ctx.change(
            plan,
            &resource,
            Action::Create,
            "create the alert topic (KMS-encrypted; only this site's alarms and rules publish)",
        );
        if !ctx.apply {
            plan_subscriptions(ctx, regional, &arn, &[], plan);
            return Ok(None);
        }
        let key_arn = key_arn.ok_or_else(|| anyhow::anyhow!("the alert key was not created"))?;
        regional
            .sns
            .create_topic()
            .name(ctx.names.alerts_topic())
            .attributes("KmsMasterKeyId", key_arn)
            .attributes("Policy", desired_policy.to_string())
            .tags(
                Tag::builder()
                    .key(SITE_TAG)
                    .value(&ctx.names.site)
                    .build()?,
            )
            .send()
            .await
            .op("CreateTopic", &resource)?;
        subscribe(ctx, regional, &arn, &[], plan).await?;
        return Ok(Some(arn));
    };
    if let Some(key_arn) = &key_arn
        && attributes.get("KmsMasterKeyId") != Some(key_arn)
    {
        let live = attributes
            .get("KmsMasterKeyId")
            .map_or("none", String::as_str);
        ctx.change(
            plan,
            &resource,
            Action::Update,
            format!("encryption key {live} → {key_arn}"),
        );
        set_attribute(ctx, regional, &resource, "KmsMasterKeyId", key_arn).await?;
    }
    let live_policy = attributes.get("Policy").and_then(|p| policy::parse(p));
    if !live_policy.is_some_and(|p| policy::same(&p, &desired_policy)) {
        ctx.change(
            plan,
            &resource,
            Action::Update,
            "topic policy: only this site's alarms and rules publish, over TLS",
        );
        set_attribute(
            ctx,
            regional,
            &resource,
            "Policy",
            &desired_policy.to_string(),
        )
        .await?;
    }
    ctx.settled(plan, &resource);
    let live = observe::subscriptions(regional, &arn).await?;
    subscribe(ctx, regional, &arn, &live, plan).await?;
    Ok(Some(arn))
}

async fn set_attribute(
    ctx: &Ctx<'_>,
    regional: &Regional,
    resource: &Resource,
    name: &str,
    value: &str,
) -> Result<()> {
    if ctx.apply {
        regional
            .sns
            .set_topic_attributes()
            .topic_arn(&resource.name)
            .attribute_name(name)
            .attribute_value(value)
            .send()
            .await
            .op("SetTopicAttributes", resource)?;
    }
    Ok(())
}

fn subscription(email: &str, topic_arn: &str) -> Resource {
    Resource::new(Kind::Subscription, format!("{email} → {topic_arn}"))
}

fn same_address(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// The configured addresses without an email subscription, and the confirmed email subscriptions
/// of addresses no longer configured. Other protocols (a queue, a chat hook the user added) are
/// left alone.
fn plan_subscriptions<'a>(
    ctx: &Ctx<'_>,
    regional: &Regional,
    topic_arn: &str,
    live: &'a [observe::Subscription],
    plan: &mut Plan,
) -> (Vec<String>, Vec<&'a str>) {
    let emails = &ctx.config.monitoring.email;
    let is_email = |s: &&observe::Subscription| s.protocol == "email";
    let mut missing = Vec::new();
    for email in emails {
        let found = live
            .iter()
            .filter(is_email)
            .find(|s| same_address(&s.endpoint, email.as_str()));
        let resource = subscription(email.as_str(), topic_arn);
        match found {
            None => {
                ctx.change(
                    plan,
                    &resource,
                    Action::Create,
                    format!(
                        "subscribe {email}: AWS Notifications emails a confirmation link{}",
                        if regional.region == US_EAST_1 {
                            String::new()
                        } else {
                            format!(" (one per topic: also for {})", regional.region)
                        }
                    ),
                );
                missing.push(email.as_str().to_owned());
            }
            Some(_) => ctx.settled(plan, &resource),
        }
        if found.is_none_or(|s| !s.confirmed()) {
            if ctx.apply {
                ctx.printer.warn(format_args!(
                    "{email} has not confirmed the alert subscription to {topic_arn}: no alert \
                     reaches it until the link in the email from AWS Notifications is clicked"
                ));
            }
            plan.pending_confirmations.push(PendingConfirmation {
                email: email.as_str().to_owned(),
                topic_arn: topic_arn.to_owned(),
            });
        }
    }
    let stale = live
        .iter()
        .filter(is_email)
        .filter(|s| !emails.iter().any(|e| same_address(&s.endpoint, e.as_str())))
        .filter_map(|s| {
            let arn = s.arn.as_deref()?; // a pending one cannot be removed; AWS drops it in 3 days
            ctx.change(
                plan,
                &subscription(&s.endpoint, topic_arn),
                Action::Delete,
                "unsubscribe: the address is no longer in `monitoring.email`",
            );
            Some(arn)
        })
        .collect();
    (missing, stale)
}

async fn subscribe(
    ctx: &Ctx<'_>,
    regional: &Regional,
    topic_arn: &str,
    live: &[observe::Subscription],
    plan: &mut Plan,
) -> Result<()> {
    let (missing, stale) = plan_subscriptions(ctx, regional, topic_arn, live, plan);
    if !ctx.apply {
        return Ok(());
    }
    for email in missing {
        regional
            .sns
            .subscribe()
            .topic_arn(topic_arn)
            .protocol("email")
            .endpoint(&email)
            .send()
            .await
            .op("Subscribe", &subscription(&email, topic_arn))?;
    }
    for arn in stale {
        regional
            .sns
            .unsubscribe()
            .subscription_arn(arn)
            .send()
            .await
            .op("Unsubscribe", arn)?;
    }
    Ok(())
}

/// Deletes the site's topic of the region (its subscriptions go with it).
pub(super) async fn remove(ctx: &Ctx<'_>, regional: &Regional, plan: &mut Plan) -> Result<()> {
    let arn = arn(ctx, regional);
    if observe::topic(regional, &arn).await?.is_none() {
        return Ok(());
    }
    let resource = Resource::new(Kind::Topic, &arn);
    ctx.change(
        plan,
        &resource,
        Action::Delete,
        "delete the alert topic and its subscriptions",
    );
    if ctx.apply {
        regional
            .sns
            .delete_topic()
            .topic_arn(&arn)
            .send()
            .await
            .op("DeleteTopic", &resource)?;
    }
    Ok(())
}
