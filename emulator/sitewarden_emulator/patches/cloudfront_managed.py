"""The AWS managed CloudFront policies: the ids and configurations AWS publishes for them.

Every account sees these; they cannot be updated (AccessDenied) or deleted (IllegalDelete). Settings
follow AWS's "Use managed cache policies" and "Use managed response headers policies" pages;
comments are AWS's short descriptions as far as they are known here.
"""

from __future__ import annotations

from typing import Any

_ALL = ("all", [])
_NONE = ("none", [])


def _listed(behavior_key: str, list_key: str, spec: tuple[str, list[str]]) -> dict:
    behavior, items = spec
    out: dict[str, Any] = {behavior_key: behavior}
    if items:
        out[list_key] = {"Quantity": len(items), "Items": items}
    return out


def _cache_policy(name: str, comment: str, ttls: tuple[int, int, int], gzip: bool, brotli: bool,
                  headers=_NONE, cookies=_NONE, query_strings=_NONE) -> dict:
    min_ttl, default_ttl, max_ttl = ttls
    return {
        "Comment": comment,
        "Name": f"Managed-{name}",
        "DefaultTTL": default_ttl,
        "MaxTTL": max_ttl,
        "MinTTL": min_ttl,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": gzip,
            "EnableAcceptEncodingBrotli": brotli,
            "HeadersConfig": _listed("HeaderBehavior", "Headers", headers),
            "CookiesConfig": _listed("CookieBehavior", "Cookies", cookies),
            "QueryStringsConfig": _listed("QueryStringBehavior", "QueryStrings", query_strings),
        },
    }


_ORIGIN_CACHE_CONTROL_HEADERS = ("whitelist", ["host", "origin", "x-http-method-override", "x-http-method", "x-method-override"])
_YEAR = 31536000

CACHE_POLICIES = {
    "658327ea-f89d-4fab-a63d-7e88639e58f6": _cache_policy(
        "CachingOptimized", "Policy with caching enabled. Supports Gzip and Brotli compression.", (1, 86400, _YEAR), True, True),
    "4135ea2d-6df8-44a3-9df3-4b5a84be39ad": _cache_policy("CachingDisabled", "Policy with caching disabled", (0, 0, 0), False, False),
    "b2884449-e4de-46a7-ac36-70bc7f1ddd6d": _cache_policy(
        "CachingOptimizedForUncompressedObjects", "Default policy when compression is disabled", (1, 86400, _YEAR), False, False),
    "08627262-05a9-4f76-9ded-b50ca2e3a84f": _cache_policy(
        "Elemental-MediaPackage", "Policy for Elemental MediaPackage Origin", (0, 86400, _YEAR), True, False,
        headers=("whitelist", ["origin"]), query_strings=("whitelist", ["aws.manifestfilter", "start", "end", "m"])),
    "2e54312d-136d-493c-8eb9-b001f22f67d2": _cache_policy(
        "Amplify", "Policy for Amplify Origin", (2, 2, 600), True, True,
        headers=("whitelist", ["Authorization", "CloudFront-Viewer-Country", "Host"]), cookies=_ALL, query_strings=_ALL),
    "83da9c7e-98b4-4e11-a168-04f0df8e2c65": _cache_policy(
        "UseOriginCacheControlHeaders",
        "Policy for origins that return Cache-Control headers. Query strings are not included in the cache key.",
        (0, 0, _YEAR), True, True, headers=_ORIGIN_CACHE_CONTROL_HEADERS, cookies=_ALL),
    "4cc15a8a-d715-48a4-82b8-cc0b614638fe": _cache_policy(
        "UseOriginCacheControlHeaders-QueryStrings",
        "Policy for origins that return Cache-Control headers and serve different content based on values present in the query string.",
        (0, 0, _YEAR), True, True, headers=_ORIGIN_CACHE_CONTROL_HEADERS, cookies=_ALL, query_strings=_ALL),
}

_SECURITY_HEADERS = {
    "XSSProtection": {"Override": False, "Protection": True, "ModeBlock": True},
    "FrameOptions": {"Override": False, "FrameOption": "SAMEORIGIN"},
    "ReferrerPolicy": {"Override": False, "ReferrerPolicy": "strict-origin-when-cross-origin"},
    "ContentTypeOptions": {"Override": True},
    "StrictTransportSecurity": {"Override": False, "IncludeSubdomains": False, "Preload": False, "AccessControlMaxAgeSec": _YEAR},
}


def _cors(preflight: bool) -> dict:
    config = {
        "AccessControlAllowOrigins": {"Quantity": 1, "Items": ["*"]},
        "AccessControlAllowHeaders": {"Quantity": 1, "Items": ["*"]},
        "AccessControlAllowMethods": {"Quantity": 1, "Items": ["ALL"]},
        "AccessControlAllowCredentials": False,
        "OriginOverride": False,
    }
    if preflight:
        config["AccessControlExposeHeaders"] = {"Quantity": 1, "Items": ["*"]}
    return config


def _headers_policy(name: str, comment: str, cors: dict | None = None, security: bool = False) -> dict:
    config: dict[str, Any] = {"Comment": comment, "Name": f"Managed-{name}"}
    if cors:
        config["CorsConfig"] = cors
    if security:
        config["SecurityHeadersConfig"] = _SECURITY_HEADERS
    return config


HEADERS_POLICIES = {
    "67f7725c-6f97-4210-82d7-5512b31e9d03": _headers_policy(
        "SecurityHeadersPolicy", "Adds a set of security headers to every response", security=True),
    "60669652-455b-4ae9-85a4-c4c02393f86c": _headers_policy(
        "SimpleCORS", "Allows all origins for simple CORS requests", cors=_cors(False)),
    "e61eb60c-9c35-4d20-a928-2b84e02af89c": _headers_policy(
        "CORS-and-SecurityHeadersPolicy", "Allows all origins for simple CORS requests and adds security headers",
        cors=_cors(False), security=True),
    "5cc3b908-e619-4b99-88e5-2cf7f45965bd": _headers_policy(
        "CORS-With-Preflight", "Allows all origins for CORS requests, including preflight requests", cors=_cors(True)),
    "eaab4381-ed33-4a86-88ca-d9558dc6cd63": _headers_policy(
        "CORS-with-preflight-and-SecurityHeadersPolicy",
        "Allows all origins for CORS requests, including preflight requests, and adds security headers",
        cors=_cors(True), security=True),
}
