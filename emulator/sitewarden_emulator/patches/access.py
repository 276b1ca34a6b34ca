"""Principals that lack some permissions, for testing how a tool reports a denied call.

moto allows every call unless its IAM enforcement is switched on for the whole server. Here an
access key id of the form `deny+<service>:<Action>[+<service>:<Action>...]` (e.g.
`deny+s3:GetBucketLogging+kms:GetKeyRotationStatus`) is answered `AccessDenied` for exactly those
actions, in the error shape of the service's protocol, and served normally otherwise — like a
least-privilege role that misses a few grants. Any other access key is unaffected.
"""

import re
from xml.sax.saxutils import escape
from functools import wraps

from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import JsonRESTError
from werkzeug.exceptions import HTTPException
from moto.s3.exceptions import BucketAccessDeniedError, S3AccessDeniedError

PREFIX = "deny+"
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/[^/]+/([^/]+)/")


def denied_actions(access_key: str) -> set[str]:
    if not access_key.startswith(PREFIX):
        return set()
    return {a.lower() for a in access_key[len(PREFIX):].split("+") if a}


def _check(self) -> None:
    match = _CREDENTIAL.search(self.headers.get("Authorization", "") or "")
    if not match:
        return
    denied = denied_actions(match.group(1))
    if not denied:
        return
    try:
        action = self._get_action()
    except Exception:  # an action moto cannot name is never on a deny list
        return
    action = action[0] if isinstance(action, list) else action
    signing_service = match.group(2)
    # Actions are named by the request's signing name: s3, kms, route53, cloudfront, acm, logs.
    if f"{signing_service}:{action}".lower() not in denied:
        return
    iam_action = f"{signing_service}:{action}"
    user = f"arn:aws:iam::123456789012:user/{match.group(1)[:32]}"
    if signing_service == "s3":
        bucket = self.data.get("BucketName") if isinstance(getattr(self, "data", None), dict) else None
        raise BucketAccessDeniedError(bucket=bucket) if bucket else S3AccessDeniedError()
    if self.headers.get("X-Amz-Target") or self.headers.get("x-amz-target"):
        raise JsonRESTError("AccessDeniedException", f"User: {user} is not authorized to perform: {iam_action}")
    # REST-XML services (Route 53, CloudFront): <ErrorResponse><Error>, without query's <Errors>.
    raise _Denied(
        description=(
            '<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>Sender</Type>'
            f"<Code>AccessDenied</Code><Message>User: {escape(user)} is not authorized to perform: "
            f"{escape(iam_action)}</Message></Error><RequestId>denied</RequestId></ErrorResponse>"
        )
    )


class _Denied(HTTPException):
    code = 403


def apply() -> None:
    original = ActionAuthenticatorMixin._authenticate_and_authorize_action

    @wraps(original)
    def authenticate_and_authorize(self, iam_request_cls, resource="*"):
        _check(self)
        return original(self, iam_request_cls, resource)

    ActionAuthenticatorMixin._authenticate_and_authorize_action = authenticate_and_authorize
