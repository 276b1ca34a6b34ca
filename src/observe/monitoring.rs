//! The monitoring resources as they are: an alert topic's attributes and subscriptions, metric
//! alarms, EventBridge rules and their targets. Provision reconciles the site's monitoring over
//! them; the audit grades it. The tables of what the site's monitoring watches ([`RULES`],
//! [`ALARMS`]) live here too, so that both read the same list.

use std::collections::HashMap;

use aws_sdk_cloudwatch::types::MetricAlarm;
use aws_sdk_eventbridge::operation::describe_rule::DescribeRuleOutput;
use aws_sdk_eventbridge::types::Target;

use crate::aws::{Regional, US_EAST_1};
use crate::error::{AwsResultExt as _, Result, code};

pub const CLOUDTRAIL: &str = "AWS API Call via CloudTrail";
pub const EXPIRY: &str = "ACM Certificate Approaching Expiration";

/// One rule: which events, where, and how its message names the resource.
#[derive(Debug)]
pub struct RuleKind {
    /// The rule is `sitewarden-<site>-<suffix>`.
    pub suffix: &'static str,
    /// In the site's region (S3, KMS) rather than us-east-1.
    pub in_site_region: bool,
    /// `s3` for `aws.s3` and `s3.amazonaws.com`.
    pub service: &'static str,
    /// The CloudTrail event names; empty for the certificate expiry rule.
    pub actions: &'static [&'static str],
    /// The `requestParameters` member that names the resource.
    pub parameter: &'static str,
    /// What the message calls the resource.
    pub what: &'static str,
}

impl RuleKind {
    pub fn region<'a>(&self, site_region: &'a str) -> &'a str {
        if self.in_site_region {
            site_region
        } else {
            US_EAST_1
        }
    }
}

pub const RULES: &[RuleKind] = &[
    RuleKind {
        suffix: "s3",
        in_site_region: true,
        service: "s3",
        actions: &[
            "PutBucketPolicy",
            "DeleteBucketPolicy",
            "PutBucketAcl",
            "PutBucketPublicAccessBlock",
            "DeleteBucketPublicAccessBlock",
            "PutBucketEncryption",
            "DeleteBucketEncryption",
            "PutBucketVersioning",
            "PutBucketLogging",
            "PutBucketOwnershipControls",
            "DeleteBucketOwnershipControls",
            "PutBucketWebsite",
        ],
        parameter: "bucketName",
        what: "s3 bucket",
    },
    RuleKind {
        suffix: "kms",
        in_site_region: true,
        service: "kms",
        actions: &[
            "DisableKey",
            "ScheduleKeyDeletion",
            "PutKeyPolicy",
            "DisableKeyRotation",
        ],
        parameter: "keyId",
        what: "kms key",
    },
    RuleKind {
        suffix: "cloudfront",
        in_site_region: false,
        service: "cloudfront",
        actions: &[
            "UpdateDistribution",
            "DeleteDistribution",
            "UpdateResponseHeadersPolicy",
            "DisassociateDistributionWebACL",
        ],
        parameter: "id",
        what: "cloudfront distribution or response headers policy",
    },
    RuleKind {
        suffix: "function",
        in_site_region: false,
        service: "cloudfront",
        actions: &["UpdateFunction", "PublishFunction", "DeleteFunction"],
        parameter: "name",
        what: "cloudfront function",
    },
    RuleKind {
        suffix: "route53",
        in_site_region: false,
        service: "route53",
        actions: &["ChangeResourceRecordSets"],
        parameter: "hostedZoneId",
        what: "route53 hosted zone",
    },
    RuleKind {
        suffix: "acm",
        in_site_region: false,
        service: "acm",
        actions: &["DeleteCertificate"],
        parameter: "certificateArn",
        what: "acm certificate",
    },
    RuleKind {
        suffix: "certificate-expiry",
        in_site_region: false,
        service: "acm",
        actions: &[],
        parameter: "",
        what: "acm certificate",
    },
];

/// One error-rate alarm.
pub struct AlarmKind {
    /// The alarm is `sitewarden-<site>-<suffix>`.
    pub suffix: &'static str,
    /// CloudFront's metric: the percentage of requests answered with this class of status.
    pub metric: &'static str,
    /// Periods of 5 minutes looked at, and how many of them must breach.
    pub evaluation_periods: i32,
    pub datapoints_to_alarm: i32,
}

pub const ALARMS: &[AlarmKind] = &[
    // A burst of server errors: 2 of the last 15 minutes' periods.
    AlarmKind {
        suffix: "5xx",
        metric: "5xxErrorRate",
        evaluation_periods: 3,
        datapoints_to_alarm: 2,
    },
    // Client errors are noisier (scanners, stale links): all 3 periods of 15 minutes.
    AlarmKind {
        suffix: "4xx",
        metric: "4xxErrorRate",
        evaluation_periods: 3,
        datapoints_to_alarm: 3,
    },
];

/// The ARN of the topic `name` of `account` in `region`.
pub fn topic_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:sns:{region}:{account}:{name}")
}

/// A topic's attributes (`Policy`, `KmsMasterKeyId`, `SubscriptionsConfirmed`...); `None` when
/// the topic does not exist.
pub async fn topic(regional: &Regional, arn: &str) -> Result<Option<HashMap<String, String>>> {
    Ok(regional
        .sns
        .get_topic_attributes()
        .topic_arn(arn)
        .send()
        .await
        .or_missing(
            &[code::NOT_FOUND, code::NOT_FOUND_EXCEPTION],
            "GetTopicAttributes",
            arn,
        )?
        .map(|o| o.attributes.unwrap_or_default()))
}

/// One subscription of a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub protocol: String,
    pub endpoint: String,
    /// `None` while the recipient has not confirmed it (`PendingConfirmation`).
    pub arn: Option<String>,
}

impl Subscription {
    pub fn confirmed(&self) -> bool {
        self.arn.is_some()
    }
}

/// Every subscription of the topic `arn`.
pub async fn subscriptions(regional: &Regional, arn: &str) -> Result<Vec<Subscription>> {
    let mut pages = regional
        .sns
        .list_subscriptions_by_topic()
        .topic_arn(arn)
        .into_paginator()
        .send();
    let mut found = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.op("ListSubscriptionsByTopic", arn)?;
        for s in page.subscriptions.unwrap_or_default() {
            let arn = s.subscription_arn.filter(|a| a.starts_with("arn:"));
            found.push(Subscription {
                protocol: s.protocol.unwrap_or_default(),
                endpoint: s.endpoint.unwrap_or_default(),
                arn,
            });
        }
    }
    Ok(found)
}

/// The metric alarms among `names` that exist (us-east-1 for CloudFront's metrics).
pub async fn alarms(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    names: &[String],
) -> Result<Vec<MetricAlarm>> {
    let mut pages = cloudwatch
        .describe_alarms()
        .set_alarm_names(Some(names.to_vec()))
        .into_paginator()
        .send();
    let mut found = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.op("DescribeAlarms", &names.join(", "))?;
        found.extend(page.metric_alarms.unwrap_or_default());
    }
    Ok(found)
}

/// The rule `name` on the default event bus of the region; `None` when it does not exist.
pub async fn rule(regional: &Regional, name: &str) -> Result<Option<DescribeRuleOutput>> {
    regional
        .events
        .describe_rule()
        .name(name)
        .send()
        .await
        .or_missing(&[code::RESOURCE_NOT_FOUND_EXCEPTION], "DescribeRule", name)
}

/// The targets of the rule `name`.
pub async fn targets(regional: &Regional, name: &str) -> Result<Vec<Target>> {
    let mut found = Vec::new();
    let mut token = None;
    loop {
        let page = regional
            .events
            .list_targets_by_rule()
            .rule(name)
            .set_next_token(token)
            .send()
            .await
            .op("ListTargetsByRule", name)?;
        found.extend(page.targets.unwrap_or_default());
        token = page.next_token;
        if token.is_none() {
            return Ok(found);
        }
    }
}

/// A CloudTrail trail that covers a region, as the change alerts need it.
#[derive(Debug, Clone)]
pub struct Trail {
    pub name: String,
    pub logging: bool,
    /// It records write management events (the ones the rules match).
    pub management_writes: bool,
}

/// The trails that record the region's events: its own and the multi-region ones of the account.
pub async fn trails(regional: &Regional) -> Result<Vec<Trail>> {
    let cloudtrail = &regional.cloudtrail;
    let what = format!("the trails of {}", regional.region);
    let listed = cloudtrail
        .describe_trails()
        .include_shadow_trails(true)
        .send()
        .await
        .op("DescribeTrails", &what)?;
    let mut found = Vec::new();
    for trail in listed.trail_list() {
        let covers = trail.is_multi_region_trail == Some(true)
            || trail.home_region.as_deref() == Some(regional.region.as_str());
        let Some(arn) = trail.trail_arn.as_deref().filter(|_| covers) else {
            continue;
        };
        // A trail answers in its home region.
        let home = trail
            .home_region
            .clone()
            .unwrap_or_else(|| regional.region.clone());
        let cloudtrail = &if home == regional.region {
            cloudtrail.clone()
        } else {
            aws_sdk_cloudtrail::Client::from_conf(
                cloudtrail
                    .config()
                    .to_builder()
                    .region(aws_sdk_cloudtrail::config::Region::new(home))
                    .build(),
            )
        };
        let status = cloudtrail
            .get_trail_status()
            .name(arn)
            .send()
            .await
            .op("GetTrailStatus", arn)?;
        let selectors = cloudtrail
            .get_event_selectors()
            .trail_name(arn)
            .send()
            .await
            .op("GetEventSelectors", arn)?;
        found.push(Trail {
            name: trail.name.clone().unwrap_or_else(|| arn.to_owned()),
            logging: status.is_logging == Some(true),
            management_writes: records_management_writes(&selectors),
        });
    }
    Ok(found)
}

fn records_management_writes(
    selectors: &aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsOutput,
) -> bool {
    use aws_sdk_cloudtrail::types::ReadWriteType;
    let basic = selectors.event_selectors();
    let advanced = selectors.advanced_event_selectors();
    if basic.is_empty() && advanced.is_empty() {
        return true; // a trail's default: every management event
    }
    let by_basic = basic.iter().any(|s| {
        s.include_management_events != Some(false)
            && !matches!(s.read_write_type, Some(ReadWriteType::ReadOnly))
    });
    let by_advanced = advanced.iter().any(|s| {
        let fields = s.field_selectors();
        let management = fields
            .iter()
            .any(|f| f.field == "eventCategory" && f.equals().iter().any(|v| v == "Management"));
        let reads_only = fields
            .iter()
            .any(|f| f.field == "readOnly" && f.equals().iter().any(|v| v == "true"));
        management && !reads_only
    });
    by_basic || by_advanced
}
