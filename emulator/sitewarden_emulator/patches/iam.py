"""IAM as AWS answers it for OIDC providers, roles and users.

moto round-trips most of what a CI-federation setup needs (CreateOpenIDConnectProvider with or
without thumbprints, GetOpenIDConnectProvider with the URL stripped of `https://`, roles with
MaxSessionDuration, tags and inline policies, users and access keys). Where it differs from AWS:

- AddClientIDToOpenIDConnectProvider / RemoveClientIDFromOpenIDConnectProvider: moto has neither
  (a 500). AWS: both idempotent (adding a present client ID or removing an absent one succeeds),
  NoSuchEntity for an unknown provider, at most 100 client IDs.
- CreateOpenIDConnectProvider: the URL must begin with `https://` (moto: any scheme); a second
  provider for the same URL is `EntityAlreadyExists` "Provider with url <url> already exists."
  (moto: message "Unknown"). ThumbprintList is optional, as AWS made it in 2023 for providers whose
  certificates it trusts; AWS would then store the IdP's intermediate CA thumbprint, which it
  fetches from the IdP: the emulator cannot, so GetOpenIDConnectProvider returns an empty list.
- UpdateRole: an omitted Description or MaxSessionDuration stays as it was (moto: the description
  is cleared and the duration reset to 3600).
- Users' ids are `AIDA` + 17 characters like AWS's (moto: 20 lower-case characters); ListUsers
  honours MaxItems/Marker with IsTruncated (moto: always everything, IsTruncated false);
  ListAccessKeys carries IsTruncated.
- NoSuchEntity and EntityAlreadyExists messages as AWS words them for roles, role policies and
  users ("The role with name X cannot be found.", "The role policy with name P cannot be
  found.", "User with name X already exists.").
"""

from functools import wraps

from moto.core.responses import ActionResult, EmptyResult
from moto.iam.exceptions import EntityAlreadyExists, LimitExceededException, NotFoundException, ValidationError
from moto.iam.models import IAMBackend, User
from moto.iam.responses import IamResponse
from moto.iam.utils import generate_access_key_id_from_account_id

MAX_CLIENT_IDS = 100


def _add_client_id(self: IamResponse) -> ActionResult:
    provider = self.backend.get_open_id_connect_provider(self._get_param("OpenIDConnectProviderArn"))
    client_id = self._get_param("ClientID")
    if client_id not in provider.client_id_list:  # AWS: idempotent, a present ID is no error
        if len(provider.client_id_list) >= MAX_CLIENT_IDS:
            raise LimitExceededException("Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100")
        provider.client_id_list = [*provider.client_id_list, client_id]
    return EmptyResult()


def _remove_client_id(self: IamResponse) -> ActionResult:
    provider = self.backend.get_open_id_connect_provider(self._get_param("OpenIDConnectProviderArn"))
    client_id = self._get_param("ClientID")
    # AWS: idempotent, removing an ID the provider does not have succeeds.
    provider.client_id_list = [c for c in provider.client_id_list if c != client_id]
    return EmptyResult()


def _update_role(self: IamResponse) -> ActionResult:
    role = self.backend.get_role(self._get_param("RoleName"))
    description = self._get_param("Description")
    duration = self._get_param("MaxSessionDuration")
    # AWS changes only what the request names.
    self.backend.update_role(
        role.name,
        role.description if description is None else description,
        role.max_session_duration if duration is None else duration,
    )
    return EmptyResult()


def _list_users(self: IamResponse) -> ActionResult:
    users = list(self.backend.list_users(self._get_param("PathPrefix"), None, None))
    start = int(self._get_param("Marker") or 0)
    max_items = int(self._get_param("MaxItems") or 100)
    page = users[start:start + max_items]
    result = {"Users": page, "IsTruncated": start + max_items < len(users)}
    if result["IsTruncated"]:
        result["Marker"] = str(start + max_items)
    return ActionResult(result)


def apply() -> None:
    IamResponse.add_client_id_to_open_id_connect_provider = _add_client_id
    IamResponse.remove_client_id_from_open_id_connect_provider = _remove_client_id
    IamResponse.update_role = _update_role
    IamResponse.list_users = _list_users

    original_list_access_keys = IamResponse.list_access_keys

    @wraps(original_list_access_keys)
    def list_access_keys(self):
        result = original_list_access_keys(self)
        result.result["IsTruncated"] = False  # at most two keys per user: never a second page
        return result

    IamResponse.list_access_keys = list_access_keys

    original_create_provider = IAMBackend.create_open_id_connect_provider

    @wraps(original_create_provider)
    def create_open_id_connect_provider(self, url, thumbprint_list, client_id_list, tags):
        if not (url or "").lower().startswith("https://"):
            raise ValidationError("Invalid Open ID Connect Provider URL")  # AWS: the URL must begin with https://
        try:
            return original_create_provider(self, url, thumbprint_list, client_id_list, tags)
        except EntityAlreadyExists:
            raise EntityAlreadyExists(f"Provider with url {url} already exists.") from None

    IAMBackend.create_open_id_connect_provider = create_open_id_connect_provider

    original_get_role = IAMBackend.get_role

    @wraps(original_get_role)
    def get_role(self, role_name):
        try:
            return original_get_role(self, role_name)
        except NotFoundException:
            raise NotFoundException(f"The role with name {role_name} cannot be found.") from None

    IAMBackend.get_role = get_role

    original_get_role_policy = IAMBackend.get_role_policy

    @wraps(original_get_role_policy)
    def get_role_policy(self, role_name, policy_name):
        self.get_role(role_name)
        try:
            return original_get_role_policy(self, role_name, policy_name)
        except NotFoundException:
            raise NotFoundException(f"The role policy with name {policy_name} cannot be found.") from None

    IAMBackend.get_role_policy = get_role_policy

    original_create_user = IAMBackend.create_user

    @wraps(original_create_user)
    def create_user(self, region_name, user_name, *args, **kwargs):
        try:
            return original_create_user(self, region_name, user_name, *args, **kwargs)
        except EntityAlreadyExists:
            raise EntityAlreadyExists(f"User with name {user_name} already exists.") from None

    IAMBackend.create_user = create_user

    original_user_init = User.__init__

    @wraps(original_user_init)
    def user_init(self, account_id, *args, **kwargs):
        original_user_init(self, account_id, *args, **kwargs)
        # AWS user ids: AIDA + 17 upper-case letters and digits, like role ids (AROA...).
        self.id = generate_access_key_id_from_account_id(account_id, prefix="AIDA", total_length=21)

    User.__init__ = user_init
