"""CloudFront as AWS answers it, for what sitewarden provisions.

moto 5.2.5 parses and serializes CloudFront through the botocore model (`automated_parameter_parsing`),
but its backend drops most of a distribution's configuration, has no cache or response headers
policies, cannot publish or test functions, and never changes an ETag. This module keeps each resource's
configuration exactly as parsed (plus the defaults AWS fills in), so it serializes back as AWS returns
it, in a store hung on moto's backend (a moto reset clears it), and reproduces AWS's checks: `IfMatch`
ETags, name and alias uniqueness, quantities, references between resources (policies, OACs, published
functions, issued ACM certificates), in-use deletes, and the LIVE stage of functions.
"""

from __future__ import annotations

import copy
import json
import random
import string
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cache
from typing import Any, Callable

import botocore.session
from moto.acm.models import acm_backends
from moto.cloudfront import urls
from moto.cloudfront.exceptions import CloudFrontException
from moto.cloudfront.models import CloudFrontBackend
from moto.cloudfront.responses import CloudFrontResponse
from moto.core.resource_tagging import TaggedResource
from moto.core.responses import ActionResult, EmptyResult

from . import cloudfront_runtime
from .cloudfront_managed import CACHE_POLICIES, HEADERS_POLICIES

API = "{0}/2020-05-31"
LOCATION = "https://cloudfront.amazonaws.com/2020-05-31"
MANAGED_SINCE = datetime(2021, 11, 1, tzinfo=timezone.utc)

_lock = threading.RLock()


def _err(code: str, message: str) -> CloudFrontException:
    return CloudFrontException(code, message)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _new_id(prefix: str = "E") -> str:
    """AWS's shape for distribution, OAC and invalidation ids and for ETags: a letter and 13 more."""
    return prefix + "".join(random.choices(string.ascii_uppercase + string.digits, k=13))


def _items(container: dict | None) -> list:
    return (container or {}).get("Items") or []


def _fill(target: dict, defaults: dict) -> dict:
    for key, value in defaults.items():
        target.setdefault(key, copy.deepcopy(value))
    return target


def _check_quantities(value: Any) -> None:
    # AWS: every Quantity must equal the number of Items sent with it (InconsistentQuantities).
    if isinstance(value, dict):
        if isinstance(value.get("Quantity"), int) and value["Quantity"] != len(value.get("Items") or []):
            raise _err("InconsistentQuantities", "The value of Quantity and the size of Items don't match.")
        for item in value.values():
            _check_quantities(item)
    elif isinstance(value, list):
        for item in value:
            _check_quantities(item)


def _check_if_match(if_match: str | None, etag: str | None) -> None:
    # AWS: a missing IfMatch is InvalidIfMatchVersion (400); a stale one PreconditionFailed (412).
    if not if_match:
        raise _err("InvalidIfMatchVersion", "The If-Match version is missing or not valid for the resource.")
    if if_match != etag:
        raise _err("PreconditionFailed", "The precondition given in one or more of the request-header fields evaluated to false.")


def _page(self, items: list, key: Callable[[Any], str]) -> dict:
    """One page of a list (Marker/MaxItems in, NextMarker out), in the fields every CloudFront list has."""
    marker, max_items = self._get_param("Marker") or "", int(self._get_param("MaxItems") or 100)
    keys = [key(i) for i in items]
    start = keys.index(marker) + 1 if marker in keys else 0
    page = items[start:start + max_items]
    truncated = start + max_items < len(items)
    out = {"Marker": marker, "MaxItems": max_items, "IsTruncated": truncated, "Quantity": len(page), "Items": page or None}
    if truncated:
        out["NextMarker"] = key(page[-1])
    return out


@dataclass
class Resource:
    """One policy, OAC or distribution: its configuration as AWS returns it, and its current ETag."""

    id: str
    config: dict
    etag: str = field(default_factory=_new_id)
    modified: datetime = field(default_factory=_now)
    managed: bool = False

    def replace(self, config: dict) -> None:
        # AWS: every change gets a new ETag.
        self.config, self.etag, self.modified = config, _new_id(), _now()


@dataclass
class Function:
    name: str
    config: dict
    code: bytes
    arn: str
    etag: str = field(default_factory=_new_id)
    created: datetime = field(default_factory=_now)
    modified: datetime = field(default_factory=_now)
    live: dict | None = None  # {"config", "code", "etag", "modified"} once published


@dataclass
class Store:
    cache_policies: dict[str, Resource] = field(default_factory=dict)
    headers_policies: dict[str, Resource] = field(default_factory=dict)
    oacs: dict[str, Resource] = field(default_factory=dict)
    distributions: dict[str, Resource] = field(default_factory=dict)
    functions: dict[str, Function] = field(default_factory=dict)
    invalidations: dict[str, list[dict]] = field(default_factory=dict)


def _store_of(backend: CloudFrontBackend) -> Store:
    with _lock:
        store = backend.__dict__.get("_sitewarden_store")
        if store is None:
            store = backend._sitewarden_store = Store()
            for policy_id, config in CACHE_POLICIES.items():
                store.cache_policies[policy_id] = Resource(policy_id, copy.deepcopy(config), modified=MANAGED_SINCE, managed=True)
            for policy_id, config in HEADERS_POLICIES.items():
                store.headers_policies[policy_id] = Resource(policy_id, copy.deepcopy(config), modified=MANAGED_SINCE, managed=True)
        return store


def _store(self) -> Store:
    return _store_of(self.backend)


def _arn(self, kind: str, name: str) -> str:
    return f"arn:{self.partition}:cloudfront::{self.current_account}:{kind}/{name}"


# --- policies (cache and response headers) share one shape of API ------------------------------


def _validate_cache_policy(config: dict) -> None:
    # AWS: MinTTL <= DefaultTTL <= MaxTTL.
    ttls = [config.get(k) for k in ("MinTTL", "DefaultTTL", "MaxTTL")]
    ttls = [t for t in ttls if t is not None]
    if ttls != sorted(ttls):
        raise _err("InvalidArgument", "The TTLs must satisfy MinTTL <= DefaultTTL <= MaxTTL.")


@dataclass
class PolicyKind:
    attr: str  # Store table
    noun: str  # in messages
    code: str  # CachePolicy / ResponseHeadersPolicy: result key, error-code stem
    path: str  # in URLs
    behavior_key: str  # the cache-behavior field that references it
    validate: Callable[[dict], None] = lambda config: None

    @property
    def config_key(self) -> str:
        return f"{self.code}Config"

    def table(self, store: Store) -> dict[str, Resource]:
        return getattr(store, self.attr)

    def get(self, store: Store, policy_id: str) -> Resource:
        policy = self.table(store).get(policy_id)
        if policy is None:
            raise _err(f"NoSuch{self.code}", f"The {self.noun} does not exist.")
        return policy

    def check_name(self, store: Store, name: str, except_id: str | None = None) -> None:
        if any(p.config.get("Name") == name and p.id != except_id for p in self.table(store).values()):
            raise _err(f"{self.code}AlreadyExists", f"A {self.noun} with this name already exists.")

    def in_use(self, store: Store, policy_id: str) -> bool:
        return any(b.get(self.behavior_key) == policy_id for d in store.distributions.values() for b in _behaviors(d.config))

    def body(self, policy: Resource) -> dict:
        return {"Id": policy.id, "LastModifiedTime": policy.modified, self.config_key: policy.config}


CACHE = PolicyKind("cache_policies", "cache policy", "CachePolicy", "cache-policy", "CachePolicyId", _validate_cache_policy)
HEADERS = PolicyKind("headers_policies", "response headers policy", "ResponseHeadersPolicy", "response-headers-policy", "ResponseHeadersPolicyId")


def _policy_operations(kind: PolicyKind) -> dict[str, Callable]:
    def incoming(self) -> dict:
        config = self._get_param(kind.config_key, {})
        _check_quantities(config)
        kind.validate(config)
        return config

    def create(self):
        config = incoming(self)
        with _lock:
            store = _store(self)
            kind.check_name(store, config.get("Name"))
            policy = Resource(str(uuid.uuid4()), config)
            kind.table(store)[policy.id] = policy
        return ActionResult({kind.code: kind.body(policy), "ETag": policy.etag, "Location": f"{LOCATION}/{kind.path}/{policy.id}"})

    def get(self):
        policy = kind.get(_store(self), self._get_param("Id"))
        return ActionResult({kind.code: kind.body(policy), "ETag": policy.etag})

    def get_config(self):
        policy = kind.get(_store(self), self._get_param("Id"))
        return ActionResult({kind.config_key: policy.config, "ETag": policy.etag})

    def update(self):
        config = incoming(self)
        with _lock:
            store = _store(self)
            policy = kind.get(store, self._get_param("Id"))
            if policy.managed:  # AWS: managed policies are read-only
                raise _err("AccessDenied", f"Managed {kind.noun}s cannot be modified.")
            _check_if_match(self._get_param("IfMatch"), policy.etag)
            kind.check_name(store, config.get("Name"), except_id=policy.id)
            policy.replace(config)
        return ActionResult({kind.code: kind.body(policy), "ETag": policy.etag})

    def delete(self):
        with _lock:
            store = _store(self)
            policy = kind.get(store, self._get_param("Id"))
            if policy.managed:
                raise _err("IllegalDelete", f"Managed {kind.noun}s cannot be deleted.")
            _check_if_match(self._get_param("IfMatch"), policy.etag)
            if kind.in_use(store, policy.id):
                raise _err(f"{kind.code}InUse", f"The {kind.noun} is attached to one or more cache behaviors.")
            del kind.table(store)[policy.id]
        return EmptyResult()

    def list_(self):
        wanted = self._get_param("Type")  # managed | custom | absent: all
        policies = [p for p in kind.table(_store(self)).values() if wanted is None or (wanted == "managed") == p.managed]
        items = [{"Type": "managed" if p.managed else "custom", kind.code: kind.body(p)} for p in policies]
        return ActionResult({f"{kind.code}List": _page(self, items, lambda i: i[kind.code]["Id"])})

    stem = "cache_polic" if kind is CACHE else "response_headers_polic"
    return {
        f"create_{stem}y": create, f"get_{stem}y": get, f"get_{stem}y_config": get_config,
        f"update_{stem}y": update, f"delete_{stem}y": delete, f"list_{stem}ies": list_,
    }


# --- origin access controls ---------------------------------------------------------------------


def _oac(store: Store, oac_id: str) -> Resource:
    oac = store.oacs.get(oac_id)
    if oac is None:
        raise _err("NoSuchOriginAccessControl", "The specified origin access control does not exist.")
    return oac


def _oac_config(self, store: Store, except_id: str | None = None) -> dict:
    config = self._get_param("OriginAccessControlConfig", {})
    # AWS: OAC names are unique in the account.
    if any(o.config.get("Name") == config.get("Name") and o.id != except_id for o in store.oacs.values()):
        raise _err("OriginAccessControlAlreadyExists", "An origin access control with the same name already exists.")
    return config


def _oac_result(oac: Resource, **extra) -> ActionResult:
    return ActionResult({"OriginAccessControl": {"Id": oac.id, "OriginAccessControlConfig": oac.config}, "ETag": oac.etag, **extra})


def create_origin_access_control(self):
    with _lock:
        store = _store(self)
        oac = Resource(_new_id(), _oac_config(self, store))
        store.oacs[oac.id] = oac
    return _oac_result(oac, Location=f"{LOCATION}/origin-access-control/{oac.id}")


def get_origin_access_control(self):
    return _oac_result(_oac(_store(self), self._get_param("Id")))


def get_origin_access_control_config(self):
    oac = _oac(_store(self), self._get_param("Id"))
    return ActionResult({"OriginAccessControlConfig": oac.config, "ETag": oac.etag})


def update_origin_access_control(self):
    with _lock:
        store = _store(self)
        oac = _oac(store, self._get_param("Id"))
        _check_if_match(self._get_param("IfMatch"), oac.etag)
        oac.replace(_oac_config(self, store, except_id=oac.id))
    return _oac_result(oac)


def delete_origin_access_control(self):
    with _lock:
        store = _store(self)
        oac = _oac(store, self._get_param("Id"))
        _check_if_match(self._get_param("IfMatch"), oac.etag)
        if any(o.get("OriginAccessControlId") == oac.id for d in store.distributions.values() for o in _items(d.config.get("Origins"))):
            raise _err("OriginAccessControlInUse", "Cannot delete the origin access control because it's in use by one or more distributions.")
        del store.oacs[oac.id]
    return EmptyResult()


def list_origin_access_controls(self):
    items = [{"Id": o.id, "Description": "", **o.config} for o in _store(self).oacs.values()]
    return ActionResult({"OriginAccessControlList": _page(self, items, lambda i: i["Id"])})


# --- functions ----------------------------------------------------------------------------------

RUNTIMES = ("cloudfront-js-1.0", "cloudfront-js-2.0")
MAX_CODE_BYTES = 10240


def _function(store: Store, name: str) -> Function:
    function = store.functions.get(name)
    if function is None:
        raise _err("NoSuchFunctionExists", f"The function {name} does not exist.")
    return function


def _associated(store: Store, arn: str) -> bool:
    return any(a.get("FunctionARN") == arn for d in store.distributions.values() for b in _behaviors(d.config)
               for a in _items(b.get("FunctionAssociations")))


def _function_summary(store: Store, function: Function, live: bool = False) -> dict:
    stage = function.live if live else None
    # AWS: UNPUBLISHED until published, then UNASSOCIATED, DEPLOYED once a distribution uses it.
    status = "UNPUBLISHED" if function.live is None else "DEPLOYED" if _associated(store, function.arn) else "UNASSOCIATED"
    return {
        "Name": function.name,
        "Status": status,
        "FunctionConfig": stage["config"] if stage else function.config,
        "FunctionMetadata": {
            "FunctionARN": function.arn,
            "Stage": "LIVE" if live else "DEVELOPMENT",
            "CreatedTime": function.created,
            "LastModifiedTime": stage["modified"] if stage else function.modified,
        },
    }


def _live(self) -> bool:
    return (self._get_param("Stage") or "DEVELOPMENT") == "LIVE"


def _staged(self, store: Store, function: Function) -> tuple[dict, bytes, str]:
    """The summary, code and ETag of the stage the request names (default DEVELOPMENT)."""
    if _live(self):
        if function.live is None:  # AWS: never published, so there is no LIVE stage
            raise _err("NoSuchFunctionExists", f"The function {function.name} does not exist in the LIVE stage.")
        return _function_summary(store, function, live=True), function.live["code"], function.live["etag"]
    return _function_summary(store, function), function.code, function.etag


def _function_input(self) -> tuple[dict, bytes]:
    config, code = self._get_param("FunctionConfig", {}), self._get_param("FunctionCode") or b""
    code = code if isinstance(code, bytes) else code.encode()
    _check_quantities(config)
    if config.get("Runtime") not in RUNTIMES:
        raise _err("InvalidArgument", f"The runtime must be one of {', '.join(RUNTIMES)}.")
    if len(code) > MAX_CODE_BYTES:  # AWS: function code is limited to 10 KB
        raise _err("FunctionSizeLimitExceeded", "The function is too large.")
    return config, code


def create_function(self):
    name = self._get_param("Name")
    config, code = _function_input(self)
    with _lock:
        store = _store(self)
        if name in store.functions:
            raise _err("FunctionAlreadyExists", f"A function with the name {name} already exists.")
        function = store.functions[name] = Function(name, config, code, _arn(self, "function", name))
    if tags := self._get_param("Tags.Items"):
        self.backend.tagger.tag_resource(function.arn, tags)
    return ActionResult({
        "FunctionSummary": _function_summary(store, function),
        "Location": f"{LOCATION}/function/{function.arn}",
        "ETag": function.etag,
    })


def describe_function(self):
    store = _store(self)
    summary, _, etag = _staged(self, store, _function(store, self._get_param("Name")))
    return ActionResult({"FunctionSummary": summary, "ETag": etag})


def get_function(self):
    store = _store(self)
    _, code, etag = _staged(self, store, _function(store, self._get_param("Name")))
    return ActionResult({"FunctionCode": code, "ETag": etag, "ContentType": "application/octet-stream"})


def update_function(self):
    config, code = _function_input(self)
    with _lock:
        store = _store(self)
        function = _function(store, self._get_param("Name"))
        _check_if_match(self._get_param("IfMatch"), function.etag)
        function.config, function.code, function.etag, function.modified = config, code, _new_id(), _now()
    return ActionResult({"FunctionSummary": _function_summary(store, function), "ETag": function.etag})


def publish_function(self):
    # AWS: copies DEVELOPMENT to LIVE; distributions run the LIVE copy.
    with _lock:
        store = _store(self)
        function = _function(store, self._get_param("Name"))
        _check_if_match(self._get_param("IfMatch"), function.etag)
        function.live = {"config": copy.deepcopy(function.config), "code": function.code, "etag": _new_id(), "modified": _now()}
    return ActionResult({"FunctionSummary": _function_summary(store, function, live=True)})


def test_function(self):
    # AWS: runs the stage's code on the event. Really run (Node.js), or refuse; never invent a result.
    store = _store(self)
    function = _function(store, self._get_param("Name"))
    summary, code, etag = _staged(self, store, function)
    _check_if_match(self._get_param("IfMatch"), etag)
    event = self._get_param("EventObject") or b""
    try:
        event = json.loads(event)
        assert isinstance(event, dict)
    except (ValueError, AssertionError):
        raise _err("InvalidArgument", "The event object must be a JSON object.") from None
    try:
        result = cloudfront_runtime.run(code, event)
    except cloudfront_runtime.Unavailable:
        raise _err("UnsupportedOperation", "TestFunction needs Node.js on the emulator's machine, and none is installed.") from None
    return ActionResult({"TestResult": {"FunctionSummary": summary, **result}})


def list_functions(self):
    store = _store(self)
    functions = list(store.functions.values())
    if _live(self):
        items = [_function_summary(store, f, live=True) for f in functions if f.live]
    else:
        items = [_function_summary(store, f) for f in functions]
    return ActionResult({"FunctionList": _page(self, items, lambda i: i["Name"])})


def delete_function(self):
    with _lock:
        store = _store(self)
        function = _function(store, self._get_param("Name"))
        _check_if_match(self._get_param("IfMatch"), function.etag)
        if _associated(store, function.arn):
            raise _err("FunctionInUse", "Cannot delete the function because it's associated with one or more cache behaviors.")
        del store.functions[function.name]
    self.backend.tagger.delete_all_tags_for_resource(function.arn)
    return EmptyResult()


# --- distributions ------------------------------------------------------------------------------

# What AWS fills in when a request leaves a field out (and only that).
DISTRIBUTION_DEFAULTS = {
    "Aliases": {"Quantity": 0},
    "DefaultRootObject": "",
    "OriginGroups": {"Quantity": 0},
    "CacheBehaviors": {"Quantity": 0},
    "CustomErrorResponses": {"Quantity": 0},
    "Logging": {"Enabled": False, "IncludeCookies": False, "Bucket": "", "Prefix": ""},
    "PriceClass": "PriceClass_All",
    "Restrictions": {"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}},
    "WebACLId": "",
    "HttpVersion": "http2",
    "IsIPV6Enabled": False,
    "ContinuousDeploymentPolicyId": "",
    "Staging": False,
}
ORIGIN_DEFAULTS = {
    "OriginPath": "", "CustomHeaders": {"Quantity": 0}, "ConnectionAttempts": 3, "ConnectionTimeout": 10,
    "OriginShield": {"Enabled": False}, "OriginAccessControlId": "",
}
CUSTOM_ORIGIN_DEFAULTS = {"OriginReadTimeout": 30, "OriginKeepaliveTimeout": 5}
BEHAVIOR_DEFAULTS = {
    "TrustedSigners": {"Enabled": False, "Quantity": 0},
    "TrustedKeyGroups": {"Enabled": False, "Quantity": 0},
    "AllowedMethods": {"Quantity": 2, "Items": ["HEAD", "GET"], "CachedMethods": {"Quantity": 2, "Items": ["HEAD", "GET"]}},
    "SmoothStreaming": False,
    "Compress": False,
    "LambdaFunctionAssociations": {"Quantity": 0},
    "FunctionAssociations": {"Quantity": 0},
    "FieldLevelEncryptionId": "",
}
LEGACY_TTLS = {"MinTTL": 0, "DefaultTTL": 86400, "MaxTTL": 31536000}  # only without a cache policy
ERROR_RESPONSE_DEFAULTS = {"ResponsePagePath": "", "ResponseCode": "", "ErrorCachingMinTTL": 10}
TLS_POLICIES = (
    "SSLv3", "TLSv1", "TLSv1_2016", "TLSv1.1_2016", "TLSv1.2_2018", "TLSv1.2_2019", "TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025",
)


def _behaviors(config: dict) -> list[dict]:
    return [config.get("DefaultCacheBehavior") or {}] + _items(config.get("CacheBehaviors"))


def _normalize_distribution(config: dict) -> dict:
    """The configuration as AWS stores it: as sent, plus the fields AWS fills in."""
    config = _fill(copy.deepcopy(config), DISTRIBUTION_DEFAULTS)
    certificate = config.setdefault("ViewerCertificate", {"CloudFrontDefaultCertificate": True})
    if certificate.get("ACMCertificateArn"):
        certificate.update(CloudFrontDefaultCertificate=False, Certificate=certificate["ACMCertificateArn"], CertificateSource="acm")
        _fill(certificate, {"SSLSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1"})
    elif certificate.get("IAMCertificateId"):
        certificate.update(CloudFrontDefaultCertificate=False, Certificate=certificate["IAMCertificateId"], CertificateSource="iam")
        _fill(certificate, {"SSLSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1"})
    else:
        # The *.cloudfront.net certificate: AWS fixes the method and TLS policy whatever was sent.
        config["ViewerCertificate"] = {
            "CloudFrontDefaultCertificate": True, "SSLSupportMethod": "vip", "MinimumProtocolVersion": "TLSv1", "CertificateSource": "cloudfront",
        }
    for origin in _items(config.get("Origins")):
        _fill(origin, ORIGIN_DEFAULTS)
        if "CustomOriginConfig" in origin:
            _fill(origin["CustomOriginConfig"], CUSTOM_ORIGIN_DEFAULTS)
    for behavior in _behaviors(config):
        _fill(behavior, BEHAVIOR_DEFAULTS)
        if not behavior.get("CachePolicyId"):
            _fill(behavior, LEGACY_TTLS)
    for response in _items(config.get("CustomErrorResponses")):
        _fill(response, ERROR_RESPONSE_DEFAULTS)
    return config


def _certificate(arn: str):
    """The ACM certificate behind an ARN, if it is an ACM certificate in us-east-1 (AWS's only region for CloudFront)."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[2] != "acm" or parts[3] != "us-east-1":
        return None
    bundle = acm_backends[parts[4]][parts[3]]._certificates.get(arn)
    if bundle is not None:
        bundle.check()
    return bundle


def _covers(names: list[str], alias: str) -> bool:
    alias = alias.lower()
    return any(n == alias or (n.startswith("*.") and alias.count(".") == n.count(".") and alias.endswith(n[1:])) for n in names)


def _validate_certificate(config: dict, aliases: list[str]) -> None:
    certificate = config.get("ViewerCertificate") or {}
    arn, iam = certificate.get("ACMCertificateArn"), certificate.get("IAMCertificateId")
    if certificate.get("CloudFrontDefaultCertificate") and (arn or iam):
        raise _err("InvalidViewerCertificate", "Specify either the CloudFront default certificate or a certificate of your own, not both.")
    if aliases and not (arn or iam):
        raise _err("InvalidViewerCertificate", "To add an alternate domain name (CNAME) to a CloudFront distribution, you must attach a trusted certificate that validates your authorization to use the domain name.")
    if (arn or iam) and certificate.get("MinimumProtocolVersion", "TLSv1") not in TLS_POLICIES:
        raise _err("InvalidMinimumProtocolVersion", "The minimum protocol version specified is not valid.")
    if (arn or iam) and certificate.get("MinimumProtocolVersion") == "SSLv3" and certificate.get("SSLSupportMethod") != "vip":
        raise _err("InvalidMinimumProtocolVersion", "SSLv3 is only supported with the vip SSL support method.")
    if not arn:
        return
    bundle = _certificate(arn)
    if bundle is None or bundle.status != "ISSUED":
        raise _err("InvalidViewerCertificate", "The specified SSL certificate doesn't exist, isn't in us-east-1 region, isn't valid, or doesn't include a valid certificate chain.")
    detail = bundle.describe()["Certificate"]
    names = [n.lower() for n in [detail.get("DomainName", "")] + detail.get("SubjectAlternativeNames", [])]
    if not all(_covers(names, alias) for alias in aliases):
        raise _err("InvalidViewerCertificate", "The certificate that is attached to your distribution doesn't cover the alternate domain name (CNAME) that you're trying to add.")


def _link_certificate(dist_arn: str, old: dict | None, new: dict | None) -> None:
    """ACM lists the distributions that use a certificate (InUseBy), and keeps it from deletion while they do."""
    arns = [((c or {}).get("ViewerCertificate") or {}).get("ACMCertificateArn") for c in (old, new)]
    if arns[0] == arns[1]:
        return
    if arns[0] and (bundle := _certificate(arns[0])) is not None and dist_arn in bundle.in_use_by:
        bundle.in_use_by.remove(dist_arn)
    if arns[1] and (bundle := _certificate(arns[1])) is not None:
        bundle.in_use_by.append(dist_arn)


def _validate_function_associations(store: Store, behavior: dict) -> None:
    event_types = [a.get("EventType") for a in _items(behavior.get("FunctionAssociations"))]
    if any(t not in ("viewer-request", "viewer-response") for t in event_types) or len(set(event_types)) != len(event_types):
        raise _err("InvalidFunctionAssociation", "CloudFront functions run on viewer-request and viewer-response, one function per event type.")
    for association in _items(behavior.get("FunctionAssociations")):
        arn = association.get("FunctionARN", "")
        function = store.functions.get(arn.rsplit("/", 1)[-1])
        if function is None or function.arn != arn:
            raise _err("NoSuchFunctionExists", f"The function {arn} does not exist.")
        if function.live is None:  # AWS: distributions run the LIVE stage, so it must be published
            raise _err("InvalidArgument", f"The function {arn} must be published (LIVE stage) before it is associated.")


def _validate_distribution(store: Store, config: dict, own_id: str | None) -> None:
    """The checks AWS makes on create and update."""
    _check_quantities(config)
    aliases = [a.lower() for a in _items(config.get("Aliases"))]
    for other in store.distributions.values():
        if other.id != own_id and set(aliases) & {a.lower() for a in _items(other.config.get("Aliases"))}:
            raise _err("CNAMEAlreadyExists", "One or more of the CNAMEs you provided are already associated with a different resource.")
    _validate_certificate(config, aliases)
    if (config.get("DefaultRootObject") or "").startswith("/"):
        raise _err("InvalidDefaultRootObject", "The default root object must not begin with a slash.")
    if config.get("ContinuousDeploymentPolicyId"):
        raise _err("NoSuchContinuousDeploymentPolicy", "The continuous deployment policy does not exist.")
    origin_ids = {o.get("Id") for o in _items(config.get("Origins"))} | {g.get("Id") for g in _items(config.get("OriginGroups"))}
    for origin in _items(config.get("Origins")):
        if "S3OriginConfig" in origin and "CustomOriginConfig" in origin:
            raise _err("InvalidArgument", "An origin has either an S3OriginConfig or a CustomOriginConfig, not both.")
        if origin.get("OriginAccessControlId"):
            _oac(store, origin["OriginAccessControlId"])
    for behavior in _behaviors(config):
        if behavior.get("TargetOriginId") not in origin_ids:
            raise _err("NoSuchOrigin", "One or more of your origins or origin groups do not exist.")
        if behavior.get("CachePolicyId"):
            CACHE.get(store, behavior["CachePolicyId"])
            if "ForwardedValues" in behavior:
                raise _err("InvalidArgument", "The parameter ForwardedValues cannot be used when a cache policy is associated to the cache behavior.")
        elif not behavior.get("ForwardedValues"):
            raise _err("InvalidArgument", "The parameter ForwardedValues is required unless a CachePolicyId is set.")
        if behavior.get("ResponseHeadersPolicyId"):
            HEADERS.get(store, behavior["ResponseHeadersPolicyId"])
        _validate_function_associations(store, behavior)


def _domain(dist_id: str) -> str:
    return f"d{dist_id[1:].lower()}.cloudfront.net"


def _distribution_body(self, dist: Resource) -> dict:
    return {
        "Id": dist.id,
        "ARN": _arn(self, "distribution", dist.id),
        "Status": "Deployed",  # changes apply at once here; the SDK waiter succeeds on the first poll
        "LastModifiedTime": dist.modified,
        "InProgressInvalidationBatches": 0,
        "DomainName": _domain(dist.id),
        "ActiveTrustedSigners": {"Enabled": False, "Quantity": 0},
        "ActiveTrustedKeyGroups": {"Enabled": False, "Quantity": 0},
        "DistributionConfig": dist.config,
    }


def _distribution(store: Store, dist_id: str) -> Resource:
    dist = store.distributions.get(dist_id)
    if dist is None:
        raise _err("NoSuchDistribution", "The specified distribution does not exist.")
    return dist


def _create_distribution(self, config: dict, tags: list) -> ActionResult:
    with _lock:
        store = _store(self)
        for other in store.distributions.values():
            if other.config.get("CallerReference") == config.get("CallerReference"):
                raise _err("DistributionAlreadyExists", f"The caller reference that you are using to create a distribution is associated with another distribution. Already exists: {other.id}")
        _validate_distribution(store, config, None)
        dist = Resource(_new_id(), _normalize_distribution(config))
        store.distributions[dist.id] = dist
        arn = _arn(self, "distribution", dist.id)
        _link_certificate(arn, None, dist.config)
    if tags:
        self.backend.tagger.tag_resource(arn, tags)
    return ActionResult({"Distribution": _distribution_body(self, dist), "ETag": dist.etag, "Location": f"{LOCATION}/distribution/{dist.id}"})


def create_distribution(self):
    return _create_distribution(self, self._get_param("DistributionConfig", {}), [])


def create_distribution_with_tags(self):
    return _create_distribution(
        self,
        self._get_param("DistributionConfigWithTags.DistributionConfig", {}),
        self._get_param("DistributionConfigWithTags.Tags.Items", []) or [],
    )


# Changes deploy at once here. To test a client that meets a distribution still deploying, tag it
# `sitewarden-emulator:in-progress-reads` = N: its next N GetDistribution answers say `InProgress`
# (the tag counts down and is removed at 0), as AWS says for minutes after a change.
IN_PROGRESS_TAG = "sitewarden-emulator:in-progress-reads"


def _consume_in_progress_read(self, arn: str) -> bool:
    tagger = self.backend.tagger
    with _lock:
        tags = tagger.get_tag_dict_for_resource(arn)
        try:
            reads = int(tags.get(IN_PROGRESS_TAG, "0"))
        except ValueError:
            return False
        if reads <= 0:
            return False
        if reads == 1:
            tagger.untag_resource_using_names(arn, [IN_PROGRESS_TAG])
        else:
            tagger.tag_resource(arn, [{"Key": IN_PROGRESS_TAG, "Value": str(reads - 1)}])
        return True


def get_distribution(self):
    dist = _distribution(_store(self), self._get_param("Id"))
    body = _distribution_body(self, dist)
    if _consume_in_progress_read(self, body["ARN"]):
        body["Status"] = "InProgress"
    return ActionResult({"Distribution": body, "ETag": dist.etag})


def get_distribution_config(self):
    dist = _distribution(_store(self), self._get_param("Id"))
    return ActionResult({"DistributionConfig": dist.config, "ETag": dist.etag})


def update_distribution(self):
    config = self._get_param("DistributionConfig", {})
    with _lock:
        store = _store(self)
        dist = _distribution(store, self._get_param("Id"))
        _check_if_match(self._get_param("IfMatch"), dist.etag)
        if config.get("CallerReference") != dist.config.get("CallerReference"):
            raise _err("IllegalUpdate", "The CallerReference of a distribution cannot be changed.")
        _validate_distribution(store, config, dist.id)
        old = dist.config
        dist.replace(_normalize_distribution(config))
        _link_certificate(_arn(self, "distribution", dist.id), old, dist.config)
    return ActionResult({"Distribution": _distribution_body(self, dist), "ETag": dist.etag})


def delete_distribution(self):
    with _lock:
        store = _store(self)
        dist = _distribution(store, self._get_param("Id"))
        _check_if_match(self._get_param("IfMatch"), dist.etag)
        if dist.config.get("Enabled"):  # AWS: disable (and wait for deployment) first
            raise _err("DistributionNotDisabled", "The distribution you are trying to delete has not been disabled.")
        del store.distributions[dist.id]
        store.invalidations.pop(dist.id, None)
        arn = _arn(self, "distribution", dist.id)
        _link_certificate(arn, dist.config, None)
    self.backend.tagger.delete_all_tags_for_resource(arn)
    return EmptyResult()


@cache
def _summary_members() -> tuple[str, ...]:
    shape = botocore.session.get_session().get_service_model("cloudfront").shape_for("DistributionSummary")
    return tuple(shape.members)


def list_distributions(self):
    # A DistributionSummary is the distribution's fields and its config's, as the model lists them.
    items = []
    for dist in _store(self).distributions.values():
        fields = {**dist.config, **_distribution_body(self, dist), "ETag": dist.etag}
        items.append({k: fields[k] for k in _summary_members() if k in fields})
    return ActionResult({"DistributionList": _page(self, items, lambda i: i["Id"])})


# --- invalidations ------------------------------------------------------------------------------

MAX_INVALIDATION_PATHS = 3000


def create_invalidation(self):
    dist_id = self._get_param("DistributionId")
    batch = self._get_param("InvalidationBatch", {})
    paths, reference = _items(batch.get("Paths")), batch.get("CallerReference")
    with _lock:
        store = _store(self)
        _distribution(store, dist_id)
        _check_quantities(batch)
        if not paths:
            raise _err("InvalidArgument", "Your request contains one or more invalid invalidation paths.")
        if len(paths) > MAX_INVALIDATION_PATHS:
            raise _err("BatchTooLarge", "Invalidation batch specified is too large.")
        existing = [i for i in store.invalidations.get(dist_id, []) if i["InvalidationBatch"]["CallerReference"] == reference]
        if existing:
            # AWS: a repeated CallerReference returns the first invalidation if the batch is the same.
            if _items(existing[0]["InvalidationBatch"]["Paths"]) != paths:
                raise _err("InvalidationBatchAlreadyExists", "The caller reference is already used by a different invalidation batch.")
            invalidation = existing[0]
        else:
            invalidation = {
                "Id": _new_id("I"),
                "Status": "Completed",  # AWS's spelling; the SDK waiter matches it exactly
                "CreateTime": _now(),
                "InvalidationBatch": {"Paths": {"Quantity": len(paths), "Items": paths}, "CallerReference": reference},
            }
            store.invalidations.setdefault(dist_id, []).insert(0, invalidation)
    location = f"{LOCATION}/distribution/{dist_id}/invalidation/{invalidation['Id']}"
    return ActionResult({"Invalidation": invalidation, "Location": location})


def get_invalidation(self):
    dist_id, invalidation_id = self._get_param("DistributionId"), self._get_param("Id")
    store = _store(self)
    _distribution(store, dist_id)
    for invalidation in store.invalidations.get(dist_id, []):
        if invalidation["Id"] == invalidation_id:
            return ActionResult({"Invalidation": invalidation})
    raise _err("NoSuchInvalidation", "The specified invalidation does not exist.")


def list_invalidations(self):
    dist_id = self._get_param("DistributionId")
    store = _store(self)
    _distribution(store, dist_id)
    items = [{k: i[k] for k in ("Id", "CreateTime", "Status")} for i in store.invalidations.get(dist_id, [])]
    return ActionResult({"InvalidationList": _page(self, items, lambda i: i["Id"])})


# --- tags ---------------------------------------------------------------------------------------


def _checked_resource(original: Callable) -> Callable:
    # AWS: tagging calls name a CloudFront ARN (InvalidArgument) of an existing resource (NoSuchResource).
    def handler(self):
        arn = self._get_param("Resource") or ""
        prefix = f"arn:{self.partition}:cloudfront::{self.current_account}:"
        if not arn.startswith(prefix):
            raise _err("InvalidArgument", "The resource ARN is not a valid CloudFront ARN.")
        kind, _, name = arn[len(prefix):].partition("/")
        store = _store(self)
        if (kind == "distribution" and name not in store.distributions) or (kind == "function" and name not in store.functions):
            raise _err("NoSuchResource", "The specified resource does not exist.")
        return original(self)

    handler.__name__ = original.__name__
    return handler


_original_iter = CloudFrontBackend.iter_tagged_resources


def iter_tagged_resources(backend: CloudFrontBackend):
    """The Resource Groups Tagging API sees this module's distributions and functions (not moto's)."""
    store = _store_of(backend)
    prefix = f"arn:aws:cloudfront::{backend.account_id}:"
    arns = [(f"{prefix}distribution/{d}", "distribution") for d in store.distributions]
    arns += [(f.arn, "function") for f in store.functions.values()]
    for arn, kind in arns:
        yield TaggedResource(arn=arn, tags=backend.tagger.get_tag_dict_for_resource(arn), resource_type=f"cloudfront:{kind}")
    yield from (r for r in _original_iter(backend) if r.resource_type == "cloudfront:key-value-store")



# --- apply --------------------------------------------------------------------------------------


def apply() -> None:
    # Routes moto lacks: policies, and publishing or testing a function.
    for kind in (CACHE, HEADERS):
        urls.url_paths[f"{API}/{kind.path}$"] = CloudFrontResponse.dispatch
        urls.url_paths[f"{API}/{kind.path}/(?P<policy_id>[^/]+)$"] = CloudFrontResponse.dispatch
        urls.url_paths[f"{API}/{kind.path}/(?P<policy_id>[^/]+)/config$"] = CloudFrontResponse.dispatch
        for name, fn in _policy_operations(kind).items():
            setattr(CloudFrontResponse, name, fn)
    urls.url_paths[f"{API}/function/(?P<function_name>[^/]+)/publish$"] = CloudFrontResponse.dispatch
    urls.url_paths[f"{API}/function/(?P<function_name>[^/]+)/test$"] = CloudFrontResponse.dispatch

    for fn in (
        create_origin_access_control, get_origin_access_control, get_origin_access_control_config,
        update_origin_access_control, delete_origin_access_control, list_origin_access_controls,
        create_function, describe_function, get_function, update_function, publish_function, test_function,
        list_functions, delete_function,
        create_distribution, create_distribution_with_tags, get_distribution, get_distribution_config,
        update_distribution, delete_distribution, list_distributions,
        create_invalidation, get_invalidation, list_invalidations,
    ):
        setattr(CloudFrontResponse, fn.__name__, fn)
    for name in ("list_tags_for_resource", "tag_resource", "untag_resource"):
        setattr(CloudFrontResponse, name, _checked_resource(getattr(CloudFrontResponse, name)))
    CloudFrontBackend.iter_tagged_resources = iter_tagged_resources
