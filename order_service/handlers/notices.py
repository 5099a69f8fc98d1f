"""Refund requests, delivery confirmations and cancellations pushed by platforms.

Each is stored once (`parked_webhooks`, unique per kind and external id) and applied to its
order at once, or parked until the order arrives and applied in the transaction that
stores it. A cancellation takes the CS cancel's stage path (`domain/cancellations.py`) and
its outcome is queued for the platform (`platform_calls`, sent after commit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from order_service.adapters import tables as t
from order_service.adapters.uow import OrderUnitOfWork
from order_service.domain.cancellations import platform_cancel
from order_service.domain.order import Order
from order_service.handlers.common import retry_on_conflict
from shared.service import Runtime


@dataclass
class WebhookResult:
    order_id: str | None
    stage: str | None
    duplicate: bool
    outcome: str = "created"
    extra: dict[str, Any] = field(default_factory=dict)


def interleaves(rt: Runtime) -> bool:
    """Whether two write transactions can run at once (PostgreSQL); SQLite's writers
    begin IMMEDIATE, one after the other, so neither misses the other's rows there."""
    return rt.db.dialect == "postgresql"


@dataclass
class PlatformNotice:
    """A refund request, delivery confirmation or cancellation for a platform order."""

    kind: str  # refund | delivery | cancellation
    platform: str
    platform_order_id: str
    external_id: str
    body: dict[str, Any]


def cancellation_notice(
    platform: str,
    platform_order_id: str,
    *,
    webhook_id: str,
    reason: str,
    cancelled_at: datetime | None,
) -> PlatformNotice:
    """One cancellation per order: a second delivery, under any webhook id, is a duplicate."""
    return PlatformNotice(
        "cancellation",
        platform,
        platform_order_id,
        platform_order_id,
        {
            "webhook_id": webhook_id,
            "reason": reason,
            "cancelled_at": cancelled_at.isoformat() if cancelled_at else None,
        },
    )


async def ingest_notice(rt: Runtime, notice: PlatformNotice) -> WebhookResult:
    """Apply a refund/delivery/cancellation webhook to its order, or park it until the
    order arrives; decided again on the fresh order if another writer saved it first."""
    result = await retry_on_conflict(lambda: _ingest_notice(rt, notice))
    if result.outcome != "parked" or not interleaves(rt):
        return result
    # The order may have been committed meanwhile without seeing this notice (see _settle).
    late = await apply_pending(rt, notice.platform, notice.platform_order_id)
    if late is None:
        return result
    order, outcomes = late
    outcome = outcomes.get(notice.external_id) if notice.kind == "cancellation" else None
    if outcome:
        return WebhookResult(order.id, order.stage, False, outcome["outcome"], _extra(outcome))
    return WebhookResult(order.id, order.stage, False, "applied")


async def apply_pending(
    rt: Runtime, platform: str, platform_order_id: str
) -> tuple[Order, dict[str, dict]] | None:
    """Apply an existing order's unapplied parked notices; None if nothing was applied."""

    async def run() -> tuple[Order, dict[str, dict]] | None:
        async with OrderUnitOfWork(rt) as uow:
            order = await uow.orders.by_platform_id(platform, platform_order_id)
            if order is None:
                return None
            rows = (await parked_for(uow, [(platform, platform_order_id)])).get(
                (platform, platform_order_id), []
            )
            if not rows:
                return None
            outcomes = await apply_parked(uow, order, rows)
            await uow.store(order)
            await uow.commit()
            return order, outcomes

    return await retry_on_conflict(run)


async def _ingest_notice(rt: Runtime, notice: PlatformNotice) -> WebhookResult:
    async with OrderUnitOfWork(rt) as uow:
        try:
            async with uow.session.begin_nested():
                await uow.session.execute(
                    insert(t.parked).values(
                        kind=notice.kind,
                        platform=notice.platform,
                        platform_order_id=notice.platform_order_id,
                        external_id=notice.external_id,
                        body=notice.body,
                        received_at=uow.now(),
                    )
                )
        except IntegrityError:
            order = await uow.orders.by_platform_id(notice.platform, notice.platform_order_id)
            earlier = await _parked_result(uow, notice)
            return WebhookResult(
                order.id if order else None,
                order.stage if order else None,
                True,
                "duplicate",
                earlier,
            )
        order = await uow.orders.by_platform_id(notice.platform, notice.platform_order_id)
        if order is None:
            await uow.commit()
            return WebhookResult(None, None, False, "parked", {"parked": True})
        results = await apply_parked(uow, order)
        await uow.store(order)
        await uow.commit()
        result = results.get(notice.external_id) if notice.kind == "cancellation" else None
        if result:
            return WebhookResult(order.id, order.stage, False, result["outcome"], _extra(result))
        return WebhookResult(order.id, order.stage, False, "applied")


def _extra(result: dict) -> dict:
    return {k: v for k, v in result.items() if k != "outcome"}


async def _parked_result(uow: OrderUnitOfWork, notice: PlatformNotice) -> dict:
    """What an earlier delivery of this notice did (cancellations keep their outcome)."""
    p = t.parked
    body = (
        await uow.session.execute(
            select(p.c.body).where(
                p.c.kind == notice.kind,
                p.c.platform == notice.platform,
                p.c.external_id == notice.external_id,
            )
        )
    ).scalar_one_or_none()
    result = (body or {}).get("result")
    if result:
        return {"first_outcome": result["outcome"], **_extra(result)}
    return {"parked": True} if body is not None and notice.kind == "cancellation" else {}


async def parked_for(uow: OrderUnitOfWork, keys: list[tuple[str, str]]) -> dict[tuple, list]:
    """Unapplied platform notices waiting for these (platform, platform order id)s."""
    p = t.parked
    rows = (
        await uow.session.execute(
            select(p)
            .where(
                tuple_(p.c.platform, p.c.platform_order_id).in_(keys),
                p.c.applied_at.is_(None),
            )
            .order_by(p.c.id)
        )
    ).all()
    found: dict[tuple, list] = {}
    for row in rows:
        found.setdefault((row.platform, row.platform_order_id), []).append(row)
    return found


async def apply_parked(
    uow: OrderUnitOfWork, order: Order, rows: list | None = None
) -> dict[str, dict]:
    """Apply the order's parked notices in arrival order; → cancellation outcomes by id."""
    if rows is None:
        rows = (await parked_for(uow, [(order.platform, order.platform_order_id)])).get(
            (order.platform, order.platform_order_id), []
        )
    p = t.parked
    outcomes: dict[str, dict] = {}
    for row in rows:
        actor = f"platform:{order.platform}"
        body = row.body
        if row.kind == "refund":
            order.emit("order.refund_requested", **row.body)
            order.record("refund_requested", actor, **row.body)
        elif row.kind == "cancellation":
            result = platform_cancel(order, row.body["reason"], actor, f"P{uuid4().hex[:10]}")
            outcomes[row.external_id] = result
            body = {**row.body, "result": result}
            await _report(uow, order, {"cancel_reason": row.body["reason"], **result})
        else:
            order.deliver(
                datetime.fromisoformat(row.body["delivered_at"]),
                row.body.get("source", "platform"),
                actor,
            )
        await uow.session.execute(
            update(p)
            .where(p.c.id == row.id)
            .values(applied_at=uow.now(), order_id=order.id, body=body)
        )
    return outcomes


async def _report(uow: OrderUnitOfWork, order: Order, body: dict) -> None:
    """Queue the cancellation outcome for the platform (sent after commit by PlatformSync)."""
    await uow.session.execute(
        insert(t.platform_calls).values(
            order_id=order.id,
            shop_id=order.shop_id,
            platform=order.platform,
            platform_order_id=order.platform_order_id,
            call="cancellation",
            body=body,
            created_at=uow.now(),
            attempts=0,
        )
    )
