"""Replacement shipments (SPEC §4.1): the order's half of exchanges and reships.

After-sales asks (`aftersales.replacement_requested`); `request_replacement` answers once
per replacement id (a repeat changes nothing): refused with a code (`order_cancelled`,
`not_shipped`, `unknown_sku`, `no_warehouse`, `unknown_kind`), or routed like an order's
lines (`routing.plan_shipments`) into new shipments of the same order, each announced as
`order.submitted` with `replacement_id`, answered by `order.replacement_created` and
recorded as a change record of kind `exchange` / `reship`.

Ids: the n-th replacement of an order ships as `<order>-R<n>`; when it splits over
warehouses its further shipments are `<order>-R<n>-2`, `-R<n>-3`… (own warehouse first,
as routing orders them). A refused request takes no number.

Replacement shipments never move the order: the order's stage, holds and order-level
cancel read only its own shipments (`Order.own_shipments`), while a replacement's status,
holds and tracking follow the warehouse like any shipment's and its lines are answered
by the per-line table like any line (`lines.order_lines`); an address change relabels it
like any unshipped shipment (`Order.relabel_targets`). A replacement's tracking is
kept on the order document but not pushed to the platform (it is no platform fulfilment);
cancelling a replacement line refunds nothing (it was not paid for) and leaves the
order's own lines as they are.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from order_service.domain.errors import InvalidRequest
from order_service.domain.routing import CatalogItem, Warehouse, enrich, plan_shipments

if TYPE_CHECKING:
    from order_service.domain.order import Order

KINDS = ("exchange", "reship")


class Refused(Exception):
    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code, self.reason = code, reason


def find(order: Order, replacement_id: str) -> dict[str, Any] | None:
    return next((r for r in order.replacements if r["replacement_id"] == replacement_id), None)


def request_replacement(
    order: Order,
    request: dict[str, Any],
    catalog: dict[str, CatalogItem],
    warehouses: list[Warehouse],
    actor: str,
) -> dict[str, Any]:
    """Create the replacement shipments or refuse; → the replacement's record."""
    rid = request["replacement_id"]
    known = find(order, rid)
    if known is not None:
        order.record("replacement_duplicate", actor, replacement_id=rid, outcome=known["outcome"])
        return known
    record: dict[str, Any] = {
        "replacement_id": rid,
        "kind": request["kind"],
        "return_id": request.get("return_id"),
        "reason": request.get("reason", ""),
        "lines": [{"sku": ln["sku"], "qty": int(ln["qty"])} for ln in request["lines"]],
        "by": actor,
    }
    try:
        _check(order, record, catalog)
        priced = _priced(order, record["lines"], catalog)
        plan = _plan(order, priced, warehouses)
    except Refused as refused:
        return _refuse(order, record, refused, actor)
    return _create(order, record, plan, actor)


def _check(order: Order, record: dict[str, Any], catalog: dict[str, CatalogItem]) -> None:
    if record["kind"] not in KINDS:
        kind = record["kind"]
        raise Refused("unknown_kind", f"a replacement is an exchange or a reship, not {kind}")
    if order.stage == "cancelled" or order.review.get("status") == "rejected":
        raise Refused("order_cancelled", f"the order is {order.stage}: nothing to replace")
    if not any(s.left_warehouse for s in order.own_shipments()):
        raise Refused("not_shipped", "nothing of the order has shipped yet: cancel or edit instead")
    unknown = sorted({ln["sku"] for ln in record["lines"]} - set(catalog))
    if unknown:
        raise Refused("unknown_sku", f"unknown SKUs: {', '.join(unknown)}")


def _priced(
    order: Order, wanted: list[dict[str, Any]], catalog: dict[str, CatalogItem]
) -> list[dict[str, Any]]:
    """Lines as the order would carry them: the catalog's routing facts; the price,
    attributes and campaign of the order's own line of that SKU (the customer paid that
    price), or for a SKU the order did not have the catalog's list price (0 if none)."""
    own = {ln["sku"]: ln for ln in order.lines}
    for s in order.own_shipments():
        for ln in s.lines:
            own.setdefault(ln["sku"], ln)
    lines = []
    for ln in wanted:
        same = own.get(ln["sku"], {})
        listed = catalog[ln["sku"]].unit_price
        lines.append(
            {
                "sku": ln["sku"],
                "qty": ln["qty"],
                "unit_price": str(same.get("unit_price", listed or Decimal("0"))),
                "attributes": dict(same.get("attributes") or {}),
                "campaign_id": same.get("campaign_id"),
            }
        )
    return enrich(lines, catalog)


def _plan(
    order: Order, lines: list[dict[str, Any]], warehouses: list[Warehouse]
) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """Routed as `submit` routes an order's lines, renamed `<order>-R<n>[-k]`."""
    try:
        plan = plan_shipments(order.id, lines, warehouses)
    except InvalidRequest as exc:
        raise Refused("no_warehouse", exc.message) from None
    n = 1 + sum(1 for r in order.replacements if r["outcome"] == "created")
    return [
        (f"{order.id}-R{n}" + (f"-{k}" if k > 1 else ""), wh, lines_)
        for k, (_, wh, lines_) in enumerate(plan, start=1)
    ]


def _create(
    order: Order,
    record: dict[str, Any],
    plan: list[tuple[str, str, list[dict[str, Any]]]],
    actor: str,
) -> dict[str, Any]:
    from order_service.domain.order import Shipment  # the aggregate imports this module

    rid, kind = record["replacement_id"], record["kind"]
    shipments = [Shipment(sid, wh, lines, replacement_id=rid) for sid, wh, lines in plan]
    order.shipments += shipments
    for s in shipments:
        order.announce(s)
    value = sum(
        (Decimal(str(ln["unit_price"])) * int(ln["qty"]) for s in shipments for ln in s.lines),
        Decimal("0"),
    )
    record.update(outcome="created", shipments=[s.shipment_id for s in shipments], value=str(value))
    order.replacements.append(record)
    order.emit(
        "order.replacement_created",
        replacement_id=rid,
        kind=kind,
        shipments=[
            {"shipment_id": s.shipment_id, "warehouse_id": s.warehouse_id, "lines": s.lines}
            for s in shipments
        ],
        value=str(value),
        currency=order.currency,
    )
    _change_record(order, record, shipments, actor)
    order.record(
        "replacement_created",
        actor,
        replacement_id=rid,
        kind=kind,
        return_id=record["return_id"],
        shipments=record["shipments"],
        value=str(value),
    )
    return record


def _change_record(order: Order, record: dict[str, Any], shipments: list[Any], actor: str) -> None:
    """The replacement as one versioned change record of the order's lines."""
    change = {
        "version": len(order.line_changes) + 1,
        "kind": record["kind"],
        "request_id": record["replacement_id"],
        "by": actor,
        "reason": record["reason"],
        "lines": [
            {
                "sku": ln["sku"],
                "qty": int(ln["qty"]),
                "shipment_id": s.shipment_id,
                "mode": "replacement",
                "guaranteed": False,
                "outcome": "submitted",
            }
            for s in shipments
            for ln in s.lines
        ],
        "outcome": "done",
    }
    order.line_changes.append(change)
    order.emit("order.lines_changed", **change)


def _refuse(order: Order, record: dict[str, Any], refused: Refused, actor: str) -> dict[str, Any]:
    record.update(outcome="refused", code=refused.code, refusal=refused.reason)
    order.replacements.append(record)
    order.emit(
        "order.replacement_refused",
        replacement_id=record["replacement_id"],
        kind=record["kind"],
        code=refused.code,
        reason=refused.reason,
    )
    order.record(
        "replacement_refused",
        actor,
        replacement_id=record["replacement_id"],
        kind=record["kind"],
        code=refused.code,
        reason=refused.reason,
    )
    return record
