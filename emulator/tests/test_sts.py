"""AssumeRoleWithWebIdentity as AWS decides it for CI federation (GitHub Actions, GitLab): the
token's issuer must be an IAM OIDC provider of the role's account, its audience one of the
provider's client IDs, it must not be expired, and the role's trust policy must allow the
provider with conditions on `<provider>:aud` / `<provider>:sub`.

Tokens are minted here unsigned (`"alg": "none"`): the emulator checks a token's structure and
claims, never its signature (it has no issuer keys)."""

import base64
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

GITHUB = "token.actions.githubusercontent.com"
GITLAB = "gitlab.com"
MAIN = "repo:octo-org/site:ref:refs/heads/main"


# --- minting tokens -----------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(claims: dict, header: dict | None = None, signature: str = "") -> str:
    """A compact JWT: base64url(header).base64url(claims).signature (unsigned by default)."""
    header = header or {"alg": "none", "typ": "JWT"}
    return f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}.{signature}"


def github_token(sub: str = MAIN, aud="sts.amazonaws.com", lifetime: int = 300, **claims) -> str:
    """Claims shaped like a GitHub Actions ID token's."""
    now = int(time.time())
    owner_repo = sub.split(":")[1]
    return mint({
        "jti": "6f4c3a0e", "sub": sub, "aud": aud, "ref": "refs/heads/main", "sha": "a" * 40,
        "repository": owner_repo, "repository_owner": owner_repo.split("/")[0], "run_id": "1",
        "event_name": "push", "ref_type": "branch", "workflow": "deploy", "actor": "octocat",
        "iss": f"https://{GITHUB}", "nbf": now - 5, "iat": now - 5, "exp": now + lifetime, **claims,
    })


# --- the account's provider and roles -----------------------------------------------------------


def create_github_provider(iam, client_ids=("sts.amazonaws.com",)) -> str:
    # No ThumbprintList: AWS no longer requires one for GitHub's issuer.
    return iam.create_open_id_connect_provider(Url=f"https://{GITHUB}", ClientIDList=list(client_ids))[
        "OpenIDConnectProviderArn"]


def trust(provider_arn: str, condition: dict | None = None, action="sts:AssumeRoleWithWebIdentity",
          effect="Allow") -> dict:
    statement = {"Effect": effect, "Principal": {"Federated": provider_arn}, "Action": action}
    if condition is not None:
        statement["Condition"] = condition
    return statement


def github_condition(sub: str = MAIN, operator: str = "StringEquals") -> dict:
    if operator == "StringEquals":
        return {"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com", f"{GITHUB}:sub": sub}}
    return {"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"}, operator: {f"{GITHUB}:sub": sub}}


def create_role(iam, name: str, *statements: dict, **kwargs) -> dict:
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(document), **kwargs)["Role"]


@pytest.fixture
def github(account):
    """A fresh account with GitHub's provider and a role for pushes to octo-org/site's main."""
    iam = account.client("iam")
    provider = create_github_provider(iam)
    role = create_role(iam, "deploy", trust(provider, github_condition()))
    return {"account": account, "iam": iam, "provider": provider, "role": role}


def assume(aws, role_arn: str, token: str, session: str = "gha-1", **kwargs) -> dict:
    return aws("sts").assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName=session,
                                                     WebIdentityToken=token, **kwargs)


def refusal(aws, role_arn: str, token: str, **kwargs) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as err:
        assume(aws, role_arn, token, **kwargs)
    response = err.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


DENIED = ("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", 403)


# --- a matching token ---------------------------------------------------------------------------


def test_a_matching_token_assumes_the_role(endpoint, aws, github):
    account, role = github["account"], github["role"]
    before = datetime.now(timezone.utc)
    answer = assume(aws, role["Arn"], github_token(), session="gha-run-1")

    assert answer["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{account.id}:assumed-role/deploy/gha-run-1"
    assert answer["AssumedRoleUser"]["AssumedRoleId"] == f"{role['RoleId']}:gha-run-1"
    assert answer["SubjectFromWebIdentityToken"] == MAIN
    assert answer["Audience"] == "sts.amazonaws.com"
    assert answer["Provider"] == github["provider"] == f"arn:aws:iam::{account.id}:oidc-provider/{GITHUB}"
    credentials = answer["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA") and credentials["SecretAccessKey"] and credentials["SessionToken"]
    assert 3590 <= (credentials["Expiration"] - before).total_seconds() <= 3610
    assert "PackedPolicySize" not in answer  # only with a session policy

    # The credentials work, as the role's session.
    session = boto3.client("sts", region_name="us-east-1", endpoint_url=endpoint,
                           aws_access_key_id=credentials["AccessKeyId"],
                           aws_secret_access_key=credentials["SecretAccessKey"],
                           aws_session_token=credentials["SessionToken"], config=Config(retries={"max_attempts": 1}))
    identity = session.get_caller_identity()
    assert identity["Arn"] == answer["AssumedRoleUser"]["Arn"]
    assert identity["Account"] == account.id
    assert identity["UserId"] == f"{role['RoleId']}:gha-run-1"


def test_any_signature_and_algorithm_are_accepted(aws, github):
    # The emulator cannot verify signatures: a token "signed" RS256 with a made-up signature is as
    # good as an unsigned one, as long as its claims hold.
    now = int(time.time())
    claims = {"iss": f"https://{GITHUB}", "aud": "sts.amazonaws.com", "sub": MAIN, "exp": now + 60}
    token = mint(claims, header={"alg": "RS256", "kid": "test", "typ": "JWT"}, signature=b64url(b"not a signature"))
    assert assume(aws, github["role"]["Arn"], token)["SubjectFromWebIdentityToken"] == MAIN


def test_a_token_audience_may_be_a_list(aws, github):
    token = github_token(aud=["https://github.com/octo-org", "sts.amazonaws.com"])
    assert assume(aws, github["role"]["Arn"], token)["Audience"] == "sts.amazonaws.com"


# --- subjects the trust policy does not allow ---------------------------------------------------


@pytest.mark.parametrize("sub", [
    "repo:octo-org/other:ref:refs/heads/main",     # another repository
    "repo:octo-org/site:ref:refs/heads/feature",   # another branch
    "repo:octo-org/site:pull_request",             # a pull request
    "repo:octo-org/site:environment:production",   # an environment
    "repo:octo-org/site:ref:refs/tags/v1",         # a tag
    "repo:OCTO-ORG/site:ref:refs/heads/main",      # StringEquals is case-sensitive
])
def test_another_subject_is_refused(aws, github, sub):
    assert refusal(aws, github["role"]["Arn"], github_token(sub=sub)) == DENIED


def test_string_like_accepts_any_repository_of_the_owner(aws, account):
    iam = account.client("iam")
    provider = create_github_provider(iam)
    role = create_role(iam, "org-wide", trust(provider, github_condition("repo:octo-org/*", "StringLike")))
    for sub in ("repo:octo-org/site:ref:refs/heads/main", "repo:octo-org/docs:pull_request",
                "repo:octo-org/site:environment:production"):
        assert assume(aws, role["Arn"], github_token(sub=sub))["SubjectFromWebIdentityToken"] == sub
    for sub in ("repo:other-org/site:ref:refs/heads/main", "repo:octo-org-evil/site:ref:refs/heads/main"):
        assert refusal(aws, role["Arn"], github_token(sub=sub)) == DENIED


def test_question_mark_and_several_values(aws, account):
    iam = account.client("iam")
    provider = create_github_provider(iam)
    condition = github_condition(["repo:octo-org/site:ref:refs/heads/release-?", "repo:octo-org/site:ref:refs/heads/main"],
                                 "StringLike")
    role = create_role(iam, "releases", trust(provider, condition))
    for branch in ("main", "release-1", "release-2"):  # any of the values (OR)
        assume(aws, role["Arn"], github_token(sub=f"repo:octo-org/site:ref:refs/heads/{branch}"))
    for branch in ("release-10", "release-", "mainline"):
        assert refusal(aws, role["Arn"], github_token(sub=f"repo:octo-org/site:ref:refs/heads/{branch}")) == DENIED


def test_every_condition_must_hold(aws, account):
    # aud and sub both conditioned (AND): a token for another audience the provider also accepts
    # passes the provider's check but not the trust policy's.
    iam = account.client("iam")
    provider = create_github_provider(iam, client_ids=("sts.amazonaws.com", "sigstore"))
    role = create_role(iam, "deploy", trust(provider, github_condition()))
    assume(aws, role["Arn"], github_token())
    assert refusal(aws, role["Arn"], github_token(aud="sigstore")) == DENIED


def test_negated_and_if_exists_operators(aws, account):
    iam = account.client("iam")
    provider = create_github_provider(iam)
    not_prs = create_role(iam, "not-prs", trust(provider, {
        "StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"},
        "StringLike": {f"{GITHUB}:sub": "repo:octo-org/*"},
        "StringNotLike": {f"{GITHUB}:sub": "*:pull_request"},
    }))
    assume(aws, not_prs["Arn"], github_token())
    assert refusal(aws, not_prs["Arn"], github_token(sub="repo:octo-org/site:pull_request")) == DENIED

    # AWS exposes only aud, sub (and amr) of a generic OIDC token as condition keys: a condition on
    # GitHub's `repository` claim sees a missing key, which fails StringEquals...
    on_claim = create_role(iam, "on-claim", trust(provider, {
        "StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com", f"{GITHUB}:repository": "octo-org/site"}}))
    assert refusal(aws, on_claim["Arn"], github_token()) == DENIED
    # ...and satisfies StringEqualsIfExists.
    if_exists = create_role(iam, "if-exists", trust(provider, {
        "StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"},
        "StringEqualsIfExists": {f"{GITHUB}:repository": "octo-org/site"}}))
    assume(aws, if_exists["Arn"], github_token())


def test_a_deny_statement_wins(aws, account):
    iam = account.client("iam")
    provider = create_github_provider(iam)
    role = create_role(
        iam, "guarded",
        trust(provider, github_condition("repo:octo-org/*", "StringLike")),
        trust(provider, {"StringEquals": {f"{GITHUB}:sub": "repo:octo-org/untrusted:ref:refs/heads/main"}}, effect="Deny"),
    )
    assume(aws, role["Arn"], github_token(sub="repo:octo-org/site:ref:refs/heads/main"))
    assert refusal(aws, role["Arn"], github_token(sub="repo:octo-org/untrusted:ref:refs/heads/main")) == DENIED


def test_the_trust_policy_must_name_the_provider_and_the_action(aws, account):
    iam = account.client("iam")
    provider = create_github_provider(iam)
    other = f"arn:aws:iam::{account.id}:oidc-provider/{GITLAB}"
    cases = {
        "other-provider": (trust(other, github_condition()), DENIED),
        "assume-role-only": (trust(provider, github_condition(), action="sts:AssumeRole"), DENIED),
        "no-statement-allows": (trust(provider, github_condition(), effect="Deny"), DENIED),
        "sts-wildcard": (trust(provider, github_condition(), action="sts:*"), None),
        "action-list": (trust(provider, github_condition(), action=["sts:TagSession", "sts:AssumeRoleWithWebIdentity"]), None),
    }
    for name, (statement, expected) in cases.items():
        role = create_role(iam, name, statement)
        if expected is None:
            assume(aws, role["Arn"], github_token())
        else:
            assert refusal(aws, role["Arn"], github_token()) == expected, name
    # A role that does not exist is refused the same way (AWS does not tell them apart).
    assert refusal(aws, f"arn:aws:iam::{account.id}:role/missing", github_token()) == DENIED


def test_an_updated_trust_policy_applies_at_once(aws, github):
    iam, role = github["iam"], github["role"]
    token = github_token(sub="repo:octo-org/site:ref:refs/heads/staging")
    assert refusal(aws, role["Arn"], token) == DENIED
    document = {"Version": "2012-10-17", "Statement": [
        trust(github["provider"], github_condition("repo:octo-org/site:ref:refs/heads/*", "StringLike"))]}
    iam.update_assume_role_policy(RoleName="deploy", PolicyDocument=json.dumps(document))
    assume(aws, role["Arn"], token)


# --- the token itself ---------------------------------------------------------------------------


def test_a_wrong_audience_is_refused(aws, github):
    code, message, status = refusal(aws, github["role"]["Arn"], github_token(aud="https://github.com/octo-org"))
    assert (code, message, status) == ("InvalidIdentityToken", "Incorrect token audience", 400)


def test_a_token_of_an_issuer_without_provider_is_refused(aws, github):
    now = int(time.time())
    gitlab = mint({"iss": f"https://{GITLAB}", "aud": f"https://{GITLAB}", "exp": now + 300,
                   "sub": "project_path:octo-org/site:ref_type:branch:ref:main"})
    assert refusal(aws, github["role"]["Arn"], gitlab) == (
        "InvalidIdentityToken", f"No OpenIDConnect provider found in your account for https://{GITLAB}", 400)
    # The issuer must match the provider's URL exactly.
    assert refusal(aws, github["role"]["Arn"], github_token(iss=f"https://{GITHUB}/"))[:2] == (
        "InvalidIdentityToken", f"No OpenIDConnect provider found in your account for https://{GITHUB}/")


def test_a_provider_of_another_account_does_not_count(aws, account):
    # GitHub's provider exists in the default account (created here if no other test did), not in
    # the role's.
    default_iam = aws("iam")
    try:
        create_github_provider(default_iam)
    except ClientError as err:
        assert err.response["Error"]["Code"] == "EntityAlreadyExists"
    role = create_role(account.client("iam"), "deploy",
                       trust(f"arn:aws:iam::{account.id}:oidc-provider/{GITHUB}", github_condition()))
    assert refusal(aws, role["Arn"], github_token())[0] == "InvalidIdentityToken"


def test_a_deleted_provider_refuses_its_roles(aws, github):
    assume(aws, github["role"]["Arn"], github_token())
    github["iam"].delete_open_id_connect_provider(OpenIDConnectProviderArn=github["provider"])
    assert refusal(aws, github["role"]["Arn"], github_token())[0] == "InvalidIdentityToken"


def test_an_expired_token_is_refused(aws, github):
    code, message, status = refusal(aws, github["role"]["Arn"], github_token(lifetime=-400))
    assert (code, status) == ("ExpiredTokenException", 400)
    assert message.startswith("Token expired: current date/time ") and " must be before the expiration date/time " in message
    # AWS allows five minutes of clock skew past exp.
    assume(aws, github["role"]["Arn"], github_token(lifetime=-60))


def test_a_token_not_yet_valid_is_refused(aws, github):
    assert refusal(aws, github["role"]["Arn"], github_token(nbf=int(time.time()) + 3600))[0] == "InvalidIdentityToken"


@pytest.mark.parametrize("token", [
    "not-a-jwt",
    "only.two",
    "a.b.c.d.e",                                         # an encrypted token (JWE)
    "!!!." + b64url(b"{}") + ".",                        # not base64url
    b64url(b"[]") + "." + b64url(b"{}") + ".",           # header not an object
    b64url(b'{"alg":"none"}') + "." + b64url(b"not json") + ".",
])
def test_a_token_that_is_no_jwt_is_refused(aws, github, token):
    code, message, status = refusal(aws, github["role"]["Arn"], token)
    assert (code, status) == ("InvalidIdentityToken", 400)
    assert message.startswith("The ID Token provided is not a valid JWT.")


@pytest.mark.parametrize("claim", ["iss", "aud", "sub", "exp"])
def test_a_token_without_a_required_claim_is_refused(aws, github, claim):
    now = int(time.time())
    claims = {"iss": f"https://{GITHUB}", "aud": "sts.amazonaws.com", "sub": MAIN, "exp": now + 300}
    del claims[claim]
    assert refusal(aws, github["role"]["Arn"], mint(claims)) == (
        "InvalidIdentityToken", f"Missing a required claim: {claim}", 400)


# --- GitLab -------------------------------------------------------------------------------------


def test_gitlab_tokens_use_gitlab_keys(aws, account):
    iam = account.client("iam")
    provider = iam.create_open_id_connect_provider(Url=f"https://{GITLAB}", ClientIDList=[f"https://{GITLAB}"])[
        "OpenIDConnectProviderArn"]
    role = create_role(iam, "gitlab-deploy", trust(provider, {
        "StringEquals": {f"{GITLAB}:aud": f"https://{GITLAB}"},
        "StringLike": {f"{GITLAB}:sub": "project_path:octo-org/site:ref_type:branch:ref:main"},
    }))
    now = int(time.time())

    def token(sub):
        return mint({"iss": f"https://{GITLAB}", "aud": f"https://{GITLAB}", "sub": sub, "exp": now + 300,
                     "namespace_path": "octo-org", "project_path": "octo-org/site", "ref": "main"})

    answer = assume(aws, role["Arn"], token("project_path:octo-org/site:ref_type:branch:ref:main"))
    assert answer["Provider"] == provider
    assert refusal(aws, role["Arn"], token("project_path:octo-org/site:ref_type:branch:ref:dev")) == DENIED


# --- the request's parameters -------------------------------------------------------------------


def test_duration_is_bounded_by_the_roles_maximum(aws, account):
    iam = account.client("iam")
    provider = create_github_provider(iam)
    short = create_role(iam, "short", trust(provider, github_condition()))
    long = create_role(iam, "long", trust(provider, github_condition()), MaxSessionDuration=7200)
    assert refusal(aws, short["Arn"], github_token(), DurationSeconds=7200) == (
        "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.", 400)
    before = datetime.now(timezone.utc)
    credentials = assume(aws, long["Arn"], github_token(), DurationSeconds=7200)["Credentials"]
    assert 7190 <= (credentials["Expiration"] - before).total_seconds() <= 7210


def test_session_names_and_role_arns_are_validated(aws, github):
    code, message, _ = refusal(aws, github["role"]["Arn"], github_token(), session="has space")
    assert code == "ValidationError" and "roleSessionName" in message and "regular expression" in message
    assert refusal(aws, "arn:aws:s3:::not-a-role-arn", github_token())[:2] == ("ValidationError", "Request ARN is invalid")


def test_a_session_policy_is_reported_in_packed_policy_size(aws, github):
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    answer = assume(aws, github["role"]["Arn"], github_token(), Policy=json.dumps(policy))
    assert answer["PackedPolicySize"] >= 1


def test_the_refusal_is_stss_query_error_shape(endpoint, github):
    # What the Rust SDK's awsQuery error parser reads: <ErrorResponse><Error><Code>, HTTP 403.
    body = urllib.parse.urlencode({
        "Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15", "RoleArn": github["role"]["Arn"],
        "RoleSessionName": "raw", "WebIdentityToken": github_token(sub="repo:octo-org/other:ref:refs/heads/main"),
    }).encode()
    request = urllib.request.Request(endpoint, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=10)
    assert err.value.code == 403
    assert err.value.headers["Content-Type"].startswith("text/xml")
    xml = err.value.read().decode()
    assert xml.startswith('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
                          "<Code>AccessDenied</Code><Message>Not authorized to perform sts:AssumeRoleWithWebIdentity"
                          "</Message></Error><RequestId>")


# --- the rest of STS is unchanged ---------------------------------------------------------------


def test_plain_assume_role_still_works(aws, uid):
    iam = aws("iam")
    statement = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}
    role = create_role(iam, f"plain-{uid}", statement)
    answer = aws("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="plain")
    assert answer["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::123456789012:assumed-role/plain-{uid}/plain"
    assert answer["Credentials"]["AccessKeyId"].startswith("ASIA")
