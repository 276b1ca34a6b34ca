//! EventBridge rules on the "AWS API Call via CloudTrail" management events that weaken or remove
//! the site's protection, each scoped to the site's own resources, plus ACM's "Certificate
//! Approaching Expiration". An input transformer turns each event into one readable line: site,
//! action, resource, principal, source IP, time. S3 and KMS events arrive in the site's region,
//! the others in us-east-1, so each rule lives where its events do.
//!
//! CloudFront sends no distribution state-change events of its own: disabling or deleting the
//! distribution is an `UpdateDistribution` or `DeleteDistribution` call, which the `cloudfront`
//! rule sends.

use std::collections::BTreeMap;

use aws_sdk_eventbridge::types::{InputTransformer, RuleState, Tag, Target};
use serde_json::{Value, json};

use super::super::{Action, Ctx, Known, Plan};
use super::{Topics, observe, regional_name};
use crate::aws::Regional;
use crate::error::{AwsResultExt as _, Result};
use crate::names::{Kind, Resource, SITE_TAG};
use crate::observe::monitoring::{CLOUDTRAIL, EXPIRY, RULES, RuleKind};

/// The id of the rule's one target, the alert topic.
const TARGET_ID: &str = "alerts";

/// The site's resources the rules watch, by the values their events carry.
#[derive(Debug, Default, Clone)]
pub struct Watched {
    pub buckets: Vec<String>,
    /// The key's id and ARN (KMS calls name a key by either).
    pub key: Vec<String>,
    /// The distribution id and the response headers policy id.
    pub cloudfront: Vec<String>,
    pub functions: Vec<String>,
    pub zone: Vec<String>,
    pub certificate: Vec<String>,
}

impl Watched {
    fn of(ctx: &Ctx<'_>, known: &Known) -> Watched {
        let site = &ctx.names.site;
        let key = known.key_arn.iter().flat_map(|arn| {
            let id = arn.rsplit('/').next().unwrap_or(arn).to_owned();
            [id, arn.clone()]
        });
        Watched {
            buckets: vec![
                ctx.names.content_bucket.clone(),
                ctx.names.log_bucket.clone(),
            ],
            key: key.collect(),
            cloudfront: known
                .distribution
                .iter()
                .map(|d| d.id.clone())
                .chain(known.headers_policy_id.clone())
                .collect(),
            functions: vec![
                format!("sitewarden-{site}"),
                format!("sitewarden-{site}-csp"),
            ],
            zone: known.zone_id.iter().cloned().collect(),
            certificate: known.certificate_arn.iter().cloned().collect(),
        }
    }

    fn values(&self, rule: &RuleKind) -> &[String] {
        match rule.suffix {
            "s3" => &self.buckets,
            "kms" => &self.key,
            "cloudfront" => &self.cloudfront,
            "function" => &self.functions,
            "route53" => &self.zone,
            _ => &self.certificate,
        }
    }
}

/// A rule as sitewarden writes it.
#[derive(Debug, Clone, PartialEq)]
struct Spec {
    pattern: Value,
    description: String,
    paths: BTreeMap<String, String>,
    template: String,
}

fn spec(ctx: &Ctx<'_>, rule: &RuleKind, values: &[String]) -> Spec {
    let site = &ctx.names.site;
    if rule.actions.is_empty() {
        return Spec {
            pattern: json!({
                "source": ["aws.acm"],
                "detail-type": [EXPIRY],
                "resources": values,
            }),
            description: format!("sitewarden site {site}: the certificate is about to expire"),
            paths: [
                ("certificate", "$.resources[0]"),
                ("days", "$.detail.DaysToExpiry"),
                ("time", "$.time"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
            template: format!(
                "sitewarden site {site}: acm certificate <certificate> expires in <days> days and \
                 was not renewed (check its DNS validation records) at <time>"
            ),
        };
    }
    let service = rule.service;
    Spec {
        pattern: json!({
            "source": [format!("aws.{service}")],
            "detail-type": [CLOUDTRAIL],
            "detail": {
                "eventSource": [format!("{service}.amazonaws.com")],
                "eventName": rule.actions,
                "requestParameters": { rule.parameter: values },
            },
        }),
        description: format!(
            "sitewarden site {site}: changes that weaken the site's {}",
            rule.what
        ),
        paths: [
            ("action", "$.detail.eventName".to_owned()),
            (
                "resource",
                format!("$.detail.requestParameters.{}", rule.parameter),
            ),
            ("who", "$.detail.userIdentity.arn".to_owned()),
            ("ip", "$.detail.sourceIPAddress".to_owned()),
            ("time", "$.detail.eventTime".to_owned()),
            ("region", "$.detail.awsRegion".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect(),
        template: format!(
            "sitewarden site {site}: <action> on {} <resource> by <who> from <ip> at <time> \
             (<region>)",
            rule.what
        ),
    }
}

fn regional<'a>(ctx: &'a Ctx<'_>, rule: &RuleKind) -> &'a Regional {
    let monitoring = &ctx.aws.monitoring;
    if rule.in_site_region {
        &monitoring.site
    } else {
        &monitoring.global
    }
}

fn resource(ctx: &Ctx<'_>, rule: &RuleKind) -> Resource {
    Resource::new(
        Kind::Rule,
        regional_name(&ctx.names.monitor(rule.suffix), regional(ctx, rule)),
    )
}

/// The live rule reduced to what sitewarden sets, and the ids of its targets.
async fn live(regional: &Regional, name: &str) -> Result<Option<(Spec, Vec<Target>)>> {
    let Some(rule) = observe::rule(regional, name).await? else {
        return Ok(None);
    };
    let targets = observe::targets(regional, name).await?;
    let ours = targets.iter().find(|t| t.id == TARGET_ID);
    let transformer = ours.and_then(|t| t.input_transformer.as_ref());
    let enabled = rule.state == Some(RuleState::Enabled);
    let spec = Spec {
        pattern: rule
            .event_pattern
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok())
            // A disabled rule is as good as no pattern.
            .filter(|_| enabled)
            .unwrap_or(Value::Null),
        description: rule.description.unwrap_or_default(),
        paths: transformer
            .and_then(|t| t.input_paths_map.clone())
            .unwrap_or_default()
            .into_iter()
            .collect(),
        template: transformer
            .map(|t| t.input_template.clone())
            .unwrap_or_default(),
    };
    Ok(Some((spec, targets)))
}

pub(super) async fn reconcile(
    ctx: &Ctx<'_>,
    known: &Known,
    topics: &Topics,
    plan: &mut Plan,
) -> Result<()> {
    let watched = Watched::of(ctx, known);
    for rule in RULES {
        let regional = regional(ctx, rule);
        let name = ctx.names.monitor(rule.suffix);
        let resource = resource(ctx, rule);
        let values = watched.values(rule);
        let found = live(regional, &name).await?;
        if values.is_empty() {
            // Nothing of this kind to watch (no domain, no zone; or in `plan`, not created yet).
            if found.is_some() && (ctx.apply || !needs_later(ctx, rule)) {
                delete(ctx, regional, &name, &resource, plan).await?;
            } else if found.is_none() && needs_later(ctx, rule) {
                ctx.change(
                    plan,
                    &resource,
                    Action::Create,
                    format!("alert on changes to the {} once it exists", rule.what),
                );
            }
            continue;
        }
        let want = spec(ctx, rule, values);
        let topic = topics.arn_in(&regional.region);
        let target_ok = |targets: &[Target]| {
            targets.len() == 1
                && targets[0].id == TARGET_ID
                && Some(targets[0].arn.as_str()) == topic
        };
        let detail = match &found {
            None => format!("alert on {}", describe(rule)),
            Some((have, targets)) if *have == want && target_ok(targets) => {
                ctx.settled(plan, &resource);
                continue;
            }
            Some((have, _)) if *have == want => "target → the alert topic only".to_owned(),
            Some(_) => format!(
                "alert on {} (pattern, state or message drifted)",
                describe(rule)
            ),
        };
        let action = if found.is_some() {
            Action::Update
        } else {
            Action::Create
        };
        ctx.change(plan, &resource, action, detail);
        let (true, Some(topic)) = (ctx.apply, topic) else {
            continue;
        };
        let others: Vec<String> = found
            .iter()
            .flat_map(|(_, targets)| targets.iter())
            .filter(|t| t.id != TARGET_ID)
            .map(|t| t.id.clone())
            .collect();
        put(ctx, regional, &name, &resource, want, topic, others).await?;
    }
    Ok(())
}

/// Whether the rule will be wanted once the run that is planned creates what it watches.
fn needs_later(ctx: &Ctx<'_>, rule: &RuleKind) -> bool {
    let domain = ctx.config.site.domain.is_some();
    match rule.suffix {
        "route53" => domain && ctx.config.dns.mode == crate::config::DnsMode::Route53,
        "acm" | "certificate-expiry" => domain,
        _ => true,
    }
}

fn describe(rule: &RuleKind) -> String {
    if rule.actions.is_empty() {
        "the certificate's approaching expiration".to_owned()
    } else {
        format!("{} of the site's {}", rule.actions.join(", "), rule.what)
    }
}

async fn put(
    ctx: &Ctx<'_>,
    regional: &Regional,
    name: &str,
    resource: &Resource,
    spec: Spec,
    topic: &str,
    others: Vec<String>,
) -> Result<()> {
    let events = &regional.events;
    events
        .put_rule()
        .name(name)
        .event_pattern(spec.pattern.to_string())
        .state(RuleState::Enabled)
        .description(spec.description)
        .tags(
            Tag::builder()
                .key(SITE_TAG)
                .value(&ctx.names.site)
                .build()?,
        )
        .send()
        .await
        .op("PutRule", resource)?;
    let transformer = InputTransformer::builder()
        .set_input_paths_map(Some(spec.paths.into_iter().collect()))
        .input_template(spec.template)
        .build()?;
    let target = Target::builder()
        .id(TARGET_ID)
        .arn(topic)
        .input_transformer(transformer)
        .build()?;
    events
        .put_targets()
        .rule(name)
        .targets(target)
        .send()
        .await
        .op("PutTargets", resource)?;
    if !others.is_empty() {
        events
            .remove_targets()
            .rule(name)
            .set_ids(Some(others))
            .send()
            .await
            .op("RemoveTargets", resource)?;
    }
    Ok(())
}

async fn delete(
    ctx: &Ctx<'_>,
    regional: &Regional,
    name: &str,
    resource: &Resource,
    plan: &mut Plan,
) -> Result<()> {
    ctx.change(
        plan,
        resource,
        Action::Delete,
        "delete the rule and its targets",
    );
    if !ctx.apply {
        return Ok(());
    }
    let ids: Vec<String> = observe::targets(regional, name)
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    let events = &regional.events;
    if !ids.is_empty() {
        events
            .remove_targets()
            .rule(name)
            .set_ids(Some(ids))
            .send()
            .await
            .op("RemoveTargets", resource)?;
    }
    events
        .delete_rule()
        .name(name)
        .send()
        .await
        .op("DeleteRule", resource)?;
    Ok(())
}

pub(super) async fn remove(ctx: &Ctx<'_>, plan: &mut Plan) -> Result<()> {
    for rule in RULES {
        let regional = regional(ctx, rule);
        let name = ctx.names.monitor(rule.suffix);
        if observe::rule(regional, &name).await?.is_some() {
            delete(ctx, regional, &name, &resource(ctx, rule), plan).await?;
        }
    }
    Ok(())
}
