"""Refund use cases: by stage (cancel first), on cancellation, on missed interception."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from aftersales_service.adapters.uow import AftersalesUnitOfWork
from aftersales_service.domain.errors import NotFound, Refused
from aftersales_service.domain.orders import OrderView
from aftersales_service.domain.refunds import (
    WHOLE_ORDER,
    Refund,
    cancellation_amount,
    check_within_paid,
    committed,
    refund_route,
    whole_order_claims,
)
from aftersales_service.domain.returns import ReturnCase, ReturnLine
from aftersales_service.handlers import emit, new_id
from shared.envelope import Envelope
from shared.events.aftersales import CancelForRefund, RefundIssued, RefundRefused, ReturnOpened


@dataclass(frozen=True)
class RequestRefund:
    order_id: str
    reason: str
    reason_code: str = "changed_mind"
    amount: Decimal | None = None
    requested_by: str = ""
    source: str = "cs"
    platform_refund_id: str | None = None
    # The CS role asking: the amount must be within its approval limit (None: platform
    # and system refunds, which no one approves).
    role: str | None = None


async def request_refund(uow: AftersalesUnitOfWork, cmd: RequestRefund, now: datetime) -> Refund:
    """`POST /refunds`: the stage decides; before shipping it asks the order to cancel."""
    async with uow:
        refund = await start_refund(uow, cmd, now)
        await uow.commit()
    return refund


async def load_order(uow: AftersalesUnitOfWork, order_id: str) -> OrderView:
    order = await uow.orders.get(order_id)
    if order is None:
        raise NotFound(
            f"order {order_id} is not known to after-sales (not synced yet?)",
            code="order_unknown",
        )
    return order


async def start_refund(
    uow: AftersalesUnitOfWork, cmd: RequestRefund, now: datetime, cause: Envelope | None = None
) -> Refund:
    """Inside an open unit of work: validate, claim the whole order, emit the cancel request."""
    order = await load_order(uow, cmd.order_id)
    route = refund_route(order)
    refunds = await uow.refunds.for_order(order.order_id)
    claims = whole_order_claims(order, await uow.refunds.claimed(order.order_id), refunds)
    amount = cmd.amount if cmd.amount is not None else order.total - committed(refunds)
    check_within_paid(order, refunds, amount)
    if cmd.role is not None:
        (await uow.policies.get()).check_approval_limit(cmd.role, amount)
    refund = Refund(
        new_id("RF"),
        order.order_id,
        amount,
        order.currency,
        cmd.source,
        cmd.reason,
        cmd.reason_code,
        claims=claims,
        requested_by=cmd.requested_by,
        created_at=now,
        platform_refund_id=cmd.platform_refund_id,
    )
    refund.request_cancel(route)
    await uow.refunds.add(refund)
    emit(uow, CancelForRefund(refund_id=refund.refund_id, reason=cmd.reason), order.order_id, cause)
    return refund


async def platform_refund(
    uow: AftersalesUnitOfWork, cmd: RequestRefund, now: datetime, cause: Envelope
) -> None:
    """`order.refund_requested`: like `POST /refunds`; a refusal is recorded and emitted."""
    if await uow.refunds.by_platform_id(cmd.order_id, cmd.platform_refund_id or ""):
        return
    try:
        async with uow.savepoint():
            await start_refund(uow, cmd, now, cause)
    except (Refused, NotFound) as exc:
        refused = Refund(
            new_id("RF"),
            cmd.order_id,
            cmd.amount or Decimal("0"),
            "CNY",
            cmd.source,
            cmd.reason,
            cmd.reason_code,
            requested_by=cmd.requested_by,
            created_at=now,
            platform_refund_id=cmd.platform_refund_id,
        )
        refused.refuse(exc.code)
        await uow.refunds.add(refused)
        emit(
            uow,
            RefundRefused(
                refund_id=refused.refund_id,
                code=exc.code,
                path=exc.details.get("path", "none"),
                reason=exc.message,
            ),
            cmd.order_id,
            cause,
        )


async def issue(
    uow: AftersalesUnitOfWork,
    refund: Refund,
    amount: Decimal,
    now: datetime,
    cause: Envelope | None = None,
) -> None:
    """Mark issued and emit `refund.issued` (the only place money goes out)."""
    refund.issue(amount, now)
    await uow.refunds.save(refund)
    emit(
        uow,
        RefundIssued(
            refund_id=refund.refund_id,
            amount=refund.amount,
            currency=refund.currency,
            reason=refund.reason,
        ),
        refund.order_id,
        cause,
    )


async def on_order_cancelled(
    uow: AftersalesUnitOfWork,
    order_id: str,
    refund_due: Decimal,
    mode: str,
    reason: str,
    now: datetime,
    cause: Envelope,
) -> None:
    """Any cancellation refunds `refund_due` once: the waiting refund, or a new one."""
    order = await load_order(uow, order_id)
    refunds = await uow.refunds.for_order(order_id)
    amount = cancellation_amount(order, refunds, refund_due)
    waiting = [r for r in refunds if r.status in ("awaiting_cancel", "requested")]
    if waiting:
        refund = waiting[0]
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


async def on_interception_missed(
    uow: AftersalesUnitOfWork, order_id: str, now: datetime, cause: Envelope
) -> None:
    """The parcel left anyway: the refund waits for the refused parcel to come back."""
    order = await load_order(uow, order_id)
    refunds = await uow.refunds.for_order(order_id)
    refund = next((r for r in refunds if r.status == "awaiting_cancel"), None)
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
