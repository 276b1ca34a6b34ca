"""KMS: PolicyName defaults to `default`, DescribeKey always carries MultiRegion and KeyUsage,
ScheduleKeyDeletion validates its window and answers with the key state, and the key-state calls
(Enable/DisableKey, Cancel/ScheduleKeyDeletion) take a key ARN as well as a key id."""

import json
from functools import wraps

from moto.kms import responses
from moto.kms.exceptions import ValidationException
from moto.kms.models import Key, KmsBackend
from moto.kms.responses import KmsResponse


def _by_id(method):
    @wraps(method)
    def wrapper(self, key_id, *args, **kwargs):
        return method(self, self.get_key_id(key_id), *args, **kwargs)

    return wrapper


def apply() -> None:
    # AWS accepts a key ARN wherever a key id goes; moto's key-state calls index by bare id.
    for name in ("enable_key", "disable_key", "cancel_key_deletion", "schedule_key_deletion"):
        setattr(KmsBackend, name, _by_id(getattr(KmsBackend, name)))

    # GetKeyPolicy / PutKeyPolicy: PolicyName is optional and means "default".
    assert_default_policy = responses._assert_default_policy
    responses._assert_default_policy = lambda name: assert_default_policy(name or "default")

    init = Key.__init__

    @wraps(init)
    def key_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        # KeyMetadata always carries MultiRegion and KeyUsage (AWS defaults: false, ENCRYPT_DECRYPT).
        self.multi_region = bool(self.multi_region)
        self.key_usage = self.key_usage or "ENCRYPT_DECRYPT"

    Key.__init__ = key_init

    schedule = KmsResponse.schedule_key_deletion

    @wraps(schedule)
    def schedule_key_deletion(self):
        # AWS: 7..30 days (default 30); the response names the key by ARN and reports the new state.
        days = self._get_param("PendingWindowInDays") or 30
        if not 7 <= int(days) <= 30:
            raise ValidationException(
                f"1 validation error detected: Value '{days}' at 'pendingWindowInDays' failed to satisfy "
                "constraint: Member must have value less than or equal to 30 and greater than or equal to 7"
            )
        result = json.loads(schedule(self))
        key = self.kms_backend.describe_key(self.kms_backend.get_key_id(result["KeyId"]))
        result.update(KeyId=key.arn, KeyState=key.key_state, PendingWindowInDays=int(days))
        return json.dumps(result)

    KmsResponse.schedule_key_deletion = schedule_key_deletion
