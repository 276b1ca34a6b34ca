"""AssumeRoleWithWebIdentity decided as AWS decides it: OIDC token, provider, then trust policy.

moto hands out credentials for any RoleArn and any token. AWS, for a CI job (GitHub Actions,
GitLab) exchanging its OIDC ID token for a role session, does this, and so does the emulator:

1. The WebIdentityToken must be a JWT, `header.payload.signature`, each part base64url (padding
   optional) and header and payload JSON objects; otherwise `InvalidIdentityToken` "The ID Token
   provided is not a valid JWT. (You may see this error if you sent an Access Token)".
   **The signature is not verified**: AWS fetches the issuer's keys (JWKS) and checks it; the
   emulator has no network and no issuer keys, so any `alg` (including `none`) and any signature
   part (including an empty one) are accepted. Tests mint tokens as
   `b64url(json(header)) + "." + b64url(json(claims)) + "."` (see `tests/test_sts.py`).
2. The IAM OIDC provider is the one, in the role's account (the account of RoleArn: the call is
   unsigned), whose Url equals the token's `iss` without `https://` (exactly: a trailing slash is
   a different provider, as in AWS). None: `InvalidIdentityToken` "No OpenIDConnect provider found
   in your account for <iss>". A token without iss, aud, sub or exp: `InvalidIdentityToken`
   "Missing a required claim: <claim>".
3. `exp`: AWS accepts a token up to five minutes after its expiry for clock skew; later it is
   `ExpiredTokenException` "Token expired: current date/time <now> must be before the expiration
   date/time <exp>". An `nbf` more than five minutes ahead is `InvalidIdentityToken` (the
   emulator's wording; AWS documents no message for it).
4. `aud` (a string or a list) must hold one of the provider's ClientIDList, else
   `InvalidIdentityToken` "Incorrect token audience".
5. The role's trust policy: an explicit Deny that applies refuses; otherwise some Allow must apply.
   A statement applies when its Principal is "*" (or {"AWS": "*"}) or has the provider's ARN
   among its `Federated` (NotPrincipal: the opposite), its Action (or NotAction) covers
   `sts:AssumeRoleWithWebIdentity` (wildcards: `sts:*`, `*`, `sts:AssumeRole*`; case-insensitive),
   and every condition holds. Context keys, as AWS exposes them for a generic OIDC provider,
   named by the provider's URL (host and path, e.g. `token.actions.githubusercontent.com`,
   `gitlab.com`), case-insensitive: `<url>:aud` (the audience that matched), `<url>:sub`,
   `<url>:amr` (multivalued, when the token has it), plus `sts:RoleSessionName`. Other claims
   (GitHub's `repository`, `ref`, `environment`, `job_workflow_ref`...) are not condition keys in
   AWS ("AWS does not support custom claims"), so a condition on them sees a missing key.
   Operators: StringEquals, StringNotEquals, StringEqualsIgnoreCase, StringNotEqualsIgnoreCase,
   StringLike, StringNotLike (`*` any run of characters, `?` one character), each with
   `IfExists`, the `ForAnyValue:`/`ForAllValues:` qualifiers, and `Null`. Several values of one
   key: any may match (OR); several keys or operators: all must hold (AND). A missing key fails a
   positive operator and satisfies a negated one or an IfExists one, as AWS documents. Other
   operators (Date*, Numeric*, IpAddress...) never hold here. A missing role, or no Allow:
   `AccessDenied` "Not authorized to perform sts:AssumeRoleWithWebIdentity", HTTP 403, in STS's
   query XML error shape (`<ErrorResponse><Error><Type>Sender</Type><Code>...`), the shape boto
   and the Rust SDK parse.
6. RoleSessionName must match `[\\w+=,.@-]*` with 2 to 64 characters, DurationSeconds lie in
   900..43200 and not exceed the role's MaxSessionDuration (`ValidationError` as AWS words them).

On success the response is AWS's: Credentials (ASIA... key, session token, Expiration),
AssumedRoleUser (`AROA...:<session>`, `arn:aws:sts::<account>:assumed-role/<role>/<session>`),
SubjectFromWebIdentityToken (sub), Audience, Provider (the provider's ARN, as AWS returns it for an
IAM OIDC provider), SourceIdentity when the token carries `https://aws.amazon.com/source_identity`,
PackedPolicySize only with a session policy. The credentials work: GetCallerIdentity answers the
assumed-role ARN, and CloudTrail events (`cloudtrail.py`) carry the provider in
`webIdFederationData`. AssumeRole and the other STS calls are unchanged.
"""

import base64
import binascii
import json
import re
import time
import uuid
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.iam.exceptions import NotFoundException
from moto.iam.models import iam_backends
from moto.sts.exceptions import STSValidationError
from moto.sts.responses import TokenResponse
from werkzeug.exceptions import HTTPException

from .s3 import _as_list, _glob

ACTION = "sts:AssumeRoleWithWebIdentity"
CLOCK_SKEW = 300  # seconds AWS accepts a token past its exp (and, here, before its nbf)
NOT_A_JWT = "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)"
SOURCE_IDENTITY_CLAIM = "https://aws.amazon.com/source_identity"
_ROLE_ARN = re.compile(r"arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):role/(?:[^/]+/)*[\w+=,.@-]+")
_SESSION_NAME = re.compile(r"[\w+=,.@-]*")
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


class InvalidIdentityToken(ServiceException):
    code = "InvalidIdentityToken"  # STS model: InvalidIdentityTokenException, HTTP 400


class ExpiredToken(ServiceException):
    code = "ExpiredTokenException"  # STS model: HTTP 400


class AccessDenied(HTTPException):
    """403 AccessDenied, which the STS model does not define (so the serializer would send 400)."""

    code = 403

    def __init__(self) -> None:
        super().__init__(
            description=(
                '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
                f"<Code>AccessDenied</Code><Message>Not authorized to perform {ACTION}</Message></Error>"
                f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
            )
        )

    def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
        return [("Content-Type", "text/xml")]


# --- the token ----------------------------------------------------------------------------------


def _segment(part: str) -> Any:
    if not _B64URL.fullmatch(part):
        raise ValueError(part)
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def decode_jwt(token: str) -> dict:
    """The claims of a compact JWS; structure only, the signature is not checked."""
    parts = (token or "").split(".")
    if len(parts) != 3:
        raise InvalidIdentityToken(NOT_A_JWT)
    try:
        header, claims = json.loads(_segment(parts[0])), json.loads(_segment(parts[1]))
        _segment(parts[2])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidIdentityToken(NOT_A_JWT) from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise InvalidIdentityToken(NOT_A_JWT)
    return claims


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _required(claims: dict, name: str, valid) -> Any:
    if name not in claims or claims[name] in (None, "", []):
        raise InvalidIdentityToken(f"Missing a required claim: {name}")
    if not valid(claims[name]):
        raise InvalidIdentityToken(NOT_A_JWT)
    return claims[name]


def _provider(iam, iss: str):
    url = iss[len("https://"):] if iss.startswith("https://") else None
    for provider in list(iam.open_id_providers.values()):
        if url is not None and provider.url == url:
            return provider
    raise InvalidIdentityToken(f"No OpenIDConnect provider found in your account for {iss}")


def _check_times(claims: dict) -> None:
    now = time.time()
    exp = _required(claims, "exp", _is_number)
    if now >= exp + CLOCK_SKEW:
        raise ExpiredToken(
            f"Token expired: current date/time {int(now)} must be before the expiration date/time {int(exp)}"
        )
    nbf = claims.get("nbf")
    if nbf is not None and (not _is_number(nbf) or nbf > now + CLOCK_SKEW):
        raise InvalidIdentityToken(f"Token is not valid before {nbf}: current date/time {int(now)}")


def _audience(provider, claims: dict) -> str:
    aud = _required(claims, "aud", lambda v: isinstance(v, str) or (
        isinstance(v, list) and all(isinstance(a, str) for a in v)))
    for candidate in _as_list(aud):
        if candidate in provider.client_id_list:
            return candidate
    raise InvalidIdentityToken("Incorrect token audience")


# --- the trust policy ---------------------------------------------------------------------------


STRING_TESTS = {
    "StringEquals": lambda expected, actual: actual == expected,
    "StringEqualsIgnoreCase": lambda expected, actual: actual.lower() == expected.lower(),
    "StringLike": _glob,
}
NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
}


def condition_holds(operator: str, key: str, expected: Any, context: dict[str, list[str]]) -> bool:
    """One `operator: {key: expected}` entry against context keys (lower-cased) with their values."""
    qualifier, _, operator = operator.rpartition(":")
    if_exists = operator.endswith("IfExists")
    operator = operator.removesuffix("IfExists")
    expected = [str(v).lower() if isinstance(v, bool) else str(v) for v in _as_list(expected)]
    actual = context.get(key.lower())
    if operator == "Null":
        return bool(expected) and (actual is None) == (expected[0].lower() == "true")
    negated = operator in NEGATED
    test = STRING_TESTS.get(NEGATED.get(operator, operator))
    if test is None:
        return False  # an operator these string keys cannot satisfy
    if actual is None:
        # AWS: a missing key fails a positive operator, satisfies a negated or IfExists one;
        # ForAllValues holds on an empty set, ForAnyValue does not.
        if qualifier == "ForAllValues":
            return True
        if qualifier == "ForAnyValue":
            return False
        return if_exists or negated

    def matches(value: str) -> bool:
        return any(test(e, value) for e in expected)

    if qualifier == "ForAllValues":
        return all(matches(v) != negated for v in actual)
    if qualifier == "ForAnyValue":
        return any(matches(v) != negated for v in actual)
    return any(matches(v) for v in actual) != negated  # single-valued keys: their one value


def _principal_matches(principal: Any, provider_arn: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    if "*" in _as_list(principal.get("AWS", [])):
        return True  # AWS: {"AWS": "*"} is the same as "*"
    return provider_arn in _as_list(principal.get("Federated", []))


def _element(statement: dict, name: str, matches) -> bool:
    if f"Not{name}" in statement:
        return not matches(statement[f"Not{name}"])
    return name in statement and matches(statement[name])


def _applies(statement: dict, provider_arn: str, context: dict[str, list[str]]) -> bool:
    conditions = statement.get("Condition") or {}
    return (
        _element(statement, "Principal", lambda p: _principal_matches(p, provider_arn))
        and _element(statement, "Action", lambda p: any(_glob(a, ACTION, True) for a in _as_list(p)))
        and isinstance(conditions, dict)
        and all(
            isinstance(block, dict) and all(condition_holds(operator, key, expected, context)
                                            for key, expected in block.items())
            for operator, block in conditions.items()
        )
    )


def trust_allows(document: str, provider_arn: str, context: dict[str, list[str]]) -> bool:
    """Explicit Deny wins; otherwise some Allow must apply (no statement: implicit deny)."""
    try:
        policy = json.loads(document) if isinstance(document, str) else document
    except ValueError:
        return False
    statements = policy.get("Statement", []) if isinstance(policy, dict) else []
    allowed = False
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, dict) or not _applies(statement, provider_arn, context):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


# --- the call -----------------------------------------------------------------------------------


def _validate_session_name(name: str | None) -> None:
    prefix = f"1 validation error detected: Value '{name}' at 'roleSessionName' failed to satisfy constraint: "
    if name is None or len(name) < 2:
        raise STSValidationError(prefix + "Member must have length greater than or equal to 2")
    if len(name) > 64:
        raise STSValidationError(prefix + "Member must have length less than or equal to 64")
    if not _SESSION_NAME.fullmatch(name):
        raise STSValidationError(prefix + "Member must satisfy regular expression pattern: [\\w+=,.@-]*")


def _validate_duration(duration: int) -> None:
    prefix = f"1 validation error detected: Value '{duration}' at 'durationSeconds' failed to satisfy constraint: "
    if duration < 900:
        raise STSValidationError(prefix + "Member must have value greater than or equal to 900")
    if duration > 43200:
        raise STSValidationError(prefix + "Member must have value less than or equal to 43200")


def assume_role_with_web_identity(self: TokenResponse) -> ActionResult:
    role_arn = self._get_param("RoleArn")
    session_name = self._get_param("RoleSessionName")
    policy = self._get_param("Policy")
    duration = self._get_int_param("DurationSeconds", 3600)
    _validate_session_name(session_name)
    _validate_duration(duration)
    arn = _ROLE_ARN.fullmatch(role_arn or "")
    if arn is None:
        raise STSValidationError("Request ARN is invalid")
    iam = iam_backends[arn.group("account")][arn.group("partition")]

    claims = decode_jwt(self._get_param("WebIdentityToken"))
    provider = _provider(iam, _required(claims, "iss", lambda v: isinstance(v, str)))
    _check_times(claims)
    audience = _audience(provider, claims)
    subject = _required(claims, "sub", lambda v: isinstance(v, str))

    try:
        role = iam.get_role_by_arn(role_arn)
    except NotFoundException:
        raise AccessDenied() from None  # AWS does not tell a missing role from a refusing one
    prefix = provider.url.lower()
    context = {f"{prefix}:aud": [audience], f"{prefix}:sub": [subject], "sts:rolesessionname": [session_name]}
    if claims.get("amr") is not None:
        context[f"{prefix}:amr"] = [str(v) for v in _as_list(claims["amr"])]
    if not trust_allows(role.assume_role_policy_document, provider.arn, context):
        raise AccessDenied()
    if duration > int(role.max_session_duration or 3600):
        raise STSValidationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")

    session = self.backend.assume_role(
        region_name=self.region,
        role_session_name=session_name,
        role_arn=role_arn,
        policy=policy,
        duration=duration,
        external_id=None,
    )
    # Read by cloudtrail.py for userIdentity.sessionContext.webIdFederationData.
    session.web_identity_provider = provider.arn
    result: dict[str, Any] = {
        "Credentials": session,
        "SubjectFromWebIdentityToken": subject,
        "AssumedRoleUser": {"AssumedRoleId": session.user_id, "Arn": session.arn},
        "Provider": provider.arn,
        "Audience": audience,
    }
    if policy:
        result["PackedPolicySize"] = max(1, len(policy) * 100 // 2048)
    if isinstance(claims.get(SOURCE_IDENTITY_CLAIM), str):
        result["SourceIdentity"] = claims[SOURCE_IDENTITY_CLAIM]
    return ActionResult(result)


def apply() -> None:
    TokenResponse.assume_role_with_web_identity = assume_role_with_web_identity
