"""S3: conditional writes decided atomically (If-None-Match / If-Match on PutObject and
DeleteObject: of two racing writes exactly one wins), ExpectedBucketOwner (a bucket of another
account is AccessDenied), bucket-policy evaluation with principals and conditions, Block Public Access, Object Ownership
(no ACLs while enforced; not enforced while the bucket ACL grants beyond the owner), SSE-KMS reads
that fail while the object's key is disabled or pending deletion,
request digests (Content-MD5, x-amz-checksum-* in headers or aws-chunked trailers), SSE-KMS ETags,
DeleteObjects limits and lifecycle NewerNoncurrentVersions."""

import base64
import hashlib
import json
import re
import threading
import zlib
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import xmltodict
from moto.iam.access_control import PermissionResult
from moto.s3 import models, responses, utils
from moto.s3.exceptions import MalformedXML, S3AccessDeniedError, S3ClientError
from moto.s3.models import OWNER, FakeBucket, FakeKey, S3Backend
from moto.s3.responses import S3Response

from ._wrap import wrap as _wrap


# --- checksums ----------------------------------------------------------------------------------


def _crc_table(poly: int) -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return table


def _reflected_crc(poly: int, width: int):
    table, mask = _crc_table(poly), (1 << width) - 1

    def digest(data: bytes) -> bytes:
        crc = mask
        for byte in data:
            crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
        return (crc ^ mask).to_bytes(width // 8, "big")

    return digest


def _native_crc32c():
    try:
        import crc32c

        return lambda data: crc32c.crc32c(data).to_bytes(4, "big")
    except ImportError:
        return _reflected_crc(0x82F63B78, 32)


def _native_crc64nvme():
    try:
        from awscrt import checksums

        return lambda data: checksums.crc64nvme(data).to_bytes(8, "big")
    except ImportError:
        return _reflected_crc(0x9A6C9329AC4BC9B5, 64)


# moto falls back to CRC32 for CRC32C/CRC64NVME without optional C libraries; AWS never does.
CHECKSUMS = {
    "CRC32": lambda data: zlib.crc32(data).to_bytes(4, "big"),
    "CRC32C": _native_crc32c(),
    "CRC64NVME": _native_crc64nvme(),
    "SHA1": lambda data: hashlib.sha1(data).digest(),
    "SHA256": lambda data: hashlib.sha256(data).digest(),
}


def compute_checksum(body: bytes, algorithm: str, encode_base64: bool = True) -> bytes:
    digest = CHECKSUMS.get(algorithm.upper(), CHECKSUMS["SHA256"])(bytes(body))
    return base64.b64encode(digest) if encode_base64 else digest


class BadDigest(S3ClientError):
    code = "BadDigest"


class InvalidDigest(S3ClientError):
    code = "InvalidDigest"


class InvalidRequest(S3ClientError):
    code = "InvalidRequest"


class XAmzContentSHA256Mismatch(S3ClientError):
    code = "XAmzContentSHA256Mismatch"


class AccessControlListNotSupported(S3ClientError):
    code = "AccessControlListNotSupported"
    message = "The bucket does not allow ACLs"


class KmsKeyUnusable(S3ClientError):
    """S3 reads an SSE-KMS object only through its KMS key: a disabled, deleted or pending-deletion
    key makes the object unreadable (S3 passes KMS's error on, prefixed `KMS.`)."""

    def __init__(self, code: str, message: str):
        super().__init__(code, message)


_KEY_ARN = re.compile(r"^arn:aws[\w-]*:kms:([^:]+):(\d{12}):key/(.+)$")


def _kms_key_unusable(key_id: str, account: str, region: str) -> KmsKeyUnusable | None:
    from moto.kms.models import kms_backends

    match = _KEY_ARN.match(key_id)
    if match:
        region, account, key_id = match.groups()
    backend = kms_backends[account][region]
    if key_id.startswith("alias/"):
        key_id = backend.get_key_id_from_alias(key_id) or key_id
    key = backend.keys.get(key_id)
    if key is None:
        return KmsKeyUnusable("KMS.NotFoundException", f"Invalid keyId {key_id}")
    if key.key_state == "PendingDeletion":
        return KmsKeyUnusable("KMS.KMSInvalidStateException", f"{key.arn} is pending deletion.")
    if key.key_state != "Enabled":
        return KmsKeyUnusable("KMS.DisabledException", f"{key.arn} is disabled.")
    return None


class InvalidBucketAclWithObjectOwnership(S3ClientError):
    code = "InvalidBucketAclWithObjectOwnership"
    message = "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"


def _decode_aws_chunked(self: S3Response, body: Any, *_: Any) -> bytes:
    """aws-chunked bodies (signed or not): keep the payload, remember the trailing headers."""
    data = body.read() if hasattr(body, "read") else bytes(body or b"")
    payload, pos = bytearray(), 0
    while (eol := data.find(b"\r\n", pos)) >= 0:
        size = int(data[pos:eol].split(b";")[0] or b"0", 16)
        pos = eol + 2
        if size == 0:
            break
        payload += data[pos : pos + size]
        pos += size + 2
    for line in data[pos:].split(b"\r\n"):
        name, sep, value = line.decode().partition(":")
        if sep:
            self.trailers[name.strip().lower()] = value.strip()
    return bytes(payload)


def _provided_checksums(self: S3Response) -> dict[str, str]:
    found = {}
    for source in (self.headers, self.trailers):
        for algorithm in CHECKSUMS:
            if value := source.get(f"x-amz-checksum-{algorithm.lower()}"):
                found[algorithm] = value
    return found


def _request_body(self: S3Response) -> bytes:
    return self.body.encode() if isinstance(self.body, str) else bytes(self.body or b"")


def _verify_digests(self: S3Response) -> None:
    """AWS rejects a body whose Content-MD5 or x-amz-checksum-* (header or trailer) does not match."""
    if self.method not in ("PUT", "POST") or self.form_data:
        return
    body = _request_body(self)
    if (md5 := self.headers.get("Content-MD5")) is not None:
        try:
            expected = base64.b64decode(md5, validate=True)
        except ValueError:
            expected = b""
        if len(expected) != 16:
            raise InvalidDigest("The Content-MD5 you specified was invalid.")
        if expected != hashlib.md5(body).digest():
            raise BadDigest("The Content-MD5 you specified did not match what we received.")
    # A signed payload: SigV4's x-amz-content-sha256 is the body's hex SHA-256 (the other values
    # are UNSIGNED-PAYLOAD and the STREAMING-* schemes, whose chunks carry their own signatures).
    signed = self.headers.get("x-amz-content-sha256", "")
    if re.fullmatch(r"[0-9a-f]{64}", signed) and hashlib.sha256(body).hexdigest() != signed:
        raise XAmzContentSHA256Mismatch(
            "The provided 'x-amz-content-sha256' header does not match what was computed."
        )
    for algorithm, value in _provided_checksums(self).items():
        try:
            expected = base64.b64decode(value, validate=True)
        except ValueError:
            expected = b""
        if len(expected) != len(CHECKSUMS[algorithm](b"")):
            raise InvalidRequest(f"Value for x-amz-checksum-{algorithm.lower()} header is invalid.")
        if expected != CHECKSUMS[algorithm](body):
            raise BadDigest(f"The {algorithm} you specified did not match the calculated checksum.")


def _get_checksum(self: S3Response, response_headers: dict[str, Any]) -> tuple[str, str | None]:
    """The checksum to store: the one the client sent (header or trailer), else the one it asked for."""
    provided = _provided_checksums(self)
    algorithm = (self.headers.get("x-amz-sdk-checksum-algorithm") or next(iter(provided), "")).upper()
    if algorithm not in CHECKSUMS:
        return "", None
    value = provided.get(algorithm) or compute_checksum(_request_body(self), algorithm).decode()
    response_headers[f"x-amz-checksum-{algorithm.lower()}"] = value
    return algorithm, value


# --- bucket policies ----------------------------------------------------------------------------


@dataclass
class Caller:
    """Who sends the request, as a bucket policy sees it. Emulator traffic counts as TLS."""

    account: str | None  # None: anonymous
    headers: Any = field(default_factory=dict)

    @property
    def arn(self) -> str | None:
        return self.account and f"arn:aws:iam::{self.account}:root"

    def context(self, key: str) -> str | None:
        key = key.lower()
        if key == "aws:securetransport":
            return "true"
        if key == "aws:principalaccount":
            return self.account
        if key == "aws:principalarn":
            return self.arn
        if key.startswith("s3:x-amz-"):
            return self.headers.get(key[3:])
        return None  # e.g. aws:SourceArn / aws:SourceAccount: only service principals carry them


_caller: ContextVar[Caller | None] = ContextVar("sitewarden_s3_caller", default=None)


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _glob(pattern: str, value: str, ignore_case: bool = False) -> bool:
    regex = "".join({"*": ".*", "?": "."}.get(c, re.escape(c)) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def _numeric(op):
    def test(expected: str, actual: str) -> bool:
        try:
            return op(float(actual), float(expected))
        except ValueError:
            return False

    return test


CONDITION_OPERATORS = {
    "StringEquals": lambda e, a: a == e,
    "StringEqualsIgnoreCase": lambda e, a: a.lower() == e.lower(),
    "StringLike": _glob,
    "ArnEquals": _glob,
    "ArnLike": _glob,
    "Bool": lambda e, a: a.lower() == e.lower(),
    "NumericEquals": _numeric(float.__eq__),
    "NumericLessThan": _numeric(float.__lt__),
    "NumericLessThanEquals": _numeric(float.__le__),
    "NumericGreaterThan": _numeric(float.__gt__),
    "NumericGreaterThanEquals": _numeric(float.__ge__),
}
NEGATED_OPERATORS = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "NumericNotEquals": "NumericEquals",
}


def _condition_holds(operator: str, key: str, expected: Any, caller: Caller) -> bool:
    qualifier, _, operator = operator.rpartition(":")  # ForAnyValue: / ForAllValues:
    if_exists = operator.endswith("IfExists")
    operator = operator.removesuffix("IfExists")
    expected = [str(v).lower() if isinstance(v, bool) else str(v) for v in _as_list(expected)]
    actual = caller.context(key)
    if operator == "Null":
        return (actual is None) == (expected[0].lower() == "true")
    if actual is None:  # absent key: only IfExists, ForAllValues and negated operators hold
        return if_exists or qualifier == "ForAllValues" or operator in NEGATED_OPERATORS
    base = NEGATED_OPERATORS.get(operator, operator)
    test = CONDITION_OPERATORS.get(base)
    if test is None:
        return False  # unsupported operator (Date*, IpAddress...): the statement does not apply
    matched = any(test(e, actual) for e in expected)
    return matched != (operator in NEGATED_OPERATORS)


def _principal_matches(principal: Any, caller: Caller) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    for value in _as_list(principal.get("AWS", [])):
        if value == "*" or (caller.account and value in (caller.account, caller.arn)):
            return True
    return False  # Service, CanonicalUser, Federated: never the emulator's callers


def _any_glob(patterns: Any, value: str, ignore_case: bool = False) -> bool:
    return any(_glob(p, value, ignore_case) for p in _as_list(patterns))


def _element_matches(statement: dict, element: str, matches) -> bool:
    """Principal / Action / Resource, or their Not- forms."""
    if f"Not{element}" in statement:
        return not matches(statement[f"Not{element}"])
    return element in statement and matches(statement[element])


def _statement_applies(statement: dict, action: str, resource: str, caller: Caller) -> bool:
    return (
        _element_matches(statement, "Principal", lambda p: _principal_matches(p, caller))
        and _element_matches(statement, "Action", lambda p: _any_glob(p, action, ignore_case=True))
        and _element_matches(statement, "Resource", lambda p: _any_glob(p, resource))
        and all(
            _condition_holds(operator, key, expected, caller)
            for operator, block in statement.get("Condition", {}).items()
            for key, expected in block.items()
        )
    )


def evaluate_policy(policy: str | bytes, action: str, resource: str, caller: Caller) -> PermissionResult:
    """Explicit Deny wins, then any Allow; a statement applies only if principal, action,
    resource and every condition match the request."""
    result = PermissionResult.NEUTRAL
    for statement in _as_list(json.loads(policy).get("Statement", [])):
        if _statement_applies(statement, action, resource, caller):
            if statement.get("Effect") == "Deny":
                return PermissionResult.DENIED
            result = PermissionResult.PERMITTED
    return result


# moto derives the action from the HTTP method; AWS authorizes HEAD as GetObject, POST as PutObject.
_ACTION_ALIASES = {"s3:HeadObject": "s3:GetObject", "s3:PostObject": "s3:PutObject"}


def _get_permission(self: FakeBucket, action: str, resource: str) -> PermissionResult:
    if self.policy is None:
        return PermissionResult.NEUTRAL
    caller = _caller.get() or Caller(self.account_id)
    return evaluate_policy(self.policy, _ACTION_ALIASES.get(action, action), resource, caller)


# AWS's "public" test: Allow to every principal unless a condition pins a fixed value of these keys.
RESTRICTING_KEYS = {
    "aws:sourcearn", "aws:sourceaccount", "aws:sourceowner", "aws:sourcevpc", "aws:sourcevpce",
    "aws:sourceip", "aws:principalaccount", "aws:principalarn", "aws:principalorgid",
    "aws:principalorgpaths", "aws:userid", "s3:dataaccesspointarn", "s3:dataaccesspointaccount",
}


def _restricts(operator: str, key: str, values: Any) -> bool:
    if key.lower() not in RESTRICTING_KEYS or operator.removesuffix("IfExists") in NEGATED_OPERATORS:
        return False
    values = [str(v) for v in _as_list(values)]
    return all("*" not in v and v not in ("0.0.0.0/0", "::/0") for v in values)


def policy_is_public(policy: str | bytes) -> bool:
    try:
        statements = _as_list(json.loads(policy).get("Statement", []))
    except (ValueError, AttributeError):
        return False
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        if "NotPrincipal" not in statement and not _principal_matches(statement.get("Principal"), Caller(None)):
            continue
        conditions = statement.get("Condition", {})
        if not any(_restricts(op, key, v) for op, block in conditions.items() for key, v in block.items()):
            return True
    return False


# --- ACLs: Object Ownership and Block Public Access ---------------------------------------------

PUBLIC_GROUPS = {
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
}


def _check_acl(self: S3Response, acl: Any, canned: str | None) -> Any:
    """ACLs are refused when the bucket disables them (BucketOwnerEnforced: only owner full
    control is accepted) or when BlockPublicAcls is on and the ACL grants to everyone."""
    if acl is None or not self.bucket_name:
        return acl
    bucket = self.backend.get_bucket(self.bucket_name)
    grants = [(g, p) for grant in acl.grants for g in grant.grantees for p in grant.permissions]
    if bucket.ownership_rule == "BucketOwnerEnforced":
        owner_only = all(g.id == OWNER and p == "FULL_CONTROL" for g, p in grants)
        if not (canned in ("private", "bucket-owner-full-control") or (not canned and owner_only)):
            raise AccessControlListNotSupported()
    pab = bucket.public_access_block
    if pab and pab.block_public_acls and any(g.uri in PUBLIC_GROUPS for g, _ in grants):
        raise S3AccessDeniedError()
    return acl


S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"


def _log_permissions_enabled_policy(target_bucket: FakeBucket, target_prefix: str | None) -> bool:
    """Whether the target bucket's policy lets S3 server access logging write under the prefix.

    moto's version crashes (500) on any statement whose Principal is the string "*" (such as the
    standard TLS-only Deny) and on list-valued Resource; AWS accepts both.
    """
    if not target_bucket.policy:
        return False
    arn = f"arn:{target_bucket.partition}:s3:::{target_bucket.name}"
    accepted = {arn, f"{arn}/*", f"{arn}/{target_prefix or ''}*"}
    for stmt in json.loads(target_bucket.policy.decode())["Statement"]:
        principal = stmt.get("Principal")
        services = _as_list(principal.get("Service")) if isinstance(principal, dict) else []
        if (
            stmt.get("Effect") == "Allow"
            and "logging.s3.amazonaws.com" in services
            and {"s3:PutObject", "s3:*"} & set(_as_list(stmt.get("Action")))
            and accepted & set(_as_list(stmt.get("Resource")))
        ):
            return True
    return False


# --- apply --------------------------------------------------------------------------------------


# moto checks a write's condition and then writes, with other requests' threads in between; AWS
# decides a conditional write atomically. One lock around conditional writes restores that.
_conditional_writes = threading.Lock()


def _conditional(self: S3Response) -> bool:
    return "If-Match" in self.headers or "If-None-Match" in self.headers


def _check_expected_owner(self: S3Response) -> None:
    """`x-amz-expected-bucket-owner` that is not the bucket's account: 403 AccessDenied, as on AWS."""
    expected = self.headers.get("x-amz-expected-bucket-owner")
    name = getattr(self, "bucket_name", None)
    if not expected or not name:
        return
    try:
        bucket = self.backend.get_bucket(name)
    except S3ClientError:
        return  # NoSuchBucket is answered as usual
    if bucket.account_id != expected:
        raise S3AccessDeniedError()


def apply() -> None:
    for module in (utils, models, responses):
        module.compute_checksum = compute_checksum
    responses.bucket_policy_is_public = policy_is_public
    FakeBucket.get_permission = _get_permission
    FakeBucket._log_permissions_enabled_policy = staticmethod(_log_permissions_enabled_policy)
    S3Response._handle_encoded_body = _decode_aws_chunked
    S3Response._handle_v4_chunk_signatures = _decode_aws_chunked
    S3Response._get_checksum = _get_checksum

    @_wrap(S3Response, "setup_class")
    def setup_class(original, self, request, *args, **kwargs):
        self.trailers = {}
        original(self, request, *args, **kwargs)
        signed = "Authorization" in request.headers or "Signature=" in (request.url or "")
        _caller.set(Caller(self.current_account if signed else None, request.headers))

    @_wrap(S3Response, "_key_response")
    def key_response(original, self, request, full_url):
        _verify_digests(self)
        _check_expected_owner(self)
        result = original(self, request, full_url)
        if result == (403, {}, ""):  # moto's bare policy/ACL refusal; AWS sends an AccessDenied error
            raise S3AccessDeniedError()
        return result

    @_wrap(S3Response, "get_bucket_versioning")
    def get_bucket_versioning(original, self):
        # AWS answers <VersioningConfiguration> (empty for a never-versioned bucket); moto's generic
        # serializer names the root <GetBucketVersioningResponse>, which strict SDKs (Rust) reject.
        status = self.backend.get_bucket_versioning(self.bucket_name)
        inner = f"<Status>{status}</Status>" if status else ""
        body = f'<?xml version="1.0" encoding="UTF-8"?>\n<VersioningConfiguration xmlns="{S3_NS}">{inner}</VersioningConfiguration>'
        return 200, {"Content-Type": "application/xml"}, body

    @_wrap(S3Response, "_bucket_response")
    def bucket_response(original, self, request, full_url):
        _verify_digests(self)
        _check_expected_owner(self)
        return original(self, request, full_url)

    @_wrap(S3Response, "put_object")
    def put_object(original, self):
        if not _conditional(self):
            return original(self)
        with _conditional_writes:
            return original(self)

    @_wrap(S3Response, "delete_object")
    def delete_object(original, self):
        if not _conditional(self):
            return original(self)
        with _conditional_writes:
            return original(self)

    @_wrap(S3Response, "head_object")
    def head_object(original, self, bucket_name, query, key_name, headers):
        # HeadObject reports a composite (multipart) checksum as "<checksum>-<parts>", like GetObject.
        status, response_headers, body = original(self, bucket_name, query, key_name, headers)
        if status == 200 and headers.get("x-amz-checksum-mode") == "ENABLED":
            key = self.backend.get_object(bucket_name, key_name, query.get("versionId", [None])[0])
            if key and key.checksum_algorithm and key.checksum_type:
                response_headers["x-amz-checksum-type"] = key.checksum_type
                if key.checksum_type == "COMPOSITE":
                    name = f"x-amz-checksum-{key.checksum_algorithm.lower()}"
                    response_headers[name] = f"{key.checksum_value}-{key.checksum_parts}"
        return status, response_headers, body

    @_wrap(S3Response, "_handle_range_header")
    def handle_range(original, self, *args, **kwargs):
        # A ranged GET carries no whole-object checksum (SDKs would validate the part against it).
        status, headers, body = original(self, *args, **kwargs)
        if status == 206:
            for name in [h for h in headers if h.lower().startswith("x-amz-checksum-")]:
                del headers[name]
        return status, headers, body

    @_wrap(S3Response, "_bucket_response_delete_keys")
    def delete_keys(original, self, *args, **kwargs):
        # DeleteObjects takes at most 1000 keys.
        objects = xmltodict.parse(self.body, force_list=("Object",)).get("Delete", {}).get("Object", [])
        if len(objects) > 1000:
            raise MalformedXML()
        return original(self, *args, **kwargs)

    @_wrap(S3Response, "_acl_from_headers")
    def acl_from_headers(original, self, headers):
        return _check_acl(self, original(self, headers), headers.get("x-amz-acl"))

    @_wrap(S3Response, "_acl_from_body")
    def acl_from_body(original, self, *args, **kwargs):
        return _check_acl(self, original(self, *args, **kwargs), None)

    @_wrap(S3Response, "get_object")
    def get_object(original, self):
        # GetObject decrypts through KMS (HeadObject does not): an unusable key fails the read.
        key, _ = self._get_key()
        if (key.encryption or "").startswith("aws:kms") and key.kms_key_id:
            region = self.backend.get_bucket(self.bucket_name).region_name
            error = _kms_key_unusable(key.kms_key_id, self.current_account, region)
            if error is not None:
                raise error
        return original(self)

    @_wrap(S3Backend, "put_bucket_ownership_controls")
    def put_bucket_ownership_controls(original, self, bucket_name, ownership):
        # ACLs can only be disabled while the bucket ACL grants nothing beyond the owner's full
        # control: AWS refuses BucketOwnerEnforced on a bucket whose ACL is, e.g., public-read.
        if ownership == "BucketOwnerEnforced":
            acl = self.get_bucket(bucket_name).acl
            grants = [(g, p) for grant in (acl.grants if acl else []) for g in grant.grantees for p in grant.permissions]
            if not all(g.id == OWNER and p == "FULL_CONTROL" for g, p in grants):
                raise InvalidBucketAclWithObjectOwnership()
        return original(self, bucket_name, ownership)

    @_wrap(S3Backend, "put_bucket_policy")
    def put_bucket_policy(original, self, bucket_name, policy):
        # BlockPublicPolicy refuses policies that would make the bucket public.
        pab = self.get_bucket(bucket_name).public_access_block
        if pab and pab.block_public_policy and policy_is_public(policy):
            raise S3AccessDeniedError()
        return original(self, bucket_name, policy)

    plain_etag = FakeKey.etag.fget

    def etag(self: FakeKey) -> str:
        """SSE-KMS objects: the ETag is not the MD5 of the data (stable per object version)."""
        value = plain_etag(self)
        if not (self.encryption or "").startswith("aws:kms"):
            return value
        digest, dash, parts = value.strip('"').partition("-")
        masked = hashlib.md5(f"{digest}:{self.kms_key_id}:{self.version_id}".encode()).hexdigest()
        return f'"{masked}{dash}{parts}"'

    FakeKey.etag = property(etag)

    @_wrap(FakeBucket, "set_lifecycle")
    def set_lifecycle(original, self, rules):
        original(self, rules)
        for rule, raw in zip(self.rules, rules):  # NewerNoncurrentVersions is dropped by moto
            rule.nve_newer_versions = (raw.get("NoncurrentVersionExpiration") or {}).get("NewerNoncurrentVersions")

    @_wrap(S3Response, "get_bucket_lifecycle")
    def get_bucket_lifecycle(original, self):
        rules = self.backend.get_bucket_lifecycle(self.bucket_name)
        serialized = self.serialized

        def with_newer_versions(result):
            for rule, out in zip(rules, result.result["Rules"]):
                newer = getattr(rule, "nve_newer_versions", None)
                if newer is not None and "NoncurrentVersionExpiration" in out:
                    out["NoncurrentVersionExpiration"]["NewerNoncurrentVersions"] = newer
            return serialized(result)

        self.serialized = with_newer_versions
        try:
            return original(self)
        finally:
            del self.serialized
