"""CloudFront fidelity: what sitewarden provisions round-trips, and errors carry AWS's codes."""

import json

import pytest
from botocore.exceptions import ClientError

CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
SECURITY_HEADERS = "67f7725c-6f97-4210-82d7-5512b31e9d03"
ACM_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"


def code_of(err) -> str:
    return err.value.response["Error"]["Code"]


@pytest.fixture
def cf(aws):
    return aws("cloudfront")


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
    created = cf.create_function(
        Name=name,
        FunctionConfig={"Comment": "viewer request", "Runtime": "cloudfront-js-2.0"},
        FunctionCode=b"function handler(event) { var r = event.request; if (r.uri.endsWith('/')) { r.uri += 'index.html'; } return r; }",
    )
    cf.publish_function(Name=name, IfMatch=created["ETag"])
    return created["FunctionSummary"]["FunctionMetadata"]["FunctionARN"]


def secure_config(cf, uid: str, aliases=None) -> dict:
    oac = cf.create_origin_access_control(
        OriginAccessControlConfig={"Name": f"oac-{uid}", "SigningProtocol": "sigv4", "SigningBehavior": "always", "OriginAccessControlOriginType": "s3"}
    )["OriginAccessControl"]["Id"]
    policy = cf.create_response_headers_policy(ResponseHeadersPolicyConfig=headers_policy_config(f"headers-{uid}"))["ResponseHeadersPolicy"]["Id"]
    function_arn = published_function(cf, f"fn-{uid}")
    aliases = aliases or [f"docs-{uid}.example.com"]
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
        "Logging": {"Enabled": False, "IncludeCookies": False, "Bucket": "", "Prefix": ""},
        "PriceClass": "PriceClass_All",
        "Enabled": True,
        "ViewerCertificate": {"ACMCertificateArn": ACM_ARN, "SSLSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1.2_2025"},
        "Restrictions": {"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}},
        "WebACLId": "",
        "HttpVersion": "http2and3",
        "IsIPV6Enabled": True,
        "Staging": False,
    }


def create(cf, config, uid):
    return cf.create_distribution_with_tags(
        DistributionConfigWithTags={"DistributionConfig": config, "Tags": {"Items": [{"Key": "sitewarden:site", "Value": uid}]}}
    )


def test_managed_cache_policies_are_listed_with_their_real_ids(cf):
    managed = cf.list_cache_policies(Type="managed")["CachePolicyList"]["Items"]
    ids = {p["CachePolicy"]["Id"]: p for p in managed}
    assert {CACHING_OPTIMIZED, CACHING_DISABLED} <= ids.keys()
    optimized = ids[CACHING_OPTIMIZED]["CachePolicy"]["CachePolicyConfig"]
    assert optimized["Name"] == "Managed-CachingOptimized"
    assert optimized["DefaultTTL"] == 86400
    assert optimized["ParametersInCacheKeyAndForwardedToOrigin"]["QueryStringsConfig"]["QueryStringBehavior"] == "none"
    assert all(p["Type"] == "managed" for p in managed)
    with pytest.raises(ClientError) as err:
        cf.delete_cache_policy(Id=CACHING_OPTIMIZED, IfMatch="x")
    assert code_of(err) == "IllegalDelete"


def test_cache_policy_crud_with_etags(cf, uid):
    config = {
        "Name": f"cache-{uid}", "Comment": "c", "DefaultTTL": 60, "MaxTTL": 3600, "MinTTL": 0,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": True, "EnableAcceptEncodingBrotli": True,
            "HeadersConfig": {"HeaderBehavior": "none"}, "CookiesConfig": {"CookieBehavior": "none"},
            "QueryStringsConfig": {"QueryStringBehavior": "none"},
        },
    }
    created = cf.create_cache_policy(CachePolicyConfig=config)
    policy_id, etag = created["CachePolicy"]["Id"], created["ETag"]
    assert cf.get_cache_policy_config(Id=policy_id)["CachePolicyConfig"] == config
    with pytest.raises(ClientError) as err:
        cf.create_cache_policy(CachePolicyConfig=config)
    assert code_of(err) == "CachePolicyAlreadyExists"
    updated = cf.update_cache_policy(Id=policy_id, IfMatch=etag, CachePolicyConfig={**config, "DefaultTTL": 120})
    assert updated["ETag"] != etag
    assert cf.get_cache_policy(Id=policy_id)["CachePolicy"]["CachePolicyConfig"]["DefaultTTL"] == 120
    with pytest.raises(ClientError) as err:
        cf.delete_cache_policy(Id=policy_id, IfMatch=etag)
    assert code_of(err) == "PreconditionFailed"
    cf.delete_cache_policy(Id=policy_id, IfMatch=updated["ETag"])
    with pytest.raises(ClientError) as err:
        cf.get_cache_policy(Id=policy_id)
    assert code_of(err) == "NoSuchCachePolicy"


def test_response_headers_policy_round_trips_in_full(cf, uid):
    config = headers_policy_config(f"rhp-{uid}")
    created = cf.create_response_headers_policy(ResponseHeadersPolicyConfig=config)
    policy_id = created["ResponseHeadersPolicy"]["Id"]
    assert cf.get_response_headers_policy_config(Id=policy_id)["ResponseHeadersPolicyConfig"] == config
    listed = cf.list_response_headers_policies(Type="custom")["ResponseHeadersPolicyList"]["Items"]
    assert policy_id in {p["ResponseHeadersPolicy"]["Id"] for p in listed}
    managed = cf.list_response_headers_policies(Type="managed")["ResponseHeadersPolicyList"]["Items"]
    assert SECURITY_HEADERS in {p["ResponseHeadersPolicy"]["Id"] for p in managed}
    with pytest.raises(ClientError) as err:
        cf.create_response_headers_policy(ResponseHeadersPolicyConfig=config)
    assert code_of(err) == "ResponseHeadersPolicyAlreadyExists"
    with pytest.raises(ClientError) as err:
        cf.update_response_headers_policy(Id=policy_id, ResponseHeadersPolicyConfig=config, IfMatch="")
    assert code_of(err) in ("InvalidIfMatchVersion", "PreconditionFailed")


def test_functions_have_a_live_stage_and_changing_etags(cf, uid):
    name = f"fn-{uid}"
    created = cf.create_function(Name=name, FunctionConfig={"Comment": "v1", "Runtime": "cloudfront-js-2.0"}, FunctionCode=b"function handler(e){return e.request;}")
    with pytest.raises(ClientError) as err:
        cf.get_function(Name=name, Stage="LIVE")
    assert code_of(err) == "NoSuchFunctionExists"
    with pytest.raises(ClientError) as err:
        cf.update_function(Name=name, IfMatch="stale", FunctionConfig={"Comment": "v2", "Runtime": "cloudfront-js-2.0"}, FunctionCode=b"x")
    assert code_of(err) == "PreconditionFailed"
    published = cf.publish_function(Name=name, IfMatch=created["ETag"])
    assert published["FunctionSummary"]["FunctionMetadata"]["Stage"] == "LIVE"
    updated = cf.update_function(
        Name=name, IfMatch=created["ETag"],
        FunctionConfig={"Comment": "v2", "Runtime": "cloudfront-js-2.0"},
        FunctionCode=b"function handler(e){var r=e.request; r.uri='/v2'; return r;}",
    )
    assert updated["ETag"] != created["ETag"]
    # LIVE still serves what was published; DEVELOPMENT has the update.
    assert cf.get_function(Name=name, Stage="LIVE")["FunctionCode"].read() == b"function handler(e){return e.request;}"
    assert b"/v2" in cf.get_function(Name=name, Stage="DEVELOPMENT")["FunctionCode"].read()
    assert cf.describe_function(Name=name, Stage="LIVE")["FunctionSummary"]["FunctionConfig"]["Comment"] == "v1"
    event = {"version": "1.0", "context": {"eventType": "viewer-request"}, "viewer": {"ip": "192.0.2.1"},
             "request": {"method": "GET", "uri": "/docs/", "querystring": {}, "headers": {}, "cookies": {}}}
    result = cf.test_function(Name=name, IfMatch=updated["ETag"], EventObject=json.dumps(event).encode())["TestResult"]
    assert json.loads(result["FunctionOutput"])["uri"] == "/v2"


def test_secure_distribution_config_reads_back_identical(cf, uid):
    config = secure_config(cf, uid)
    created = create(cf, config, uid)
    dist = created["Distribution"]
    assert dist["Status"] == "Deployed"
    assert dist["DomainName"].endswith(".cloudfront.net")
    got = cf.get_distribution_config(Id=dist["Id"])
    live = got["DistributionConfig"]
    # AWS adds the certificate's source; everything sitewarden wrote comes back as written.
    certificate = live["ViewerCertificate"]
    assert (certificate["Certificate"], certificate["CertificateSource"], certificate["CloudFrontDefaultCertificate"]) == (ACM_ARN, "acm", False)
    for added in ("Certificate", "CertificateSource", "CloudFrontDefaultCertificate"):
        certificate.pop(added)
    assert live == config
    assert "ForwardedValues" not in live["DefaultCacheBehavior"] and "MinTTL" not in live["DefaultCacheBehavior"]
    assert got["ETag"] == created["ETag"]
    tags = cf.list_tags_for_resource(Resource=dist["ARN"])["Tags"]["Items"]
    assert tags == [{"Key": "sitewarden:site", "Value": uid}]
    summary = [d for d in cf.list_distributions()["DistributionList"]["Items"] if d["Id"] == dist["Id"]][0]
    assert summary["Comment"] == f"sitewarden:{uid}"
    assert summary["Origins"]["Items"][0]["OriginAccessControlId"] == config["Origins"]["Items"][0]["OriginAccessControlId"]


def test_distribution_etags_if_match_and_deletes(cf, uid):
    config = secure_config(cf, uid)
    created = create(cf, config, uid)
    dist_id, etag = created["Distribution"]["Id"], created["ETag"]
    with pytest.raises(ClientError) as err:
        cf.update_distribution(Id=dist_id, DistributionConfig=config, IfMatch="")
    assert code_of(err) == "InvalidIfMatchVersion"
    with pytest.raises(ClientError) as err:
        cf.update_distribution(Id=dist_id, DistributionConfig=config, IfMatch="E0000000000000")
    assert code_of(err) == "PreconditionFailed"
    lowered = json.loads(json.dumps(config))
    lowered["ViewerCertificate"]["MinimumProtocolVersion"] = "TLSv1.2_2021"
    updated = cf.update_distribution(Id=dist_id, DistributionConfig=lowered, IfMatch=etag)
    assert updated["ETag"] != etag
    assert cf.get_distribution_config(Id=dist_id)["DistributionConfig"]["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    with pytest.raises(ClientError) as err:
        cf.delete_distribution(Id=dist_id, IfMatch=updated["ETag"])
    assert code_of(err) == "DistributionNotDisabled"
    # Policies, OAC and function in use cannot go first.
    headers_id = config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"]
    headers_etag = cf.get_response_headers_policy(Id=headers_id)["ETag"]
    with pytest.raises(ClientError) as err:
        cf.delete_response_headers_policy(Id=headers_id, IfMatch=headers_etag)
    assert code_of(err) == "ResponseHeadersPolicyInUse"
    oac_id = config["Origins"]["Items"][0]["OriginAccessControlId"]
    with pytest.raises(ClientError) as err:
        cf.delete_origin_access_control(Id=oac_id, IfMatch=cf.get_origin_access_control(Id=oac_id)["ETag"])
    assert code_of(err) == "OriginAccessControlInUse"
    disabled = cf.update_distribution(Id=dist_id, DistributionConfig={**lowered, "Enabled": False}, IfMatch=updated["ETag"])
    cf.delete_distribution(Id=dist_id, IfMatch=disabled["ETag"])
    with pytest.raises(ClientError) as err:
        cf.get_distribution(Id=dist_id)
    assert code_of(err) == "NoSuchDistribution"
    cf.delete_response_headers_policy(Id=headers_id, IfMatch=headers_etag)


def test_aliases_oac_names_and_references_are_checked(cf, uid):
    config = secure_config(cf, uid)
    create(cf, config, uid)
    again = {**config, "CallerReference": f"other-{uid}"}
    with pytest.raises(ClientError) as err:
        create(cf, again, uid)
    assert code_of(err) == "CNAMEAlreadyExists"
    with pytest.raises(ClientError) as err:
        create(cf, config, uid)
    assert code_of(err) in ("DistributionAlreadyExists", "CNAMEAlreadyExists")
    with pytest.raises(ClientError) as err:
        cf.create_origin_access_control(
            OriginAccessControlConfig={"Name": f"oac-{uid}", "SigningProtocol": "sigv4", "SigningBehavior": "always", "OriginAccessControlOriginType": "s3"}
        )
    assert code_of(err) == "OriginAccessControlAlreadyExists"
    unpublished = cf.create_function(Name=f"draft-{uid}", FunctionConfig={"Comment": "", "Runtime": "cloudfront-js-2.0"}, FunctionCode=b"function handler(e){return e.request;}")
    bad = json.loads(json.dumps(config))
    bad.update(CallerReference=f"third-{uid}", Aliases={"Quantity": 0})
    bad["ViewerCertificate"] = {"CloudFrontDefaultCertificate": True}
    bad["DefaultCacheBehavior"]["FunctionAssociations"]["Items"][0]["FunctionARN"] = unpublished["FunctionSummary"]["FunctionMetadata"]["FunctionARN"]
    with pytest.raises(ClientError) as err:
        create(cf, bad, uid)
    assert code_of(err) == "InvalidArgument"


def test_default_certificate_is_reported_as_aws_does(cf, uid):
    config = secure_config(cf, uid)
    config.update(Aliases={"Quantity": 0}, ViewerCertificate={"CloudFrontDefaultCertificate": True})
    dist = create(cf, config, uid)["Distribution"]
    certificate = cf.get_distribution_config(Id=dist["Id"])["DistributionConfig"]["ViewerCertificate"]
    assert certificate["CloudFrontDefaultCertificate"] is True
    assert certificate["CertificateSource"] == "cloudfront"
    assert certificate["MinimumProtocolVersion"] == "TLSv1"


def test_oac_config_and_updates(cf, uid):
    created = cf.create_origin_access_control(
        OriginAccessControlConfig={"Name": f"o-{uid}", "Description": "d", "SigningProtocol": "sigv4", "SigningBehavior": "always", "OriginAccessControlOriginType": "s3"}
    )
    oac_id = created["OriginAccessControl"]["Id"]
    got = cf.get_origin_access_control_config(Id=oac_id)
    assert got["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    updated = cf.update_origin_access_control(
        Id=oac_id, IfMatch=got["ETag"],
        OriginAccessControlConfig={"Name": f"o-{uid}", "Description": "d", "SigningProtocol": "sigv4", "SigningBehavior": "no-override", "OriginAccessControlOriginType": "s3"},
    )
    assert updated["ETag"] != got["ETag"]
    names = {o["Name"] for o in cf.list_origin_access_controls()["OriginAccessControlList"]["Items"]}
    assert f"o-{uid}" in names


def test_invalidations_complete_with_aws_status(cf, uid):
    dist = create(cf, secure_config(cf, uid), uid)["Distribution"]
    paths = ["/", "/docs/", "/a%20b/caf%C3%A9"]
    created = cf.create_invalidation(DistributionId=dist["Id"], InvalidationBatch={"Paths": {"Quantity": 3, "Items": paths}, "CallerReference": uid})
    invalidation = created["Invalidation"]
    assert invalidation["Status"] == "Completed"
    got = cf.get_invalidation(DistributionId=dist["Id"], Id=invalidation["Id"])["Invalidation"]
    assert got["InvalidationBatch"]["Paths"]["Items"] == paths
    assert got["InvalidationBatch"]["CallerReference"] == uid
    cf.get_waiter("invalidation_completed").wait(DistributionId=dist["Id"], Id=invalidation["Id"], WaiterConfig={"Delay": 1, "MaxAttempts": 2})
    listed = cf.list_invalidations(DistributionId=dist["Id"])["InvalidationList"]["Items"]
    assert [i["Id"] for i in listed] == [invalidation["Id"]]
    with pytest.raises(ClientError) as err:
        cf.create_invalidation(DistributionId=dist["Id"], InvalidationBatch={"Paths": {"Quantity": 3001, "Items": [f"/{i}" for i in range(3001)]}, "CallerReference": f"big-{uid}"})
    assert code_of(err) == "BatchTooLarge"
