"""Route 53: change batches validated and applied atomically as AWS does (CREATE of an existing set,
DELETE of a missing or different set → InvalidChangeBatch), unique change IDs with GetChange, and
HostedZoneAlreadyExists for a reused CallerReference; ListQueryLoggingConfigs by zone id (moto compares
the bare id with `/hostedzone/<id>` and answers NoSuchHostedZone for every zone, and ignores the
filter)."""

import copy
import random
import string
from functools import wraps

from moto.route53.exceptions import (
    DnsNameInvalidForZone,
    InvalidActionValue,
    NoSuchHostedZone,
    ResourceRecordAlreadyExists,
    Route53ClientError,
)
from moto.route53.models import RecordSet, Route53Backend
from moto.route53.responses import Route53
from moto.route53.utils import validate_domain_name
from moto.utilities.paginator import paginate
from moto.route53.utils import PAGINATION_MODEL


class InvalidChangeBatch(Route53ClientError):
    code = "InvalidChangeBatch"


class HostedZoneAlreadyExists(Route53ClientError):
    code = "HostedZoneAlreadyExists"


class NoSuchChange(Route53ClientError):
    code = "NoSuchChange"


def _fqdn(name: str) -> str:
    return name.rstrip(".").lower() + "."


def _identity(record: RecordSet) -> tuple:
    return _fqdn(record.name), record.type, record.set_identifier


def _content(record: RecordSet) -> tuple:
    """What DELETE must repeat exactly: TTL, values (any order), alias target, routing fields."""
    alias = record.alias_target
    if alias:
        target_health = str(alias.get("EvaluateTargetHealth")).lower()
        alias = (alias.get("HostedZoneId"), _fqdn(alias.get("DNSName", "")), target_health)
    routing = (record.weight, record.region, record.failover, record.health_check_id, str(record.geo_location))
    ttl = None if record.ttl is None else int(record.ttl)
    return ttl, sorted(record.records or []), alias, routing


def change_resource_record_sets(self: Route53Backend, zoneid: str, change_list: list[dict]) -> None:
    zone = self.get_hosted_zone(zoneid)
    staged = {_identity(r): r for r in zone.rrsets}
    for change in change_list:
        action, record_set = change["Action"], copy.deepcopy(change["ResourceRecordSet"])
        if action not in ("CREATE", "UPSERT", "DELETE"):
            raise InvalidActionValue(action)
        validate_domain_name(record_set["Name"], code="InvalidChangeBatch")
        name = _fqdn(record_set["Name"])
        if not (name == _fqdn(zone.name) or name.endswith("." + _fqdn(zone.name))):
            raise DnsNameInvalidForZone(name=record_set["Name"], zone_name=zone.name)
        record_set["Name"] = name
        if "ResourceRecords" in record_set:
            record_set["ResourceRecords"] = [r["Value"] for r in record_set["ResourceRecords"]]
        record = RecordSet(record_set)
        key, existing = _identity(record), staged.get(_identity(record))
        label = f"[name='{name}', type='{record.type}'" + (
            f", set-identifier='{record.set_identifier}']" if record.set_identifier else "]"
        )
        if action == "CREATE" and existing:
            raise ResourceRecordAlreadyExists(name=name, _type=record.type)
        if action == "DELETE":
            if not existing:
                raise InvalidChangeBatch(f"[Tried to delete resource record set {label} but it was not found]")
            if _content(existing) != _content(record):
                raise InvalidChangeBatch(
                    f"[Tried to delete resource record set {label} "
                    "but the values provided do not match the current values]"
                )
            del staged[key]
        else:
            staged[key] = record
    zone.rrsets = list(staged.values())  # dicts keep insertion order: replacements stay in place
    for change in change_list:
        zone.rr_changes.append(copy.deepcopy(change))


CHANGE_ACTIONS = (
    "create_hosted_zone",
    "delete_hosted_zone",
    "associate_vpc_with_hosted_zone",
    "disassociate_vpc_from_hosted_zone",
    "change_resource_record_sets",
)


def _changes(backend: Route53Backend) -> dict:
    return backend.__dict__.setdefault("sitewarden_changes", {})


def _track_change(original):
    """Each change gets its own ID (moto reuses one), which GetChange then knows."""

    @wraps(original)
    def wrapper(self: Route53):
        result = original(self)
        info = result.result.get("ChangeInfo") if isinstance(result.result, dict) else None
        if info is not None:
            change_id = "C" + "".join(random.choices(string.ascii_uppercase + string.digits, k=20))
            info["Id"] = f"/change/{change_id}"
            if comment := self._get_param("ChangeBatch.Comment"):
                info["Comment"] = comment
            _changes(self.backend)[change_id] = dict(info)
        return result

    return wrapper


def get_change(self: Route53):
    from moto.core.responses import ActionResult

    change_id = self._get_param("Id").split("/")[-1]
    info = _changes(self.backend).get(change_id)
    if info is None:
        raise NoSuchChange(f"A change with the specified change ID does not exist: {change_id}")
    return ActionResult({"ChangeInfo": dict(info, Status="INSYNC")})  # changes apply at once


@paginate(pagination_model=PAGINATION_MODEL)
def list_query_logging_configs(self: Route53Backend, hosted_zone_id: str | None = None) -> list:
    configs = list(self.query_logging_configs.values())
    if not hosted_zone_id:
        return configs
    zone_id = hosted_zone_id.split("/")[-1]
    if not any(z.resource_id == zone_id for z in self.zones.values()):
        raise NoSuchHostedZone(hosted_zone_id)
    return [c for c in configs if c.hosted_zone_id.split("/")[-1] == zone_id]


def apply() -> None:
    Route53Backend.change_resource_record_sets = change_resource_record_sets
    Route53Backend.list_query_logging_configs = list_query_logging_configs
    for name in CHANGE_ACTIONS:
        setattr(Route53, name, _track_change(getattr(Route53, name)))
    Route53.get_change = get_change

    original_create = Route53Backend.create_hosted_zone

    @wraps(original_create)
    def create_hosted_zone(self, name, private_zone, caller_reference=None, *args, **kwargs):
        # A CallerReference identifies one CreateHostedZone request; reusing it is refused.
        if caller_reference and any(z.caller_reference == caller_reference for z in self.zones.values()):
            raise HostedZoneAlreadyExists(
                f"A hosted zone has already been created with the specified caller reference: {caller_reference}"
            )
        return original_create(self, name, private_zone, caller_reference, *args, **kwargs)

    Route53Backend.create_hosted_zone = create_hosted_zone
