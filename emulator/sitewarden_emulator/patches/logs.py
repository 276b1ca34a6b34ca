"""CloudWatch Logs vended-log deliveries: moto implements the delivery API; AWS additionally refuses to
delete a delivery source or destination that a delivery still uses (ConflictException)."""

from functools import wraps

from moto.logs.exceptions import ConflictException
from moto.logs.models import LogsBackend


def _refuse_if_used(kind: str, uses):
    def decorate(original):
        @wraps(original)
        def delete(self: LogsBackend, name: str) -> None:
            if any(uses(self, delivery, name) for delivery in self.deliveries.values()):
                raise ConflictException(msg=f"Delivery {kind} {name} is in use by a delivery; delete it first.")
            return original(self, name)

        return delete

    return decorate


def _uses_destination(backend: LogsBackend, delivery, name: str) -> bool:
    destination = backend.delivery_destinations.get(name)
    return destination is not None and delivery.delivery_destination_arn == destination.arn


def apply() -> None:
    LogsBackend.delete_delivery_source = _refuse_if_used(
        "source", lambda backend, delivery, name: delivery.delivery_source_name == name
    )(LogsBackend.delete_delivery_source)
    LogsBackend.delete_delivery_destination = _refuse_if_used("destination", _uses_destination)(
        LogsBackend.delete_delivery_destination
    )
