"""KMS fidelity: key policies (default name), DescribeKey metadata, rotation, aliases, tags, deletion."""

import json

import pytest
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"


@pytest.fixture
def kms(aws):
    return aws("kms", region="eu-west-1")


def policy(sid: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": sid, "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "AllowCloudFront", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
             "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"], "Resource": "*",
             "Condition": {"StringEquals": {"aws:SourceArn": f"arn:aws:cloudfront::{ACCOUNT}:distribution/E1"}}},
        ],
    })


def test_create_key_with_policy_and_tags(kms, uid):
    tags = [{"TagKey": "app", "TagValue": "sitewarden"}, {"TagKey": "site", "TagValue": uid}]
    meta = kms.create_key(Policy=policy("Root"), Description="site key", Tags=tags)["KeyMetadata"]
    key_id = meta["KeyId"]
    assert meta["MultiRegion"] is False and meta["KeyState"] == "Enabled"
    described = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert described["MultiRegion"] is False
    assert (described["KeyUsage"], described["KeySpec"], described["Origin"]) == ("ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT", "AWS_KMS")
    assert described["Arn"] == f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/{key_id}"
    assert "MultiRegionConfiguration" not in described
    assert kms.list_resource_tags(KeyId=key_id)["Tags"] == tags

    assert json.loads(kms.get_key_policy(KeyId=key_id)["Policy"]) == json.loads(policy("Root"))
    assert kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"] == kms.get_key_policy(KeyId=key_id)["Policy"]
    kms.put_key_policy(KeyId=key_id, Policy=policy("Updated"))
    assert json.loads(kms.get_key_policy(KeyId=key_id)["Policy"])["Statement"][0]["Sid"] == "Updated"
    assert kms.list_key_policies(KeyId=key_id)["PolicyNames"] == ["default"]
    with pytest.raises(ClientError) as exc:
        kms.get_key_policy(KeyId=key_id, PolicyName="other")
    assert exc.value.response["Error"]["Code"] in ("NotFoundException", "ValidationException")


def test_multi_region_key_reports_true(kms):
    meta = kms.create_key(MultiRegion=True)["KeyMetadata"]
    assert meta["MultiRegion"] is True
    assert kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"


def test_rotation_aliases_and_deletion(kms, uid):
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is False
    kms.enable_key_rotation(KeyId=key_id)
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True

    alias = f"alias/sitewarden-{uid}"
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    aliases = kms.list_aliases(KeyId=key_id)["Aliases"]
    assert [(a["AliasName"], a["TargetKeyId"]) for a in aliases] == [(alias, key_id)]
    assert aliases[0]["AliasArn"] == f"arn:aws:kms:eu-west-1:{ACCOUNT}:{alias}"
    assert kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"] == key_id
    with pytest.raises(ClientError) as exc:
        kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    assert exc.value.response["Error"]["Code"] == "AlreadyExistsException"

    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "a", "TagValue": "1"}])
    kms.untag_resource(KeyId=key_id, TagKeys=["a"])
    assert kms.list_resource_tags(KeyId=key_id)["Tags"] == []

    deletion = kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=30)
    assert deletion["KeyState"] == "PendingDeletion" and deletion["PendingWindowInDays"] == 30
    meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert meta["KeyState"] == "PendingDeletion" and meta["Enabled"] is False and "DeletionDate" in meta
    kms.cancel_key_deletion(KeyId=key_id)
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Disabled"
