"""Fault injection: what a client meets when AWS throttles, fails, resets or is slow.

Off by default. Rules are set per emulator instance, at start from `SITEWARDEN_FAULTS` (JSON) or at
any time through the control route, in named scopes (`?scope=NAME`, default ""), so that tests
sharing one emulator keep their rule sets, random streams and holds apart:

    POST /_sitewarden/faults?scope=S   {"seed": 7, "rules": [RULE, ...]}   replace S's rules and seed
    GET  /_sitewarden/faults?scope=S   S's rules, seed, how often each fired, whether one is held
    DELETE /_sitewarden/faults?scope=S  no rules in S (a request S holds goes on)
    POST /_sitewarden/release?scope=S  let the request S holds go on
    GET  /_sitewarden/requests?since=N   the request log from sequence number N on

(Other modules add GET routes here through `EXTRA_ROUTES`: `cloudtrail` and `deliveries`, see
`cloudtrail.py`.)

A RULE chooses requests and says what happens to them:

    {"fault": "error" | "throttle" | "reset" | "delay" | "after" | "hold" | "corrupt",
     "probability": 0.1,          # of each chosen request; default 1
     "service": "s3",             # signing name: s3, kms, cloudfront, route53, acm, logs, sts...
     "operation": "PutObject",    # as the log names it (see below); default any
     "methods": ["PUT", "POST"],  # default any
     "access_key": "AKIA...",     # only this caller's requests; default any caller
     "delay_ms": 200,             # for "delay" (and added before any other fault)
     "at": 12}                    # for "hold": the 12th chosen request (1-based)

- `error`: a 500 `InternalError` (S3) or `InternalFailure`/`ServiceUnavailable` in the service's
  protocol; nothing is done.
- `throttle`: S3 503 `SlowDown`; KMS, ACM and Logs `ThrottlingException`; CloudFront and Route 53
  `Throttling` (400); query services `Throttling`. Nothing is done.
- `reset`: the connection is reset (TCP RST) before any response; nothing is done.
- `delay`: the request is served after `delay_ms`.
- `after`: the request is served — the write takes effect — and the client gets a 500 instead of
  the answer: the ambiguous case a retry must survive.
- `corrupt`: one bit of the request body is flipped on the way in (the middle byte's lowest), as a
  bad link or a buggy proxy would; the request is then served, so only the client's checksums
  (`x-amz-checksum-*`, Content-MD5, a signed payload's `x-amz-content-sha256`) can refuse it.
- `hold`: the `at`-th chosen request waits, before it is served, until `POST /_sitewarden/release`
  (or 60 s): a test kills its client at an exact point of a run, then releases the request.

Chance comes from one `random.Random(seed)` per scope, drawn once per chosen request in arrival
order, so a run that sends the same requests in the same order meets the same faults. Every request
goes to the request log: sequence number, service, operation, method, path, access key, the fault
met, and how the body is protected (`content_sha256`: SigV4's `x-amz-content-sha256`; `checksums`:
the `x-amz-checksum-*` headers, and `trailer:<name>` for an aws-chunked trailer); the log is what a
kill sweep counts to spread its kill points.
"""

import io
import json
import os
import random
import re
import socket
import struct
import threading
import time
from urllib.parse import parse_qs

from moto.moto_server.werkzeug_app import DomainDispatcherApplication

CONTROL = "/_sitewarden/"
FAULTS = ("error", "throttle", "reset", "delay", "after", "hold", "corrupt")
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/[^/]+/([^/]+)/")
# JSON-protocol services by signing name, and the query-protocol ones.
_JSON = {"kms", "acm", "logs", "events", "sns", "monitoring", "cloudwatch", "wafv2"}
HOLD_LIMIT = 60.0
# Other modules' GET routes under /_sitewarden/ (name → handler(query) → (status, JSON value)).
EXTRA_ROUTES = {}


class Scope:
    """One set of rules with its own seeded random stream, counters and hold."""

    def __init__(self, seed, rules):
        self.seed = seed
        self.random = random.Random(seed)
        self.rules = rules
        self.fired = [0] * len(rules)
        self.chosen = [0] * len(rules)
        self.held = 0
        self.releases = 0

    def describe(self):
        return {"seed": self.seed, "rules": self.rules, "fired": self.fired, "held": self.held}


class State:
    """Rule sets by scope name (`?scope=NAME` on the control routes; "" by default), so tests
    that share one emulator set their faults without touching each other's."""

    def __init__(self):
        self.lock = threading.Lock()
        self.released = threading.Condition(self.lock)
        self.scopes = {}
        self.log = []

    def configure(self, scope, document):
        rules = document.get("rules", [])
        for rule in rules:
            check_rule(rule)
        with self.lock:
            old = self.scopes.pop(scope, None)
            if old is not None:
                old.releases += 1  # nothing stays held by rules that are gone
            if rules:
                self.scopes[scope] = Scope(int(document.get("seed", 0)), rules)
            self.released.notify_all()

    def describe(self, scope):
        with self.lock:
            current = self.scopes.get(scope) or Scope(0, [])
            return dict(current.describe(), requests=len(self.log))

    def release(self, scope):
        with self.lock:
            if scope in self.scopes:
                self.scopes[scope].releases += 1
            self.released.notify_all()

    def decide(self, request):
        """The faults this request meets (the log entry is written here too): a delay, then at
        most one of error/throttle/reset/after/hold/corrupt; with the scope of a hold."""
        with self.lock:
            request["seq"] = len(self.log)
            self.log.append(request)
            delay, fault, holder = 0, None, None
            for scope in self.scopes.values():
                for i, rule in enumerate(scope.rules):
                    if not matches(rule, request):
                        continue
                    scope.chosen[i] += 1
                    if rule["fault"] == "hold":
                        if scope.chosen[i] == rule.get("at", 1) and fault is None:
                            scope.fired[i] += 1
                            fault, holder = "hold", scope
                        continue
                    if scope.random.random() >= rule.get("probability", 1.0):
                        continue
                    scope.fired[i] += 1
                    if rule["fault"] == "delay":
                        delay += rule.get("delay_ms", 100)
                    elif fault is None:
                        fault = rule["fault"]
                        delay += rule.get("delay_ms", 0)
            request["fault"] = fault
            return delay, fault, holder

    def hold(self, scope):
        with self.lock:
            scope.held += 1
            seen = scope.releases
            deadline = time.monotonic() + HOLD_LIMIT
            while scope.releases == seen and time.monotonic() < deadline:
                self.released.wait(timeout=deadline - time.monotonic())
            scope.held -= 1


def check_rule(rule):
    if not isinstance(rule, dict) or rule.get("fault") not in FAULTS:
        raise ValueError(f"a rule needs `fault`, one of {', '.join(FAULTS)}: {rule!r}")
    probability = rule.get("probability", 1.0)
    if not isinstance(probability, (int, float)) or not 0 <= probability <= 1:
        raise ValueError(f"`probability` must be between 0 and 1: {rule!r}")
    unknown = set(rule) - {"fault", "probability", "service", "operation", "methods", "access_key", "delay_ms", "at"}
    if unknown:
        raise ValueError(f"unknown rule field(s) {sorted(unknown)}: {rule!r}")


def matches(rule, request):
    for field in ("service", "operation", "access_key"):
        if field in rule and rule[field] != request[field]:
            return False
    return "methods" not in rule or request["method"] in rule["methods"]


STATE = State()


def describe_request(environ):
    """Service, operation, method, path and caller of a request, as the log and rules name them."""
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    match = _CREDENTIAL.search(authorization)
    access_key, service = (match.group(1), match.group(2)) if match else ("", "")
    method = environ.get("REQUEST_METHOD", "")
    path = environ.get("PATH_INFO", "")
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        operation = target.rsplit(".", 1)[-1]
    elif "Action" in query:
        operation = query["Action"][0]
    elif service == "s3":
        operation = s3_operation(method, path, query, environ)
    else:
        operation = f"{method} {path}"
    return {
        "service": service,
        "operation": operation,
        "method": method,
        "path": path,
        "access_key": access_key,
        # How the body is protected: SigV4's payload hash, and the checksum headers (or trailer).
        "content_sha256": environ.get("HTTP_X_AMZ_CONTENT_SHA256", ""),
        "checksums": sorted(
            name[len("HTTP_X_AMZ_CHECKSUM_"):].lower()
            for name in environ
            if name.startswith("HTTP_X_AMZ_CHECKSUM_") and name != "HTTP_X_AMZ_CHECKSUM_MODE"
        )
        + [f"trailer:{t.lower()}" for t in [environ.get("HTTP_X_AMZ_TRAILER", "")] if t],
    }


_S3_SUBRESOURCES = {
    "policy": "BucketPolicy",
    "versioning": "BucketVersioning",
    "encryption": "BucketEncryption",
    "logging": "BucketLogging",
    "lifecycle": "BucketLifecycleConfiguration",
    "publicAccessBlock": "PublicAccessBlock",
    "ownershipControls": "BucketOwnershipControls",
    "tagging": "BucketTagging",
    "website": "BucketWebsite",
    "acl": "BucketAcl",
    "cors": "BucketCors",
    "location": "BucketLocation",
    "policyStatus": "BucketPolicyStatus",
}


def s3_operation(method, path, query, environ):
    """The S3 operation of a path-style request (`/bucket[/key]`): enough to aim a rule."""
    parts = path.lstrip("/").split("/", 1)
    has_key = len(parts) == 2 and parts[1] != ""
    verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete", "HEAD": "Head", "POST": "Post"}.get(method, method)
    if has_key:
        if "uploads" in query:
            return "CreateMultipartUpload"
        if "uploadId" in query:
            return {"PUT": "UploadPart", "POST": "CompleteMultipartUpload", "DELETE": "AbortMultipartUpload"}.get(
                method, "ListParts"
            )
        if method == "PUT" and environ.get("HTTP_X_AMZ_COPY_SOURCE"):
            return "CopyObject"
        if "tagging" in query:
            return f"{verb}ObjectTagging"
        return f"{verb}Object"
    if method == "POST" and "delete" in query:
        return "DeleteObjects"
    for name, resource in _S3_SUBRESOURCES.items():
        if name in query:
            return f"{verb}{resource}"
    if method == "GET":
        if "versions" in query:
            return "ListObjectVersions"
        if parts[0] == "":
            return "ListBuckets"
        return "ListObjectsV2" if query.get("list-type") == ["2"] else "ListObjects"
    return {"PUT": "CreateBucket", "DELETE": "DeleteBucket", "HEAD": "HeadBucket"}.get(method, verb + "Bucket")


def error_response(service, fault):
    """Status, headers and body of an injected error in the protocol of `service`."""
    if service == "s3":
        code, status = ("SlowDown", 503) if fault == "throttle" else ("InternalError", 500)
        message = "Please reduce your request rate." if fault == "throttle" else "We encountered an internal error."
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message><RequestId>fault</RequestId></Error>"
        )
        return status, "application/xml", body
    throttled = fault == "throttle"
    if service in _JSON:
        code = "ThrottlingException" if throttled else "InternalFailure"
        status = 400 if throttled else 500
        body = json.dumps({"__type": code, "message": "Rate exceeded" if throttled else "Internal failure"})
        return status, "application/x-amz-json-1.1", body
    code, status = ("Throttling", 400) if throttled else ("ServiceUnavailable", 503)
    error = (
        f"<Error><Type>{'Sender' if throttled else 'Receiver'}</Type><Code>{code}</Code>"
        f"<Message>{'Rate exceeded' if throttled else 'Service unavailable'}</Message></Error>"
    )
    # REST-XML (CloudFront, Route 53) and query services (STS, IAM) share this shape.
    body = f'<?xml version="1.0"?>\n<ErrorResponse>{error}<RequestId>fault</RequestId></ErrorResponse>'
    return status, "text/xml", body


def _reply(start_response, status, content_type, body):
    data = body.encode() if isinstance(body, str) else body
    reasons = {200: "OK", 204: "No Content", 400: "Bad Request", 500: "Internal Server Error", 503: "Service Unavailable"}
    start_response(
        f"{status} {reasons.get(status, 'Error')}",
        [("Content-Type", content_type), ("Content-Length", str(len(data)))],
    )
    return [data]


def _reset(environ):
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()


def _corrupt(environ):
    """Flips the lowest bit of the body's middle byte (a body that is not empty)."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = bytearray(environ["wsgi.input"].read(length))
    if body:
        body[len(body) // 2] ^= 1
    environ["wsgi.input"] = io.BytesIO(bytes(body))


def control(environ, start_response):
    path = environ.get("PATH_INFO", "")[len(CONTROL):]
    method = environ.get("REQUEST_METHOD", "")
    query = parse_qs(environ.get("QUERY_STRING", ""))
    scope = query.get("scope", [""])[0]
    try:
        if path == "faults" and method == "GET":
            return _reply(start_response, 200, "application/json", json.dumps(STATE.describe(scope)))
        if path == "faults" and method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            STATE.configure(scope, json.loads(environ["wsgi.input"].read(length) or b"{}"))
            return _reply(start_response, 200, "application/json", json.dumps(STATE.describe(scope)))
        if path == "faults" and method == "DELETE":
            STATE.configure(scope, {})
            return _reply(start_response, 200, "application/json", json.dumps(STATE.describe(scope)))
        if path == "release" and method == "POST":
            STATE.release(scope)
            return _reply(start_response, 200, "application/json", "{}")
        if path == "requests" and method == "GET":
            since = int(query.get("since", ["0"])[0])
            with STATE.lock:
                entries = STATE.log[since:]
            return _reply(start_response, 200, "application/json", json.dumps(entries))
        if path in EXTRA_ROUTES and method == "GET":
            status, document = EXTRA_ROUTES[path](query)
            return _reply(start_response, status, "application/json", json.dumps(document))
    except (ValueError, KeyError) as err:
        return _reply(start_response, 400, "application/json", json.dumps({"error": str(err)}))
    return _reply(start_response, 404, "application/json", json.dumps({"error": f"no route {method} {path}"}))


def apply():
    original = DomainDispatcherApplication.__call__

    def call(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith(CONTROL):
            return control(environ, start_response)
        request = describe_request(environ)
        delay, fault, holder = STATE.decide(request)
        if delay:
            time.sleep(delay / 1000)
        if fault == "hold":
            STATE.hold(holder)
        elif fault == "corrupt":
            _corrupt(environ)
        elif fault in ("error", "throttle"):
            return _reply(start_response, *error_response(request["service"], fault))
        elif fault == "reset":
            _reset(environ)
            # werkzeug takes a dropped connection quietly.
            raise ConnectionResetError("injected reset")
        elif fault == "after":
            # Serve it for real, read the whole answer (the write is done), then fail.
            for _ in original(self, environ, lambda *args, **kwargs: (lambda data: None)):
                pass
            return _reply(start_response, *error_response(request["service"], "error"))
        return original(self, environ, start_response)

    DomainDispatcherApplication.__call__ = call
    spec = os.environ.get("SITEWARDEN_FAULTS")
    if spec:
        STATE.configure("", json.loads(spec))
