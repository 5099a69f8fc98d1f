"""Refund requests: whole order or by line (the order service decides the path), goodwill
and partial platform refunds (issued at once), and the order service's answer."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from aftersales_service.adapters.uow import AftersalesUnitOfWork
from aftersales_service.domain.errors import NotFound, Refused
from aftersales_service.domain.line_refunds import line_refund_amount
from aftersales_service.domain.orders import OrderView
from aftersales_service.domain.refunds import (
    Decision,
    Refund,
    check_within_paid,
    committed,
    goodwill_amount,
    whole_order_claims,
)
from aftersales_service.handlers import emit, new_id
from shared.envelope import Envelope
from shared.events.aftersales import RefundIssued, RefundPathRequested, RefundRefused
from shared.events.orders import LineQty


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
    kind: str = "order"  # order | lines | goodwill | partial
    lines: tuple[tuple[str, int], ...] = ()  # (sku, qty) of a `lines` refund


async def request_refund(uow: AftersalesUnitOfWork, cmd: RequestRefund, now: datetime) -> Refund:
    """`POST /refunds`: goodwill is issued at once; any other asks the order service."""
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


async def load_synced(uow: AftersalesUnitOfWork, order_id: str) -> OrderView:
    """The order with its lines and what was paid (not a placeholder of early events)."""
    order = await load_order(uow, order_id)
    if not order.synced:
        raise NotFound(
            f"order {order_id} is not known here yet; refunds before sync are platform-side",
            code="order_unknown",
        )
    return order


async def start_refund(
    uow: AftersalesUnitOfWork, cmd: RequestRefund, now: datetime, cause: Envelope | None = None
) -> Refund:
    """Inside an open unit of work: the order is locked (refunds of one order are decided
    one at a time), the money rules are checked, the goods claimed, the refund stored.

    A whole-order or line refund then asks the order service for its path
    (`aftersales.refund_requested`) and waits. A goodwill or partial refund is issued at
    once: it cancels nothing, so no stage rule decides it and the order service is not
    asked (SPEC §4.1: allowed at any stage, within the approval limit and what was paid)."""
    await uow.orders.status(cmd.order_id)  # locks the order row until commit
    order = await load_synced(uow, cmd.order_id)
    refunds = await uow.refunds.for_order(order.order_id)
    claimed = await uow.refunds.claimed(order.order_id)
    remaining = order.total - committed(refunds)
    claims: list[str] = []
    if cmd.kind in ("goodwill", "partial"):
        amount = goodwill_amount(cmd.amount)
    elif cmd.kind == "lines":
        units = [u.key for u in order.claim_units(list(cmd.lines), claimed)]
        amount, claims = line_refund_amount(order, claimed, units, remaining), units
    else:
        claims = whole_order_claims(order, claimed, refunds)
        amount = cmd.amount if cmd.amount is not None else remaining
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
        kind=cmd.kind,
        lines=[{"sku": sku, "qty": qty} for sku, qty in cmd.lines],
    )
    await uow.refunds.add(refund)
    if cmd.kind in ("goodwill", "partial"):
        await issue(uow, refund, amount, now, cause)
        return refund
    request = RefundPathRequested(
        refund_id=refund.refund_id,
        amount=amount,
        reason=cmd.reason,
        lines=[LineQty(sku=sku, qty=qty) for sku, qty in cmd.lines],
    )
    emit(uow, request, order.order_id, cause)
    return refund


def platform_kind(order: OrderView, refunds: list[Refund], cmd: RequestRefund) -> RequestRefund:
    """A platform refund naming SKUs refunds those lines (each listed SKU one unit); one for
    less than what is left to refund pays that part and cancels nothing; one for all that is
    left refunds the order (cancelled first, by the order service's rule)."""
    skus = [sku for sku, _ in cmd.lines]
    if skus:
        lines = tuple(Counter(skus).items())
        return replace(cmd, kind="lines", lines=lines)
    remaining = order.total - committed(refunds)
    if cmd.amount is not None and 0 < cmd.amount < remaining:
        return replace(cmd, kind="partial")
    return replace(cmd, kind="order")  # more than is left: refused, never more than paid


async def platform_refund(
    uow: AftersalesUnitOfWork, cmd: RequestRefund, now: datetime, cause: Envelope
) -> None:
    """`order.refund_requested`: like `POST /refunds`; a refusal is recorded and emitted."""
    if await uow.refunds.by_platform_id(cmd.order_id, cmd.platform_refund_id or ""):
        return
    try:
        async with uow.savepoint():
            order = await load_synced(uow, cmd.order_id)
            refunds = await uow.refunds.for_order(cmd.order_id)
            await start_refund(uow, platform_kind(order, refunds, cmd), now, cause)
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
        path = str(exc.details.get("path", "none"))
        await _announce_refusal(uow, refused, exc.code, path, exc.message, cause)


async def on_refund_decided(
    uow: AftersalesUnitOfWork, refund_id: str, decision: Decision, now: datetime, cause: Envelope
) -> None:
    """`order.refund_decided`: record the mode the order service took; a path the refund
    cannot take from here (refusal, return) refuses it, frees its goods and says so."""
    refund = await uow.refunds.get(refund_id)
    refusal = refund.decided(decision)
    if refusal is not None:
        await uow.refunds.release_claims(refund)
    await uow.refunds.save(refund)
    if refusal is not None:
        code, path, reason = refusal
        await _announce_refusal(uow, refund, code, path, reason, cause)


async def _announce_refusal(
    uow: AftersalesUnitOfWork,
    refund: Refund,
    code: str,
    path: str,
    reason: str,
    cause: Envelope | None,
) -> None:
    emit(
        uow,
        RefundRefused(refund_id=refund.refund_id, code=code, path=path, reason=reason),
        refund.order_id,
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
