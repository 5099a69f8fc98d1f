"""Stop-shipment broadcast (topic `stop-shipments`, keyed by stop id) and its acks."""

from datetime import datetime

from pydantic import Field

from shared.envelope import Payload, event
from shared.events.common import Value


class StopScope(Value):
    """What a stop matches; an empty scope with `all_dropship` false matches nothing."""

    skus: list[str] = Field(default_factory=list)
    suppliers: list[str] = Field(default_factory=list)
    campaigns: list[str] = Field(default_factory=list)
    warehouses: list[str] = Field(default_factory=list)
    all_dropship: bool = False


@event("stop.issued")
class StopIssued(Payload):
    stop_id: str
    scope: StopScope
    reason: str
    issued_by: str
    issued_at: datetime


@event("stop.lifted")
class StopLifted(Payload):
    stop_id: str
    lifted_by: str
    lifted_at: datetime


@event("stop.acknowledged")
class StopAcknowledged(Payload):
    """One warehouse applied a stop: how many tasks it held, which had already left."""

    stop_id: str
    warehouse_id: str
    instance_id: str
    held_count: int
    already_shipped: list[str] = Field(default_factory=list)  # order ids
