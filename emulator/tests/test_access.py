"""Principals missing some permissions: `deny+<service>:<Action>` access keys get AccessDenied on
exactly those actions, in each protocol's error shape; every other call and key is unaffected."""

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

DENIED = "deny+s3:GetBucketLogging+kms:GetKeyRotationStatus+route53:ListQueryLoggingConfigs"


@pytest.fixture
def restricted(endpoint):
    def make(service, region="us-east-1"):
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=endpoint,
            aws_access_key_id=DENIED,
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1}),
        )

    return make


def code_of(call, **kwargs):
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    return err.value.response["Error"]["Code"], err.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_denied_actions_only(aws, restricted, uid):
    bucket = f"access-{uid}"
    aws("s3").create_bucket(Bucket=bucket)
    s3 = restricted("s3")
    assert code_of(s3.get_bucket_logging, Bucket=bucket) == ("AccessDenied", 403)
    assert s3.get_bucket_versioning(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "LoggingEnabled" not in aws("s3").get_bucket_logging(Bucket=bucket)

    key = aws("kms").create_key()["KeyMetadata"]["KeyId"]
    kms = restricted("kms")
    assert code_of(kms.get_key_rotation_status, KeyId=key) == ("AccessDeniedException", 400)
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyId"] == key
    assert aws("kms").get_key_rotation_status(KeyId=key)["KeyRotationEnabled"] is False

    zone = aws("route53").create_hosted_zone(Name=f"{uid}.example.com", CallerReference=uid)["HostedZone"]["Id"]
    route53 = restricted("route53")
    assert code_of(route53.list_query_logging_configs, HostedZoneId=zone)[0] == "AccessDenied"
    assert route53.get_hosted_zone(Id=zone)["HostedZone"]["Id"] == zone
