"""CloudWatch alarms: their state as AWS keeps it, and their actions on a state change.

- A new alarm is INSUFFICIENT_DATA ("Unchecked: Initial alarm creation") until evaluated; moto
  starts it at OK. PutMetricAlarm on an existing alarm replaces its configuration and keeps its
  state and history (moto starts it over).
- DescribeAlarms returns composite alarms only when AlarmTypes asks for them (AWS: "If you omit this
  parameter, only metric alarms are returned"), in alarm-name order, in pages: at most MaxRecords
  alarms (1 to 100, 50 when omitted) and a NextToken while more remain; the token names where the
  next page starts, so an alarm deleted between pages shifts nothing; a token that is not one is
  `InvalidNextToken`, a MaxRecords out of range `ValidationError` (moto: every alarm at once, no
  NextToken, MaxRecords and NextToken ignored).
- A state change (SetAlarmState; moto evaluates no metrics) runs the actions of the new state while
  ActionsEnabled: each SNS topic among AlarmActions / OKActions / InsufficientDataActions receives
  the alarm notification (Subject `ALARM: "name" in US East (N. Virginia)`, the JSON message with
  AlarmName, NewStateValue, OldStateValue, Trigger...), if AWS would let CloudWatch publish: the topic
  policy must allow `cloudwatch.amazonaws.com` (the default policy does, through AWS:SourceOwner),
  and an SSE-KMS topic needs its key enabled and usable by `cloudwatch.amazonaws.com`. Attempts go
  to the delivery log of `events.py`. Other actions (Auto Scaling, EC2, Systems Manager) do nothing.

All of this holds in each protocol CloudWatch speaks: query and JSON (boto3), and rpc-v2-cbor (the
Rust SDK), which `rpcv2cbor.py` turns into JSON before these patches see the call.
"""

import base64
import binascii
import json

from botocore.loaders import Loader
from moto.cloudwatch.exceptions import CloudWatchException, ValidationError
from moto.cloudwatch.models import Alarm, CloudWatchBackend
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.utils import utcnow
from moto.utilities.arns import parse_arn

from .events import DeliveryDenied, check_kms_key, describe_error, record_delivery, service_allowed
from ._wrap import wrap as _wrap

CLOUDWATCH_PRINCIPAL = "cloudwatch.amazonaws.com"
DEFAULT_MAX_RECORDS = 50
MAX_RECORDS = 100
_TOKEN_PREFIX = "sitewarden-alarms:"


class InvalidNextToken(CloudWatchException):
    code = "InvalidNextToken"
    message = "The NextToken is not valid."


def _token(start: str) -> str:
    """The NextToken of a page of DescribeAlarms that starts at the alarm named `start`."""
    return base64.urlsafe_b64encode((_TOKEN_PREFIX + start).encode()).decode()


def _token_start(token: str) -> str:
    try:
        decoded = base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raise InvalidNextToken()
    if not decoded.startswith(_TOKEN_PREFIX):
        raise InvalidNextToken()
    return decoded[len(_TOKEN_PREFIX):]


_region_names: dict[str, str] = {}


def region_name(region: str) -> str:
    """"US East (N. Virginia)" for us-east-1, as alarm notifications name regions."""
    if not _region_names:
        for partition in Loader().load_data("endpoints")["partitions"]:
            for code, info in partition.get("regions", {}).items():
                _region_names[code] = info.get("description", code)
    return _region_names.get(region, region)


def _timestamp(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _dimensions(dimensions) -> list[dict]:
    return [{"value": d.value, "name": d.name} for d in dimensions]


def _trigger(alarm: Alarm) -> dict:
    trigger = {}
    if alarm.metric_data_queries:
        metrics = []
        for query in alarm.metric_data_queries:
            item = {"Id": query.id}
            if query.expression:
                item["Expression"] = query.expression
            if query.label:
                item["Label"] = query.label
            if query.metric_stat:
                stat = query.metric_stat
                item["MetricStat"] = {
                    "Metric": {"Dimensions": _dimensions(stat.metric.dimensions), "MetricName": stat.metric.metric_name,
                               "Namespace": stat.metric.namespace},
                    "Period": stat.period, "Stat": stat.stat,
                }
                if stat.unit:
                    item["MetricStat"]["Unit"] = stat.unit
            if query.period:
                item["Period"] = query.period
            item["ReturnData"] = query.return_data if query.return_data is not None else True
            metrics.append(item)
        trigger["Metrics"] = metrics
    else:
        trigger.update({
            "MetricName": alarm.metric_name, "Namespace": alarm.namespace,
            "StatisticType": "ExtendedStatistic" if alarm.extended_statistic else "Statistic",
            "Statistic": (alarm.statistic or "").upper() if not alarm.extended_statistic else None,
            "Unit": alarm.unit, "Dimensions": _dimensions(alarm.dimensions), "Period": alarm.period,
        })
        if alarm.extended_statistic:
            trigger["ExtendedStatistic"] = alarm.extended_statistic
            del trigger["Statistic"]
    trigger.update({
        "EvaluationPeriods": alarm.evaluation_periods,
        "DatapointsToAlarm": alarm.datapoints_to_alarm or alarm.evaluation_periods,
        "ComparisonOperator": alarm.comparison_operator,
        "Threshold": alarm.threshold,
        "TreatMissingData": alarm.treat_missing_data or "missing",
        "EvaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile or "",
    })
    return trigger


def notification(alarm: Alarm, account: str, old_state: str) -> tuple[str, str]:
    """Subject and message of the SNS notification of a state change."""
    region = region_name(alarm.region_name)
    message = {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": _timestamp(alarm.configuration_updated_timestamp),
        "NewStateValue": alarm.state_value,
        "NewStateReason": alarm.state_reason,
        "StateChangeTime": _timestamp(alarm.state_updated_timestamp),
        "Region": region,
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": old_state,
        "OKActions": list(alarm.ok_actions),
        "AlarmActions": list(alarm.alarm_actions),
        "InsufficientDataActions": list(alarm.insufficient_data_actions),
        "Trigger": _trigger(alarm),
    }
    subject = f'{alarm.state_value}: "{alarm.name}" in {region}'
    if len(subject) > 100:  # SNS subjects are at most 100 characters; CloudWatch cuts them
        subject = subject[:97] + "..."
    return subject, json.dumps(message, separators=(",", ":"))


def _notify(alarm: Alarm, old_state: str) -> None:
    from moto.sns.models import sns_backends

    if not alarm.actions_enabled:
        return
    actions = {"ALARM": alarm.alarm_actions, "OK": alarm.ok_actions,
               "INSUFFICIENT_DATA": alarm.insufficient_data_actions}.get(alarm.state_value, [])
    account = parse_arn(alarm.alarm_arn).account
    for action in actions or []:
        if not action.startswith("arn:") or parse_arn(action).service != "sns":
            continue  # Auto Scaling, EC2 and Systems Manager actions: nothing to do here
        try:
            arn = parse_arn(action)
            topic = sns_backends[arn.account][arn.region].topics.get(action)
            if topic is None:
                raise DeliveryDenied("the topic does not exist")
            context = {"aws:SourceArn": alarm.alarm_arn, "aws:SourceAccount": account, "AWS:SourceOwner": account}
            if not service_allowed(topic._policy_json, CLOUDWATCH_PRINCIPAL, ["sns:Publish"], topic.arn, context):
                raise DeliveryDenied(f"the topic policy does not allow {CLOUDWATCH_PRINCIPAL} sns:Publish")
            if topic.kms_master_key_id:
                check_kms_key(topic.kms_master_key_id, arn.account, arn.region, CLOUDWATCH_PRINCIPAL, context)
            subject, message = notification(alarm, account, old_state)
            sns_backends[arn.account][arn.region].publish(message, arn=action, subject=subject)
            record_delivery(alarm.alarm_arn, action, "delivered")
        except DeliveryDenied as denied:
            record_delivery(alarm.alarm_arn, action, "failed", str(denied))
        except Exception as err:  # a failed notification is not SetAlarmState's failure
            record_delivery(alarm.alarm_arn, action, "failed", describe_error(err))


def apply() -> None:
    @_wrap(Alarm, "__init__")
    def alarm_init(original, self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.state_value = "INSUFFICIENT_DATA"

    @_wrap(CloudWatchBackend, "put_metric_alarm")
    def put_metric_alarm(original, self, name, *args, **kwargs):
        previous = self.alarms.get(name)
        alarm = original(self, name, *args, **kwargs)
        if previous is not None and previous is not alarm:
            for field in ("state_value", "state_reason", "state_reason_data", "state_updated_timestamp", "history"):
                setattr(alarm, field, getattr(previous, field))
            alarm.configuration_updated_timestamp = utcnow()
        return alarm

    @_wrap(Alarm, "update_state")
    def update_state(original, self, reason, reason_data, state_value):
        old_state = self.state_value
        original(self, reason, reason_data, state_value)
        if state_value != old_state:
            _notify(self, old_state)

    @_wrap(CloudWatchResponse, "describe_alarms")
    def describe_alarms(original, self):
        max_records = self._get_param("MaxRecords")
        if max_records is not None and not 1 <= int(max_records) <= MAX_RECORDS:
            bound = "greater than or equal to 1" if int(max_records) < 1 else f"less than or equal to {MAX_RECORDS}"
            raise ValidationError(f"1 validation error detected: Value '{max_records}' at 'maxRecords' failed to satisfy "
                                  f"constraint: Member must have value {bound}")
        token = self._get_param("NextToken")
        after = _token_start(token) if token else None
        result = original(self)
        types = self._get_param("AlarmTypes", []) or ["MetricAlarm"]
        if "CompositeAlarm" not in types:
            result.result["CompositeAlarms"] = []
        if "MetricAlarm" not in types:
            result.result["MetricAlarms"] = []
        alarms = sorted(list(result.result["MetricAlarms"]) + list(result.result["CompositeAlarms"]), key=lambda a: a.name)
        if after is not None:
            alarms = [a for a in alarms if a.name >= after]
        size = int(max_records) if max_records is not None else DEFAULT_MAX_RECORDS
        page, rest = alarms[:size], alarms[size:]
        result.result["MetricAlarms"] = [a for a in page if a.rule is None]
        result.result["CompositeAlarms"] = [a for a in page if a.rule is not None]
        if rest:
            result.result["NextToken"] = _token(rest[0].name)
        return result
