"""IAM as CI federation uses it: OIDC providers, roles with inline policies, users and their
access keys, round-tripped as AWS returns them."""

import json
import re

import pytest
from botocore.exceptions import ClientError

GITHUB_URL = "https://token.actions.githubusercontent.com"
THUMBPRINT = "6938fd4d98bab03faadb97b34396831e3780aea1"


def error_of(call, **kwargs) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as err:
        call(**kwargs)
    response = err.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


# --- OIDC providers -----------------------------------------------------------------------------


def test_an_oidc_provider_round_trips(account):
    iam = account.client("iam")
    arn = iam.create_open_id_connect_provider(
        Url=GITHUB_URL, ClientIDList=["sts.amazonaws.com"], Tags=[{"Key": "owner", "Value": "sitewarden"}],
    )["OpenIDConnectProviderArn"]
    assert arn == f"arn:aws:iam::{account.id}:oidc-provider/token.actions.githubusercontent.com"

    provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert provider["Url"] == "token.actions.githubusercontent.com"  # AWS returns it without https://
    assert provider["ClientIDList"] == ["sts.amazonaws.com"]
    assert provider["ThumbprintList"] == []  # optional since 2023; see iam.py for what AWS stores
    assert provider["Tags"] == [{"Key": "owner", "Value": "sitewarden"}]
    assert provider["CreateDate"]
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == [{"Arn": arn}]

    iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn, ThumbprintList=[THUMBPRINT])
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ThumbprintList"] == [THUMBPRINT]


def test_client_ids_are_added_and_removed_idempotently(account):
    iam = account.client("iam")
    arn = iam.create_open_id_connect_provider(Url=GITHUB_URL, ClientIDList=["sts.amazonaws.com"],
                                              ThumbprintList=[THUMBPRINT])["OpenIDConnectProviderArn"]
    for _ in range(2):
        iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="sigstore")
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"] == ["sts.amazonaws.com", "sigstore"]
    for _ in range(2):
        iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="sts.amazonaws.com")
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"] == ["sigstore"]

    missing = f"arn:aws:iam::{account.id}:oidc-provider/missing.example.com"
    assert error_of(iam.add_client_id_to_open_id_connect_provider, OpenIDConnectProviderArn=missing,
                    ClientID="x")[0] == "NoSuchEntity"


def test_a_second_provider_for_a_url_already_exists(account):
    iam = account.client("iam")
    iam.create_open_id_connect_provider(Url=GITHUB_URL, ClientIDList=["sts.amazonaws.com"])
    assert error_of(iam.create_open_id_connect_provider, Url=GITHUB_URL, ClientIDList=["sts.amazonaws.com"]) == (
        "EntityAlreadyExists", f"Provider with url {GITHUB_URL} already exists.", 409)


def test_a_provider_url_must_be_https(account):
    iam = account.client("iam")
    assert error_of(iam.create_open_id_connect_provider, Url="http://token.example.com", ClientIDList=["a"])[0] == \
        "ValidationError"


def test_deleting_a_provider(account):
    iam = account.client("iam")
    arn = iam.create_open_id_connect_provider(Url=GITHUB_URL, ClientIDList=["sts.amazonaws.com"])["OpenIDConnectProviderArn"]
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert error_of(iam.get_open_id_connect_provider, OpenIDConnectProviderArn=arn)[::2] == ("NoSuchEntity", 404)
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)  # AWS: idempotent


# --- roles --------------------------------------------------------------------------------------


TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
    "Action": "sts:AssumeRoleWithWebIdentity",
    "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}}]}
PERMISSIONS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:PutObject", "s3:DeleteObject"],
                                                       "Resource": "arn:aws:s3:::site/*"}]}


def test_a_role_round_trips(account):
    iam = account.client("iam")
    created = iam.create_role(RoleName="deploy", Path="/ci/", AssumeRolePolicyDocument=json.dumps(TRUST),
                              Description="sitewarden deploys", MaxSessionDuration=7200,
                              Tags=[{"Key": "owner", "Value": "sitewarden"}])["Role"]
    assert created["Arn"] == f"arn:aws:iam::{account.id}:role/ci/deploy"
    assert re.fullmatch(r"AROA[A-Z0-9]{17}", created["RoleId"])
    role = iam.get_role(RoleName="deploy")["Role"]
    assert role["AssumeRolePolicyDocument"] == TRUST
    assert (role["MaxSessionDuration"], role["Description"], role["Path"]) == (7200, "sitewarden deploys", "/ci/")
    assert role["Tags"] == [{"Key": "owner", "Value": "sitewarden"}]

    iam.put_role_policy(RoleName="deploy", PolicyName="publish", PolicyDocument=json.dumps(PERMISSIONS))
    assert iam.list_role_policies(RoleName="deploy")["PolicyNames"] == ["publish"]
    policy = iam.get_role_policy(RoleName="deploy", PolicyName="publish")
    assert (policy["RoleName"], policy["PolicyName"], policy["PolicyDocument"]) == ("deploy", "publish", PERMISSIONS)
    assert error_of(iam.get_role_policy, RoleName="deploy", PolicyName="missing") == (
        "NoSuchEntity", "The role policy with name missing cannot be found.", 404)

    trust = json.loads(json.dumps(TRUST))
    trust["Statement"][0]["Condition"]["StringLike"] = {"token.actions.githubusercontent.com:sub": "repo:octo-org/*"}
    iam.update_assume_role_policy(RoleName="deploy", PolicyDocument=json.dumps(trust))
    assert iam.get_role(RoleName="deploy")["Role"]["AssumeRolePolicyDocument"] == trust

    # The listing: a subset of the attributes, without tags.
    (listed,) = iam.list_roles()["Roles"]
    assert (listed["RoleName"], listed["MaxSessionDuration"], listed["Description"]) == ("deploy", 7200, "sitewarden deploys")
    assert "Tags" not in listed


def test_update_role_changes_only_what_it_names(account):
    iam = account.client("iam")
    iam.create_role(RoleName="deploy", AssumeRolePolicyDocument=json.dumps(TRUST), Description="d", MaxSessionDuration=7200)
    iam.update_role(RoleName="deploy", MaxSessionDuration=10800)
    role = iam.get_role(RoleName="deploy")["Role"]
    assert (role["MaxSessionDuration"], role["Description"]) == (10800, "d")
    iam.update_role(RoleName="deploy", Description="e")
    role = iam.get_role(RoleName="deploy")["Role"]
    assert (role["MaxSessionDuration"], role["Description"]) == (10800, "e")


def test_a_missing_role(account):
    iam = account.client("iam")
    assert error_of(iam.get_role, RoleName="missing") == ("NoSuchEntity", "The role with name missing cannot be found.", 404)
    assert error_of(iam.put_role_policy, RoleName="missing", PolicyName="p",
                    PolicyDocument=json.dumps(PERMISSIONS))[::2] == ("NoSuchEntity", 404)


# --- users and access keys ----------------------------------------------------------------------


def test_users_and_their_access_keys(account):
    iam = account.client("iam")
    user = iam.create_user(UserName="legacy-deployer", Tags=[{"Key": "owner", "Value": "sitewarden"}])["User"]
    assert re.fullmatch(r"AIDA[A-Z0-9]{17}", user["UserId"])
    assert user["Arn"] == f"arn:aws:iam::{account.id}:user/legacy-deployer"
    key = iam.create_access_key(UserName="legacy-deployer")["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and key["Status"] == "Active" and key["SecretAccessKey"]

    listed = iam.list_access_keys(UserName="legacy-deployer")
    assert listed["IsTruncated"] is False
    (metadata,) = listed["AccessKeyMetadata"]
    assert set(metadata) == {"UserName", "AccessKeyId", "Status", "CreateDate"}  # never the secret
    assert metadata["AccessKeyId"] == key["AccessKeyId"]

    (only,) = iam.list_users()["Users"]
    assert (only["UserName"], only["UserId"]) == ("legacy-deployer", user["UserId"])
    assert "Tags" not in only  # ListUsers leaves tags out
    assert iam.list_user_policies(UserName="legacy-deployer")["PolicyNames"] == []
    assert iam.list_attached_user_policies(UserName="legacy-deployer")["AttachedPolicies"] == []

    iam.put_user_policy(UserName="legacy-deployer", PolicyName="publish", PolicyDocument=json.dumps(PERMISSIONS))
    managed = iam.create_policy(PolicyName="publish-site", PolicyDocument=json.dumps(PERMISSIONS))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="legacy-deployer", PolicyArn=managed)
    assert iam.list_user_policies(UserName="legacy-deployer")["PolicyNames"] == ["publish"]
    assert iam.list_attached_user_policies(UserName="legacy-deployer")["AttachedPolicies"] == [
        {"PolicyName": "publish-site", "PolicyArn": f"arn:aws:iam::{account.id}:policy/publish-site"}]

    assert error_of(iam.create_user, UserName="legacy-deployer") == (
        "EntityAlreadyExists", "User with name legacy-deployer already exists.", 409)
    assert error_of(iam.list_access_keys, UserName="nobody") == (
        "NoSuchEntity", "The user with name nobody cannot be found.", 404)


def test_list_users_pages(account):
    iam = account.client("iam")
    for name in ("a", "b", "c"):
        iam.create_user(UserName=name)
    first = iam.list_users(MaxItems=2)
    assert [u["UserName"] for u in first["Users"]] == ["a", "b"] and first["IsTruncated"] is True
    rest = iam.list_users(MaxItems=2, Marker=first["Marker"])
    assert [u["UserName"] for u in rest["Users"]] == ["c"] and rest["IsTruncated"] is False
    names = [u["UserName"] for page in iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 1})
             for u in page["Users"]]
    assert names == ["a", "b", "c"]
