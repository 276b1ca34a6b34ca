"""CloudFront fidelity: what sitewarden provisions round-trips, and errors carry AWS's codes."""

import copy
import json
import shutil

import pytest
from botocore.exceptions import ClientError

CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
MANAGED_CACHE_POLICIES = {
    CACHING_OPTIMIZED: "Managed-CachingOptimized",
    "4135ea2d-6df8-44a3-9df3-4b5a84be39ad": "Managed-CachingDisabled",
    "b2884449-e4de-46a7-ac36-70bc7f1ddd6d": "Managed-CachingOptimizedForUncompressedObjects",
    "08627262-05a9-4f76-9ded-b50ca2e3a84f": "Managed-Elemental-MediaPackage",
    "83da9c7e-98b4-4e11-a168-04f0df8e2c65": "Managed-UseOriginCacheControlHeaders",
}
SECURITY_HEADERS = "67f7725c-6f97-4210-82d7-5512b31e9d03"
MANAGED_HEADERS_POLICIES = {
    SECURITY_HEADERS: "Managed-SecurityHeadersPolicy",
    "e61eb60c-9c35-4d20-a928-2b84e02af89c": "Managed-CORS-and-SecurityHeadersPolicy",
    "60669652-455b-4ae9-85a4-c4c02393f86c": "Managed-SimpleCORS",
}
# Fields AWS adds to a ViewerCertificate that names an ACM certificate.
CERTIFICATE_ADDED = ("Certificate", "CertificateSource", "CloudFrontDefaultCertificate")
REQUEST_HANDLER = b"function handler(event) { var r = event.request; if (r.uri.endsWith('/')) { r.uri += 'index.html'; } return r; }"


def code_of(err) -> str:
    return err.value.response["Error"]["Code"]


def raises(code: str, call, *args, **kwargs):
    with pytest.raises(ClientError) as err:
        call(*args, **kwargs)
    assert code_of(err) == code, err.value.response["Error"]
    return err


@pytest.fixture
def cf(aws):
    return aws("cloudfront")


@pytest.fixture
def acm(aws):
    return aws("acm", region="us-east-1")


def certificate(acm, domain: str) -> str:
    arn = acm.request_certificate(DomainName=domain, SubjectAlternativeNames=[domain, f"*.{domain}"], ValidationMethod="DNS")["CertificateArn"]
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "ISSUED"
    return arn


def headers_policy_config(name: str) -> dict:
    return {
        "Name": name,
        "Comment": "security headers",
        "SecurityHeadersConfig": {
            "StrictTransportSecurity": {"Override": True, "IncludeSubdomains": True, "Preload": True, "AccessControlMaxAgeSec": 63072000},
            "ContentSecurityPolicy": {"Override": True, "ContentSecurityPolicy": "default-src 'self'"},
            "ContentTypeOptions": {"Override": True},
            "FrameOptions": {"Override": True, "FrameOption": "DENY"},
            "ReferrerPolicy": {"Override": True, "ReferrerPolicy": "strict-origin-when-cross-origin"},
            "XSSProtection": {"Override": True, "Protection": True, "ModeBlock": True},
        },
        "CustomHeadersConfig": {"Quantity": 1, "Items": [{"Header": "Permissions-Policy", "Value": "camera=()", "Override": True}]},
        "RemoveHeadersConfig": {"Quantity": 1, "Items": [{"Header": "Server"}]},
    }


def published_function(cf, name: str) -> str:
    created = cf.create_function(Name=name, FunctionConfig={"Comment": "viewer request", "Runtime": "cloudfront-js-2.0"}, FunctionCode=REQUEST_HANDLER)
    cf.publish_function(Name=name, IfMatch=created["ETag"])
    return created["FunctionSummary"]["FunctionMetadata"]["FunctionARN"]


def secure_config(cf, acm, uid: str) -> dict:
    """The distribution sitewarden writes for a site with a domain."""
    oac = cf.create_origin_access_control(
        OriginAccessControlConfig={"Name": f"oac-{uid}", "Description": "", "SigningProtocol": "sigv4", "SigningBehavior": "always", "OriginAccessControlOriginType": "s3"}
    )["OriginAccessControl"]["Id"]
    policy = cf.create_response_headers_policy(ResponseHeadersPolicyConfig=headers_policy_config(f"headers-{uid}"))["ResponseHeadersPolicy"]["Id"]
    function_arn = published_function(cf, f"fn-{uid}")
    domain = f"{uid}.example.com"
    aliases = [domain, f"www.{domain}"]
    return {
        "CallerReference": f"ref-{uid}",
        "Aliases": {"Quantity": len(aliases), "Items": aliases},
        "DefaultRootObject": "index.html",
        "Origins": {"Quantity": 1, "Items": [{
            "Id": "s3-content",
            "DomainName": f"site-{uid}.s3.eu-west-1.amazonaws.com",
            "OriginPath": "",
            "CustomHeaders": {"Quantity": 0},
            "S3OriginConfig": {"OriginAccessIdentity": "", "OriginReadTimeout": 30},
            "ConnectionAttempts": 3,
            "ConnectionTimeout": 10,
            "OriginShield": {"Enabled": False},
            "OriginAccessControlId": oac,
        }]},
        "OriginGroups": {"Quantity": 0},
        "DefaultCacheBehavior": {
            "TargetOriginId": "s3-content",
            "TrustedSigners": {"Enabled": False, "Quantity": 0},
            "TrustedKeyGroups": {"Enabled": False, "Quantity": 0},
            "ViewerProtocolPolicy": "redirect-to-https",
            "AllowedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"], "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}},
            "SmoothStreaming": False,
            "Compress": True,
            "LambdaFunctionAssociations": {"Quantity": 0},
            "FunctionAssociations": {"Quantity": 1, "Items": [{"FunctionARN": function_arn, "EventType": "viewer-request"}]},
            "FieldLevelEncryptionId": "",
            "CachePolicyId": CACHING_OPTIMIZED,
            "ResponseHeadersPolicyId": policy,
        },
        "CacheBehaviors": {"Quantity": 0},
        "CustomErrorResponses": {"Quantity": 2, "Items": [
            {"ErrorCode": 403, "ResponsePagePath": "/404.html", "ResponseCode": "404", "ErrorCachingMinTTL": 10},
            {"ErrorCode": 404, "ResponsePagePath": "/404.html", "ResponseCode": "404", "ErrorCachingMinTTL": 10},
        ]},
        "Comment": f"sitewarden:{uid}",
        "Logging": {"Enabled": True, "IncludeCookies": False, "Bucket": f"logs-{uid}.s3.amazonaws.com", "Prefix": "cdn/"},
        "PriceClass": "PriceClass_100",
        "Enabled": True,
        "ViewerCertificate": {"ACMCertificateArn": certificate(acm, domain), "SSLSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1.2_2025"},
        "Restrictions": {"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}},
        "WebACLId": "",
        "HttpVersion": "http2and3",
        "IsIPV6Enabled": True,
        "ContinuousDeploymentPolicyId": "",
        "Staging": False,
    }


def create(cf, config, uid):
    return cf.create_distribution_with_tags(
        DistributionConfigWithTags={"DistributionConfig": config, "Tags": {"Items": [{"Key": "sitewarden:site", "Value": uid}]}}
    )


def disable_and_delete(cf, dist_id):
    got = cf.get_distribution_config(Id=dist_id)
    disabled = cf.update_distribution(Id=dist_id, DistributionConfig={**got["DistributionConfig"], "Enabled": False}, IfMatch=got["ETag"])
    cf.delete_distribution(Id=dist_id, IfMatch=disabled["ETag"])


# --- cache policies -----------------------------------------------------------------------------


def test_managed_cache_policies_are_listed_with_their_real_ids_and_are_read_only(cf):
    managed = cf.list_cache_policies(Type="managed")["CachePolicyList"]["Items"]
    by_id = {p["CachePolicy"]["Id"]: p["CachePolicy"]["CachePolicyConfig"] for p in managed}
    assert {i: by_id[i]["Name"] for i in MANAGED_CACHE_POLICIES} == MANAGED_CACHE_POLICIES
    assert all(p["Type"] == "managed" for p in managed)
    optimized = by_id[CACHING_OPTIMIZED]
    assert (optimized["MinTTL"], optimized["DefaultTTL"], optimized["MaxTTL"]) == (1, 86400, 31536000)
    key = optimized["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["EnableAcceptEncodingGzip"] and key["EnableAcceptEncodingBrotli"]
    assert key["QueryStringsConfig"] == {"QueryStringBehavior": "none"} and key["CookiesConfig"] == {"CookieBehavior": "none"}
    disabled = by_id["4135ea2d-6df8-44a3-9df3-4b5a84be39ad"]
    assert (disabled["MinTTL"], disabled["DefaultTTL"], disabled["MaxTTL"]) == (0, 0, 0)
    every = {p["CachePolicy"]["Id"] for p in cf.list_cache_policies()["CachePolicyList"]["Items"]}
    assert MANAGED_CACHE_POLICIES.keys() <= every
    got = cf.get_cache_policy(Id=CACHING_OPTIMIZED)
    raises("AccessDenied", cf.update_cache_policy, Id=CACHING_OPTIMIZED, IfMatch=got["ETag"], CachePolicyConfig=optimized)
    raises("IllegalDelete", cf.delete_cache_policy, Id=CACHING_OPTIMIZED, IfMatch=got["ETag"])


def test_cache_policy_crud_with_etags(cf, uid):
    config = {
        "Name": f"cache-{uid}", "Comment": "c", "DefaultTTL": 60, "MaxTTL": 3600, "MinTTL": 0,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": True, "EnableAcceptEncodingBrotli": True,
            "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": {"Quantity": 1, "Items": ["Origin"]}},
            "CookiesConfig": {"CookieBehavior": "none"},
            "QueryStringsConfig": {"QueryStringBehavior": "none"},
        },
    }
    created = cf.create_cache_policy(CachePolicyConfig=config)
    policy_id, etag = created["CachePolicy"]["Id"], created["ETag"]
    got = cf.get_cache_policy_config(Id=policy_id)
    assert got["CachePolicyConfig"] == config and got["ETag"] == etag
    assert policy_id in {p["CachePolicy"]["Id"] for p in cf.list_cache_policies(Type="custom")["CachePolicyList"]["Items"]}
    raises("CachePolicyAlreadyExists", cf.create_cache_policy, CachePolicyConfig=config)
    raises("InvalidArgument", cf.create_cache_policy, CachePolicyConfig={**config, "Name": f"ttl-{uid}", "MinTTL": 7200})
    raises("InvalidIfMatchVersion", cf.update_cache_policy, Id=policy_id, IfMatch="", CachePolicyConfig=config)
    updated = cf.update_cache_policy(Id=policy_id, IfMatch=etag, CachePolicyConfig={**config, "DefaultTTL": 120})
    assert updated["ETag"] != etag
    got = cf.get_cache_policy(Id=policy_id)
    assert got["CachePolicy"]["CachePolicyConfig"]["DefaultTTL"] == 120 and got["ETag"] == updated["ETag"]
    raises("PreconditionFailed", cf.delete_cache_policy, Id=policy_id, IfMatch=etag)
    cf.delete_cache_policy(Id=policy_id, IfMatch=updated["ETag"])
    raises("NoSuchCachePolicy", cf.get_cache_policy, Id=policy_id)


# --- response headers policies ------------------------------------------------------------------


def test_managed_response_headers_policies_are_listed(cf):
    managed = cf.list_response_headers_policies(Type="managed")["ResponseHeadersPolicyList"]["Items"]
    by_id = {p["ResponseHeadersPolicy"]["Id"]: p["ResponseHeadersPolicy"]["ResponseHeadersPolicyConfig"] for p in managed}
    assert {i: by_id[i]["Name"] for i in MANAGED_HEADERS_POLICIES} == MANAGED_HEADERS_POLICIES
    security = by_id[SECURITY_HEADERS]["SecurityHeadersConfig"]
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] == 31536000
    assert security["FrameOptions"]["FrameOption"] == "SAMEORIGIN"
    got = cf.get_response_headers_policy(Id=SECURITY_HEADERS)
    raises("IllegalDelete", cf.delete_response_headers_policy, Id=SECURITY_HEADERS, IfMatch=got["ETag"])


def test_response_headers_policy_round_trips_in_full(cf, uid):
    config = headers_policy_config(f"rhp-{uid}")
    config.update(
        CorsConfig={
            "AccessControlAllowOrigins": {"Quantity": 1, "Items": [f"https://{uid}.example.com"]},
            "AccessControlAllowHeaders": {"Quantity": 1, "Items": ["*"]},
            "AccessControlAllowMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]},
            "AccessControlAllowCredentials": False,
            "AccessControlExposeHeaders": {"Quantity": 1, "Items": ["ETag"]},
            "AccessControlMaxAgeSec": 600,
            "OriginOverride": True,
        },
        ServerTimingHeadersConfig={"Enabled": True, "SamplingRate": 12.5},
    )
    created = cf.create_response_headers_policy(ResponseHeadersPolicyConfig=config)
    policy_id = created["ResponseHeadersPolicy"]["Id"]
    assert created["ResponseHeadersPolicy"]["ResponseHeadersPolicyConfig"] == config
    got = cf.get_response_headers_policy_config(Id=policy_id)
    assert got["ResponseHeadersPolicyConfig"] == config and got["ETag"] == created["ETag"]
    listed = cf.list_response_headers_policies(Type="custom")["ResponseHeadersPolicyList"]["Items"]
    assert {p["ResponseHeadersPolicy"]["Id"]: p["Type"] for p in listed}[policy_id] == "custom"
    raises("ResponseHeadersPolicyAlreadyExists", cf.create_response_headers_policy, ResponseHeadersPolicyConfig=config)
    raises("InvalidIfMatchVersion", cf.update_response_headers_policy, Id=policy_id, ResponseHeadersPolicyConfig=config, IfMatch="")
    config["SecurityHeadersConfig"]["FrameOptions"]["FrameOption"] = "SAMEORIGIN"
    updated = cf.update_response_headers_policy(Id=policy_id, ResponseHeadersPolicyConfig=config, IfMatch=created["ETag"])
    assert updated["ETag"] != created["ETag"]
    assert cf.get_response_headers_policy(Id=policy_id)["ResponseHeadersPolicy"]["ResponseHeadersPolicyConfig"] == config
    raises("PreconditionFailed", cf.delete_response_headers_policy, Id=policy_id, IfMatch=created["ETag"])
    cf.delete_response_headers_policy(Id=policy_id, IfMatch=updated["ETag"])
    raises("NoSuchResponseHeadersPolicy", cf.get_response_headers_policy, Id=policy_id)


def test_quantities_must_match_items(cf, uid):
    config = headers_policy_config(f"bad-{uid}")
    config["CustomHeadersConfig"]["Quantity"] = 2
    raises("InconsistentQuantities", cf.create_response_headers_policy, ResponseHeadersPolicyConfig=config)


# --- functions ----------------------------------------------------------------------------------


def test_functions_have_a_live_stage_and_changing_etags(cf, uid):
    name = f"fn-{uid}"
    created = cf.create_function(Name=name, FunctionConfig={"Comment": "v1", "Runtime": "cloudfront-js-2.0"}, FunctionCode=REQUEST_HANDLER)
    assert created["FunctionSummary"]["Status"] == "UNPUBLISHED"
    raises("NoSuchFunctionExists", cf.get_function, Name=name, Stage="LIVE")
    raises("NoSuchFunctionExists", cf.describe_function, Name=name, Stage="LIVE")
    assert name not in {f["Name"] for f in cf.list_functions(Stage="LIVE")["FunctionList"].get("Items", [])}
    v2 = {"Name": name, "FunctionConfig": {"Comment": "v2", "Runtime": "cloudfront-js-2.0"}, "FunctionCode": b"function handler(e){var r=e.request; r.uri='/v2'; return r;}"}
    raises("PreconditionFailed", cf.update_function, IfMatch="stale", **v2)
    raises("InvalidIfMatchVersion", cf.publish_function, Name=name, IfMatch="")
    published = cf.publish_function(Name=name, IfMatch=created["ETag"])["FunctionSummary"]
    assert (published["FunctionMetadata"]["Stage"], published["Status"]) == ("LIVE", "UNASSOCIATED")
    updated = cf.update_function(IfMatch=created["ETag"], **v2)
    assert updated["ETag"] != created["ETag"]
    assert cf.describe_function(Name=name)["ETag"] == updated["ETag"]
    # LIVE still serves what was published; DEVELOPMENT has the update.
    assert cf.get_function(Name=name, Stage="LIVE")["FunctionCode"].read() == REQUEST_HANDLER
    assert b"/v2" in cf.get_function(Name=name, Stage="DEVELOPMENT")["FunctionCode"].read()
    assert cf.describe_function(Name=name, Stage="LIVE")["FunctionSummary"]["FunctionConfig"]["Comment"] == "v1"
    live = {f["Name"]: f for f in cf.list_functions(Stage="LIVE")["FunctionList"]["Items"]}
    assert live[name]["FunctionMetadata"]["Stage"] == "LIVE" and live[name]["FunctionConfig"]["Comment"] == "v1"
    raises("PreconditionFailed", cf.delete_function, Name=name, IfMatch=created["ETag"])
    cf.delete_function(Name=name, IfMatch=updated["ETag"])
    raises("NoSuchFunctionExists", cf.describe_function, Name=name)


def test_test_function_runs_the_code_or_says_it_cannot(cf, uid):
    name = f"t-{uid}"
    code = b"function handler(event) { console.log('uri ' + event.request.uri); var r = event.request; if (r.uri.endsWith('/')) { r.uri += 'index.html'; } return r; }"
    created = cf.create_function(Name=name, FunctionConfig={"Comment": "", "Runtime": "cloudfront-js-2.0"}, FunctionCode=code)
    event = {"version": "1.0", "context": {"eventType": "viewer-request"}, "viewer": {"ip": "192.0.2.1"},
             "request": {"method": "GET", "uri": "/docs/", "querystring": {}, "headers": {}, "cookies": {}}}
    call = {"Name": name, "IfMatch": created["ETag"], "EventObject": json.dumps(event).encode()}
    if shutil.which("node") is None:
        raises("UnsupportedOperation", cf.test_function, **call)
        return
    result = cf.test_function(**call)["TestResult"]
    assert json.loads(result["FunctionOutput"])["request"]["uri"] == "/docs/index.html"
    assert result["FunctionExecutionLogs"] == ["uri /docs/"] and result["FunctionErrorMessage"] == ""
    assert result["FunctionSummary"]["Name"] == name
    raises("NoSuchFunctionExists", cf.test_function, **call, Stage="LIVE")
    raises("InvalidArgument", cf.test_function, **{**call, "EventObject": b"not json"})
    broken = cf.update_function(Name=name, IfMatch=created["ETag"], FunctionConfig={"Comment": "", "Runtime": "cloudfront-js-2.0"},
                                FunctionCode=b"function handler(event) { throw new Error('boom'); }")
    failed = cf.test_function(**{**call, "IfMatch": broken["ETag"]})["TestResult"]
    assert "boom" in failed["FunctionErrorMessage"] and failed["FunctionOutput"] == ""


def test_function_limits(cf, uid):
    config = {"Comment": "", "Runtime": "cloudfront-js-2.0"}
    raises("FunctionSizeLimitExceeded", cf.create_function, Name=f"big-{uid}", FunctionConfig=config, FunctionCode=b"//" + b"x" * 10240)
    raises("InvalidArgument", cf.create_function, Name=f"rt-{uid}", FunctionConfig={**config, "Runtime": "nodejs20.x"}, FunctionCode=REQUEST_HANDLER)
    cf.create_function(Name=f"dup-{uid}", FunctionConfig=config, FunctionCode=REQUEST_HANDLER)
    raises("FunctionAlreadyExists", cf.create_function, Name=f"dup-{uid}", FunctionConfig=config, FunctionCode=REQUEST_HANDLER)


# --- distributions ------------------------------------------------------------------------------


def test_secure_distribution_config_reads_back_identical(cf, acm, uid):
    config = secure_config(cf, acm, uid)
    created = create(cf, config, uid)
    dist = created["Distribution"]
    assert dist["Status"] in ("InProgress", "Deployed")
    assert dist["DomainName"].endswith(".cloudfront.net")
    assert dist["ARN"] == f"arn:aws:cloudfront::123456789012:distribution/{dist['Id']}"
    cf.get_waiter("distribution_deployed").wait(Id=dist["Id"], WaiterConfig={"Delay": 1, "MaxAttempts": 3})
    got = cf.get_distribution_config(Id=dist["Id"])
    live = got["DistributionConfig"]
    certificate = live["ViewerCertificate"]
    arn = config["ViewerCertificate"]["ACMCertificateArn"]
    assert tuple(certificate[k] for k in CERTIFICATE_ADDED) == (arn, "acm", False)
    for added in CERTIFICATE_ADDED:
        certificate.pop(added)
    assert live == config  # everything sitewarden wrote comes back as written
    assert not {"ForwardedValues", "MinTTL", "DefaultTTL", "MaxTTL"} & live["DefaultCacheBehavior"].keys()
    assert got["ETag"] == created["ETag"] == cf.get_distribution(Id=dist["Id"])["ETag"]
    full = cf.get_distribution(Id=dist["Id"])["Distribution"]
    assert full["Status"] == "Deployed" and full["DistributionConfig"]["Aliases"] == config["Aliases"]
    # ACM knows the certificate is in use, and keeps it.
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["InUseBy"] == [dist["ARN"]]
    raises("ResourceInUseException", acm.delete_certificate, CertificateArn=arn)


def test_defaults_aws_fills_in_and_the_default_certificate(cf, uid):
    config = {
        "CallerReference": f"min-{uid}",
        "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": f"b-{uid}.s3.us-east-1.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all",
                                 "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}}},
        "CustomErrorResponses": {"Quantity": 1, "Items": [{"ErrorCode": 500}]},
        "Comment": "",
        "Enabled": True,
        "ViewerCertificate": {"CloudFrontDefaultCertificate": True, "MinimumProtocolVersion": "TLSv1.2_2021"},
    }
    live = cf.get_distribution_config(Id=cf.create_distribution(DistributionConfig=config)["Distribution"]["Id"])["DistributionConfig"]
    assert live["ViewerCertificate"] == {
        "CloudFrontDefaultCertificate": True, "SSLSupportMethod": "vip", "MinimumProtocolVersion": "TLSv1", "CertificateSource": "cloudfront",
    }
    behavior = live["DefaultCacheBehavior"]
    assert (behavior["MinTTL"], behavior["DefaultTTL"], behavior["MaxTTL"]) == (0, 86400, 31536000)
    assert behavior["AllowedMethods"]["Items"] == ["HEAD", "GET"] and behavior["Compress"] is False
    assert behavior["FunctionAssociations"] == {"Quantity": 0}
    assert live["Origins"]["Items"][0]["OriginAccessControlId"] == "" and live["Origins"]["Items"][0]["ConnectionAttempts"] == 3
    assert live["CustomErrorResponses"]["Items"][0]["ErrorCachingMinTTL"] == 10
    assert (live["HttpVersion"], live["PriceClass"], live["Aliases"], live["Staging"]) == ("http2", "PriceClass_All", {"Quantity": 0}, False)
    assert live["Logging"] == {"Enabled": False, "IncludeCookies": False, "Bucket": "", "Prefix": ""}


def test_distribution_etags_if_match_and_deletes(cf, acm, uid):
    config = secure_config(cf, acm, uid)
    created = create(cf, config, uid)
    dist_id, etag = created["Distribution"]["Id"], created["ETag"]
    raises("InvalidIfMatchVersion", cf.update_distribution, Id=dist_id, DistributionConfig=config, IfMatch="")
    raises("PreconditionFailed", cf.update_distribution, Id=dist_id, DistributionConfig=config, IfMatch="E0000000000000")
    raises("IllegalUpdate", cf.update_distribution, Id=dist_id, DistributionConfig={**config, "CallerReference": "other"}, IfMatch=etag)
    lowered = copy.deepcopy(config)
    lowered["ViewerCertificate"]["MinimumProtocolVersion"] = "TLSv1.2_2021"
    updated = cf.update_distribution(Id=dist_id, DistributionConfig=lowered, IfMatch=etag)
    assert updated["ETag"] != etag
    got = cf.get_distribution_config(Id=dist_id)
    assert got["DistributionConfig"]["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021" and got["ETag"] == updated["ETag"]
    raises("InvalidIfMatchVersion", cf.delete_distribution, Id=dist_id, IfMatch="")
    raises("DistributionNotDisabled", cf.delete_distribution, Id=dist_id, IfMatch=updated["ETag"])
    # What the distribution uses cannot go first.
    behavior = config["DefaultCacheBehavior"]
    headers_id = behavior["ResponseHeadersPolicyId"]
    headers_etag = cf.get_response_headers_policy(Id=headers_id)["ETag"]
    raises("ResponseHeadersPolicyInUse", cf.delete_response_headers_policy, Id=headers_id, IfMatch=headers_etag)
    oac_id = config["Origins"]["Items"][0]["OriginAccessControlId"]
    raises("OriginAccessControlInUse", cf.delete_origin_access_control, Id=oac_id, IfMatch=cf.get_origin_access_control(Id=oac_id)["ETag"])
    function = cf.describe_function(Name=f"fn-{uid}")
    assert function["FunctionSummary"]["Status"] == "DEPLOYED"
    raises("FunctionInUse", cf.delete_function, Name=f"fn-{uid}", IfMatch=function["ETag"])
    disabled = cf.update_distribution(Id=dist_id, DistributionConfig={**lowered, "Enabled": False}, IfMatch=updated["ETag"])
    raises("PreconditionFailed", cf.delete_distribution, Id=dist_id, IfMatch=updated["ETag"])
    cf.delete_distribution(Id=dist_id, IfMatch=disabled["ETag"])
    raises("NoSuchDistribution", cf.get_distribution, Id=dist_id)
    cf.delete_response_headers_policy(Id=headers_id, IfMatch=headers_etag)
    cf.delete_function(Name=f"fn-{uid}", IfMatch=function["ETag"])
    cf.delete_origin_access_control(Id=oac_id, IfMatch=cf.get_origin_access_control(Id=oac_id)["ETag"])


def test_cache_policy_in_use(cf, acm, uid):
    config = secure_config(cf, acm, uid)
    policy = cf.create_cache_policy(CachePolicyConfig={
        "Name": f"used-{uid}", "DefaultTTL": 60, "MaxTTL": 60, "MinTTL": 0,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": False, "HeadersConfig": {"HeaderBehavior": "none"},
            "CookiesConfig": {"CookieBehavior": "none"}, "QueryStringsConfig": {"QueryStringBehavior": "none"},
        },
    })
    config["DefaultCacheBehavior"]["CachePolicyId"] = policy["CachePolicy"]["Id"]
    create(cf, config, uid)
    raises("CachePolicyInUse", cf.delete_cache_policy, Id=policy["CachePolicy"]["Id"], IfMatch=policy["ETag"])


def test_aliases_names_references_and_certificates_are_checked(cf, acm, uid):
    config = secure_config(cf, acm, uid)
    create(cf, config, uid)
    raises("DistributionAlreadyExists", create, cf, config, uid)
    raises("CNAMEAlreadyExists", create, cf, {**config, "CallerReference": f"other-{uid}"}, uid)
    raises("OriginAccessControlAlreadyExists", cf.create_origin_access_control, OriginAccessControlConfig={
        "Name": f"oac-{uid}", "SigningProtocol": "sigv4", "SigningBehavior": "always", "OriginAccessControlOriginType": "s3"})

    def variant(change, **top):
        bad = copy.deepcopy(config)
        bad.update({"CallerReference": f"v-{uid}", "Aliases": {"Quantity": 0}, "ViewerCertificate": {"CloudFrontDefaultCertificate": True}, **top})
        change(bad)
        return bad

    unpublished = cf.create_function(Name=f"draft-{uid}", FunctionConfig={"Comment": "", "Runtime": "cloudfront-js-2.0"}, FunctionCode=REQUEST_HANDLER)
    draft_arn = unpublished["FunctionSummary"]["FunctionMetadata"]["FunctionARN"]
    cases = {
        "InvalidArgument": lambda c: c["DefaultCacheBehavior"]["FunctionAssociations"]["Items"][0].update(FunctionARN=draft_arn),
        "NoSuchFunctionExists": lambda c: c["DefaultCacheBehavior"]["FunctionAssociations"]["Items"][0].update(FunctionARN=draft_arn + "x"),
        "NoSuchCachePolicy": lambda c: c["DefaultCacheBehavior"].update(CachePolicyId="00000000-0000-0000-0000-000000000000"),
        "NoSuchResponseHeadersPolicy": lambda c: c["DefaultCacheBehavior"].update(ResponseHeadersPolicyId="00000000-0000-0000-0000-000000000000"),
        "NoSuchOriginAccessControl": lambda c: c["Origins"]["Items"][0].update(OriginAccessControlId="E000000000000X"),
        "NoSuchOrigin": lambda c: c["DefaultCacheBehavior"].update(TargetOriginId="missing"),
        "InconsistentQuantities": lambda c: c["CustomErrorResponses"].update(Quantity=1),
        "InvalidDefaultRootObject": lambda c: c.update(DefaultRootObject="/index.html"),
    }
    for code, change in cases.items():
        raises(code, create, cf, variant(change), uid)
    # Aliases need an issued us-east-1 certificate that covers them.
    other = certificate(acm, f"other-{uid}.example.com")
    for arn in (other, other.replace("us-east-1", "eu-west-1"), other[:-4] + "0000"):
        bad = variant(lambda c: None, Aliases={"Quantity": 1, "Items": [f"cdn-{uid}.example.com"]})
        bad["ViewerCertificate"] = {"ACMCertificateArn": arn, "SSLSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1.2_2021"}
        raises("InvalidViewerCertificate", create, cf, bad, uid)
    raises("InvalidViewerCertificate", create, cf, variant(lambda c: None, Aliases={"Quantity": 1, "Items": [f"x.{uid}.example.com"]}), uid)


def test_oac_config_and_updates(cf, uid):
    config = {"Name": f"o-{uid}", "Description": "d", "SigningProtocol": "sigv4", "SigningBehavior": "always", "OriginAccessControlOriginType": "s3"}
    created = cf.create_origin_access_control(OriginAccessControlConfig=config)
    oac_id = created["OriginAccessControl"]["Id"]
    got = cf.get_origin_access_control_config(Id=oac_id)
    assert got["OriginAccessControlConfig"] == config and got["ETag"] == created["ETag"]
    assert cf.get_origin_access_control(Id=oac_id)["OriginAccessControl"] == {"Id": oac_id, "OriginAccessControlConfig": config}
    raises("InvalidIfMatchVersion", cf.update_origin_access_control, Id=oac_id, IfMatch="", OriginAccessControlConfig=config)
    updated = cf.update_origin_access_control(Id=oac_id, IfMatch=got["ETag"], OriginAccessControlConfig={**config, "SigningBehavior": "no-override"})
    assert updated["ETag"] != got["ETag"]
    listed = {o["Id"]: o for o in cf.list_origin_access_controls()["OriginAccessControlList"]["Items"]}
    assert listed[oac_id] == {"Id": oac_id, **config, "SigningBehavior": "no-override"}
    raises("PreconditionFailed", cf.delete_origin_access_control, Id=oac_id, IfMatch=got["ETag"])
    cf.delete_origin_access_control(Id=oac_id, IfMatch=updated["ETag"])
    raises("NoSuchOriginAccessControl", cf.get_origin_access_control_config, Id=oac_id)


def test_list_distributions_and_tags_find_the_site(cf, acm, uid):
    config = secure_config(cf, acm, uid)
    dist = create(cf, config, uid)["Distribution"]
    summaries = []
    pages = cf.get_paginator("list_distributions").paginate(PaginationConfig={"PageSize": 1})
    for page in pages:
        assert page["DistributionList"]["Quantity"] <= 1
        summaries += page["DistributionList"].get("Items", [])
    summary = {s["Id"]: s for s in summaries}[dist["Id"]]
    assert (summary["ARN"], summary["DomainName"], summary["Status"]) == (dist["ARN"], dist["DomainName"], "Deployed")
    assert (summary["Comment"], summary["Aliases"], summary["Origins"]) == (config["Comment"], config["Aliases"], config["Origins"])
    assert summary["ETag"] == cf.get_distribution(Id=dist["Id"])["ETag"]
    assert cf.list_tags_for_resource(Resource=dist["ARN"])["Tags"]["Items"] == [{"Key": "sitewarden:site", "Value": uid}]
    cf.tag_resource(Resource=dist["ARN"], Tags={"Items": [{"Key": "team", "Value": "web"}]})
    cf.untag_resource(Resource=dist["ARN"], TagKeys={"Items": ["sitewarden:site"]})
    assert cf.list_tags_for_resource(Resource=dist["ARN"])["Tags"]["Items"] == [{"Key": "team", "Value": "web"}]
    other = "0" if dist["ARN"][-1] != "0" else "1"  # an id that differs in its last character
    raises("NoSuchResource", cf.list_tags_for_resource, Resource=dist["ARN"][:-1] + other)
    raises("InvalidArgument", cf.tag_resource, Resource="not-an-arn", Tags={"Items": []})
    tagging = {r["ResourceARN"]: r["Tags"] for r in _aws_tagging(cf)}
    assert tagging[dist["ARN"]] == [{"Key": "team", "Value": "web"}]
    disable_and_delete(cf, dist["Id"])
    raises("NoSuchResource", cf.list_tags_for_resource, Resource=dist["ARN"])


def test_a_tagged_distribution_reports_in_progress_for_that_many_reads(cf, acm, uid):
    dist = create(cf, secure_config(cf, acm, uid), uid)["Distribution"]
    assert cf.get_distribution(Id=dist["Id"])["Distribution"]["Status"] == "Deployed"
    cf.tag_resource(Resource=dist["ARN"], Tags={"Items": [{"Key": "sitewarden-emulator:in-progress-reads", "Value": "2"}]})
    statuses = [cf.get_distribution(Id=dist["Id"])["Distribution"]["Status"] for _ in range(3)]
    assert statuses == ["InProgress", "InProgress", "Deployed"]
    assert cf.list_tags_for_resource(Resource=dist["ARN"])["Tags"]["Items"] == [{"Key": "sitewarden:site", "Value": uid}]
    disable_and_delete(cf, dist["Id"])


def _aws_tagging(cf):
    import boto3

    tagging = boto3.client("resourcegroupstaggingapi", region_name="us-east-1", endpoint_url=cf.meta.endpoint_url,
                           aws_access_key_id="testing", aws_secret_access_key="testing")
    return tagging.get_resources(ResourceTypeFilters=["cloudfront:distribution"])["ResourceTagMappingList"]


# --- invalidations ------------------------------------------------------------------------------


def test_invalidations_complete_with_aws_status(cf, acm, uid):
    dist = create(cf, secure_config(cf, acm, uid), uid)["Distribution"]
    paths = ["/", "/docs/", "/a%20b/", "/caf%C3%A9", "/café & co/?x=<1>", "/img/*"]
    batch = {"Paths": {"Quantity": len(paths), "Items": paths}, "CallerReference": uid}
    created = cf.create_invalidation(DistributionId=dist["Id"], InvalidationBatch=batch)
    invalidation = created["Invalidation"]
    assert invalidation["Status"] == "Completed"
    assert created["Location"].endswith(f"/distribution/{dist['Id']}/invalidation/{invalidation['Id']}")
    got = cf.get_invalidation(DistributionId=dist["Id"], Id=invalidation["Id"])["Invalidation"]
    assert got["InvalidationBatch"] == batch
    cf.get_waiter("invalidation_completed").wait(DistributionId=dist["Id"], Id=invalidation["Id"], WaiterConfig={"Delay": 1, "MaxAttempts": 2})
    # The same CallerReference and batch is the same invalidation; a different batch is refused.
    assert cf.create_invalidation(DistributionId=dist["Id"], InvalidationBatch=batch)["Invalidation"]["Id"] == invalidation["Id"]
    raises("InvalidationBatchAlreadyExists", cf.create_invalidation, DistributionId=dist["Id"],
           InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/x"]}, "CallerReference": uid})
    second = cf.create_invalidation(DistributionId=dist["Id"], InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/x"]}, "CallerReference": f"2-{uid}"})
    listed = cf.list_invalidations(DistributionId=dist["Id"])["InvalidationList"]
    assert [i["Id"] for i in listed["Items"]] == [second["Invalidation"]["Id"], invalidation["Id"]]
    assert all(i["Status"] == "Completed" for i in listed["Items"])
    raises("BatchTooLarge", cf.create_invalidation, DistributionId=dist["Id"],
           InvalidationBatch={"Paths": {"Quantity": 3001, "Items": [f"/{i}" for i in range(3001)]}, "CallerReference": f"big-{uid}"})
    raises("InvalidArgument", cf.create_invalidation, DistributionId=dist["Id"], InvalidationBatch={"Paths": {"Quantity": 0}, "CallerReference": f"none-{uid}"})
    raises("NoSuchInvalidation", cf.get_invalidation, DistributionId=dist["Id"], Id="I0000000000000")
    raises("NoSuchDistribution", cf.list_invalidations, DistributionId="E0000000000000")
