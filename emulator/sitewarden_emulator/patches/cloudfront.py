"""CloudFront as AWS answers it, for what sitewarden provisions.

moto 5.2.5 parses and serializes CloudFront through the botocore model (`automated_parameter_parsing`),
but its backend drops most of a distribution's configuration, has no cache or response headers
policies, cannot publish or test functions, and never changes an ETag. This module keeps each resource's
configuration exactly as parsed (so it serializes back unchanged, as AWS returns it) in a small store,
and reproduces AWS's checks: `IfMatch` ETags, name and alias uniqueness, references between resources,
in-use deletes, and the LIVE stage of functions.
"""

from __future__ import annotations

import copy
import json
import random
import shutil
import string
import subprocess
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from moto.cloudfront import urls
from moto.cloudfront.exceptions import CloudFrontException
from moto.cloudfront.models import cloudfront_backends
from moto.cloudfront.responses import CloudFrontResponse
from moto.core.responses import ActionResult, EmptyResult

API = "{0}/2020-05-31"

# Managed policies: ids and configurations as AWS publishes them.
MANAGED_CACHE_POLICIES = {
    "658327ea-f89d-4fab-a63d-7e88639e58f6": ("Managed-CachingOptimized", 1, 86400, 31536000, True, "none", [], "none", []),
    "4135ea2d-6df8-44a3-9df3-4b5a84be39ad": ("Managed-CachingDisabled", 0, 0, 0, False, "none", [], "none", []),
    "b2884449-e4de-46a7-ac36-70bc7f1ddd6d": ("Managed-CachingOptimizedForUncompressedObjects", 1, 86400, 31536000, False, "none", [], "none", []),
    "83da9c7e-98b4-4e11-a168-04f0df8e2c65": (
        "Managed-UseOriginCacheControlHeaders", 0, 0, 31536000, True,
        "whitelist", ["host", "origin", "x-http-method", "x-http-method-override", "x-method-override"], "none", [],
    ),
    "08627262-05a9-4f76-9ded-b50ca2e3a84f": (
        "Managed-Elemental-MediaPackage", 0, 86400, 31536000, True,
        "whitelist", ["origin"], "whitelist", ["aws.manifestfilter", "start", "end", "m"],
    ),
}

_SECURITY_HEADERS = {
    "XSSProtection": {"Override": False, "Protection": True, "ModeBlock": True},
    "FrameOptions": {"Override": False, "FrameOption": "SAMEORIGIN"},
    "ReferrerPolicy": {"Override": False, "ReferrerPolicy": "strict-origin-when-cross-origin"},
    "ContentTypeOptions": {"Override": True},
    "StrictTransportSecurity": {"Override": False, "IncludeSubdomains": False, "Preload": False, "AccessControlMaxAgeSec": 31536000},
}
_SIMPLE_CORS = {
    "AccessControlAllowOrigins": {"Quantity": 1, "Items": ["*"]},
    "AccessControlAllowHeaders": {"Quantity": 1, "Items": ["*"]},
    "AccessControlAllowMethods": {"Quantity": 1, "Items": ["ALL"]},
    "AccessControlAllowCredentials": False,
    "OriginOverride": False,
}
MANAGED_HEADERS_POLICIES = {
    "67f7725c-6f97-4210-82d7-5512b31e9d03": {"Name": "Managed-SecurityHeadersPolicy", "SecurityHeadersConfig": _SECURITY_HEADERS},
    "60669652-455b-4ae9-85a4-c4c02393f86c": {"Name": "Managed-SimpleCORS", "CorsConfig": _SIMPLE_CORS},
    "e61eb60c-9c35-4d20-a928-2b84e02af89c": {
        "Name": "Managed-CORS-and-SecurityHeadersPolicy",
        "CorsConfig": _SIMPLE_CORS,
        "SecurityHeadersConfig": _SECURITY_HEADERS,
    },
}


def _err(code: str, message: str) -> CloudFrontException:
    return CloudFrontException(code, message)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _etag() -> str:
    return "E" + "".join(random.choices(string.ascii_uppercase + string.digits, k=13))


def _new_id(prefix: str = "E") -> str:
    return prefix + "".join(random.choices(string.ascii_uppercase + string.digits, k=13))


@dataclass
class Resource:
    """One policy, OAC or distribution: its configuration as sent, and its current ETag."""

    id: str
    config: dict
    etag: str = field(default_factory=_etag)
    modified: datetime = field(default_factory=_now)
    managed: bool = False

    def replace(self, config: dict) -> None:
        self.config, self.etag, self.modified = config, _etag(), _now()


@dataclass
class Function:
    name: str
    config: dict
    code: bytes
    arn: str
    etag: str = field(default_factory=_etag)
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


_lock = threading.RLock()
_stores: dict[str, Store] = {}


def _managed_cache_policy(policy_id: str) -> Resource:
    name, min_ttl, default_ttl, max_ttl, encodings, headers, header_items, queries, query_items = MANAGED_CACHE_POLICIES[policy_id]

    def items(behavior_key: str, behavior: str, values: list[str], list_key: str) -> dict:
        out: dict[str, Any] = {behavior_key: behavior}
        if values:
            out[list_key] = {"Quantity": len(values), "Items": values}
        return out

    config = {
        "Comment": f"{name} (AWS managed)",
        "Name": name,
        "DefaultTTL": default_ttl,
        "MaxTTL": max_ttl,
        "MinTTL": min_ttl,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": encodings,
            "EnableAcceptEncodingBrotli": encodings,
            "HeadersConfig": items("HeaderBehavior", headers, header_items, "Headers"),
            "CookiesConfig": {"CookieBehavior": "none"},
            "QueryStringsConfig": items("QueryStringBehavior", queries, query_items, "QueryStrings"),
        },
    }
    return Resource(policy_id, config, managed=True)


def _store(account: str) -> Store:
    with _lock:
        if account not in _stores:
            store = Store()
            for policy_id in MANAGED_CACHE_POLICIES:
                store.cache_policies[policy_id] = _managed_cache_policy(policy_id)
            for policy_id, config in MANAGED_HEADERS_POLICIES.items():
                store.headers_policies[policy_id] = Resource(policy_id, copy.deepcopy(config), managed=True)
            _stores[account] = store
        return _stores[account]


def _check_if_match(if_match: str | None, etag: str) -> None:
    # AWS: a missing IfMatch is InvalidIfMatchVersion (400); a stale one PreconditionFailed (412).
    if not if_match:
        raise _err("InvalidIfMatchVersion", "The If-Match version is missing or not valid for the resource.")
    if if_match != etag:
        raise _err("PreconditionFailed", "The precondition given in one or more of the request-header fields evaluated to false.")


def _items(container: dict | None) -> list:
    return (container or {}).get("Items") or []


# --- policies (cache and response headers) share one shape of API ------------------------------


class _PolicyKind:
    def __init__(self, attr: str, noun: str, config_key: str, error_noun: str):
        self.attr, self.noun, self.config_key, self.error_noun = attr, noun, config_key, error_noun

    def table(self, store: Store) -> dict[str, Resource]:
        return getattr(store, self.attr)

    def get(self, store: Store, policy_id: str) -> Resource:
        policy = self.table(store).get(policy_id)
        if policy is None:
            raise _err(f"NoSuch{self.error_noun}", f"The {self.noun} does not exist.")
        return policy

    def check_name(self, store: Store, name: str, except_id: str | None = None) -> None:
        if any(p.config.get("Name") == name and p.id != except_id for p in self.table(store).values()):
            raise _err(f"{self.error_noun}AlreadyExists", f"A {self.noun} with this name already exists.")

    def in_use(self, store: Store, policy_id: str) -> bool:
        key = "CachePolicyId" if self.attr == "cache_policies" else "ResponseHeadersPolicyId"
        return any(policy_id in (b.get(key) for b in _behaviors(d.config)) for d in store.distributions.values())


CACHE = _PolicyKind("cache_policies", "cache policy", "CachePolicyConfig", "CachePolicy")
HEADERS = _PolicyKind("headers_policies", "response headers policy", "ResponseHeadersPolicyConfig", "ResponseHeadersPolicy")


def _behaviors(config: dict) -> list[dict]:
    return [config.get("DefaultCacheBehavior") or {}] + _items(config.get("CacheBehaviors"))


def _policy_ops(kind: _PolicyKind, result_key: str, list_key: str, summary_key: str):
    def create(self):
        config = self._get_param(kind.config_key, {})
        with _lock:
            store = _store(self.current_account)
            kind.check_name(store, config.get("Name"))
            policy = Resource(str(uuid.uuid4()), config)
            kind.table(store)[policy.id] = policy
        return ActionResult({
            result_key: _policy_body(kind, policy),
            "ETag": policy.etag,
            "Location": f"https://cloudfront.amazonaws.com/2020-05-31/{list_key}/{policy.id}",
        })

    def get(self):
        policy = kind.get(_store(self.current_account), self._get_param("Id"))
        return ActionResult({result_key: _policy_body(kind, policy), "ETag": policy.etag})

    def get_config(self):
        policy = kind.get(_store(self.current_account), self._get_param("Id"))
        return ActionResult({kind.config_key: policy.config, "ETag": policy.etag})

    def update(self):
        config = self._get_param(kind.config_key, {})
        with _lock:
            store = _store(self.current_account)
            policy = kind.get(store, self._get_param("Id"))
            if policy.managed:
                raise _err("AccessDenied", f"Managed {kind.noun}s cannot be modified.")
            _check_if_match(self._get_param("IfMatch"), policy.etag)
            kind.check_name(store, config.get("Name"), except_id=policy.id)
            policy.replace(config)
        return ActionResult({result_key: _policy_body(kind, policy), "ETag": policy.etag})

    def delete(self):
        with _lock:
            store = _store(self.current_account)
            policy = kind.get(store, self._get_param("Id"))
            if policy.managed:
                raise _err("IllegalDelete", f"Managed {kind.noun}s cannot be deleted.")
            _check_if_match(self._get_param("IfMatch"), policy.etag)
            if kind.in_use(store, policy.id):
                raise _err(f"{kind.error_noun}InUse", f"The {kind.noun} is attached to one or more distributions.")
            del kind.table(store)[policy.id]
        return EmptyResult()

    def list_(self):
        wanted = self._get_param("Type")  # managed | custom | None (all)
        policies = [
            p for p in kind.table(_store(self.current_account)).values()
            if wanted is None or (wanted == "managed") == p.managed
        ]
        items = [{"Type": "managed" if p.managed else "custom", summary_key: _policy_body(kind, p)} for p in policies]
        return ActionResult({f"{kind.error_noun}List": {"MaxItems": 100, "Quantity": len(items), "Items": items}})

    return create, get, get_config, update, delete, list_


def _policy_body(kind: _PolicyKind, policy: Resource) -> dict:
    return {"Id": policy.id, "LastModifiedTime": policy.modified, kind.config_key: policy.config}


# --- origin access controls ---------------------------------------------------------------------


def _oac(store: Store, oac_id: str) -> Resource:
    oac = store.oacs.get(oac_id)
    if oac is None:
        raise _err("NoSuchOriginAccessControl", "The origin access control does not exist.")
    return oac


def _check_oac_name(store: Store, name: str, except_id: str | None = None) -> None:
    if any(o.config.get("Name") == name and o.id != except_id for o in store.oacs.values()):
        raise _err("OriginAccessControlAlreadyExists", "An origin access control with the same name already exists.")


def create_origin_access_control(self):
    config = self._get_param("OriginAccessControlConfig", {})
    with _lock:
        store = _store(self.current_account)
        _check_oac_name(store, config.get("Name"))
        oac = Resource(_new_id(), config)
        store.oacs[oac.id] = oac
    return ActionResult({
        "OriginAccessControl": {"Id": oac.id, "OriginAccessControlConfig": oac.config},
        "ETag": oac.etag,
        "Location": f"https://cloudfront.amazonaws.com/2020-05-31/origin-access-control/{oac.id}",
    })


def get_origin_access_control(self):
    oac = _oac(_store(self.current_account), self._get_param("Id"))
    return ActionResult({"OriginAccessControl": {"Id": oac.id, "OriginAccessControlConfig": oac.config}, "ETag": oac.etag})


def get_origin_access_control_config(self):
    oac = _oac(_store(self.current_account), self._get_param("Id"))
    return ActionResult({"OriginAccessControlConfig": oac.config, "ETag": oac.etag})


def update_origin_access_control(self):
    config = self._get_param("OriginAccessControlConfig", {})
    with _lock:
        store = _store(self.current_account)
        oac = _oac(store, self._get_param("Id"))
        _check_if_match(self._get_param("IfMatch"), oac.etag)
        _check_oac_name(store, config.get("Name"), except_id=oac.id)
        oac.replace(config)
    return ActionResult({"OriginAccessControl": {"Id": oac.id, "OriginAccessControlConfig": oac.config}, "ETag": oac.etag})


def delete_origin_access_control(self):
    with _lock:
        store = _store(self.current_account)
        oac = _oac(store, self._get_param("Id"))
        _check_if_match(self._get_param("IfMatch"), oac.etag)
        used = any(o.get("OriginAccessControlId") == oac.id for d in store.distributions.values() for o in _items(d.config.get("Origins")))
        if used:
            raise _err("OriginAccessControlInUse", "Cannot delete the origin access control because it's in use by one or more distributions.")
        del store.oacs[oac.id]
    return EmptyResult()


def list_origin_access_controls(self):
    items = [{"Id": o.id, **{k: o.config.get(k) for k in ("Name", "SigningProtocol", "SigningBehavior", "OriginAccessControlOriginType")},
              "Description": o.config.get("Description", "")} for o in _store(self.current_account).oacs.values()]
    return ActionResult({"OriginAccessControlList": {"Marker": "", "MaxItems": 100, "IsTruncated": False, "Quantity": len(items), "Items": items}})


# --- functions ----------------------------------------------------------------------------------


def _function(store: Store, name: str) -> Function:
    function = store.functions.get(name)
    if function is None:
        raise _err("NoSuchFunctionExists", "The function does not exist.")
    return function


def _function_summary(function: Function, live: bool = False) -> dict:
    stage = function.live if live else None
    return {
        "Name": function.name,
        "Status": "UNASSOCIATED",
        "FunctionConfig": stage["config"] if stage else function.config,
        "FunctionMetadata": {
            "FunctionARN": function.arn,
            "Stage": "LIVE" if live else "DEVELOPMENT",
            "CreatedTime": function.created,
            "LastModifiedTime": stage["modified"] if stage else function.modified,
        },
    }


def _staged(self, function: Function) -> tuple[dict, bytes, str]:
    """The summary, code and ETag of the stage the request names (default DEVELOPMENT)."""
    if (self._get_param("Stage") or "DEVELOPMENT") == "LIVE":
        if function.live is None:  # AWS: never published, so no LIVE stage
            raise _err("NoSuchFunctionExists", "The function does not exist in the LIVE stage.")
        return _function_summary(function, live=True), function.live["code"], function.live["etag"]
    return _function_summary(function), function.code, function.etag


def create_function(self):
    name = self._get_param("Name")
    with _lock:
        store = _store(self.current_account)
        if name in store.functions:
            raise _err("FunctionAlreadyExists", "A function with the same name already exists.")
        arn = f"arn:aws:cloudfront::{self.current_account}:function/{name}"
        function = Function(name, self._get_param("FunctionConfig", {}), _code(self._get_param("FunctionCode")), arn)
        store.functions[name] = function
    return ActionResult({
        "FunctionSummary": _function_summary(function),
        "Location": f"https://cloudfront.amazonaws.com/2020-05-31/function/{function.arn}",
        "ETag": function.etag,
    })


def _code(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    return (value or "").encode()


def describe_function(self):
    function = _function(_store(self.current_account), self._get_param("Name"))
    summary, _, etag = _staged(self, function)
    return ActionResult({"FunctionSummary": summary, "ETag": etag})


def get_function(self):
    function = _function(_store(self.current_account), self._get_param("Name"))
    _, code, etag = _staged(self, function)
    return ActionResult({"FunctionCode": code, "ETag": etag, "ContentType": "application/octet-stream"})


def update_function(self):
    with _lock:
        function = _function(_store(self.current_account), self._get_param("Name"))
        _check_if_match(self._get_param("IfMatch"), function.etag)
        function.config = self._get_param("FunctionConfig", {})
        function.code = _code(self._get_param("FunctionCode"))
        function.etag, function.modified = _etag(), _now()
    return ActionResult({"FunctionSummary": _function_summary(function), "ETag": function.etag})


def publish_function(self):
    with _lock:
        function = _function(_store(self.current_account), self._get_param("Name"))
        _check_if_match(self._get_param("IfMatch"), function.etag)
        function.live = {"config": copy.deepcopy(function.config), "code": function.code, "etag": _etag(), "modified": _now()}
    return ActionResult({"FunctionSummary": _function_summary(function, live=True)})


def test_function(self):
    # Runs the function's code under Node.js when it is installed; never invents a result.
    function = _function(_store(self.current_account), self._get_param("Name"))
    _check_if_match(self._get_param("IfMatch"), function.etag if self._get_param("Stage") != "LIVE" else (function.live or {}).get("etag"))
    _, code, _ = _staged(self, function)
    node = shutil.which("node")
    if node is None:
        raise _err("UnsupportedOperation", "TestFunction needs Node.js in the emulator, and none is installed.")
    event = self._get_param("EventObject")
    event = event.decode() if isinstance(event, bytes) else event
    harness = code.decode() + "\nconsole.log(JSON.stringify(handler(" + event + ")));\n"
    run = subprocess.run([node, "-e", harness], capture_output=True, text=True, timeout=10)
    result = {
        "FunctionSummary": _function_summary(function, live=self._get_param("Stage") == "LIVE"),
        "ComputeUtilization": "1",
        "FunctionExecutionLogs": [],
        "FunctionErrorMessage": run.stderr.strip()[:500] if run.returncode else "",
        "FunctionOutput": run.stdout.strip() if run.returncode == 0 else "",
    }
    return ActionResult({"TestResult": result})


def list_functions(self):
    stage = self._get_param("Stage")
    functions = _store(self.current_account).functions.values()
    items = [_function_summary(f, live=True) for f in functions if f.live] if stage == "LIVE" else [_function_summary(f) for f in functions]
    return ActionResult({"FunctionList": {"MaxItems": 100, "Quantity": len(items), "Items": items}})


def delete_function(self):
    with _lock:
        store = _store(self.current_account)
        function = _function(store, self._get_param("Name"))
        _check_if_match(self._get_param("IfMatch"), function.etag)
        if any(a.get("FunctionARN") == function.arn for d in store.distributions.values() for b in _behaviors(d.config) for a in _items(b.get("FunctionAssociations"))):
            raise _err("FunctionInUse", "Cannot delete the function because it's associated with one or more cache behaviors.")
        del store.functions[function.name]
    return EmptyResult()


# --- distributions ------------------------------------------------------------------------------


def _normalize_distribution(config: dict) -> dict:
    """The fields AWS fills in on the way in (and only those)."""
    config = copy.deepcopy(config)
    certificate = config.setdefault("ViewerCertificate", {"CloudFrontDefaultCertificate": True})
    if certificate.get("ACMCertificateArn"):
        certificate.update(CloudFrontDefaultCertificate=False, Certificate=certificate["ACMCertificateArn"], CertificateSource="acm")
        certificate.setdefault("SSLSupportMethod", "sni-only")
        certificate.setdefault("MinimumProtocolVersion", "TLSv1.2_2021")
    elif certificate.get("IAMCertificateId"):
        certificate.update(CloudFrontDefaultCertificate=False, Certificate=certificate["IAMCertificateId"], CertificateSource="iam")
    else:
        # The *.cloudfront.net certificate: AWS forces TLSv1 and reports the source as cloudfront.
        certificate.update(CloudFrontDefaultCertificate=True, MinimumProtocolVersion="TLSv1", CertificateSource="cloudfront")
        certificate.pop("SSLSupportMethod", None)
    config.setdefault("Aliases", {"Quantity": 0})
    config.setdefault("Restrictions", {"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}})
    config.setdefault("WebACLId", "")
    config.setdefault("HttpVersion", "http2")
    config.setdefault("PriceClass", "PriceClass_All")
    config.setdefault("DefaultRootObject", "")
    config.setdefault("Comment", "")
    for origin in _items(config.get("Origins")):
        origin.setdefault("OriginPath", "")
        origin.setdefault("CustomHeaders", {"Quantity": 0})
        origin.setdefault("ConnectionAttempts", 3)
        origin.setdefault("ConnectionTimeout", 10)
        origin.setdefault("OriginShield", {"Enabled": False})
        origin.setdefault("OriginAccessControlId", "")
    return config


def _validate_distribution(store: Store, config: dict, own_id: str | None) -> None:
    """The references and uniqueness AWS checks on create and update."""
    aliases = set(_items(config.get("Aliases")))
    for other in store.distributions.values():
        if other.id != own_id and aliases & set(_items(other.config.get("Aliases"))):
            raise _err("CNAMEAlreadyExists", "One or more of the CNAMEs you provided are already associated with a different resource.")
    certificate = config.get("ViewerCertificate") or {}
    if aliases and not (certificate.get("ACMCertificateArn") or certificate.get("IAMCertificateId")):
        raise _err("InvalidViewerCertificate", "To add an alternate domain name (CNAME) to a CloudFront distribution, you must attach a trusted certificate that validates your authorization to use the domain name.")
    arn = certificate.get("ACMCertificateArn")
    if arn and ":us-east-1:" not in arn:
        raise _err("InvalidViewerCertificate", "The specified SSL certificate doesn't exist, isn't in us-east-1 region, isn't valid, or doesn't include a valid certificate chain.")
    for origin in _items(config.get("Origins")):
        if origin.get("OriginAccessControlId") and origin["OriginAccessControlId"] not in store.oacs:
            raise _err("NoSuchOriginAccessControl", "The origin access control does not exist.")
    for behavior in _behaviors(config):
        if behavior.get("CachePolicyId"):
            CACHE.get(store, behavior["CachePolicyId"])
        elif not behavior.get("ForwardedValues"):
            raise _err("InvalidArgument", "The parameter ForwardedValues is required unless a CachePolicyId is set.")
        if behavior.get("ResponseHeadersPolicyId"):
            HEADERS.get(store, behavior["ResponseHeadersPolicyId"])
        for association in _items(behavior.get("FunctionAssociations")):
            name = association.get("FunctionARN", "").rsplit("/", 1)[-1]
            function = store.functions.get(name)
            if function is None or function.live is None:
                raise _err("InvalidArgument", f"The function ARN {association.get('FunctionARN')} must refer to a published (LIVE) function.")


def _distribution_body(account: str, dist: Resource) -> dict:
    return {
        "Id": dist.id,
        "ARN": _distribution_arn(account, dist.id),
        "Status": "Deployed",
        "LastModifiedTime": dist.modified,
        "InProgressInvalidationBatches": 0,
        "DomainName": _domain(dist.id),
        "ActiveTrustedSigners": {"Enabled": False, "Quantity": 0},
        "ActiveTrustedKeyGroups": {"Enabled": False, "Quantity": 0},
        "DistributionConfig": dist.config,
    }


def _distribution_arn(account: str, dist_id: str) -> str:
    return f"arn:aws:cloudfront::{account}:distribution/{dist_id}"


def _domain(dist_id: str) -> str:
    return f"d{dist_id[1:].lower()}.cloudfront.net"


def _distribution(store: Store, dist_id: str) -> Resource:
    dist = store.distributions.get(dist_id)
    if dist is None:
        raise _err("NoSuchDistribution", "The specified distribution does not exist.")
    return dist


def _create_distribution(self, config: dict, tags: list) -> ActionResult:
    with _lock:
        store = _store(self.current_account)
        for other in store.distributions.values():
            if other.config.get("CallerReference") == config.get("CallerReference"):
                raise _err("DistributionAlreadyExists", f"The caller reference that you are using to create a distribution is associated with another distribution. Already exists: {other.id}")
        _validate_distribution(store, config, None)
        dist = Resource(_new_id(), _normalize_distribution(config))
        store.distributions[dist.id] = dist
    arn = _distribution_arn(self.current_account, dist.id)
    if tags:
        cloudfront_backends[self.current_account][self.partition].tagger.tag_resource(arn, tags)
    return ActionResult({
        "Distribution": _distribution_body(self.current_account, dist),
        "ETag": dist.etag,
        "Location": f"https://cloudfront.amazonaws.com/2020-05-31/distribution/{dist.id}",
    })


def create_distribution(self):
    return _create_distribution(self, self._get_param("DistributionConfig", {}), [])


def create_distribution_with_tags(self):
    return _create_distribution(
        self,
        self._get_param("DistributionConfigWithTags.DistributionConfig", {}),
        self._get_param("DistributionConfigWithTags.Tags.Items", []) or [],
    )


def get_distribution(self):
    dist = _distribution(_store(self.current_account), self._get_param("Id"))
    return ActionResult({"Distribution": _distribution_body(self.current_account, dist), "ETag": dist.etag})


def get_distribution_config(self):
    dist = _distribution(_store(self.current_account), self._get_param("Id"))
    return ActionResult({"DistributionConfig": dist.config, "ETag": dist.etag})


def update_distribution(self):
    config = self._get_param("DistributionConfig", {})
    with _lock:
        store = _store(self.current_account)
        dist = _distribution(store, self._get_param("Id"))
        _check_if_match(self._get_param("IfMatch"), dist.etag)
        if config.get("CallerReference") != dist.config.get("CallerReference"):
            raise _err("IllegalUpdate", "The CallerReference of a distribution cannot be changed.")
        _validate_distribution(store, config, dist.id)
        dist.replace(_normalize_distribution(config))
    return ActionResult({"Distribution": _distribution_body(self.current_account, dist), "ETag": dist.etag})


def delete_distribution(self):
    with _lock:
        store = _store(self.current_account)
        dist = _distribution(store, self._get_param("Id"))
        _check_if_match(self._get_param("IfMatch"), dist.etag)
        if dist.config.get("Enabled"):
            raise _err("DistributionNotDisabled", "The distribution you are trying to delete has not been disabled.")
        del store.distributions[dist.id]
    return EmptyResult()


_SUMMARY_FIELDS = (
    "Aliases", "Origins", "OriginGroups", "DefaultCacheBehavior", "CacheBehaviors", "CustomErrorResponses",
    "Comment", "PriceClass", "Enabled", "ViewerCertificate", "Restrictions", "WebACLId", "HttpVersion",
    "IsIPV6Enabled", "Staging",
)


def list_distributions(self):
    items = []
    for dist in _store(self.current_account).distributions.values():
        body = _distribution_body(self.current_account, dist)
        summary = {k: body[k] for k in ("Id", "ARN", "Status", "LastModifiedTime", "DomainName")}
        summary.update({k: dist.config[k] for k in _SUMMARY_FIELDS if k in dist.config})
        summary.setdefault("OriginGroups", {"Quantity": 0})
        summary.setdefault("CacheBehaviors", {"Quantity": 0})
        summary.setdefault("CustomErrorResponses", {"Quantity": 0})
        summary.setdefault("IsIPV6Enabled", False)
        summary.setdefault("Staging", False)
        items.append(summary)
    return ActionResult({"DistributionList": {"Marker": "", "MaxItems": 100, "IsTruncated": False, "Quantity": len(items), "Items": items or None}})


# --- invalidations ------------------------------------------------------------------------------


def create_invalidation(self):
    dist_id = self._get_param("DistributionId")
    paths = self._get_param("InvalidationBatch.Paths.Items", []) or []
    reference = self._get_param("InvalidationBatch.CallerReference")
    with _lock:
        store = _store(self.current_account)
        _distribution(store, dist_id)
        if not paths:
            raise _err("InvalidArgument", "Your request contains one or more invalid invalidation paths.")
        if len(paths) > 3000:
            raise _err("BatchTooLarge", "Invalidation batch specified is too large.")
        invalidation = {
            "Id": _new_id("I"),
            "Status": "Completed",  # AWS's spelling; the SDK waiter matches it exactly
            "CreateTime": _now(),
            "InvalidationBatch": {"Paths": {"Quantity": len(paths), "Items": paths}, "CallerReference": reference},
        }
        store.invalidations.setdefault(dist_id, []).insert(0, invalidation)
    return ActionResult({
        "Invalidation": invalidation,
        "Location": f"https://cloudfront.amazonaws.com/2020-05-31/distribution/{dist_id}/invalidation/{invalidation['Id']}",
    })


def get_invalidation(self):
    dist_id, invalidation_id = self._get_param("DistributionId"), self._get_param("Id")
    store = _store(self.current_account)
    _distribution(store, dist_id)
    for invalidation in store.invalidations.get(dist_id, []):
        if invalidation["Id"] == invalidation_id:
            return ActionResult({"Invalidation": invalidation})
    raise _err("NoSuchInvalidation", "The specified invalidation does not exist.")


def list_invalidations(self):
    dist_id = self._get_param("DistributionId")
    store = _store(self.current_account)
    _distribution(store, dist_id)
    items = [{k: i[k] for k in ("Id", "CreateTime", "Status")} for i in store.invalidations.get(dist_id, [])]
    return ActionResult({"InvalidationList": {"Marker": "", "MaxItems": 100, "IsTruncated": False, "Quantity": len(items), "Items": items or None}})


# --- apply --------------------------------------------------------------------------------------


def apply() -> None:
    for noun in ("cache-policy", "response-headers-policy"):
        urls.url_paths[f"{API}/{noun}$"] = CloudFrontResponse.dispatch
        urls.url_paths[f"{API}/{noun}/(?P<policy_id>[^/]+)$"] = CloudFrontResponse.dispatch
        urls.url_paths[f"{API}/{noun}/(?P<policy_id>[^/]+)/config$"] = CloudFrontResponse.dispatch
    urls.url_paths[f"{API}/function/(?P<function_name>[^/]+)/publish$"] = CloudFrontResponse.dispatch
    urls.url_paths[f"{API}/function/(?P<function_name>[^/]+)/test$"] = CloudFrontResponse.dispatch

    operations = {
        "cache_policy": (CACHE, "CachePolicy", "cache-policy", "CachePolicy"),
        "response_headers_policy": (HEADERS, "ResponseHeadersPolicy", "response-headers-policy", "ResponseHeadersPolicy"),
    }
    for suffix, (kind, result_key, list_key, summary_key) in operations.items():
        create, get, get_config, update, delete, list_ = _policy_ops(kind, result_key, list_key, summary_key)
        plural = "cache_policies" if suffix == "cache_policy" else "response_headers_policies"
        for name, fn in (
            (f"create_{suffix}", create), (f"get_{suffix}", get), (f"get_{suffix}_config", get_config),
            (f"update_{suffix}", update), (f"delete_{suffix}", delete), (f"list_{plural}", list_),
        ):
            setattr(CloudFrontResponse, name, fn)

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
