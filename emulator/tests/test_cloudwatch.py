"""CloudWatch fidelity: alarms round-trip as sent, start INSUFFICIENT_DATA, and notify their topics."""

import json

import pytest


@pytest.fixture
def cw(aws):
    return aws("cloudwatch")


def math_alarm(topic, name):
    return dict(
        AlarmName=name,
        AlarmDescription="a bucket setting changed",
        ActionsEnabled=True,
        AlarmActions=[topic],
        OKActions=[topic],
        EvaluationPeriods=1,
        DatapointsToAlarm=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
        Metrics=[
            {"Id": "failed", "ReturnData": False, "MetricStat": {"Metric": {"Namespace": "AWS/Events", "MetricName": "FailedInvocations",
                                                                          "Dimensions": [{"Name": "RuleName", "Value": name}]},
                                                               "Period": 300, "Stat": "Sum"}},
            {"Id": "total", "Expression": "FILL(failed, 0)", "Label": "failed deliveries", "ReturnData": True},
        ],
    )


def test_metric_math_alarm_round_trips(cw, uid):
    topic = f"arn:aws:sns:us-east-1:123456789012:alerts-{uid}"
    sent = math_alarm(topic, f"math-{uid}")
    cw.put_metric_alarm(**sent)
    (alarm,) = cw.describe_alarms(AlarmNames=[sent["AlarmName"]])["MetricAlarms"]
    for field in ("AlarmDescription", "ActionsEnabled", "AlarmActions", "OKActions", "EvaluationPeriods", "DatapointsToAlarm",
                  "Threshold", "ComparisonOperator", "TreatMissingData", "Metrics"):
        assert alarm[field] == sent[field], field
    # A new alarm has not been evaluated yet.
    assert alarm["StateValue"] == "INSUFFICIENT_DATA"
    assert alarm["StateReason"] == "Unchecked: Initial alarm creation"


def test_single_metric_alarm_round_trips_and_keeps_its_state_on_update(cw, uid):
    name = f"errors-{uid}"
    sent = dict(AlarmName=name, AlarmActions=[f"arn:aws:sns:us-east-1:123456789012:alerts-{uid}"], EvaluationPeriods=2, Threshold=5.0,
                ComparisonOperator="GreaterThanThreshold", Namespace="AWS/CloudFront", MetricName="5xxErrorRate", Statistic="Average",
                Period=300, Unit="Percent", Dimensions=[{"Name": "DistributionId", "Value": "E123"}, {"Name": "Region", "Value": "Global"}])
    cw.put_metric_alarm(**sent)
    (alarm,) = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    for field in ("AlarmActions", "EvaluationPeriods", "Threshold", "ComparisonOperator", "Namespace", "MetricName", "Statistic",
                  "Period", "Unit", "Dimensions"):
        assert alarm[field] == sent[field], field
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="testing")
    cw.put_metric_alarm(**dict(sent, Threshold=10.0))
    (alarm,) = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert alarm["Threshold"] == 10.0 and alarm["StateValue"] == "ALARM" and alarm["StateReason"] == "testing"
    assert cw.describe_alarms(AlarmNames=[name])["CompositeAlarms"] == []


def test_a_state_change_notifies_the_alarm_topic(endpoint, aws, cw, uid):
    sns, sqs = aws("sns"), aws("sqs")
    topic = sns.create_topic(Name=f"alarms-{uid}")["TopicArn"]  # the default policy lets CloudWatch publish
    url = sqs.create_queue(QueueName=f"alarms-{uid}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": topic}}}]})})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    sent = math_alarm(topic, f"notify-{uid}")
    cw.put_metric_alarm(**sent)
    cw.set_alarm_state(AlarmName=sent["AlarmName"], StateValue="ALARM", StateReason="Threshold Crossed: testing")
    (message,) = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)["Messages"]
    envelope = json.loads(message["Body"])
    assert envelope["Subject"] == f'ALARM: "{sent["AlarmName"]}" in US East (N. Virginia)'
    notification = json.loads(envelope["Message"])
    assert notification["AlarmName"] == sent["AlarmName"] and notification["AWSAccountId"] == "123456789012"
    assert (notification["OldStateValue"], notification["NewStateValue"]) == ("INSUFFICIENT_DATA", "ALARM")
    assert notification["NewStateReason"] == "Threshold Crossed: testing"
    assert notification["Region"] == "US East (N. Virginia)"
    assert notification["AlarmActions"] == [topic] and notification["OKActions"] == [topic]
    trigger = notification["Trigger"]
    assert trigger["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and trigger["Threshold"] == 1.0
    assert [m["Id"] for m in trigger["Metrics"]] == ["failed", "total"]
    assert trigger["Metrics"][0]["MetricStat"]["Metric"]["Dimensions"] == [{"value": sent["AlarmName"], "name": "RuleName"}]
    # The same state again is no change: no second notification.
    cw.set_alarm_state(AlarmName=sent["AlarmName"], StateValue="ALARM", StateReason="still")
    cw.disable_alarm_actions(AlarmNames=[sent["AlarmName"]])
    cw.set_alarm_state(AlarmName=sent["AlarmName"], StateValue="OK", StateReason="actions disabled")
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages") is None
