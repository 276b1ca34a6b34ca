"""Fault injection: errors in each protocol's shape, resets, delays, errors after the write, holds,
a seeded chance, the request log, and rules scoped to one caller so other tests are untouched."""

import base64
import hashlib
import json
import threading
import time
import urllib.request
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError


def control(endpoint, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{endpoint}/_sitewarden/{path}", data=data, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def caller(endpoint):
    """A client factory for a caller of its own (a unique access key), with SDK retries off; the
    rules are cleared afterwards."""
    key = f"FAULT{uuid.uuid4().hex[:12].upper()}"

    def make(service, region="us-east-1"):
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=endpoint,
            aws_access_key_id=key,
            aws_secret_access_key="testing",
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=30),
        )

    make.key = key
    yield make
    control(endpoint, "DELETE", "faults")


def set_rules(endpoint, seed, *rules):
    return control(endpoint, "POST", "faults", {"seed": seed, "rules": list(rules)})


def error_of(call, **kwargs):
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    response = err.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_off_by_default(endpoint, aws, uid):
    state = control(endpoint, "GET", "faults")
    assert state["rules"] == []
    aws("s3").create_bucket(Bucket=f"faults-off-{uid}")


def test_throttling_in_each_protocol(endpoint, caller, uid):
    set_rules(endpoint, 1, {"fault": "throttle", "access_key": caller.key})
    assert error_of(caller("s3").list_buckets) == ("SlowDown", 503)
    assert error_of(caller("kms").list_keys) == ("ThrottlingException", 400)
    assert error_of(caller("acm").list_certificates) == ("ThrottlingException", 400)
    assert error_of(caller("logs").describe_log_groups) == ("ThrottlingException", 400)
    assert error_of(caller("cloudfront").list_distributions) == ("Throttling", 400)
    assert error_of(caller("route53").list_hosted_zones) == ("Throttling", 400)
    assert error_of(caller("sts").get_caller_identity) == ("Throttling", 400)


def test_server_errors_in_each_protocol(endpoint, caller):
    set_rules(endpoint, 1, {"fault": "error", "access_key": caller.key})
    assert error_of(caller("s3").list_buckets) == ("InternalError", 500)
    assert error_of(caller("kms").list_keys) == ("InternalFailure", 500)
    assert error_of(caller("cloudfront").list_distributions) == ("ServiceUnavailable", 503)


def test_rules_touch_only_their_caller_operation_and_methods(endpoint, caller, aws, uid):
    bucket = f"faults-scope-{uid}"
    aws("s3").create_bucket(Bucket=bucket)
    set_rules(endpoint, 1, {"fault": "error", "service": "s3", "operation": "PutObject", "access_key": caller.key})
    s3 = caller("s3")
    assert error_of(s3.put_object, Bucket=bucket, Key="a", Body=b"x") == ("InternalError", 500)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0  # other operations are served
    aws("s3").put_object(Bucket=bucket, Key="b", Body=b"x")  # other callers are served
    set_rules(endpoint, 1, {"fault": "error", "methods": ["PUT"], "access_key": caller.key})
    assert s3.get_object(Bucket=bucket, Key="b")["Body"].read() == b"x"
    assert error_of(s3.put_bucket_versioning, Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}) == (
        "InternalError",
        500,
    )


def test_after_makes_the_write_then_fails(endpoint, caller, aws, uid):
    bucket = f"faults-after-{uid}"
    aws("s3").create_bucket(Bucket=bucket)
    set_rules(endpoint, 1, {"fault": "after", "operation": "PutObject", "access_key": caller.key})
    assert error_of(caller("s3").put_object, Bucket=bucket, Key="k", Body=b"done") == ("InternalError", 500)
    assert aws("s3").get_object(Bucket=bucket, Key="k")["Body"].read() == b"done"
    set_rules(endpoint, 1, {"fault": "after", "operation": "CreateKey", "access_key": caller.key})
    before = len(aws("kms").list_keys()["Keys"])
    assert error_of(caller("kms").create_key) == ("InternalFailure", 500)
    assert len(aws("kms").list_keys()["Keys"]) == before + 1


def test_corrupt_flips_a_bit_that_the_checksums_catch(endpoint, caller, aws, uid):
    bucket = f"faults-corrupt-{uid}"
    aws("s3").create_bucket(Bucket=bucket)
    set_rules(endpoint, 1, {"fault": "corrupt", "operation": "PutObject", "access_key": caller.key})
    body = b"0123456789" * 100
    sha = base64.b64encode(hashlib.sha256(body).digest()).decode()
    code, status = error_of(caller("s3").put_object, Bucket=bucket, Key="k", Body=body, ChecksumSHA256=sha)
    assert status == 400 and code in ("BadDigest", "XAmzContentSHA256Mismatch")
    with pytest.raises(ClientError):
        aws("s3").head_object(Bucket=bucket, Key="k")
    # Without a checksum the flipped bit is stored: only the client's digests protect the body.
    unchecked = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id=caller.key,
        aws_secret_access_key="testing",
        config=Config(
            request_checksum_calculation="when_required",
            s3={"payload_signing_enabled": False},
            retries={"total_max_attempts": 1, "mode": "standard"},
        ),
    )
    unchecked.put_object(Bucket=bucket, Key="unchecked", Body=body)
    stored = aws("s3").get_object(Bucket=bucket, Key="unchecked")["Body"].read()
    assert len(stored) == len(body) and stored != body
    assert control(endpoint, "GET", "faults")["fired"] == [2]


def test_reset_drops_the_connection_without_serving(endpoint, caller, aws, uid):
    bucket = f"faults-reset-{uid}"
    set_rules(endpoint, 1, {"fault": "reset", "operation": "CreateBucket", "access_key": caller.key})
    with pytest.raises((ConnectionClosedError, EndpointConnectionError, ConnectionError)):
        caller("s3").create_bucket(Bucket=bucket)
    names = [b["Name"] for b in aws("s3").list_buckets()["Buckets"]]
    assert bucket not in names
    # The server goes on serving.
    aws("s3").create_bucket(Bucket=bucket)


def test_delay(endpoint, caller):
    set_rules(endpoint, 1, {"fault": "delay", "delay_ms": 300, "access_key": caller.key})
    started = time.monotonic()
    caller("s3").list_buckets()
    assert time.monotonic() - started >= 0.3


def test_the_seed_fixes_which_requests_fail(endpoint, caller):
    def pattern(seed):
        set_rules(endpoint, seed, {"fault": "error", "probability": 0.3, "access_key": caller.key})
        s3 = caller("s3")
        out = []
        for _ in range(40):
            try:
                s3.list_buckets()
                out.append(0)
            except ClientError:
                out.append(1)
        return out

    first = pattern(11)
    assert first == pattern(11)
    assert first != pattern(12)
    assert 4 <= sum(first) <= 24  # about 30% of 40
    failures = sum(pattern(12))
    assert control(endpoint, "GET", "faults")["fired"] == [failures]


def test_hold_waits_for_release_at_the_chosen_request(endpoint, caller, aws, uid):
    bucket = f"faults-hold-{uid}"
    aws("s3").create_bucket(Bucket=bucket)
    set_rules(endpoint, 1, {"fault": "hold", "at": 2, "operation": "PutObject", "access_key": caller.key})
    s3 = caller("s3")
    s3.put_object(Bucket=bucket, Key="1", Body=b"1")
    done = threading.Event()
    worker = threading.Thread(target=lambda: (s3.put_object(Bucket=bucket, Key="2", Body=b"2"), done.set()))
    worker.start()
    for _ in range(100):
        if control(endpoint, "GET", "faults")["held"] == 1:
            break
        time.sleep(0.05)
    assert control(endpoint, "GET", "faults")["held"] == 1
    assert not done.is_set()
    assert "Contents" not in aws("s3").list_objects_v2(Bucket=bucket, Prefix="2")
    control(endpoint, "POST", "release")
    worker.join(timeout=10)
    assert done.is_set()
    assert control(endpoint, "GET", "faults")["held"] == 0


def test_the_request_log_names_operations(endpoint, caller, aws, uid):
    bucket = f"faults-log-{uid}"
    start = control(endpoint, "GET", "faults")["requests"]
    s3 = caller("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a/b.html", Body=b"x")
    s3.list_objects_v2(Bucket=bucket)
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a/b.html"}]})
    caller("kms").list_keys()
    entries = [e for e in control(endpoint, "GET", f"requests?since={start}") if e["access_key"] == caller.key]
    assert [(e["service"], e["operation"]) for e in entries] == [
        ("s3", "CreateBucket"),
        ("s3", "PutObject"),
        ("s3", "ListObjectsV2"),
        ("s3", "DeleteObjects"),
        ("kms", "ListKeys"),
    ]
    assert all(e["fault"] is None for e in entries)
    assert entries[0]["seq"] >= start
    # How each body was protected: boto3 over http signs the payload.
    put = entries[1]
    assert put["content_sha256"] == hashlib.sha256(b"x").hexdigest()
    s3.put_object(Bucket=bucket, Key="c", Body=b"y", ChecksumSHA256=base64.b64encode(hashlib.sha256(b"y").digest()).decode())
    last = [e for e in control(endpoint, "GET", f"requests?since={start}") if e["access_key"] == caller.key][-1]
    assert last["checksums"] == ["sha256"]


def test_bad_rules_are_refused(endpoint):
    for rule in ({"fault": "explode"}, {"fault": "error", "probability": 2}, {"fault": "error", "colour": "red"}):
        with pytest.raises(urllib.error.HTTPError) as err:
            set_rules(endpoint, 1, rule)
        assert err.value.code == 400
    assert control(endpoint, "GET", "faults")["rules"] == []


def test_scopes_keep_rule_sets_apart(endpoint, caller, aws, uid):
    control(endpoint, "POST", "faults?scope=one", {"seed": 1, "rules": [{"fault": "error", "access_key": caller.key}]})
    control(endpoint, "POST", "faults?scope=two", {"seed": 2, "rules": [{"fault": "throttle", "access_key": "OTHER"}]})
    # Replacing or clearing one scope leaves the other as it was.
    control(endpoint, "DELETE", "faults?scope=two")
    assert control(endpoint, "GET", "faults?scope=one")["rules"][0]["fault"] == "error"
    assert error_of(caller("s3").list_buckets) == ("InternalError", 500)
    assert control(endpoint, "GET", "faults?scope=one")["fired"] == [1]
    assert control(endpoint, "GET", "faults?scope=two")["rules"] == []
    control(endpoint, "DELETE", "faults?scope=one")
    caller("s3").list_buckets()
