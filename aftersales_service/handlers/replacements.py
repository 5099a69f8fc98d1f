"""Replacement use cases (SPEC §4.1): reships, sending an exchange's replacement, and the
order service's answers (`order.replacement_created` / `_refused`) and shipping."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aftersales_service.adapters.uow import AftersalesUnitOfWork
from aftersales_service.domain.line_refunds import paid_goods_value
from aftersales_service.domain.refunds import Refund, committed
from aftersales_service.domain.replacements import (
    Replacement,
    check_reship,
    liable_party,
    reship_liabilities,
)
from aftersales_service.handlers import emit, new_id
from aftersales_service.handlers.refunds import issue, load_order, load_synced
from shared.envelope import Envelope
from shared.events.aftersales import ReplacementRequested
from shared.events.orders import LineQty, ReplacementCreated, ReplacementRefused


@dataclass(frozen=True)
class RequestReship:
    order_id: str
    lines: tuple[tuple[str, int], ...]
    reason_code: str
    role: str
    note: str = ""
    requested_by: str = ""


async def request_reship(
    uow: AftersalesUnitOfWork, cmd: RequestReship, now: datetime
) -> Replacement:
    """`POST /reships`: units the order shipped (less those reshipped or refunded), within
    the caller role's approval limit at their paid price; the loss goes to the ledger and
    the order service is asked for the shipment at once."""
    async with uow:
        await uow.orders.status(cmd.order_id)  # locks the order: reships one at a time
        order = await load_synced(uow, cmd.order_id)
        party = liable_party(cmd.reason_code)
        lines = check_reship(
            order,
            list(cmd.lines),
            await uow.replacements.reshipped(order.order_id),
            await uow.refunds.claimed(order.order_id),
        )
        value = paid_goods_value(order, lines)
        (await uow.policies.get()).check_approval_limit(cmd.role, value)
        reship = Replacement(
            new_id("RS"),
            order.order_id,
            "reship",
            [{"sku": sku, "qty": qty} for sku, qty in lines],
            cmd.reason_code,
            now,
            note=cmd.note,
            requested_by=cmd.requested_by,
            paid_value=value,
            currency=order.currency,
            liable_party=party,
        )
        owed = reship_liabilities(order, reship)
        reship.request(now)
        await uow.replacements.add(reship)
        ids = [f"LB-{reship.replacement_id[3:]}-{i:03d}" for i in range(len(owed))]
        await uow.replacements.add_liabilities(ids, reship, owed, now)
        _announce(uow, reship)
        await uow.commit()
    return reship


async def send_replacement(
    uow: AftersalesUnitOfWork, replacement: Replacement, now: datetime
) -> None:
    """Ask the order service to ship a waiting exchange (on receipt, or ship first)."""
    replacement.request(now)
    await uow.replacements.save(replacement)
    _announce(uow, replacement)


def _announce(uow: AftersalesUnitOfWork, replacement: Replacement) -> None:
    request = ReplacementRequested(
        replacement_id=replacement.replacement_id,
        kind=replacement.kind,
        lines=[LineQty(sku=ln["sku"], qty=ln["qty"]) for ln in replacement.lines],
        reason=replacement.reason_code,
        return_id=replacement.return_id,
    )
    emit(uow, request, replacement.order_id)


async def on_replacement_created(
    uow: AftersalesUnitOfWork, p: ReplacementCreated, now: datetime, cause: Envelope
) -> None:
    """Its shipments and catalog value; an exchange cheaper than what was returned refunds
    the difference (counting against what was paid), a dearer one shows it as due."""
    replacement = await uow.replacements.get(p.replacement_id)
    shipments = [s.model_dump(mode="json") for s in p.shipments]
    ids = [s["shipment_id"] for s in shipments]
    await uow.replacements.link_shipments(replacement.order_id, replacement.replacement_id, ids)
    for shipment_id in await uow.replacements.shipped_already(ids):
        replacement.ship(shipment_id, now)
    replacement.created(shipments, p.value, p.currency, now)
    if replacement.refund_due > 0:
        await _refund_difference(uow, replacement, now, cause)
    await uow.replacements.save(replacement)


async def _refund_difference(
    uow: AftersalesUnitOfWork, replacement: Replacement, now: datetime, cause: Envelope
) -> None:
    order = await load_order(uow, replacement.order_id)
    refunds = await uow.refunds.for_order(order.order_id)
    amount = min(replacement.refund_due, order.total - committed(refunds))
    if amount <= 0:
        return
    refund = Refund(
        new_id("RF"),
        order.order_id,
        amount,
        order.currency,
        "exchange",
        f"price difference of exchange {replacement.replacement_id}",
        replacement.reason_code,
        return_id=replacement.return_id,
        created_at=now,
        kind="price_difference",
    )
    await uow.refunds.add(refund)
    await issue(uow, refund, amount, now, cause)
    replacement.refund_id = refund.refund_id


async def on_replacement_refused(
    uow: AftersalesUnitOfWork, p: ReplacementRefused, now: datetime, cause: Envelope
) -> None:
    """Nothing ships: a reship's loss is struck from the ledger; an exchange's return
    becomes a refund of the returned units (paid, like any return, once inspected)."""
    replacement = await uow.replacements.get(p.replacement_id)
    replacement.refuse(p.code, p.reason)
    await uow.replacements.save(replacement)
    if replacement.kind == "reship":
        await uow.replacements.drop_liabilities(replacement.replacement_id)
        return
    await _refund_instead(uow, replacement, now, cause)


async def _refund_instead(
    uow: AftersalesUnitOfWork, exchange: Replacement, now: datetime, cause: Envelope
) -> None:
    if exchange.return_id is None:
        return
    case = await uow.returns.get(exchange.return_id)
    await uow.replacements.release_units(exchange.replacement_id)
    order = await load_order(uow, case.order_id)
    amount = min(case.amount, order.total - committed(await uow.refunds.for_order(order.order_id)))
    case.resolution = "refund"
    if amount > 0:
        refund = Refund(
            new_id("RF"),
            order.order_id,
            amount,
            order.currency,
            "return",
            f"return {case.return_id} (exchange refused: {exchange.refused_code})",
            case.reason_code,
            claims=exchange.claims,
            requested_by=exchange.requested_by,
            created_at=now,
        )
        refund.await_return(case.return_id, "return")
        await uow.refunds.add(refund)
        case.refund_id = refund.refund_id
        if case.status in ("inspected", "closed"):  # the goods are already back and graded
            await issue(uow, refund, amount, now, cause)
    await uow.returns.save(case)


async def on_shipment_shipped(uow: AftersalesUnitOfWork, shipment_id: str, now: datetime) -> None:
    """A replacement's shipment left: once all have, the replacement is `shipped`."""
    replacement = await uow.replacements.by_shipment(shipment_id)
    if replacement is None or replacement.status not in ("requested", "created"):
        return
    replacement.ship(shipment_id, now)
    await uow.replacements.save(replacement)
