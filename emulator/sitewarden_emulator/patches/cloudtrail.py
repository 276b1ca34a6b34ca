"""CloudTrail management events on EventBridge: "AWS API Call via CloudTrail".

In AWS, CloudTrail hands every management API call to EventBridge, on the default event bus of the
region the call is recorded in, so that a rule like

    {"source": ["aws.s3"], "detail-type": ["AWS API Call via CloudTrail"],
     "detail": {"eventSource": ["s3.amazonaws.com"], "eventName": ["PutBucketPolicy"],
                "requestParameters": {"bucketName": ["my-bucket"]}}}

sees configuration changes. moto has no such events. Here every successful (2xx) call to S3, KMS,
CloudFront, Route 53 and ACM becomes one, delivered through the rules of that default bus
(`events.py`):

    {"version": "0", "id": UUID, "detail-type": "AWS API Call via CloudTrail",
     "source": "aws.s3" | "aws.kms" | "aws.cloudfront" | "aws.route53" | "aws.acm",
     "account": ACCOUNT, "time": "2026-01-01T00:00:00Z", "region": REGION, "resources": [],
     "detail": {"eventVersion": "1.08", "userIdentity": {...}, "eventTime": TIME,
                "eventSource": "s3.amazonaws.com", "eventName": "PutBucketPolicy",
                "awsRegion": REGION, "sourceIPAddress": CLIENT_IP, "userAgent": USER_AGENT,
                "requestParameters": {...}, "responseElements": {...} | null,
                "requestID": ID_THE_CLIENT_GOT, "eventID": UUID, "readOnly": false,
                "eventType": "AwsApiCall", "managementEvent": true,
                "recipientAccountId": ACCOUNT, "eventCategory": "Management"}}

- eventName is the API operation, as CloudTrail names it: found by the service model from the
  method and path (S3, CloudFront, Route 53) or X-Amz-Target (KMS, ACM); S3 uses CloudTrail's older
  names where they differ from the API's (PutBucketLifecycle, PutBucketNotification,
  PutBucketPublicAccessBlock, DeleteBucketPublicAccessBlock...).
- requestParameters as CloudTrail records them. S3: `bucketName`, `Host`, each query subresource
  (e.g. `"versioning": ""`), the XML body under its root element name with `xmlns` (booleans as
  booleans) and, for PutBucketPolicy, `bucketPolicy` (the parsed policy). KMS and ACM: the JSON
  request with camelCase names (`keyId` as sent, `certificateArn`...). CloudFront and Route 53: the
  request's members with camelCase names (`id`, `ifMatch`, `distributionConfig`, `name` of a
  function; `hostedZoneId` without the `/hostedzone/` prefix, `changeBatch`...); CloudFront hides a
  distribution's comment as CloudTrail does. responseElements: the response body the same way
  (null when there is none, as for most S3 and many KMS calls).
- userIdentity: the principal GetCallerIdentity returns for the request's access key (an assumed
  role: AssumedRole with its session context, whose webIdFederationData names the OIDC provider of
  a web identity session (`sts.py`); an IAM user: IAMUser; any other key: moto's default user),
  with `accessKeyId`.
- Regions: S3 events in the bucket's region, KMS in the key's (the request's), ACM in the
  request's; CloudFront and Route 53 are global services recorded in us-east-1.
- readOnly: Get*/List*/Describe*/Head* calls and KMS cryptographic operations (Encrypt, Decrypt,
  GenerateDataKey*, Sign...) are read-only events; EventBridge gives them only to rules whose State
  is ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS, so they are built only while such a rule
  exists. S3 object-level calls (PutObject, DeleteObject(s), multipart uploads, object ACLs and
  tags...) are data events, never sent to EventBridge without a trail that selects them: none here.
- Only calls that succeeded emit an event (a failed call, e.g. PutBucketPolicy on a missing bucket,
  emits nothing); faults injected by `faults.py` count as AWS's: an `error` or `throttle` never
  reached the service, an `after` did (the write took effect: it is recorded).

The event is built and delivered after the response, on one background thread, in call order, so
requests are not slowed; without any rule on the bus nothing is built at all. An emission failure is
logged, never turned into the call's failure. Like AWS (which takes seconds to minutes), delivery is
asynchronous: `GET /_sitewarden/cloudtrail?since=N` waits until every call answered so far (its
response sent, or still being sent) has been processed and returns the events put on buses from sequence number N on, and
`GET /_sitewarden/deliveries?since=N` the deliveries of rules and topics (`events.py`), after the
same wait.
"""

import base64
import io
import json
import logging
import os
import queue
import re
import threading
import time
import uuid
from collections import deque
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

import xmltodict
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from . import faults
from .events import ALL_MANAGEMENT_EVENTS, CLOUDTRAIL_DETAIL_TYPE, deliveries_since, iso_time

LOG = logging.getLogger("sitewarden_emulator.cloudtrail")

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/")
_PRESIGNED = re.compile(r"(?:^|&)X-Amz-Credential=([^%/&]+)(?:%2F|/)[^%/&]+(?:%2F|/)([^%/&]+)(?:%2F|/)([^%/&]+)(?:%2F|/)")
WATCHED = {"s3", "kms", "cloudfront", "route53", "acm"}
GLOBAL_SERVICES = {"cloudfront", "route53"}  # recorded in us-east-1
READ_PREFIXES = ("Get", "List", "Describe", "Head")
# Reads that are not named like reads (CloudTrail marks them readOnly: true).
READ_ONLY = {
    "kms": {"Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
            "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GenerateRandom", "GenerateMac",
            "VerifyMac", "Sign", "Verify", "DeriveSharedSecret"},
    "cloudfront": {"TestFunction"},
    "route53": {"TestDNSAnswer"},
}
# S3 API names → CloudTrail eventName, where CloudTrail keeps the older name.
S3_EVENT_NAMES = {
    "PutBucketLifecycleConfiguration": "PutBucketLifecycle",
    "GetBucketLifecycleConfiguration": "GetBucketLifecycle",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "DeleteBucketPublicAccessBlock",
}
# S3 calls on objects are data events, and so are these bucket-level ones.
S3_DATA_EVENTS = {"DeleteObjects", "ListObjects", "ListObjectsV2", "ListObjectVersions", "ListMultipartUploads"}
MAX_BODY = 1 << 20  # larger request bodies are not read (none of a management call is this big)
MAX_RESPONSE = 1 << 20
HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"
API_VERSIONS = {"cloudfront": "2020_05_31", "route53": "2013-04-01"}


# --- what a request is --------------------------------------------------------------------------


def _account(environ: dict, access_key: str) -> str:
    """The account moto serves the request for (as BaseResponse.get_current_account)."""
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    if environ.get("HTTP_X_MOTO_ACCOUNT_ID"):
        return environ["HTTP_X_MOTO_ACCOUNT_ID"]
    from moto.iam.models import get_account_id_from

    return get_account_id_from(access_key)


def _read_only_wanted() -> bool:
    """Whether any rule takes read-only management events (otherwise reads are never built)."""
    from moto.events.models import events_backends

    try:
        for account in list(dict.values(events_backends)):
            for backend in list(dict.values(account)):
                for bus in list(backend.event_buses.values()):
                    if any(rule.state == ALL_MANAGEMENT_EVENTS for rule in list(bus.rules.values())):
                        return True
    except RuntimeError:  # changed while we looked: build the event, the rules decide
        return True
    return False


def _has_rules(account: str, region: str) -> bool:
    from moto.events.models import events_backends

    per_account = dict.get(events_backends, account)
    backend = dict.get(per_account, region) if per_account is not None else None
    bus = backend.event_buses.get("default") if backend is not None else None
    return bool(bus and bus.rules)


def _read_named(service: str, operation: str) -> bool:
    return operation.startswith(READ_PREFIXES) or operation in READ_ONLY.get(service, ())


def _s3_request(environ: dict):
    from moto.core.request import Request

    return Request(dict(environ, **{"wsgi.input": io.BytesIO(b"")}))


def _s3_path(request) -> tuple[str, str]:
    """Bucket and key of an S3 request, path-style or virtual-hosted."""
    from moto.s3.responses import S3Response
    from moto.s3.utils import bucket_name_from_url

    path = request.path
    if S3Response.subdomain_based_buckets(request):
        bucket = bucket_name_from_url(request.url) or ""
        return bucket, path.lstrip("/")
    bucket, _, key = path.lstrip("/").partition("/")
    return bucket, key


def describe(environ: dict) -> dict | None:
    """In the request's thread, cheaply: the call, if it may become an event; None otherwise."""
    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", "")) or _PRESIGNED.search(environ.get("QUERY_STRING", ""))
    if not match:
        return None  # unsigned
    access_key, region, service = match.groups()
    if service not in WATCHED:
        return None
    method = environ.get("REQUEST_METHOD", "")
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if service in ("kms", "acm"):
        operation = target.rsplit(".", 1)[-1]
        if not operation:
            return None
        read = _read_named(service, operation)
    else:
        operation = None  # found by the service model, in the worker
        read = method in ("GET", "HEAD")
    if read and not _read_only_wanted():
        return None
    if service == "s3":
        if method not in ("GET", "HEAD", "PUT", "POST", "DELETE"):
            return None
        _, key = _s3_path(_s3_request(environ))
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if key or (method == "POST" and "delete" in query):
            return None  # object-level: a data event
    return {"service": service, "region": region, "access_key": access_key, "operation": operation,
            "account": _account(environ, access_key), "received": time.time()}


def _read_body(environ: dict) -> bytes | None:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if length > MAX_BODY:
        return None
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _payload(environ: dict, body: bytes | None) -> bytes | None:
    """The payload of an aws-chunked body (chunks of `size[;chunk-signature=...]` lines, then
    trailers); other bodies as they are."""
    chunked = "aws-chunked" in environ.get("HTTP_CONTENT_ENCODING", "") or environ.get(
        "HTTP_X_AMZ_CONTENT_SHA256", "").startswith("STREAMING-")
    if not body or not chunked:
        return body
    payload, position = [], 0
    while position < len(body):
        end = body.find(b"\r\n", position)
        if end < 0:
            break
        size = int(body[position:end].split(b";")[0] or b"0", 16)
        if size == 0:
            break
        payload.append(body[end + 2:end + 2 + size])
        position = end + 2 + size + 2
    return b"".join(payload)


# --- the event ----------------------------------------------------------------------------------


def _lower_camel(value: Any) -> Any:
    """CloudTrail's member names: the API's with the first letter lower-cased (TTL → tTL)."""
    if isinstance(value, dict):
        return {(k[:1].lower() + k[1:] if isinstance(k, str) else k): _lower_camel(v) for k, v in value.items()
                if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [_lower_camel(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):  # moto parses timestamps to naive UTC
        return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value.utcoffset() is None else value.isoformat()
    return value


def _xml_values(value: Any) -> Any:
    """An S3 XML body as CloudTrail records it: element names kept, true/false as booleans."""
    if isinstance(value, dict):
        return {k: _xml_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_xml_values(v) for v in value]
    if value in ("true", "false"):
        return value == "true"
    return value


def _identity(account: str, access_key: str, region: str) -> dict:
    """The caller as GetCallerIdentity names it, in CloudTrail's userIdentity shape."""
    from moto.sts.models import sts_backends
    from moto.utilities.utils import get_partition

    partition = get_partition(region)
    sts = sts_backends[account][partition]
    user_id, arn, account_id = sts.get_caller_identity(access_key, region)
    role = sts.get_assumed_role_from_access_key(access_key)
    if role is not None:
        return {
            "type": "AssumedRole", "principalId": user_id, "arn": arn, "accountId": account_id,
            "accessKeyId": access_key,
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "principalId": user_id.split(":")[0], "arn": role.role_arn,
                                  "accountId": account_id, "userName": role.role_arn.split("/")[-1]},
                # A web identity session (sts.py) names its OIDC provider, as CloudTrail does.
                "webIdFederationData": (
                    {"federatedProvider": role.web_identity_provider, "attributes": {}}
                    if getattr(role, "web_identity_provider", None) else {}
                ),
                # moto keeps no issue time for a session; the call's time stands in.
                "attributes": {"creationDate": iso_time(time.time()), "mfaAuthenticated": "false"},
            },
        }
    return {"type": "IAMUser", "principalId": user_id, "arn": arn, "accountId": account_id,
            "accessKeyId": access_key, "userName": arn.rsplit("/", 1)[-1]}


def _operation(service: str, request) -> tuple[Any, dict]:
    """The operation model and URI parameters of a REST request; (None, {}) if none matches."""
    from moto.core.routing import NotFound, get_service_router

    try:
        return get_service_router(service).match(request)
    except NotFound:
        return None, {}


def _rest_parameters(operation, request, body: bytes, uri_params: dict) -> dict:
    from moto.core.parse import PROTOCOL_PARSERS

    parser = PROTOCOL_PARSERS["rest-xml"](operation)
    return parser.parse({"method": request.method, "values": request.values, "headers": request.headers,
                         "body": body, "url_path": request.path, "url_params": uri_params})


def _rest_response(operation, status: int, headers: dict, body: bytes) -> Any:
    import botocore.parsers
    from botocore.awsrequest import HeadersDict

    if operation.output_shape is None:
        return None
    parser = botocore.parsers.RestXMLParser(timestamp_parser=lambda text: text)
    parsed = parser.parse({"status_code": status, "headers": HeadersDict(headers), "body": body}, operation.output_shape)
    parsed.pop("ResponseMetadata", None)
    return parsed or None


def _s3_details(call: dict, request, body: bytes | None, operation) -> tuple[dict, str]:
    bucket, _ = _s3_path(request)
    parameters: dict[str, Any] = {"bucketName": bucket} if bucket else {}
    parameters["Host"] = request.headers.get("Host", "")
    for name, values in parse_qs(request.query_string.decode(), keep_blank_values=True).items():
        if not name.lower().startswith("x-amz-"):
            parameters[name] = values[0] if len(values) == 1 else values
    if body:
        if operation.name == "PutBucketPolicy":
            try:
                parameters["bucketPolicy"] = json.loads(body)
            except ValueError:
                pass
        else:
            try:
                document = xmltodict.parse(body, attr_prefix="")
            except Exception:
                document = None
            if isinstance(document, dict):
                parameters.update(_xml_values(document))
    region = call["region"]
    if bucket:
        from moto.s3.models import s3_backends

        found = s3_backends[call["account"]]["aws"].buckets.get(bucket)
        if found is not None:
            region = found.region_name
    return parameters, region


def _hide(service: str, parameters: Any) -> Any:
    """What CloudTrail does not record in clear."""
    if service == "cloudfront" and isinstance(parameters, dict):
        for config in ("distributionConfig", "distributionConfigWithTags"):
            inner = parameters.get(config)
            if isinstance(inner, dict):
                inner = inner.get("distributionConfig", inner)
                if "comment" in inner:
                    inner["comment"] = HIDDEN
    if service == "acm" and isinstance(parameters, dict):
        for secret in ("privateKey", "passphrase"):
            if secret in parameters:
                parameters[secret] = HIDDEN
    return parameters


def _strip_zone(value: Any) -> Any:
    return value.split("/hostedzone/")[-1].removeprefix("hostedzone/") if isinstance(value, str) else value


def build_event(call: dict, environ: dict, body: bytes | None, status: int, headers: dict,
                response: bytes) -> dict | None:
    """The CloudTrail event of a call that succeeded; None when it is not a management event."""
    from moto.core.request import Request

    service = call["service"]
    body = _payload(environ, body)
    request = Request(dict(environ, **{"wsgi.input": io.BytesIO(body or b"")}))
    region = call["region"]
    response_elements = None
    if service in ("kms", "acm"):
        name = call["operation"]
        try:
            parameters = _lower_camel(json.loads(body)) if body else None
        except ValueError:
            parameters = None
        try:
            response_elements = _lower_camel(json.loads(response)) if response else None
        except ValueError:
            response_elements = None
        if name in READ_ONLY["kms"]:  # CloudTrail never records data or keys in clear
            response_elements = None
            if isinstance(parameters, dict):
                parameters.pop("plaintext", None)
        key_id = (parameters or {}).get("keyId") if service == "kms" else None
        match = re.match(r"^arn:aws[\w-]*:kms:([^:]+):", key_id or "")
        if match:
            region = match.group(1)  # a key named by ARN lives in the ARN's region
    else:
        operation, uri_params = _operation(service, request)
        if operation is None:
            return None  # e.g. an S3 browser-form POST: a data event
        name = operation.name
        if service == "s3":
            if "{Key+}" in operation.http_trait.path or name in S3_DATA_EVENTS:
                return None
            parameters, region = _s3_details(call, request, body, operation)
            name = S3_EVENT_NAMES.get(name, name)
        else:
            parameters = _lower_camel(_rest_parameters(operation, request, body or b"", uri_params))
            try:
                response_elements = _lower_camel(_rest_response(operation, status, headers, response))
            except Exception:
                response_elements = None
            if service == "route53":
                for key in ("hostedZoneId", "id"):
                    if key in parameters:
                        parameters[key] = _strip_zone(parameters[key])
    if service in GLOBAL_SERVICES:
        region = "us-east-1"
    read = _read_named(service, name)
    if read and not _read_only_wanted():
        return None
    now = time.time()
    account = call["account"]
    detail = {
        "eventVersion": "1.08",
        "userIdentity": _identity(account, call["access_key"], region),
        "eventTime": iso_time(call["received"]),
        "eventSource": f"{service}.amazonaws.com",
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": environ.get("REMOTE_ADDR", ""),
        "userAgent": environ.get("HTTP_USER_AGENT", ""),
        "requestParameters": _hide(service, parameters),
        "responseElements": _hide(service, response_elements) or None,
        "requestID": headers.get("x-amzn-requestid") or headers.get("x-amz-request-id") or str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": read,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }
    if service in API_VERSIONS:
        detail["apiVersion"] = API_VERSIONS[service]
    if service == "s3":
        bucket = parameters.get("bucketName")
        if bucket:
            detail["resources"] = [{"accountId": account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}]
        detail["additionalEventData"] = {
            "SignatureVersion": "SigV4",
            "AuthenticationMethod": "AuthHeader" if environ.get("HTTP_AUTHORIZATION") else "QueryString",
            "bytesTransferredIn": len(body or b""), "bytesTransferredOut": len(response or b""),
        }
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": CLOUDTRAIL_DETAIL_TYPE,
        "source": f"aws.{service}",
        "account": account,
        "time": iso_time(now),
        "region": region,
        "resources": [],
        "detail": detail,
    }


# --- emission -----------------------------------------------------------------------------------

_jobs: queue.Queue = queue.Queue()
_emitted_lock = threading.Lock()
EMITTED: deque = deque(maxlen=1000)
_emitted_count = 0
_worker_started = threading.Lock()
_worker: threading.Thread | None = None


def _put_on_bus(event: dict) -> None:
    from moto.events.models import events_backends

    global _emitted_count
    bus = events_backends[event["account"]][event["region"]].event_buses.get("default")
    if bus is None:
        return
    with _emitted_lock:
        EMITTED.append({"seq": _emitted_count, "event": event})
        _emitted_count += 1
    event = dict(event, **{"ingestion-time": time.time()})
    for rule in list(bus.rules.values()):
        rule.send_to_targets(event)


def _process(job: tuple) -> None:
    from moto.events.models import events_backends

    call, environ, body, status, headers, response = job
    if not 200 <= status < 300:
        return
    # Nothing is built unless a default bus of the account has rules (the event's region, e.g. a
    # bucket's, is known only once the event is built).
    per_account = dict.get(events_backends, call["account"])
    if per_account is None or not any(_has_rules(call["account"], r) for r in list(dict.keys(per_account))):
        return
    event = build_event(call, environ, body, status, headers, response)
    if event is not None and _has_rules(event["account"], event["region"]):
        _put_on_bus(event)


def _work() -> None:
    while True:
        job = _jobs.get()
        try:
            _process(job)
        except Exception:  # never the call's failure
            LOG.exception("CloudTrail event of %s not emitted", job[0].get("service"))
        finally:
            _jobs.task_done()


def _enqueue(job: tuple) -> None:
    global _worker
    if _worker is None:
        with _worker_started:
            if _worker is None:
                _worker = threading.Thread(target=_work, name="sitewarden-cloudtrail", daemon=True)
                _worker.start()
    _jobs.put(job)


# Calls whose response is being sent: a client can read the whole answer and ask for the
# deliveries before the server has finished the response iterator (and queued the call), so
# `drain` also waits for these.
_in_flight = 0
_in_flight_done = threading.Condition()


def _begin() -> None:
    global _in_flight
    with _in_flight_done:
        _in_flight += 1


def _end() -> None:
    global _in_flight
    with _in_flight_done:
        _in_flight -= 1
        _in_flight_done.notify_all()


def drain(timeout: float = 10.0) -> bool:
    """Wait until every call answered so far has been processed: calls still sending their
    answer first, then the queue of events."""
    deadline = time.monotonic() + timeout
    with _in_flight_done:
        while _in_flight:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            _in_flight_done.wait(remaining)
    with _jobs.all_tasks_done:
        while _jobs.unfinished_tasks:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            _jobs.all_tasks_done.wait(remaining)
    return True


class _Answer:
    """The response body as the server sends it; the call is queued for emission once it is
    sent (or dropped by the client), with the body seen so far."""

    def __init__(self, inner, finished):
        self._inner = inner
        self._finished = finished
        self._chunks: list[bytes] = []
        self._size = 0
        self._done = False

    def __iter__(self):
        for chunk in self._inner:
            if self._size < MAX_RESPONSE:
                self._chunks.append(chunk)
                self._size += len(chunk)
            yield chunk
        self._finish()

    def _finish(self):
        if not self._done:
            self._done = True
            try:
                self._finished(b"".join(self._chunks))
            except Exception:
                LOG.exception("CloudTrail event not queued")

    def close(self):
        try:
            if hasattr(self._inner, "close"):
                self._inner.close()
        finally:
            self._finish()


def _control_cloudtrail(query: dict) -> tuple[int, Any]:
    since = int(query.get("since", ["0"])[0])
    drained = drain()
    with _emitted_lock:
        events = [entry for entry in EMITTED if entry["seq"] >= since]
    return 200, {"drained": drained, "events": events}


def _control_deliveries(query: dict) -> tuple[int, Any]:
    since = int(query.get("since", ["0"])[0])
    drained = drain()
    return 200, {"drained": drained, "deliveries": deliveries_since(since)}


def apply() -> None:
    # moto's own S3 CreateBucket "event" (an Object Created shape, to Lambda/Step Functions targets
    # only) would double the CloudTrail event built here.
    import moto.s3.models

    moto.s3.models.events_send_notification = lambda *args, **kwargs: None

    faults.EXTRA_ROUTES["cloudtrail"] = _control_cloudtrail
    faults.EXTRA_ROUTES["deliveries"] = _control_deliveries

    original = DomainDispatcherApplication.__call__

    def call(self, environ, start_response):
        try:
            described = describe(environ)
            body = _read_body(environ) if described else None
        except Exception:
            LOG.exception("request not described for CloudTrail")
            described = None
        if described is None:
            return original(self, environ, start_response)
        answer: dict[str, Any] = {}

        def capture(status, headers, exc_info=None):
            answer["status"] = int(str(status).split(" ", 1)[0])
            answer["headers"] = {k.lower(): v for k, v in headers}
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        # Only what the worker needs, as plain strings (the environ's streams belong to the server).
        kept = {k: v for k, v in environ.items() if isinstance(v, str)}

        def finished(response: bytes) -> None:
            try:
                if "status" in answer:
                    _enqueue((described, kept, body, answer["status"], answer["headers"], response))
            finally:
                _end()

        _begin()
        try:
            inner = original(self, environ, capture)
        except BaseException:
            _end()
            raise
        return _Answer(inner, finished)

    DomainDispatcherApplication.__call__ = call
