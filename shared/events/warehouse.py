"""Events published by warehouse_service on topic `warehouse`, keyed by order id."""

from datetime import datetime

from pydantic import Field

from shared.envelope import Payload, event
from shared.events.common import Value


@event("warehouse.registered")
class WarehouseRegistered(Payload):
    """A warehouse exists (seeded or created); keyed by warehouse id."""

    warehouse_id: str
    kind: str  # own | dropship
    supplier_id: str | None = None
    name: str = ""


class ShipmentEvent(Payload):
    shipment_id: str
    warehouse_id: str


@event("shipment.queued")
class ShipmentQueued(ShipmentEvent):
    held_by: list[str] = Field(default_factory=list)


@event("shipment.allocated")
class ShipmentAllocated(ShipmentEvent):
    pass


@event("shipment.labelled")
class ShipmentLabelled(ShipmentEvent):
    carrier: str
    tracking_number: str


@event("shipment.packed")
class ShipmentPacked(ShipmentEvent):
    weight_grams: int


@event("shipment.shipped")
class ShipmentShipped(ShipmentEvent):
    """Handed to the carrier; `submitted_at` lets after-sales measure submit-to-ship time."""

    carrier: str
    tracking_number: str
    shipped_at: datetime
    submitted_at: datetime | None = None


@event("shipment.out_of_stock")
class ShipmentOutOfStock(ShipmentEvent):
    skus: list[str]
    note: str = ""


@event("shipment.held")
class ShipmentHeld(ShipmentEvent):
    """A hold was placed: a stop-shipment (`stop_id`) or a manual hold (reason, owner)."""

    hold_id: str
    reason: str
    stop_id: str | None = None
    owner: str = ""
    until: datetime | None = None


class HeldTask(Value):
    """One task in a `shipments.held` batch."""

    shipment_id: str
    order_id: str
    hold_id: str


@event("shipments.held")
class ShipmentsHeld(Payload):
    """A stop-shipment held many tasks of one warehouse at once (instead of one
    `shipment.held` per task). Keyed by one listed order id; every listed order
    hashes to that key's partition, so per-order event order is kept."""

    warehouse_id: str
    stop_id: str
    reason: str
    owner: str = ""
    tasks: list[HeldTask]


class ReleasedTask(Value):
    """One task in a `shipments.released` batch."""

    shipment_id: str
    order_id: str
    hold_id: str
    still_held: bool = False  # another hold (stop or manual) still holds it


@event("shipments.released")
class ShipmentsReleased(Payload):
    """A lifted stop released many tasks of one warehouse at once (instead of one
    `shipment.released` per task); keyed and partitioned like `shipments.held`."""

    warehouse_id: str
    stop_id: str
    tasks: list[ReleasedTask]


@event("shipment.released")
class ShipmentReleased(ShipmentEvent):
    hold_id: str
    stop_id: str | None = None
    still_held: bool = False


@event("shipment.edit_applied")
class EditApplied(ShipmentEvent):
    request_id: str


@event("shipment.edit_rejected")
class EditRejected(ShipmentEvent):
    request_id: str
    reason: str


@event("shipment.withdrawn")
class ShipmentWithdrawn(ShipmentEvent):
    request_id: str


@event("shipment.interception_pending")
class InterceptionPending(ShipmentEvent):
    """A withdrawal arrived after import: it became an interception request."""

    request_id: str


@event("shipment.intercepted")
class ShipmentIntercepted(ShipmentEvent):
    request_id: str | None = None


@event("shipment.interception_missed")
class InterceptionMissed(ShipmentEvent):
    request_id: str | None = None


class RemovedLine(Value):
    """Units of one SKU taken off a task (or not) by a line-removal answer."""

    sku: str
    qty: int = Field(gt=0)


@event("shipment.lines_removed")
class LinesRemoved(ShipmentEvent):
    """The lines of a removal request are off the task (at once while queued or held, or
    answered `removed` by the scanner). `task_withdrawn`: no line was left, so the task
    is withdrawn with them."""

    request_id: str
    lines: list[RemovedLine]
    task_withdrawn: bool = False


@event("shipment.line_removal_pending")
class LineRemovalPending(ShipmentEvent):
    """A removal request reached a task already imported: best effort, answered later."""

    request_id: str
    lines: list[RemovedLine]


@event("shipment.line_removal_missed")
class LineRemovalMissed(ShipmentEvent):
    """The lines could not be taken off (packed or shipped with them): they ship."""

    request_id: str
    lines: list[RemovedLine]


@event("shipment.address_changed")
class AddressChanged(ShipmentEvent):
    """A relabel (SPEC §2.4): the task has the new address; `voided_tracking_number` is the
    label voided (none before labelling). An `address_change` hold (`hold_id`) keeps it
    until the next label, which is printed with the new address and releases it."""

    request_id: str
    voided_tracking_number: str | None = None
    hold_id: str | None = None


@event("shipment.address_change_missed")
class AddressChangeMissed(ShipmentEvent):
    """Too late for a relabel: the parcel left (or the task went) with the old address."""

    request_id: str
    reason: str = ""


class SkuAvailable(Value):
    """One SKU's sellable stock available, summed over every warehouse."""

    sku: str
    available: int


@event("stock.levels")
class StockLevels(Payload):
    """What the shop listing was just told (warehouse listing sync: debounced, a zero at
    once), in one batch keyed `stock`; `as_of` orders batches for a projection."""

    as_of: datetime
    levels: list[SkuAvailable]
