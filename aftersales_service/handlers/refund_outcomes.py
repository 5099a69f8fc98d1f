"""What the order's fate does to its refunds: cancelled (whole or by line), interception
missed, delivered before the cancel took effect."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from aftersales_service.adapters.uow import AftersalesUnitOfWork
from aftersales_service.domain.line_refunds import line_refund_amount
from aftersales_service.domain.orders import OrderView
from aftersales_service.domain.refunds import (
    WHOLE_ORDER,
    Refund,
    cancellation_amount,
    committed,
    whole_order_claims,
)
from aftersales_service.domain.returns import ReturnCase, ReturnLine
from aftersales_service.handlers import emit, new_id
from aftersales_service.handlers.refunds import issue, load_order
from shared.envelope import Envelope
from shared.events.aftersales import RefundRefused, ReturnOpened

WAITING = ("awaiting_cancel", "requested")


def _waiting(refunds: list[Refund], kind: str) -> list[Refund]:
    return [r for r in refunds if r.status in WAITING and r.kind == kind]


async def on_order_cancelled(
    uow: AftersalesUnitOfWork,
    order_id: str,
    refund_due: Decimal,
    mode: str,
    reason: str,
    now: datetime,
    cause: Envelope,
    lines: list[tuple[str, int]] | None = None,
) -> None:
    """Any cancellation refunds once: `lines` named, exactly those lines (the waiting line
    refunds they answer, or a new one); else `refund_due` of the whole order."""
    order = await load_order(uow, order_id)
    if lines:
        await _lines_cancelled(uow, order, lines, mode, reason, now, cause)
        return
    refunds = await uow.refunds.for_order(order_id)
    for refund in _waiting(refunds, "lines"):  # the cancel took their lines with the rest
        await issue(uow, refund, refund.amount, now, cause)
    amount = cancellation_amount(order, refunds, refund_due)
    waiting = _waiting(refunds, "order")
    if waiting:
        refund = waiting[0]
        refund.mode = refund.mode or mode  # the cancel answered before the decision did
        if amount > 0:
            await issue(uow, refund, amount, now, cause)
        else:
            refund.refuse("nothing_owed")
            await uow.refunds.save(refund)
        return
    claimed = await uow.refunds.claimed(order_id)
    if WHOLE_ORDER in claimed or amount <= 0:
        await uow.orders.record_anomaly(
            order_id, cause.type, cause.event_id, "cancelled but nothing left to refund", now
        )
        return
    refund = Refund(
        new_id("RF"),
        order_id,
        amount,
        order.currency,
        "order_cancelled",
        reason,
        "changed_mind",
        mode=mode,
        claims=whole_order_claims(order, claimed, refunds),
        requested_by="order_service",
        created_at=now,
    )
    await uow.refunds.add(refund)
    await issue(uow, refund, amount, now, cause)


async def _lines_cancelled(
    uow: AftersalesUnitOfWork,
    order: OrderView,
    lines: list[tuple[str, int]],
    mode: str,
    reason: str,
    now: datetime,
    cause: Envelope,
) -> None:
    """Issue the waiting line refunds these cancelled lines answer; refund the rest anew."""
    left = _add(lines)
    refunds = await uow.refunds.for_order(order.order_id)
    for refund in _waiting(refunds, "lines"):
        asked = [(x["sku"], int(x["qty"])) for x in refund.lines]
        if all(left.get(sku, 0) >= qty for sku, qty in asked):
            for sku, qty in asked:
                left[sku] -= qty
            refund.mode = refund.mode or mode
            await issue(uow, refund, refund.amount, now, cause)
    rest = [(sku, qty) for sku, qty in left.items() if qty > 0]
    if not rest:
        return
    claimed = await uow.refunds.claimed(order.order_id)
    units = [u.key for u in order.claim_units(rest, claimed)]  # refuses units refunded already
    remaining = order.total - committed(refunds)
    amount = line_refund_amount(order, claimed, units, remaining)
    refund = Refund(
        new_id("RF"),
        order.order_id,
        amount,
        order.currency,
        "order_cancelled",
        reason,
        "changed_mind",
        mode=mode,
        claims=units,
        requested_by="order_service",
        created_at=now,
        kind="lines",
        lines=[{"sku": sku, "qty": qty} for sku, qty in rest],
    )
    await uow.refunds.add(refund)
    if amount > 0:
        await issue(uow, refund, amount, now, cause)
    else:
        refund.refuse("nothing_owed")
        await uow.refunds.save(refund)


def _add(lines: list[tuple[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for sku, qty in lines:
        total[sku] = total.get(sku, 0) + qty
    return total


async def on_interception_missed(
    uow: AftersalesUnitOfWork, order_id: str, now: datetime, cause: Envelope
) -> None:
    """The parcel left anyway: the refund waits for the refused parcel to come back."""
    order = await load_order(uow, order_id)
    refunds = await uow.refunds.for_order(order_id)
    # still `requested` too: the warehouse topic may overtake the order service's decision
    refund = next(iter(_waiting(refunds, "order")), None)
    if refund is None:
        claimed = await uow.refunds.claimed(order_id)
        if WHOLE_ORDER in claimed:
            return  # already being refunded through another path
        refund = Refund(
            new_id("RF"),
            order_id,
            order.total - committed(refunds),
            order.currency,
            "interception_missed",
            "cancel after shipping: refuse delivery",
            "changed_mind",
            claims=whole_order_claims(order, claimed, refunds),
            requested_by="order_service",
            created_at=now,
        )
        await uow.refunds.add(refund)
    case = ReturnCase(
        new_id("RT"),
        order_id,
        "refused_delivery",
        refund.reason_code,
        [
            ReturnLine(ln.sku, ln.qty, ln.unit_price, ln.category, ln.supplier_id, ln.warehouse_id)
            for ln in order.lines
        ]
        or [ReturnLine("UNKNOWN", 1, order.total)],
        method="carrier_return",
        status="approved",
        shipping_payer="seller",
        refund_id=refund.refund_id,
        delivered_at=None,
        opened_at=now,
        approved_by="auto",
    )
    refund.await_return(case.return_id, "refuse_delivery")
    await uow.refunds.save(refund)
    await uow.returns.add(case, None)
    emit(
        uow,
        ReturnOpened(return_id=case.return_id, kind=case.kind, reason_code=case.reason_code),
        order_id,
        cause,
    )


async def on_delivered(
    uow: AftersalesUnitOfWork, order_id: str, now: datetime, cause: Envelope
) -> None:
    """A cancel that never happened (the parcel was delivered): refuse the waiting refund,
    free its goods for a return, and say so."""
    for refund in await uow.refunds.for_order(order_id):
        if refund.status != "awaiting_cancel":
            continue
        refund.refuse("cancel_too_late")
        await uow.refunds.release_claims(refund)
        await uow.refunds.save(refund)
        await uow.orders.record_anomaly(
            order_id,
            cause.type,
            cause.event_id,
            f"refund {refund.refund_id}: delivered "
            "before the cancel took effect; refund through a return",
            now,
        )
        emit(
            uow,
            RefundRefused(
                refund_id=refund.refund_id,
                code="cancel_too_late",
                path="return",
                reason="the order was delivered before it could be cancelled",
            ),
            order_id,
            cause,
        )
