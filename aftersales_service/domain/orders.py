"""The after-sales view of an order, projected from order and warehouse events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from aftersales_service.domain.errors import InvalidRequest, Refused

PRE_WAREHOUSE = ("synced", "reviewed")
IN_WAREHOUSE = ("allocated", "labelled", "packed")
# Stages at which every line of the order has left the warehouse.
AFTER_SHIPPING = ("shipped", "delivered", "completed", "returning", "returned")
STAGE_ORDER = (
    "synced",
    "reviewed",
    "submitted",
    "allocated",
    "labelled",
    "packed",
    "shipped",
    "delivered",
    "completed",
)


@dataclass
class OrderLine:
    line_no: int
    sku: str
    qty: int
    unit_price: Decimal
    category: str | None = None
    supplier_id: str | None = None
    warehouse_id: str | None = None
    shipped: bool = False  # a shipment carrying it has left (projection)

    def unit_keys(self) -> list[str]:
        """Claim keys, one per unit: a refunded unit is claimed once (unique in the DB)."""
        return [f"L{self.line_no}U{u}" for u in range(self.qty)]


@dataclass
class OrderView:
    order_id: str
    stage: str | None = None
    held: bool = False
    synced: bool = False
    total: Decimal = Decimal("0")
    # As the order event carried them; None: not carried (older events), then inferred.
    shipping: Decimal | None = None
    discount: Decimal | None = None
    currency: str = "CNY"
    buyer_id: str | None = None
    platform: str | None = None
    delivered_at: datetime | None = None
    shipped: bool = False
    lines: list[OrderLine] = field(default_factory=list)

    @property
    def effective_stage(self) -> str | None:
        """The stage, moved on to `shipped` when the warehouse says a parcel left first."""
        if self.shipped and self.stage in (*PRE_WAREHOUSE, "submitted", *IN_WAREHOUSE):
            return "shipped"
        return self.stage

    def shipped_lines(self, sku: str) -> list[OrderLine]:
        """The lines of `sku` that have left the warehouse."""
        all_left = self.stage in AFTER_SHIPPING
        return [ln for ln in self.lines if ln.sku == sku and (all_left or ln.shipped)]

    def shipped_qty(self, sku: str) -> int:
        """Units of `sku` that have left the warehouse (0 if the order has no such line)."""
        return sum(ln.qty for ln in self.shipped_lines(sku))

    def line_for(self, sku: str) -> OrderLine:
        for line in self.lines:
            if line.sku == sku:
                return line
        raise InvalidRequest(
            f"order {self.order_id} has no line with sku {sku!r}",
            code="unknown_line",
            sku=sku,
        )

    def claim_units(self, wanted: list[tuple[str, int]], claimed: set[str]) -> list[ClaimedUnit]:
        """Pick unclaimed units for (sku, qty) requests; refuses what is already claimed."""
        picked: list[ClaimedUnit] = []
        for sku, qty in wanted:
            line = self.line_for(sku)
            free = [k for k in line.unit_keys() if k not in claimed]
            if qty > len(free):
                raise Refused(
                    f"{sku}: {qty} requested but only {len(free)} of {line.qty} "
                    "not already refunded or in a case",
                    code="already_refunded",
                    sku=sku,
                    available=len(free),
                )
            picked += [ClaimedUnit(k, line) for k in free[:qty]]
            claimed = claimed | set(free[:qty])
        return picked


@dataclass(frozen=True)
class ClaimedUnit:
    key: str
    line: OrderLine
