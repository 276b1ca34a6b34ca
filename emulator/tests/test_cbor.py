"""The Smithy RPC v2 CBOR protocol (the Rust SDK's CloudWatch client): real rpc-v2-cbor requests,
made and read by botocore's own RpcV2CBORSerializer and RpcV2CBORParser (a boto3 client whose
CloudWatch model lists only that protocol), answered as AWS answers them."""

import gzip
import io
import json
import tempfile
import urllib.error
import urllib.request
import uuid
from datetime import datetime
from pathlib import Path

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.loaders import Loader
from botocore.parsers import RpcV2CBORParser
from botocore.serialize import RpcV2CBORSerializer

from test_cloudwatch import math_alarm

CBOR = "smithy-rpc-v2-cbor"


@pytest.fixture(scope="module")
def speaking(endpoint):
    """`speaking("smithy-rpc-v2-cbor")` → a boto3 CloudWatch client that speaks only that protocol
    (botocore picks JSON when it may); each response it gets is kept in `client.wire`."""
    model = Loader().load_service_model("cloudwatch", "service-2")
    folders = []

    def make(protocol, access_key="testing"):
        forced = json.loads(json.dumps(model))
        forced["metadata"]["protocols"] = [protocol]
        forced["metadata"]["protocol"] = protocol
        folder = tempfile.TemporaryDirectory()
        folders.append(folder)
        path = Path(folder.name) / "cloudwatch" / forced["metadata"]["apiVersion"]
        path.mkdir(parents=True)
        (path / "service-2.json").write_text(json.dumps(forced))
        session = botocore.session.Session()
        session.set_config_variable("data_path", folder.name)
        client = boto3.Session(botocore_session=session).client(
            "cloudwatch", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id=access_key,
            aws_secret_access_key="testing", config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))
        assert client.meta.service_model.resolved_protocol == protocol
        client.wire = []
        client.meta.events.register("before-send.cloudwatch.*", lambda request, **_: client.wire.append(["request", request]))
        client.meta.events.register(
            "needs-retry.cloudwatch.*", lambda response, **_: client.wire.append(["response", response[0]]))
        return client

    yield make
    for folder in folders:
        folder.cleanup()


@pytest.fixture
def cw(speaking):
    return speaking(CBOR)


def raw(body: bytes):
    """A CBOR body as it is, with no shape applied: maps, lists, tag 1 → datetime, floats, ints."""
    return RpcV2CBORParser().parse_data_item(io.BufferedReader(io.BytesIO(body)))


def last(client, kind):
    return [item for k, item in client.wire if k == kind][-1]


def test_metric_math_alarm_round_trips_over_cbor(cw, uid):
    topic = f"arn:aws:sns:us-east-1:123456789012:alerts-{uid}"
    sent = dict(math_alarm(topic, f"cbor-math-{uid}"), Tags=[{"Key": "sitewarden:site", "Value": uid}])
    cw.put_metric_alarm(**sent)
    request, response = last(cw, "request"), last(cw, "response")
    assert request.url.endswith("/service/GraniteServiceVersion20100801/operation/PutMetricAlarm")
    assert request.headers["smithy-protocol"] == b"rpc-v2-cbor" and request.headers["Content-Type"] == b"application/cbor"
    assert response.status_code == 200 and response.headers["smithy-protocol"] == "rpc-v2-cbor"
    assert response.content == b""  # PutMetricAlarm has no output

    (alarm,) = cw.describe_alarms(AlarmNames=[sent["AlarmName"]])["MetricAlarms"]
    response = last(cw, "response")
    assert response.headers["Content-Type"] == "application/cbor"
    for field in ("AlarmDescription", "ActionsEnabled", "AlarmActions", "OKActions", "EvaluationPeriods", "DatapointsToAlarm",
                  "Threshold", "ComparisonOperator", "TreatMissingData", "Metrics"):
        assert alarm[field] == sent[field], field
    assert alarm["StateValue"] == "INSUFFICIENT_DATA"
    assert alarm["StateReason"] == "Unchecked: Initial alarm creation"
    assert isinstance(alarm["AlarmConfigurationUpdatedTimestamp"], datetime)
    assert abs(alarm["StateUpdatedTimestamp"].timestamp() - datetime.now().timestamp()) < 60
    # On the wire: a timestamp is tag 1 (the shapeless parse turns only that tag into a datetime), a
    # double a float even when whole, an integer an integer.
    (wire,) = raw(response.content)["MetricAlarms"]
    assert isinstance(wire["AlarmConfigurationUpdatedTimestamp"], datetime)
    assert isinstance(wire["Threshold"], float) and wire["Threshold"] == 1.0
    assert type(wire["EvaluationPeriods"]) is int
    assert cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"] == sent["Tags"]


def test_describe_alarms_pages_over_cbor(cw, uid):
    names = [f"cbor-page-{uid}-{i}" for i in (4, 0, 6, 2, 1, 5, 3)]
    for name in names:
        cw.put_metric_alarm(AlarmName=name, EvaluationPeriods=1, Threshold=5.0, ComparisonOperator="GreaterThanThreshold",
                            Namespace="AWS/CloudFront", MetricName="Requests", Statistic="Sum", Period=300)
    pages = list(cw.get_paginator("describe_alarms").paginate(AlarmNames=names, PaginationConfig={"PageSize": 3}))
    assert [[a["AlarmName"] for a in page["MetricAlarms"]] for page in pages] == [
        sorted(names)[0:3], sorted(names)[3:6], sorted(names)[6:]]
    assert all(page.get("NextToken") for page in pages[:2]) and "NextToken" not in pages[2]
    # The loop a Rust paginator runs: NextToken until there is none.
    seen, token = [], None
    while True:
        page = cw.describe_alarms(AlarmNames=names, MaxRecords=2, **({"NextToken": token} if token else {}))
        seen += [a["AlarmName"] for a in page["MetricAlarms"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == sorted(names)
    # Without MaxRecords, one page holds them all.
    assert len(cw.describe_alarms(AlarmNames=names)["MetricAlarms"]) == len(names)
    with pytest.raises(ClientError) as err:
        cw.describe_alarms(AlarmNames=names, NextToken="not-a-token")
    assert err.value.response["Error"]["Code"] == "InvalidNextToken"


def test_delete_alarms_over_cbor(cw, uid):
    names = [f"cbor-delete-{uid}-{i}" for i in range(2)]
    for name in names:
        cw.put_metric_alarm(AlarmName=name, EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold",
                            Namespace="AWS/Events", MetricName="FailedInvocations", Statistic="Sum", Period=300)
    assert len(cw.describe_alarms(AlarmNames=names)["MetricAlarms"]) == 2
    cw.delete_alarms(AlarmNames=names)
    response = last(cw, "response")
    assert response.status_code == 200 and response.content == b"" and response.headers["smithy-protocol"] == "rpc-v2-cbor"
    assert cw.describe_alarms(AlarmNames=names)["MetricAlarms"] == []


def test_errors_over_cbor(cw, uid):
    with pytest.raises(ClientError) as err:
        cw.set_alarm_state(AlarmName=f"cbor-missing-{uid}", StateValue="ALARM", StateReason="testing")
    assert err.value.response["Error"]["Code"] == "ResourceNotFound"
    response = last(cw, "response")
    assert response.status_code == 404
    assert response.headers["smithy-protocol"] == "rpc-v2-cbor" and response.headers["Content-Type"] == "application/cbor"
    assert response.headers["x-amzn-query-error"] == "ResourceNotFound;Sender"
    body = raw(response.content)
    assert body["__type"] == "ResourceNotFound" and isinstance(body["message"], str)
    with pytest.raises(ClientError) as err:
        cw.describe_alarms(MaxRecords=101)
    assert err.value.response["Error"]["Code"] == "ValidationError"
    assert raw(last(cw, "response").content)["__type"] == "ValidationException"


def test_a_state_change_over_cbor_notifies_the_alarm_topic(aws, cw, uid):
    sns, sqs = aws("sns"), aws("sqs")
    topic = sns.create_topic(Name=f"cbor-alarms-{uid}")["TopicArn"]
    url = sqs.create_queue(QueueName=f"cbor-alarms-{uid}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": topic}}}]})})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    sent = math_alarm(topic, f"cbor-notify-{uid}")
    cw.put_metric_alarm(**sent)
    cw.set_alarm_state(AlarmName=sent["AlarmName"], StateValue="ALARM", StateReason="Threshold Crossed: testing")
    (message,) = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)["Messages"]
    envelope = json.loads(message["Body"])
    assert envelope["Subject"] == f'ALARM: "{sent["AlarmName"]}" in US East (N. Virginia)'
    notification = json.loads(envelope["Message"])
    assert (notification["OldStateValue"], notification["NewStateValue"]) == ("INSUFFICIENT_DATA", "ALARM")
    assert [m["Id"] for m in notification["Trigger"]["Metrics"]] == ["failed", "total"]
    (alarm,) = cw.describe_alarms(AlarmNames=[sent["AlarmName"]])["MetricAlarms"]
    assert alarm["StateValue"] == "ALARM" and alarm["StateReason"] == "Threshold Crossed: testing"


@pytest.mark.parametrize("protocol", ["query", "json", CBOR])
def test_each_protocol_gives_the_same_alarms(speaking, uid, protocol):
    cw = speaking(protocol)
    prefix = f"proto-{protocol[:5]}-{uid}"
    names = [f"{prefix}-{i}" for i in range(3)]
    for name in names:
        cw.put_metric_alarm(**math_alarm(f"arn:aws:sns:us-east-1:123456789012:{prefix}", name))
    pages = list(cw.get_paginator("describe_alarms").paginate(AlarmNamePrefix=prefix, PaginationConfig={"PageSize": 2}))
    alarms = [a for page in pages for a in page["MetricAlarms"]]
    assert [len(page["MetricAlarms"]) for page in pages] == [2, 1]
    assert [a["AlarmName"] for a in alarms] == names
    assert all(a["StateValue"] == "INSUFFICIENT_DATA" and a["Threshold"] == 1.0 for a in alarms)
    assert all(a["Metrics"] == math_alarm("", a["AlarmName"])["Metrics"] for a in alarms)
    assert all(isinstance(a["StateUpdatedTimestamp"], datetime) for a in alarms)
    cw.delete_alarms(AlarmNames=names)
    assert cw.describe_alarms(AlarmNamePrefix=prefix)["MetricAlarms"] == []


def _post(endpoint, operation, body, headers=None):
    """A hand-made rpc-v2-cbor request, signed in form only (the emulator reads the scope)."""
    request = urllib.request.Request(
        f"{endpoint}/service/GraniteServiceVersion20100801/operation/{operation}", data=body, method="POST",
        headers={"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor", "Accept": "application/cbor",
                 "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/monitoring/aws4_request, "
                                  "SignedHeaders=host, Signature=0", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def _cbor(operation, params):
    model = botocore.session.get_session().get_service_model("cloudwatch")
    return RpcV2CBORSerializer().serialize_to_request(params, model.operation_model(operation))["body"]


def test_hand_made_requests(endpoint, uid):
    name = f"cbor-raw-{uid}"
    put = _cbor("PutMetricAlarm", dict(AlarmName=name, EvaluationPeriods=1, Threshold=2.5, ComparisonOperator="LessThanThreshold",
                                       Namespace="N", MetricName="M", Statistic="Average", Period=60, Tags=[{"Key": "k", "Value": "v"}]))
    # A compressed request (the Rust SDK gzips large PutMetricData bodies) is read as well.
    status, headers, body = _post(endpoint, "PutMetricAlarm", gzip.compress(put), {"Content-Encoding": "gzip"})
    assert (status, body) == (200, b"") and headers["smithy-protocol"] == "rpc-v2-cbor"
    status, headers, body = _post(endpoint, "DescribeAlarms", _cbor("DescribeAlarms", {"AlarmNames": [name]}))
    assert status == 200 and headers["Content-Type"] == "application/cbor"
    (alarm,) = raw(body)["MetricAlarms"]
    assert alarm["AlarmName"] == name and alarm["Threshold"] == 2.5 and isinstance(alarm["StateUpdatedTimestamp"], datetime)
    # An operation without a body: all of its input is optional.
    status, _, body = _post(endpoint, "DescribeAlarms", b"")
    assert status == 200 and isinstance(raw(body)["MetricAlarms"], list)
    status, _, body = _post(endpoint, "NoSuchOperation", b"\xa0")
    assert status == 404 and raw(body)["__type"] == "UnknownOperationException"
    status, _, body = _post(endpoint, "DescribeAlarms", b"<xml/>")
    assert status == 400 and raw(body)["__type"] == "SerializationException"


def test_injected_faults_answer_cbor_calls_in_cbor(endpoint, speaking):
    key = f"CBOR{uuid.uuid4().hex[:12].upper()}"
    scope = f"cbor-{key}"
    cw = speaking(CBOR, access_key=key)

    def control(method, path, document=None):
        data = json.dumps(document).encode() if document is not None else None
        request = urllib.request.Request(f"{endpoint}/_sitewarden/{path}?scope={scope}", data=data, method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    since = control("GET", "faults")["requests"]
    control("POST", "faults", {"rules": [{"fault": "throttle", "service": "monitoring", "operation": "DescribeAlarms",
                                          "access_key": key}]})
    try:
        with pytest.raises(ClientError) as err:
            cw.describe_alarms()
        assert err.value.response["Error"]["Code"] == "ThrottlingException"
        assert raw(last(cw, "response").content)["__type"] == "ThrottlingException"
        cw.list_dashboards()  # another operation is untouched
    finally:
        control("DELETE", "faults")
    with urllib.request.urlopen(f"{endpoint}/_sitewarden/requests?since={since}", timeout=10) as response:
        mine = [r for r in json.loads(response.read()) if r["access_key"] == key]
    assert [(r["operation"], r["fault"]) for r in mine] == [("DescribeAlarms", "throttle"), ("ListDashboards", None)]
