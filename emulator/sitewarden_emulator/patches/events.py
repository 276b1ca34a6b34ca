"""EventBridge: rules deliver to their targets the way AWS does.

moto matches an event against every rule of the bus, then for each target either delivers (SQS,
CloudWatch Logs, archives, other buses) or raises `NotImplementedError` (SNS, Lambda...), which
fails the whole PutEvents with a 500; its input transformer `json.loads` the filled template, so a
plain-text template (allowed by AWS) fails too, strings are inserted unquoted, `Input` and
`InputPath` are ignored, and disabled rules still deliver. Here:

- only rules whose State is ENABLED (or ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS) deliver, and
  read-only "AWS API Call via CloudTrail" events reach only the latter, as in AWS;
- each target gets `Input` (the constant text), `InputPath` (the selected part) or
  `InputTransformer` (below), otherwise the whole event as minified JSON with an ISO 8601 `time`;
- the SNS target publishes to the topic (SNS then delivers to its subscriptions: the notification
  envelope, or the raw message with RawMessageDelivery);
- a delivery happens only when AWS would let it: the topic policy (SNS) or queue policy (SQS) must
  allow the service principal `events.amazonaws.com` to `sns:Publish` / `sqs:SendMessage` on the
  resource, with the request context AWS sets (`aws:SourceArn` = the rule ARN, `aws:SourceAccount`
  = the rule's account); an SSE-KMS topic or queue also needs its key enabled and a key policy that
  lets `events.amazonaws.com` `kms:GenerateDataKey` and `kms:Decrypt` without source conditions
  (EventBridge sends no `aws:SourceAccount` / `aws:SourceArn` to KMS; so the AWS managed keys
  `alias/aws/sns` and `alias/aws/sqs` never work, as in AWS). A failed delivery is dropped (AWS
  retries, then counts FailedInvocations), never an error of the PutEvents or API call that
  produced the event;
- one target failing never stops the others.

Every delivery attempt (rule, target, outcome, reason) is kept in `DELIVERIES` (the last 1000), served
by `GET /_sitewarden/deliveries?since=N` (see `cloudtrail.py`), and a dropped one is logged to stderr.

Input transformer, as EventBridge evaluates it
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html):
`InputPathsMap` names JSON paths of the event (dot notation, `[n]`, `*`); `<name>` in
`InputTemplate` is replaced by the value. In a JSON template (one starting with `{`, `[` or `"`) a
placeholder in a value position gets the value as JSON (a string quoted), inside a string literal
the bare text (not escaped: AWS does not escape values either; an object or array loses its inner
quotes); a plain-text template gets bare text everywhere. Reserved variables:
`aws.events.rule-arn`, `aws.events.rule-name`, `aws.events.event.ingestion-time`,
`aws.events.event` (the event without `detail`) and `aws.events.event.json` (the whole event). A
path that does not match the event gives no value: an empty string in text, `null` as a JSON value.
A JSON result is delivered minified.
"""

import copy
import json
import logging
import re
import sys
import threading
import time
from collections import deque
from datetime import datetime, timezone
from typing import Any

from moto.core.exceptions import ServiceException
from moto.events.models import EventPattern, Rule
from moto.utilities.arns import parse_arn
from werkzeug.exceptions import HTTPException

from .s3 import _as_list, _condition_holds, _glob

LOG = logging.getLogger("sitewarden_emulator.events")

CLOUDTRAIL_DETAIL_TYPE = "AWS API Call via CloudTrail"
ALL_MANAGEMENT_EVENTS = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
DELIVERING_STATES = ("ENABLED", ALL_MANAGEMENT_EVENTS)
EVENTS_PRINCIPAL = "events.amazonaws.com"

# --- delivery log -------------------------------------------------------------------------------

_deliveries_lock = threading.Lock()
DELIVERIES: deque = deque(maxlen=1000)
_delivery_count = 0


def record_delivery(source: str, target: str, outcome: str, reason: str = "") -> None:
    """One delivery attempt (EventBridge rule → target, or SNS topic → subscription)."""
    global _delivery_count
    with _deliveries_lock:
        DELIVERIES.append(
            {"seq": _delivery_count, "time": iso_time(time.time()), "source": source, "target": target,
             "outcome": outcome, "reason": reason}
        )
        _delivery_count += 1
    if outcome != "delivered":
        print(f"sitewarden emulator: delivery {source} -> {target} dropped: {reason}", file=sys.stderr, flush=True)


def describe_error(err: Exception) -> str:
    """A moto error as its AWS code and message, anything else as its type and text."""
    code = getattr(err, "error_type", None) or getattr(err, "code", None)
    message = getattr(err, "message", None)
    if isinstance(code, str) and message:
        return f"{code}: {message}"
    return f"{type(err).__name__}: {err}"


def deliveries_since(since: int) -> list[dict]:
    with _deliveries_lock:
        return [entry for entry in DELIVERIES if entry["seq"] >= since]


class DeliveryDenied(Exception):
    """AWS would not deliver (missing permission, unusable key, missing resource)."""


# --- times --------------------------------------------------------------------------------------


def iso_time(epoch: float, millis: bool = False) -> str:
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    if millis:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _event_time(value: Any) -> str:
    """Events carry `time` as ISO 8601 (moto keeps PutEvents' epoch seconds internally)."""
    if isinstance(value, (int, float)):
        return iso_time(float(value))
    if isinstance(value, datetime):
        return iso_time(value.replace(tzinfo=value.tzinfo or timezone.utc).timestamp())
    return value or iso_time(time.time())


# --- resource policies --------------------------------------------------------------------------


class _Context(dict):
    """Request context keys (lower-cased) as `_condition_holds` reads them."""

    def context(self, key: str) -> str | None:
        return self.get(key.lower())


def _principal_is(principal: Any, service: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    if "*" in _as_list(principal.get("AWS", [])):  # {"AWS": "*"} is every principal, services too
        return True
    return service in _as_list(principal.get("Service", []))


def _element(statement: dict, element: str, matches, absent: bool) -> bool:
    if f"Not{element}" in statement:
        return not matches(statement[f"Not{element}"])
    if element not in statement:
        return absent
    return matches(statement[element])


def service_allowed(policy: Any, service: str, actions: list[str], resource: str, context: dict) -> bool:
    """Whether a resource policy lets the service principal do every one of `actions` on `resource`:
    an applying Deny wins, otherwise some applying Allow is needed (no policy: nothing allowed).
    A statement applies when principal, action, resource and every condition match."""
    if not policy:
        return False
    try:
        document = json.loads(policy) if isinstance(policy, (str, bytes)) else policy
        statements = _as_list(document.get("Statement", []))
    except (ValueError, AttributeError):
        return False
    ctx = _Context({k.lower(): v for k, v in context.items()})
    for action in actions:
        allowed = False
        for st in statements:
            if not isinstance(st, dict):
                continue
            applies = (
                _element(st, "Principal", lambda p: _principal_is(p, service), absent=False)
                and _element(st, "Action", lambda p: any(_glob(a, action, True) for a in _as_list(p)), absent=False)
                # KMS key policies name the key as "*"; a statement without Resource means the resource.
                and _element(st, "Resource", lambda p: any(_glob(r, resource) for r in _as_list(p)), absent=True)
                and all(
                    _condition_holds(operator, key, expected, ctx)
                    for operator, block in (st.get("Condition") or {}).items()
                    for key, expected in block.items()
                )
            )
            if not applies:
                continue
            if st.get("Effect") == "Deny":
                return False
            if st.get("Effect") == "Allow":
                allowed = True
        if not allowed:
            return False
    return True


def check_kms_key(key_id: str, account: str, region: str, service: str, context: dict) -> None:
    """An SSE-KMS topic or queue: the sending service must be able to use its key."""
    from moto.kms.models import kms_backends

    match = re.match(r"^arn:aws[\w-]*:kms:([^:]+):(\d{12}):(?:key|alias)/", key_id)
    if match:
        region, account = match.groups()
    backend = kms_backends[account][region]
    try:
        key = backend.keys[backend.any_id_to_key_id(key_id)]
    except (KeyError, TypeError, AttributeError):
        raise DeliveryDenied(f"KMS key {key_id} not found")
    if key.key_state != "Enabled":
        raise DeliveryDenied(f"KMS key {key.arn} is {key.key_state}")
    if not service_allowed(key.policy, service, ["kms:GenerateDataKey", "kms:Decrypt"], key.arn, context):
        raise DeliveryDenied(f"the key policy of {key.arn} does not allow {service} kms:GenerateDataKey and kms:Decrypt")


# --- input transformation -----------------------------------------------------------------------

_MISSING = object()
_PATH_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]|\[\*\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


def json_path(document: Any, path: str) -> Any:
    """The value at a JSON path (`$`, `.name`, `[n]`, `*`, `['name']`); a wildcard gives a list.
    `_MISSING` when the path matches nothing."""
    path = path.strip()
    if not path.startswith("$"):
        return _MISSING
    nodes, position, many = [document], 1, False
    while position < len(path):
        step = _PATH_STEP.match(path, position)
        if not step:
            return _MISSING
        position = step.end()
        name, index = step.group(1) or step.group(3) or step.group(4), step.group(2)
        wildcard = step.group(0) in (".*", "[*]")
        found = []
        for node in nodes:
            if wildcard:
                many = True
                found.extend(node.values() if isinstance(node, dict) else node if isinstance(node, list) else [])
            elif index is not None:
                if isinstance(node, list) and int(index) < len(node):
                    found.append(node[int(index)])
            elif isinstance(node, dict) and name in node:
                found.append(node[name])
        nodes = found
        if not nodes:
            return _MISSING
    return nodes if many else nodes[0]


def _as_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return _as_json(value).replace('"', "")  # AWS drops inner quotes to keep the string valid
    return _as_json(value)


_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")


def transform(template: str, values: dict[str, Any]) -> str:
    """Fill `<name>` placeholders of an InputTemplate (see the module docstring)."""
    json_template = template.lstrip()[:1] in ("{", "[", '"')
    out, in_string, position = [], False, 0
    while position < len(template):
        char = template[position]
        if char == "<":
            match = _PLACEHOLDER.match(template, position)
            if match and match.group(1) in values:
                value = values[match.group(1)]
                if not json_template or in_string:
                    out.append("" if value is _MISSING else _as_text(value))
                else:
                    out.append("null" if value is _MISSING else _as_json(value))
                position = match.end()
                continue
        if json_template:
            if char == "\\" and in_string:
                out.append(template[position:position + 2])
                position += 2
                continue
            if char == '"':
                in_string = not in_string
        out.append(char)
        position += 1
    text = "".join(out)
    if json_template:
        try:
            return _as_json(json.loads(text))  # the JSON passed to targets is minified
        except ValueError:
            return text  # not valid JSON once filled: passed on as it is
    return text


def target_input(rule: Rule, target: dict, event: dict, ingestion_time: float) -> str:
    """The text a target receives for an event."""
    if target.get("Input") is not None:
        return target["Input"]
    if target.get("InputPath"):
        value = json_path(event, target["InputPath"])
        return "" if value is _MISSING else _as_json(value)
    transformer = target.get("InputTransformer")
    if transformer:
        values = {name: json_path(event, path) for name, path in (transformer.get("InputPathsMap") or {}).items()}
        values.update({
            "aws.events.rule-arn": rule.arn,
            "aws.events.rule-name": rule.name,
            "aws.events.event.ingestion-time": iso_time(ingestion_time, millis=True),
            "aws.events.event": {k: v for k, v in event.items() if k != "detail"},
            "aws.events.event.json": event,
        })
        return transform(transformer.get("InputTemplate") or "", values)
    return _as_json(event)


# --- targets ------------------------------------------------------------------------------------


def _send_to_sns(rule: Rule, target: dict, body: str) -> None:
    from moto.sns.models import sns_backends

    arn = parse_arn(target["Arn"])
    topic = sns_backends[arn.account][arn.region].topics.get(target["Arn"])
    if topic is None:
        raise DeliveryDenied("the topic does not exist")
    context = {"aws:SourceArn": rule.arn, "aws:SourceAccount": rule.account_id}
    if not service_allowed(topic._policy_json, EVENTS_PRINCIPAL, ["sns:Publish"], topic.arn, context):
        raise DeliveryDenied(f"the topic policy does not allow {EVENTS_PRINCIPAL} sns:Publish")
    if topic.kms_master_key_id:
        # EventBridge uses an encrypted topic's key without aws:SourceAccount or aws:SourceArn in
        # the request context: a key policy conditioned on them never lets it publish ("not
        # supported for EventBridge-to-encrypted topics", SNS developer guide).
        check_kms_key(topic.kms_master_key_id, arn.account, arn.region, EVENTS_PRINCIPAL, {})
    group_id = (target.get("SqsParameters") or {}).get("MessageGroupId")
    sns_backends[arn.account][arn.region].publish(body, arn=topic.arn, group_id=group_id)


def _send_to_sqs(rule: Rule, target: dict, body: str) -> None:
    from moto.sqs.models import sqs_backends

    arn = parse_arn(target["Arn"])
    backend = sqs_backends[arn.account][arn.region]
    queue = backend.queues.get(arn.resource_id)
    if queue is None:
        raise DeliveryDenied("the queue does not exist")
    context = {"aws:SourceArn": rule.arn, "aws:SourceAccount": rule.account_id}
    if not service_allowed(queue._policy_json, EVENTS_PRINCIPAL, ["sqs:SendMessage"], queue.queue_arn, context):
        raise DeliveryDenied(f"the queue policy does not allow {EVENTS_PRINCIPAL} sqs:SendMessage")
    if getattr(queue, "kms_master_key_id", None):
        check_kms_key(queue.kms_master_key_id, arn.account, arn.region, EVENTS_PRINCIPAL, context)
    group_id = (target.get("SqsParameters") or {}).get("MessageGroupId")
    if queue.fifo_queue and not group_id:
        raise DeliveryDenied("a FIFO queue target needs SqsParameters.MessageGroupId")
    if queue.fifo_queue and str(getattr(queue, "content_based_deduplication", "false")).lower() != "true":
        raise DeliveryDenied("a FIFO queue target needs content-based deduplication")
    backend.send_message(queue_name=arn.resource_id, message_body=body, group_id=group_id)


def _send_to_logs(rule: Rule, target: dict, body: str) -> None:
    from moto.logs.models import logs_backends
    from moto.moto_api._internal import mock_random

    arn = parse_arn(target["Arn"])
    group = arn.resource_id.split(":")[0]
    backend = logs_backends[arn.account][arn.region]
    stream = str(mock_random.uuid4())
    backend.create_log_stream(group, stream)
    backend.put_log_events(group, stream, [{"timestamp": int(time.time() * 1000), "message": body}])


_original_send_to_targets = Rule.send_to_targets


def _send_with_moto(rule: Rule, target: dict, moto_event: dict) -> None:
    """Other targets (archives, event buses, API destinations): moto's own delivery, one target."""
    single = copy.copy(rule)
    single.targets = [target]
    single.event_pattern = EventPattern(None, {})
    _original_send_to_targets(single, copy.deepcopy(moto_event))


def send_to_targets(self: Rule, original_event: dict, transform_input: bool = True) -> None:
    if self.state not in DELIVERING_STATES:
        return
    ingestion_time = original_event.get("ingestion-time") or time.time()
    event = {k: v for k, v in original_event.items() if k != "ingestion-time"}
    event["time"] = _event_time(event.get("time"))
    if event.get("detail-type") == CLOUDTRAIL_DETAIL_TYPE and isinstance(event.get("detail"), dict):
        # Read-only management events reach only rules that opted in to all management events.
        if event["detail"].get("readOnly") is True and self.state != ALL_MANAGEMENT_EVENTS:
            return
    if not self.event_pattern.matches_event(event):
        return
    for target in list(self.targets):
        target_arn = target.get("Arn", "")
        try:
            arn = parse_arn(target_arn)
            if arn.service in ("sns", "sqs", "logs"):
                body = target_input(self, target, event, ingestion_time) if transform_input else _as_json(event)
                {"sns": _send_to_sns, "sqs": _send_to_sqs, "logs": _send_to_logs}[arn.service](self, target, body)
            else:
                _send_with_moto(self, target, original_event)
            record_delivery(self.arn, target_arn, "delivered")
        except DeliveryDenied as denied:
            record_delivery(self.arn, target_arn, "failed", str(denied))
        except Exception as err:  # never the caller's failure: AWS delivers asynchronously
            if not isinstance(err, (HTTPException, ServiceException)):  # moto's errors are AWS's answers
                LOG.exception("delivery from %s to %s failed", self.arn, target_arn)
            record_delivery(self.arn, target_arn, "failed", describe_error(err))


def apply() -> None:
    Rule.send_to_targets = send_to_targets
