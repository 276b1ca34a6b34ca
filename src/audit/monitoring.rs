//! Monitoring controls of a configured site: its alert topics (a confirmed subscription, KMS
//! encryption, a policy that lets only its alarms and rules publish over TLS), its error-rate
//! alarms, and rules covering every action that weakens its resources. The names are the ones
//! `up` gives (`sitewarden-<site>-…`), or the user's topics of `monitoring.sns_topic_arn`.

use serde_json::Value;

use super::controls::{
    MON_CHANGE_ALERTS, MON_ERROR_ALARMS, MON_SUBSCRIBED, MON_TOPIC_ENCRYPTED, MON_TOPIC_POLICY,
    MON_TRAIL,
};
use super::{Audited, Finding, Kind, Outcome, Sink};
use crate::aws::{Aws, Regional, US_EAST_1};
use crate::config::Config;
use crate::error::Result;
use crate::names::SiteNames;
use crate::observe::monitoring::{self as observe, RULES, RuleKind};
use crate::policy::analysis::{source_arns, statements};

/// What the site's monitoring is checked against.
pub struct Target<'a> {
    pub config: &'a Config,
    pub names: &'a SiteNames,
    pub account: &'a str,
    /// The site's distribution id, when it exists.
    pub distribution_id: Option<&'a str>,
}

pub async fn audit(aws: &Aws, target: &Target<'_>, findings: &mut Vec<Finding>) -> Result<()> {
    let monitoring = &target.config.monitoring;
    if !monitoring.is_on() {
        // One finding says it; the topic's other controls have no topic to grade.
        let topic = observe::topic_arn(US_EAST_1, target.account, &target.names.alerts_topic());
        let outcome = if monitoring.is_turned_off() {
            Outcome::exception("monitoring is turned off (`monitoring.enabled = false`)")
        } else {
            Outcome::fail(
                "monitoring is not configured: add `[monitoring] email = [...]` and run \
                 `sitewarden up`",
            )
        };
        Sink::new(
            findings,
            Audited::new(Kind::Topic, &topic, Some(topic.clone())),
        )
        .check(MON_SUBSCRIBED, Ok(outcome));
        return Ok(());
    }
    let mut topics = Vec::new();
    for regional in aws.monitoring.regions() {
        let arn = monitoring
            .sns_topic_arn
            .iter()
            .find(|t| t.region() == regional.region)
            .map_or_else(
                || {
                    observe::topic_arn(
                        &regional.region,
                        target.account,
                        &target.names.alerts_topic(),
                    )
                },
                |t| t.as_str().to_owned(),
            );
        audit_topic(regional, &arn, findings).await;
        audit_trails(regional, findings).await;
        topics.push((regional.region.clone(), arn));
    }
    let us_topic = topics
        .first()
        .map(|(_, arn)| arn.as_str())
        .unwrap_or_default();
    audit_alarms(aws, target, us_topic, findings).await;
    for rule in RULES {
        if !expected(target.config, rule.suffix) {
            continue;
        }
        let regional = if rule.in_site_region {
            &aws.monitoring.site
        } else {
            &aws.monitoring.global
        };
        let topic = topics
            .iter()
            .find(|(r, _)| *r == regional.region)
            .map(|(_, arn)| arn.as_str())
            .unwrap_or_default();
        audit_rule(regional, target, rule, topic, findings).await;
    }
    Ok(())
}

/// Whether the site has resources of the kind the rule watches.
fn expected(config: &Config, suffix: &str) -> bool {
    let domain = config.site.domain.is_some();
    match suffix {
        "route53" => domain && config.dns.mode == crate::config::DnsMode::Route53,
        "acm" | "certificate-expiry" => domain,
        _ => true,
    }
}

async fn audit_topic(regional: &Regional, arn: &str, findings: &mut Vec<Finding>) {
    let mut sink = Sink::new(
        findings,
        Audited::new(Kind::Topic, arn, Some(arn.to_owned())),
    );
    let attributes = match observe::topic(regional, arn).await {
        Ok(Some(attributes)) => attributes,
        Ok(None) => {
            return sink.missing(&format!("topic {arn} does not exist (run `sitewarden up`)"));
        }
        Err(e) => return sink.unreadable(&e),
    };
    sink.check(MON_SUBSCRIBED, Ok(subscribed(&attributes)));
    sink.check(
        MON_TOPIC_ENCRYPTED,
        Ok(encrypted(attributes.get("KmsMasterKeyId"))),
    );
    let policy = attributes
        .get("Policy")
        .and_then(|p| crate::policy::parse(p));
    sink.check(MON_TOPIC_POLICY, Ok(publishers(policy.as_ref())));
}

/// The rules of the region get events only while a trail logs its write management events.
async fn audit_trails(regional: &Regional, findings: &mut Vec<Finding>) {
    let name = format!("management events in {}", regional.region);
    let mut sink = Sink::new(findings, Audited::new(Kind::Trail, name, None));
    let trails = observe::trails(regional).await;
    sink.check(MON_TRAIL, trails.as_ref().map(|t| trail_outcome(t)));
}

fn trail_outcome(trails: &[observe::Trail]) -> Outcome {
    if let Some(t) = trails.iter().find(|t| t.logging && t.management_writes) {
        return Outcome::pass(format!("trail {} logs write management events", t.name));
    }
    if trails.is_empty() {
        return Outcome::fail(
            "no trail covers the region: the change alerts never fire (EventBridge gets CloudTrail \
             events only while a trail logs them)",
        );
    }
    let why: Vec<String> = trails
        .iter()
        .map(|t| {
            let problem = if t.logging {
                "records no write management events"
            } else {
                "is not logging"
            };
            format!("trail {} {problem}", t.name)
        })
        .collect();
    Outcome::fail(why.join("; "))
}

fn subscribed(attributes: &std::collections::HashMap<String, String>) -> Outcome {
    let count = |name: &str| {
        attributes
            .get(name)
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    };
    let (confirmed, pending) = (
        count("SubscriptionsConfirmed"),
        count("SubscriptionsPending"),
    );
    if confirmed > 0 {
        Outcome::pass(format!(
            "{confirmed} confirmed subscription(s), {pending} pending"
        ))
    } else if pending > 0 {
        Outcome::fail(format!(
            "{pending} subscription(s) pending confirmation, none confirmed: no alert reaches anyone \
             until the link in the email from AWS Notifications is clicked"
        ))
    } else {
        Outcome::fail("no subscription: alerts reach no one")
    }
}

fn encrypted(key: Option<&String>) -> Outcome {
    match key.map(String::as_str) {
        None | Some("") => Outcome::fail("not encrypted (no KmsMasterKeyId)"),
        Some(aws_managed)
            if aws_managed == "alias/aws/sns" || aws_managed.ends_with(":alias/aws/sns") =>
        {
            Outcome::fail(format!(
                "encrypted with the AWS managed key {aws_managed}, which CloudWatch and EventBridge \
             cannot use: alarms and rules cannot publish"
            ))
        }
        Some(key) => Outcome::pass(format!("KmsMasterKeyId {key}")),
    }
}

/// Publishing only by AWS services for named alarms or rules (or this account), never by anyone,
/// and a deny of plain HTTP.
fn publishers(policy: Option<&Value>) -> Outcome {
    let Some(doc) = policy else {
        return Outcome::fail("the topic policy could not be read as JSON");
    };
    let mut problems = Vec::new();
    for s in statements(doc) {
        if !s.allows() || !s.covers("sns:Publish") {
            continue;
        }
        if s.public_allow() {
            problems.push(format!("statement `{}` lets anyone publish", s.sid()));
        } else if !s.services().is_empty() && source_arns(s).is_empty() {
            problems.push(format!(
                "statement `{}` lets {} publish for any source (no `aws:SourceArn`)",
                s.sid(),
                s.services().join(", ")
            ));
        }
    }
    let tls = statements(doc).into_iter().any(|s| {
        s.denies()
            && s.everyone()
            && s.covers("sns:Publish")
            && s.condition("Bool", "aws:SecureTransport")
                .contains(&"false")
    });
    if !tls {
        problems.push(
            "no statement denies `sns:Publish` when `aws:SecureTransport` is \"false\"".to_owned(),
        );
    }
    Outcome::unless(
        &problems,
        "publishing only for named alarms and rules, over TLS",
    )
}

fn alarm_resource(target: &Target<'_>, suffix: &str) -> Audited {
    let name = target.names.monitor(suffix);
    let arn = format!(
        "arn:aws:cloudwatch:{US_EAST_1}:{}:alarm:{name}",
        target.account
    );
    Audited::new(Kind::Alarm, name, Some(arn))
}

async fn audit_alarms(aws: &Aws, target: &Target<'_>, topic: &str, findings: &mut Vec<Finding>) {
    let names: Vec<String> = observe::ALARMS
        .iter()
        .map(|a| target.names.monitor(a.suffix))
        .collect();
    let alarms = observe::alarms(&aws.monitoring.cloudwatch, &names).await;
    for suffix in observe::ALARMS.iter().map(|a| a.suffix) {
        let mut sink = Sink::new(findings, alarm_resource(target, suffix));
        let alarms = match &alarms {
            Ok(alarms) => alarms,
            Err(e) => {
                sink.unreadable(e);
                continue;
            }
        };
        let name = target.names.monitor(suffix);
        let Some(alarm) = alarms
            .iter()
            .find(|a| a.alarm_name.as_deref() == Some(&name))
        else {
            sink.missing(&format!(
                "alarm {name} does not exist (run `sitewarden up`)"
            ));
            continue;
        };
        let mut problems = Vec::new();
        if alarm.actions_enabled != Some(true) {
            problems.push("actions are disabled".to_owned());
        }
        if !alarm.alarm_actions().iter().any(|a| a == topic) {
            problems.push(format!("ALARM does not notify {topic}"));
        }
        let dimensions: Vec<&str> = alarm
            .metrics()
            .iter()
            .filter_map(|m| m.metric_stat.as_ref()?.metric.as_ref())
            .flat_map(aws_sdk_cloudwatch::types::Metric::dimensions)
            .filter(|d| d.name.as_deref() == Some("DistributionId"))
            .filter_map(|d| d.value.as_deref())
            .collect();
        match target.distribution_id {
            Some(id) if !dimensions.contains(&id) => {
                problems.push(format!("watches {dimensions:?}, not distribution {id}"));
            }
            _ => {}
        }
        sink.check(
            MON_ERROR_ALARMS,
            Ok(Outcome::unless(
                &problems,
                format!("{suffix} error rate → {topic}"),
            )),
        );
    }
}

async fn audit_rule(
    regional: &Regional,
    target: &Target<'_>,
    rule: &RuleKind,
    topic: &str,
    findings: &mut Vec<Finding>,
) {
    let name = target.names.monitor(rule.suffix);
    let arn = format!(
        "arn:aws:events:{}:{}:rule/{name}",
        regional.region, target.account
    );
    let mut sink = Sink::new(findings, Audited::new(Kind::Rule, &name, Some(arn)));
    let described = match observe::rule(regional, &name).await {
        Ok(Some(described)) => described,
        Ok(None) => {
            return missing_actions(&mut sink, rule, &format!("rule {name} does not exist"));
        }
        Err(e) => return sink.unreadable(&e),
    };
    if described.state != Some(aws_sdk_eventbridge::types::RuleState::Enabled) {
        return missing_actions(&mut sink, rule, &format!("rule {name} is disabled"));
    }
    match observe::targets(regional, &name).await {
        Ok(targets) if targets.iter().any(|t| t.arn == topic) => {}
        Ok(_) => {
            return missing_actions(
                &mut sink,
                rule,
                &format!("rule {name} does not notify {topic}"),
            );
        }
        Err(e) => return sink.unreadable(&e),
    }
    let pattern: Value = described
        .event_pattern
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or(Value::Null);
    if !rule.actions.is_empty() {
        let source = format!("aws.{}", rule.service);
        let scoped = pattern["detail"]["requestParameters"][rule.parameter]
            .as_array()
            .is_some_and(|v| !v.is_empty());
        let from_source = pattern["source"]
            .as_array()
            .is_some_and(|v| v.iter().any(|s| s == source.as_str()));
        if !scoped || !from_source {
            let why = format!(
                "rule {name} does not match {source} events on the site's {} (by `{}`)",
                rule.what, rule.parameter
            );
            return missing_actions(&mut sink, rule, &why);
        }
    }
    let names: Vec<&str> = pattern["detail"]["eventName"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let missing: Vec<&str> = rule
        .actions
        .iter()
        .copied()
        .filter(|a| !names.contains(a))
        .collect();
    if missing.is_empty() {
        let covered = if rule.actions.is_empty() {
            "the certificate's approaching expiration".to_owned()
        } else {
            rule.actions.join(", ")
        };
        sink.check(
            MON_CHANGE_ALERTS,
            Ok(Outcome::pass(format!("alerts on {covered} → {topic}"))),
        );
    }
    for action in missing {
        sink.check(
            MON_CHANGE_ALERTS,
            Ok(Outcome::fail(format!(
                "no alert on {}:{action}",
                rule.service
            ))),
        );
    }
}

/// The rule cannot alert: one low finding per action it should cover.
fn missing_actions(sink: &mut Sink<'_>, rule: &RuleKind, why: &str) {
    if rule.actions.is_empty() {
        sink.check(
            MON_CHANGE_ALERTS,
            Ok(Outcome::fail(format!(
                "{why}: no alert before the certificate expires"
            ))),
        );
    }
    for action in rule.actions {
        sink.check(
            MON_CHANGE_ALERTS,
            Ok(Outcome::fail(format!(
                "{why}: no alert on {}:{action}",
                rule.service
            ))),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Status;
    use serde_json::json;

    #[test]
    fn a_topic_needs_a_confirmed_subscription_and_a_customer_key() {
        let attributes = |confirmed: &str, pending: &str| {
            [
                ("SubscriptionsConfirmed", confirmed),
                ("SubscriptionsPending", pending),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
        };
        assert_eq!(subscribed(&attributes("1", "2")).status, Status::Pass);
        let pending = subscribed(&attributes("0", "2"));
        assert_eq!(pending.status, Status::Fail);
        assert!(
            pending.evidence.contains("2 subscription(s) pending"),
            "{pending:?}"
        );
        assert_eq!(subscribed(&attributes("0", "0")).status, Status::Fail);
        assert_eq!(encrypted(None).status, Status::Fail);
        assert_eq!(
            encrypted(Some(&"alias/aws/sns".to_owned())).status,
            Status::Fail
        );
        let key = "arn:aws:kms:us-east-1:123456789012:key/k".to_owned();
        assert_eq!(encrypted(Some(&key)).status, Status::Pass);
    }

    #[test]
    fn only_named_sources_may_publish_and_only_over_tls() {
        let tls = json!({
            "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*",
            "Action": "sns:Publish", "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}
        });
        let rules = json!({
            "Sid": "Rules", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish", "Resource": "*",
            "Condition": {"ArnEquals": {"aws:SourceArn": ["arn:aws:events:us-east-1:1:rule/r"]}}
        });
        let doc =
            |statements: Vec<Value>| json!({"Version": "2012-10-17", "Statement": statements});
        assert_eq!(
            publishers(Some(&doc(vec![rules.clone(), tls.clone()]))).status,
            Status::Pass
        );
        let no_tls = publishers(Some(&doc(vec![rules.clone()])));
        assert!(
            no_tls.evidence.contains("aws:SecureTransport"),
            "{no_tls:?}"
        );
        let any_rule = json!({
            "Sid": "AnyRule", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish", "Resource": "*"
        });
        let confused = publishers(Some(&doc(vec![any_rule, tls.clone()])));
        assert!(confused.evidence.contains("for any source"), "{confused:?}");
        let public = json!({
            "Sid": "Anyone", "Effect": "Allow", "Principal": {"AWS": "*"},
            "Action": "SNS:Publish", "Resource": "*"
        });
        let open = publishers(Some(&doc(vec![public, tls])));
        assert!(open.evidence.contains("lets anyone publish"), "{open:?}");
        assert_eq!(publishers(None).status, Status::Fail);
    }
}
