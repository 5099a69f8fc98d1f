"""Stock per warehouse and SKU, kept by a movement ledger, and the reservation rules.

`available = on_hand - reserved` never goes below zero, and `reserved` is the sum of
the live reservations of shipment tasks. Every change is a `Movement` (who, why, the
cause event), so both figures can be recomputed from the ledger. No I/O here: the
adapters run the same rules as conditional SQL where instances race (the intake).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from warehouse_service.domain.errors import DomainError, InvalidRequest

SELLABLE = "sellable"
DISCOUNTED = "discounted"  # returned goods with a minor flaw, sold at a discount (SPEC §3.2)
POOLS = (SELLABLE, DISCOUNTED)
KINDS = (
    "receipt",
    "count_correction",
    "reservation",
    "release",
    "pick",
    "restock",
    "transfer_out",
    "transfer_in",
)
# Which emitted shipment event settles the task's live reservation, and how (SPEC §3.2):
# shipping consumes it, a withdrawal or an interception gives it back.
SETTLED_BY = {
    "shipment.shipped": "pick",
    "shipment.withdrawn": "release",
    "shipment.intercepted": "release",
}
OUT_OF_STOCK_NOTE = "no available stock when the task was created"
# Returned goods by inspection grade (SPEC §4): `new` is sellable again, `minor_flaw` is
# sold at a discount from its own pool; the other grades never come back to stock.
RESTOCK_POOL = {"new": SELLABLE, "minor_flaw": DISCOUNTED}

Key = tuple[str, str]  # (warehouse_id, sku) of the sellable pool


class InsufficientStock(DomainError):
    """Less available than asked for; names what is available."""

    code = "insufficient_stock"


class BelowReserved(DomainError):
    """A count below what live reservations hold would make `available` negative."""

    code = "below_reserved"


@dataclass(frozen=True)
class Movement:
    """One ledger entry: the change of `on_hand` and `reserved` and why it happened."""

    warehouse_id: str
    sku: str
    kind: str
    on_hand_delta: int
    reserved_delta: int
    actor: str
    reason: str
    pool: str = SELLABLE
    cause_event_id: str | None = None
    shipment_id: str | None = None
    reference: str | None = None  # an adjustment or transfer id


@dataclass
class Stock:
    """One warehouse's stock of one SKU in one pool."""

    warehouse_id: str
    sku: str
    on_hand: int = 0
    reserved: int = 0
    pool: str = SELLABLE

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    @property
    def key(self) -> Key:
        return (self.warehouse_id, self.sku)

    def _move(self, kind: str, on_hand: int, reserved: int, **why: Any) -> Movement:
        if self.reserved + reserved < 0 or self.available + on_hand - reserved < 0:
            raise InsufficientStock(
                f"{self.sku} at {self.warehouse_id}: only {self.available} available",
                sku=self.sku,
                warehouse_id=self.warehouse_id,
                available=self.available,
            )
        self.on_hand += on_hand
        self.reserved += reserved
        return Movement(self.warehouse_id, self.sku, kind, on_hand, reserved, pool=self.pool, **why)

    def receive(self, qty: int, **why: Any) -> Movement:
        return self._move("receipt", _positive(qty), 0, **why)

    def correct(self, counted: int, **why: Any) -> Movement:
        """A stocktake: `on_hand` becomes what was counted (never below the reserved)."""
        if counted < 0:
            raise InvalidRequest("counted must be 0 or more", field="counted")
        if counted < self.reserved:
            raise BelowReserved(
                f"counted {counted} is below the {self.reserved} reserved for open tasks",
                reserved=self.reserved,
                counted=counted,
            )
        return self._move("count_correction", counted - self.on_hand, 0, **why)

    def reserve(self, qty: int, **why: Any) -> Movement:
        return self._move("reservation", 0, _positive(qty), **why)

    def release(self, qty: int, **why: Any) -> Movement:
        return self._move("release", 0, -_positive(qty), **why)

    def pick(self, qty: int, **why: Any) -> Movement:
        """Shipping consumes the reservation: both figures drop, `available` stays."""
        qty = _positive(qty)
        return self._move("pick", -qty, -qty, **why)

    def restock(self, qty: int, **why: Any) -> Movement:
        return self._move("restock", _positive(qty), 0, **why)

    def transfer_out(self, qty: int, **why: Any) -> Movement:
        return self._move("transfer_out", -_positive(qty), 0, **why)

    def transfer_in(self, qty: int, **why: Any) -> Movement:
        return self._move("transfer_in", _positive(qty), 0, **why)


def _positive(qty: int) -> int:
    if qty <= 0:
        raise InvalidRequest("qty must be positive", field="qty")
    return qty


def demand(lines: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Units per SKU that a task's lines need (lines of one SKU added up)."""
    need: dict[str, int] = defaultdict(int)
    for line in lines:
        need[str(line["sku"])] += int(line["qty"])
    return dict(sorted(need.items()))


@dataclass(frozen=True)
class Demand:
    """What one new task asks of one warehouse's stock, in arrival order."""

    shipment_id: str
    warehouse_id: str
    skus: Mapping[str, int]

    def rows(self) -> list[Key]:
        return [(self.warehouse_id, sku) for sku in self.skus]


def totals(demands: Sequence[Demand]) -> dict[Key, int]:
    """A batch's demand per stock row: one conditional statement each, in key order."""
    out: dict[Key, int] = defaultdict(int)
    for d in demands:
        for sku, qty in d.skus.items():
            out[(d.warehouse_id, sku)] += qty
    return dict(sorted(out.items()))


def allocate(
    demands: Sequence[Demand], scarce: Mapping[Key, int]
) -> tuple[dict[Key, int], dict[str, list[str]]]:
    """First come, first served over the rows whose batch total did not fit.

    `scarce` is what those rows have available. A task gets all its lines or none. Returns
    the units granted per scarce row and, per task left short, the SKUs it lacked.
    """
    left = dict(scarce)
    granted: dict[Key, int] = {k: 0 for k in scarce}
    short: dict[str, list[str]] = {}
    for d in demands:
        wanted = {k: d.skus[k[1]] for k in d.rows() if k in left}
        lacking = [k[1] for k, qty in wanted.items() if left[k] < qty]
        if lacking:
            short[d.shipment_id] = lacking
            continue
        for k, qty in wanted.items():
            left[k] -= qty
            granted[k] += qty
    return granted, short


def returned(
    demands: Sequence[Demand], short: Mapping[str, list[str]], scarce: Iterable[Key]
) -> dict[Key, int]:
    """Units to give back on rows reserved whole for the batch, for the tasks left short."""
    skip = set(scarce)
    back: dict[Key, int] = defaultdict(int)
    for d in demands:
        if d.shipment_id in short:
            for k in d.rows():
                if k not in skip:
                    back[k] += d.skus[k[1]]
    return dict(sorted(back.items()))


def replay(movements: Iterable[Movement]) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(warehouse, sku, pool) → (on_hand, reserved) recomputed from the ledger."""
    out: dict[tuple[str, str, str], tuple[int, int]] = {}
    for m in movements:
        on_hand, reserved = out.get((m.warehouse_id, m.sku, m.pool), (0, 0))
        out[(m.warehouse_id, m.sku, m.pool)] = (
            on_hand + m.on_hand_delta,
            reserved + m.reserved_delta,
        )
    return out


DEV_UNITS = 1_000  # SPEC §8.1: every SKU starts with 1,000 on hand where it is carried
# Which warehouse carries which development SKU (SPEC §8.1): the own warehouse the own
# catalog, each dropship warehouse its supplier's SKUs.
DEV_CARRIED = {
    "WH-OWN-1": tuple(f"SKU-{n}" for n in range(1, 7)),
    "WH-DS-1": ("SKU-7", "SKU-8"),
    "WH-DS-2": ("SKU-9",),
}
