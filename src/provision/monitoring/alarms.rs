//! The error-rate alarms (us-east-1, namespace `AWS/CloudFront`, dimensions `DistributionId` and
//! `Region=Global`): the 5xx and 4xx rates, judged only in five-minute periods with at least
//! `monitoring.min_requests` requests, so that one 404 at night pages nobody. Their ALARM and OK
//! actions publish to the us-east-1 alert topic.

use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, Metric, MetricAlarm, MetricDataQuery, MetricStat, Tag,
};

use super::super::{Action, Ctx, Known, Plan};
use super::{Topics, observe};
use crate::aws::US_EAST_1;
use crate::error::{AwsResultExt as _, Result};
use crate::names::{Kind, Resource, SITE_TAG};
use crate::observe::monitoring::{ALARMS, AlarmKind};

const PERIOD: i32 = 300;

/// The properties sitewarden sets on an alarm, in one comparable form.
#[derive(Debug, Clone, PartialEq)]
struct Spec {
    description: String,
    threshold: f64,
    evaluation_periods: i32,
    datapoints_to_alarm: Option<i32>,
    comparison: Option<ComparisonOperator>,
    treat_missing_data: Option<String>,
    actions_enabled: bool,
    alarm_actions: Vec<String>,
    ok_actions: Vec<String>,
    metrics: Vec<MetricDataQuery>,
}

fn threshold(ctx: &Ctx<'_>, kind: &AlarmKind) -> f64 {
    if kind.suffix == "5xx" {
        ctx.config.monitoring.error_rate_5xx
    } else {
        ctx.config.monitoring.error_rate_4xx
    }
}

fn metric(distribution_id: &str, name: &str, stat: &str, id: &str) -> MetricDataQuery {
    let dimension = |name: &str, value: &str| Dimension::builder().name(name).value(value).build();
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(
            MetricStat::builder()
                .metric(
                    Metric::builder()
                        .namespace("AWS/CloudFront")
                        .metric_name(name)
                        .dimensions(dimension("DistributionId", distribution_id))
                        .dimensions(dimension("Region", "Global"))
                        .build(),
                )
                .period(PERIOD)
                .stat(stat)
                .build(),
        )
        .return_data(false)
        .build()
}

fn desired(ctx: &Ctx<'_>, kind: &AlarmKind, distribution_id: &str, topic: &str) -> Spec {
    let min = ctx.config.monitoring.min_requests;
    let threshold = threshold(ctx, kind);
    Spec {
        description: format!(
            "sitewarden site {}: more than {threshold}% of requests got a {} in {} of the last {} \
             five-minute periods (periods with fewer than {min} requests do not count)",
            ctx.names.site, kind.suffix, kind.datapoints_to_alarm, kind.evaluation_periods
        ),
        threshold,
        evaluation_periods: kind.evaluation_periods,
        datapoints_to_alarm: Some(kind.datapoints_to_alarm),
        comparison: Some(ComparisonOperator::GreaterThanThreshold),
        treat_missing_data: Some("notBreaching".to_owned()),
        actions_enabled: true,
        alarm_actions: vec![topic.to_owned()],
        ok_actions: vec![topic.to_owned()],
        metrics: vec![
            metric(distribution_id, kind.metric, "Average", "rate"),
            metric(distribution_id, "Requests", "Sum", "requests"),
            MetricDataQuery::builder()
                .id("judged")
                .expression(format!("IF(requests >= {min}, rate, 0)"))
                .label(format!("{} error rate (%)", kind.suffix))
                .return_data(true)
                .build(),
        ],
    }
}

fn live(alarm: &MetricAlarm) -> Spec {
    Spec {
        description: alarm.alarm_description.clone().unwrap_or_default(),
        threshold: alarm.threshold.unwrap_or_default(),
        evaluation_periods: alarm.evaluation_periods.unwrap_or_default(),
        datapoints_to_alarm: alarm.datapoints_to_alarm,
        comparison: alarm.comparison_operator.clone(),
        treat_missing_data: alarm.treat_missing_data.clone(),
        actions_enabled: alarm.actions_enabled.unwrap_or_default(),
        alarm_actions: alarm.alarm_actions.clone().unwrap_or_default(),
        ok_actions: alarm.ok_actions.clone().unwrap_or_default(),
        metrics: alarm.metrics.clone().unwrap_or_default(),
    }
}

fn names(ctx: &Ctx<'_>) -> Vec<String> {
    ALARMS.iter().map(|a| ctx.names.monitor(a.suffix)).collect()
}

pub(super) async fn reconcile(
    ctx: &Ctx<'_>,
    known: &Known,
    topics: &Topics,
    plan: &mut Plan,
) -> Result<()> {
    let cloudwatch = &ctx.aws.monitoring.cloudwatch;
    let existing = observe::alarms(cloudwatch, &names(ctx)).await?;
    for kind in ALARMS {
        let name = ctx.names.monitor(kind.suffix);
        let resource = Resource::new(Kind::Alarm, &name);
        let found = existing
            .iter()
            .find(|a| a.alarm_name.as_deref() == Some(&name));
        let (Some(distribution), Some(topic)) = (&known.distribution, topics.arn_in(US_EAST_1))
        else {
            if found.is_none() {
                ctx.change(
                    plan,
                    &resource,
                    Action::Create,
                    format!(
                        "alarm on the distribution's {} once it and the alert topic exist",
                        kind.metric
                    ),
                );
            }
            continue;
        };
        let want = desired(ctx, kind, &distribution.id, topic);
        let detail = match found.map(live) {
            None => format!(
                "alarm when more than {}% of requests get a {} (actions: the alert topic)",
                want.threshold, kind.suffix
            ),
            Some(have) if have == want => {
                ctx.settled(plan, &resource);
                continue;
            }
            Some(have) => changed(&have, &want),
        };
        let action = if found.is_some() {
            Action::Update
        } else {
            Action::Create
        };
        ctx.change(plan, &resource, action, detail);
        if ctx.apply {
            put(ctx, &name, want).await?;
        }
    }
    Ok(())
}

/// What differs, for a person.
fn changed(have: &Spec, want: &Spec) -> String {
    let mut parts = Vec::new();
    if have.threshold.to_bits() != want.threshold.to_bits() {
        parts.push(format!(
            "threshold {}% → {}%",
            have.threshold, want.threshold
        ));
    }
    if have.alarm_actions != want.alarm_actions || have.ok_actions != want.ok_actions {
        parts.push("actions → the alert topic".to_owned());
    }
    if !have.actions_enabled {
        parts.push("actions enabled".to_owned());
    }
    if have.metrics != want.metrics {
        parts.push("metrics → the distribution's rate, judged from min_requests".to_owned());
    }
    if parts.is_empty() {
        parts.push("periods, comparison and description as configured".to_owned());
    }
    parts.join("; ")
}

async fn put(ctx: &Ctx<'_>, name: &str, spec: Spec) -> Result<()> {
    ctx.aws
        .monitoring
        .cloudwatch
        .put_metric_alarm()
        .alarm_name(name)
        .alarm_description(spec.description)
        .threshold(spec.threshold)
        .evaluation_periods(spec.evaluation_periods)
        .set_datapoints_to_alarm(spec.datapoints_to_alarm)
        .set_comparison_operator(spec.comparison)
        .set_treat_missing_data(spec.treat_missing_data)
        .actions_enabled(spec.actions_enabled)
        .set_alarm_actions(Some(spec.alarm_actions))
        .set_ok_actions(Some(spec.ok_actions))
        .set_metrics(Some(spec.metrics))
        .tags(Tag::builder().key(SITE_TAG).value(&ctx.names.site).build())
        .send()
        .await
        .op("PutMetricAlarm", &Resource::new(Kind::Alarm, name))?;
    Ok(())
}

pub(super) async fn remove(ctx: &Ctx<'_>, plan: &mut Plan) -> Result<()> {
    let cloudwatch = &ctx.aws.monitoring.cloudwatch;
    let existing: Vec<String> = observe::alarms(cloudwatch, &names(ctx))
        .await?
        .into_iter()
        .filter_map(|a| a.alarm_name)
        .collect();
    if existing.is_empty() {
        return Ok(());
    }
    for name in &existing {
        ctx.change(
            plan,
            &Resource::new(Kind::Alarm, name),
            Action::Delete,
            "delete the alarm",
        );
    }
    if ctx.apply {
        cloudwatch
            .delete_alarms()
            .set_alarm_names(Some(existing.clone()))
            .send()
            .await
            .op("DeleteAlarms", &existing.join(", "))?;
    }
    Ok(())
}
