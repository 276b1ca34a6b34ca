//! `[monitoring]` end to end: the alert topics, alarms and rules that `up` creates, an alert that
//! reaches a queue subscribed to the topic when someone weakens the site out of band, the repair,
//! the audit, and the removal.

use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
use serde_json::Value;

use crate::faults::control;
use crate::support::{Run, aws_clients, emulator, project, site_name, write_calls};

const ACCOUNT: &str = "123456789012";

fn sqs(region: &str) -> aws_sdk_sqs::Client {
    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_owned()))
        .endpoint_url(&emulator().endpoint)
        .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(
            aws_sdk_s3::config::Credentials::new("testing", "testing", None, None, "tests"),
        ))
        .build();
    aws_sdk_sqs::Client::new(&config)
}

/// A queue subscribed to `topic` (raw delivery off: the SNS envelope), with the queue policy
/// that lets the topic send to it; its URL.
async fn subscribe_queue(region: &str, name: &str, topic: &str) -> String {
    let sqs = sqs(region);
    let url = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let arn = format!("arn:aws:sqs:{region}:{ACCOUNT}:{name}");
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
        }],
    });
    sqs.set_queue_attributes()
        .queue_url(&url)
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::Policy,
            policy.to_string(),
        )
        .send()
        .await
        .unwrap();
    aws_clients(region)
        .await
        .monitoring
        .site
        .sns
        .subscribe()
        .topic_arn(topic)
        .protocol("sqs")
        .endpoint(&arn)
        .send()
        .await
        .unwrap();
    url
}

/// The SNS messages on the queue (each envelope's `Message`) that arrived since the last call,
/// once the emulator has delivered every event of the calls made so far.
async fn messages(region: &str, url: &str) -> Vec<String> {
    control("GET", "deliveries?since=0", "");
    let received = sqs(region)
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    let mut out = Vec::new();
    for m in received.messages.unwrap_or_default() {
        // Read once: a message left on the queue would come back after its visibility timeout.
        sqs(region)
            .delete_message()
            .queue_url(url)
            .receipt_handle(m.receipt_handle.clone().unwrap())
            .send()
            .await
            .unwrap();
        let envelope: Value = serde_json::from_str(&m.body.unwrap()).unwrap();
        out.push(envelope["Message"].as_str().unwrap().to_owned());
    }
    out
}

fn live_names(rule: &aws_sdk_eventbridge::operation::describe_rule::DescribeRuleOutput) -> Value {
    let pattern: Value = serde_json::from_str(rule.event_pattern().unwrap()).unwrap();
    pattern["detail"]["eventName"].clone()
}

fn changes(summary: &Value) -> Vec<String> {
    summary["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c["action"].as_str().unwrap(),
                c["resource"].as_str().unwrap()
            )
        })
        .collect()
}

fn statuses(report: &Value, control: &str) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["control"] == control)
        .map(|f| {
            (
                f["resource"]["name"].as_str().unwrap().to_owned(),
                f["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_out_of_band_change_alerts_the_queue_and_up_repairs_it() {
    let site = site_name("mon");
    let dir = project(&site, "\n[monitoring]\nemail = [\"ops@example.com\"]\n");
    let topic_eu = format!("arn:aws:sns:eu-west-1:{ACCOUNT}:sitewarden-{site}-alerts");
    let topic_us = format!("arn:aws:sns:us-east-1:{ACCOUNT}:sitewarden-{site}-alerts");

    // `plan` shows every monitoring resource and the confirmation the address will need.
    let planned = Run::new(dir.path()).json().args(["plan"]).run().into_json();
    let planned_changes = changes(&planned);
    for expected in [
        format!("create sns topic {topic_us}"),
        format!("create sns topic {topic_eu}"),
        format!("create kms key alias/sitewarden-alerts/{site} in us-east-1"),
        format!("create kms key alias/sitewarden-alerts/{site} in eu-west-1"),
        format!("create sns subscription ops@example.com → {topic_us}"),
        format!("create cloudwatch alarm sitewarden-{site}-5xx"),
        format!("create cloudwatch alarm sitewarden-{site}-4xx"),
        format!("create eventbridge rule sitewarden-{site}-s3 in eu-west-1"),
        format!("create eventbridge rule sitewarden-{site}-kms in eu-west-1"),
        format!("create eventbridge rule sitewarden-{site}-cloudfront in us-east-1"),
        format!("create eventbridge rule sitewarden-{site}-function in us-east-1"),
    ] {
        assert!(
            planned_changes.contains(&expected),
            "{expected} not in {planned_changes:#?}"
        );
    }
    // A domainless site has no zone or certificate to watch.
    assert!(
        !planned_changes
            .iter()
            .any(|c| c.contains("-route53") || c.contains("-acm"))
    );
    assert_eq!(
        planned["pending_confirmations"][0]["email"],
        "ops@example.com"
    );

    let up = Run::new(dir.path())
        .json()
        .args(["up", "-y"])
        .stderr_contains("has not confirmed the alert subscription")
        .run()
        .into_json();
    assert_eq!(up["pending_confirmations"].as_array().unwrap().len(), 2);
    let again = Run::new(dir.path())
        .json()
        .args(["up", "--infra-only", "-y"])
        .run()
        .into_json();
    assert_eq!(
        write_calls(&again["requests"]),
        Vec::<String>::new(),
        "{again:#}"
    );

    // The rules publish only to the site's topics, the topics only accept the site's sources.
    let eu = aws_clients("eu-west-1").await;
    let rule = eu
        .monitoring
        .site
        .events
        .describe_rule()
        .name(format!("sitewarden-{site}-s3"))
        .send()
        .await
        .unwrap();
    let pattern: Value = serde_json::from_str(rule.event_pattern().unwrap()).unwrap();
    let content = format!("{site}-site-{ACCOUNT}");
    assert_eq!(
        pattern["detail"]["requestParameters"]["bucketName"],
        serde_json::json!([content, format!("{site}-logs-{ACCOUNT}")])
    );

    // Out of band: someone suspends versioning. The alert reaches a queue on the topic.
    let queue = subscribe_queue("eu-west-1", &format!("{site}-alerts"), &topic_eu).await;
    eu.s3
        .put_bucket_versioning()
        .bucket(&content)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Suspended)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let alerts = messages("eu-west-1", &queue).await;
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let alert = &alerts[0];
    for part in [
        format!("sitewarden site {site}:"),
        format!("PutBucketVersioning on s3 bucket {content} by arn:aws:"),
        " from 127.0.0.1 at ".to_owned(),
        "(eu-west-1)".to_owned(),
    ] {
        assert!(alert.contains(&part), "{part:?} not in {alert:?}");
    }

    // `up` repairs the drift; its own repair alerts too (the message names the principal).
    Run::new(dir.path())
        .args(["up", "--infra-only", "-y"])
        .run();
    let versioning = eu
        .s3
        .get_bucket_versioning()
        .bucket(&content)
        .send()
        .await
        .unwrap();
    assert_eq!(versioning.status, Some(BucketVersioningStatus::Enabled));
    let repaired = messages("eu-west-1", &queue).await;
    assert_eq!(repaired.len(), 1, "{repaired:#?}");
    assert!(
        repaired[0].contains("PutBucketVersioning on s3 bucket"),
        "{repaired:#?}"
    );

    // An alarm's state change reaches a queue on the us-east-1 topic.
    let alarm_queue = subscribe_queue("us-east-1", &format!("{site}-alarms"), &topic_us).await;
    let us = aws_clients("us-east-1").await;
    us.monitoring
        .cloudwatch
        .set_alarm_state()
        .alarm_name(format!("sitewarden-{site}-5xx"))
        .state_value(aws_sdk_cloudwatch::types::StateValue::Alarm)
        .state_reason("test")
        .send()
        .await
        .unwrap();
    let alarms = messages("us-east-1", &alarm_queue).await;
    assert!(
        alarms
            .iter()
            .any(|m| m.contains(&format!("sitewarden-{site}-5xx")) && m.contains("ALARM")),
        "{alarms:#?}"
    );

    // Drift of the alarm itself is repaired.
    us.monitoring
        .cloudwatch
        .delete_alarms()
        .alarm_names(format!("sitewarden-{site}-4xx"))
        .send()
        .await
        .unwrap();
    let repair = Run::new(dir.path())
        .json()
        .args(["up", "--infra-only", "-y"])
        .run()
        .into_json();
    assert_eq!(
        changes(&repair),
        vec![format!("create cloudwatch alarm sitewarden-{site}-4xx")]
    );

    // The audit grades it: both topics have a confirmed subscriber (the queues); the address
    // is still pending.
    let report = Run::new(dir.path())
        .json()
        .args(["audit"])
        .run()
        .into_json();
    assert_eq!(
        statuses(&report, "SW.SNS.Subscribed"),
        vec![
            (topic_us.clone(), "pass".to_owned()),
            (topic_eu.clone(), "pass".to_owned())
        ]
    );
    // No trail logs management events yet: the rules would never fire, and the audit says so.
    let trails = statuses(&report, "CloudTrail.1");
    assert_eq!(
        trails,
        vec![
            (
                "management events in us-east-1".to_owned(),
                "fail".to_owned()
            ),
            (
                "management events in eu-west-1".to_owned(),
                "fail".to_owned()
            )
        ]
    );
    let us_s3 = aws_clients("us-east-1").await.s3;
    let trail_bucket = format!("{site}-trail-{ACCOUNT}");
    us_s3
        .create_bucket()
        .bucket(&trail_bucket)
        .send()
        .await
        .unwrap();
    let cloudtrail = &us.monitoring.global.cloudtrail;
    cloudtrail
        .create_trail()
        .name(format!("{site}-management"))
        .s3_bucket_name(&trail_bucket)
        .is_multi_region_trail(true)
        .send()
        .await
        .unwrap();
    let report = Run::new(dir.path())
        .json()
        .args(["audit"])
        .run()
        .into_json();
    let not_logging = statuses(&report, "CloudTrail.1");
    assert!(
        not_logging.iter().all(|(_, s)| s == "fail"),
        "{not_logging:?}"
    );
    cloudtrail
        .start_logging()
        .name(format!("{site}-management"))
        .send()
        .await
        .unwrap();
    let report = Run::new(dir.path())
        .json()
        .args(["audit"])
        .run()
        .into_json();
    for control in [
        "CloudTrail.1",
        "SNS.1",
        "SNS.4",
        "CloudWatch.15",
        "SW.Events.ChangeAlerts",
    ] {
        let found = statuses(&report, control);
        assert!(
            !found.is_empty() && found.iter().all(|(_, s)| s == "pass"),
            "{control}: {found:?}"
        );
    }
    assert_eq!(statuses(&report, "SW.Events.ChangeAlerts").len(), 4);

    // A weakened rule fails the audit, one low finding per action it no longer covers.
    let kms_rule = format!("sitewarden-{site}-kms");
    let events = &eu.monitoring.site.events;
    let live = events.describe_rule().name(&kms_rule).send().await.unwrap();
    let mut pattern: Value = serde_json::from_str(live.event_pattern().unwrap()).unwrap();
    pattern["detail"]["eventName"] = serde_json::json!(["DisableKey"]);
    let weaken = |pattern: Value| {
        events
            .put_rule()
            .name(&kms_rule)
            .event_pattern(pattern.to_string())
            .send()
    };
    weaken(pattern.clone()).await.unwrap();
    let failed = |report: &Value| -> Vec<String> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["control"] == "SW.Events.ChangeAlerts" && f["status"] == "fail")
            .map(|f| f["evidence"].as_str().unwrap().to_owned())
            .collect()
    };
    let weakened = Run::new(dir.path())
        .json()
        .args(["audit"])
        .run()
        .into_json();
    assert_eq!(
        failed(&weakened),
        [
            "no alert on kms:ScheduleKeyDeletion",
            "no alert on kms:PutKeyPolicy",
            "no alert on kms:DisableKeyRotation"
        ]
    );
    // Every action named, but for any key: as good as none.
    pattern["detail"]["eventName"] = live_names(&live);
    pattern["detail"]
        .as_object_mut()
        .unwrap()
        .remove("requestParameters");
    weaken(pattern).await.unwrap();
    let unscoped = failed(
        &Run::new(dir.path())
            .json()
            .args(["audit"])
            .run()
            .into_json(),
    );
    assert_eq!(unscoped.len(), 4, "{unscoped:#?}");
    assert!(
        unscoped.iter().all(|e| e.starts_with(&format!(
            "rule {kms_rule} does not match aws.kms events on the site's kms key (by `keyId`)"
        ))),
        "{unscoped:#?}"
    );
    // `up` puts the rule back.
    let repaired_rule = changes(
        &Run::new(dir.path())
            .json()
            .args(["up", "--infra-only", "-y"])
            .run()
            .into_json(),
    );
    assert_eq!(
        repaired_rule,
        vec![format!("update eventbridge rule {kms_rule} in eu-west-1")]
    );

    // `enabled = false` removes it all; nothing is left for `destroy`.
    let config = std::fs::read_to_string(dir.path().join("sitewarden.toml")).unwrap();
    std::fs::write(
        dir.path().join("sitewarden.toml"),
        config.replace("[monitoring]\n", "[monitoring]\nenabled = false\n"),
    )
    .unwrap();
    let off = Run::new(dir.path())
        .json()
        .args(["up", "--infra-only", "-y"])
        .run()
        .into_json();
    let removed = changes(&off);
    assert!(
        removed.contains(&format!("delete sns topic {topic_eu}")),
        "{removed:#?}"
    );
    assert!(removed.contains(&format!(
        "delete eventbridge rule sitewarden-{site}-s3 in eu-west-1"
    )));
    assert!(removed.contains(&format!("delete cloudwatch alarm sitewarden-{site}-5xx")));
    let rules = eu
        .monitoring
        .site
        .events
        .list_rules()
        .name_prefix(format!("sitewarden-{site}-"))
        .send()
        .await
        .unwrap();
    assert_eq!(rules.rules().len(), 0);
    let topics = eu.monitoring.site.sns.list_topics().send().await.unwrap();
    assert!(
        !topics
            .topics()
            .iter()
            .any(|t| t.topic_arn() == Some(topic_eu.as_str()))
    );
    Run::new(dir.path())
        .args(["destroy", "--delete-content", "-y"])
        .run();
}
