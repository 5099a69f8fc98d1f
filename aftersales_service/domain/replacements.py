"""Replacements (SPEC §4.1): an exchange's replacement units and reships (补发) of missing,
wrong or transit-damaged units; the exchange's price difference and a reship's loss.

The order service routes a replacement as a new shipment of the order (`<order>-R1`) and
answers with the shipments and the replacement's catalog value, or a refusal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from aftersales_service.domain.errors import InvalidRequest, Refused
from aftersales_service.domain.lifecycle import REPLACEMENTS
from aftersales_service.domain.line_refunds import paid_goods_value
from aftersales_service.domain.orders import OrderView
from aftersales_service.domain.returns import Liability

CENT = Decimal("0.01")
ZERO = Decimal("0")
# Who carries a reshipped loss, by the reship's reason (SPEC §4 liability).
RESHIP_LIABLE: dict[str, str] = {
    "missing_item": "warehouse",
    "wrong_item": "warehouse",
    "transit_damage": "carrier",
}


@dataclass
class Replacement:
    """Replacement units for an order. `paid_value`: what the buyer paid for the units
    given back (an exchange's returned units) or lost (a reship's); `value`: the
    replacement at catalog price, from the order service."""

    replacement_id: str
    order_id: str
    kind: str  # exchange | reship
    lines: list[dict[str, Any]]  # [{"sku", "qty"}]
    reason_code: str
    created_at: datetime
    status: str = "waiting"  # waiting → requested → created → shipped; refused, cancelled
    return_id: str | None = None
    note: str = ""
    requested_by: str = ""
    paid_value: Decimal = ZERO
    value: Decimal | None = None
    currency: str = "CNY"
    price_difference: Decimal | None = None  # value - paid_value (exchanges)
    refund_id: str | None = None  # the refund of a negative price difference
    shipments: list[dict[str, Any]] = field(default_factory=list)
    shipped: list[str] = field(default_factory=list)  # shipment ids that have left
    claims: list[str] = field(default_factory=list)  # an exchange holds its returned units
    liable_party: str | None = None
    refused_code: str | None = None
    refused_reason: str = ""
    requested_at: datetime | None = None
    shipped_at: datetime | None = None
    version: int = 0

    @property
    def shipment_ids(self) -> list[str]:
        return [s["shipment_id"] for s in self.shipments]

    @property
    def due_from_customer(self) -> Decimal:
        """A positive difference: shown on the exchange, not collected here."""
        return max(ZERO, self.price_difference or ZERO).quantize(CENT)

    @property
    def refund_due(self) -> Decimal:
        """A negative difference: refunded to the customer."""
        return max(ZERO, -(self.price_difference or ZERO)).quantize(CENT)

    def request(self, now: datetime) -> None:
        REPLACEMENTS.fire(self, "request")
        self.requested_at = now

    def created(
        self, shipments: list[dict[str, Any]], value: Decimal, currency: str, now: datetime
    ) -> None:
        """The order service routed it: its shipments and catalog value (the difference)."""
        REPLACEMENTS.fire(self, "create")
        self.shipments, self.value, self.currency = shipments, value.quantize(CENT), currency
        if self.kind == "exchange":
            self.price_difference = (self.value - self.paid_value).quantize(CENT)
        self._maybe_shipped(now)

    def ship(self, shipment_id: str, now: datetime) -> None:
        """A shipment of it left (it may arrive before the order service's answer)."""
        if shipment_id not in self.shipped:
            self.shipped.append(shipment_id)
        self._maybe_shipped(now)

    def _maybe_shipped(self, now: datetime) -> None:
        ids = self.shipment_ids
        if self.status == "created" and ids and all(i in self.shipped for i in ids):
            REPLACEMENTS.fire(self, "ship")
            self.shipped_at = now

    def refuse(self, code: str, reason: str) -> None:
        REPLACEMENTS.fire(self, "refuse")
        self.refused_code, self.refused_reason = code, reason

    def cancel(self, code: str, reason: str) -> None:
        """An exchange whose return was rejected before it was asked for."""
        REPLACEMENTS.fire(self, "cancel")
        self.refused_code, self.refused_reason = code, reason


def merge_lines(lines: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """(sku, qty) requests with each SKU once, in first-seen order; at least one unit."""
    merged: dict[str, int] = {}
    for sku, qty in lines:
        if qty < 1:
            raise InvalidRequest(f"{sku}: qty must be at least 1", code="invalid_qty", sku=sku)
        merged[sku] = merged.get(sku, 0) + qty
    if not merged:
        raise InvalidRequest("name at least one line", code="lines_required")
    return list(merged.items())


def liable_party(reason_code: str) -> str:
    try:
        return RESHIP_LIABLE[reason_code]
    except KeyError:
        raise InvalidRequest(
            f"unknown reship reason {reason_code!r}; use one of {sorted(RESHIP_LIABLE)}",
            code="unknown_reason",
            allowed=sorted(RESHIP_LIABLE),
        ) from None


def check_reship(
    order: OrderView,
    wanted: list[tuple[str, int]],
    reshipped: dict[str, int],
    claimed: set[str],
) -> list[tuple[str, int]]:
    """Only units the order shipped, less those already reshipped and those refunded or in
    a return (their money or goods come back another way)."""
    lines = merge_lines(wanted)
    for sku, qty in lines:
        order.line_for(sku)  # 422 unknown_line: not a SKU of this order
        shipped = order.shipped_qty(sku)
        refunded = sum(1 for ln in order.shipped_lines(sku) for k in ln.unit_keys() if k in claimed)
        available = max(0, shipped - reshipped.get(sku, 0) - refunded)
        if qty > available:
            raise Refused(
                f"{sku}: {qty} to reship but only {available} can be: {shipped} shipped, "
                f"{reshipped.get(sku, 0)} already reshipped, {refunded} refunded or returned",
                code="reship_exceeds_shipped",
                sku=sku,
                shipped=shipped,
                reshipped=reshipped.get(sku, 0),
                refunded=refunded,
                available=available,
            )
    return lines


def reship_liabilities(order: OrderView, reship: Replacement) -> list[Liability]:
    """The reshipped loss, per line, at what the buyer paid for it, to the reason's party."""
    party = liable_party(reship.reason_code)
    out = []
    for item in reship.lines:
        line = order.line_for(item["sku"])
        amount = paid_goods_value(order, [(item["sku"], item["qty"])])
        basis = f"{reship.reason_code}: reshipped {item['qty']} x {item['sku']}"
        out.append(Liability(party, amount, basis, line.sku, line.supplier_id, line.warehouse_id))
    return out


def exchange_for(
    replacement_id: str,
    order: OrderView,
    return_id: str,
    returned: list[tuple[str, int]],
    wanted: list[tuple[str, int]],
    unit_keys: list[str],
    reason_code: str,
    now: datetime,
    by: str = "",
) -> Replacement:
    """An exchange: the returned units (held, refunded nothing) for the `wanted` units; it
    waits for the return to be received, or for `ship_first`."""
    return Replacement(
        replacement_id,
        order.order_id,
        "exchange",
        [{"sku": sku, "qty": qty} for sku, qty in merge_lines(wanted)],
        reason_code,
        now,
        return_id=return_id,
        requested_by=by,
        paid_value=paid_goods_value(order, returned),
        currency=order.currency,
        claims=list(unit_keys),
    )
