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

from order_service.adapters.uow import OrderUnitOfWork
from order_service.domain.cancellations import platform_cancel
from order_service.domain.order import Order
from order_service.handlers import Deps
from order_service.handlers.common import retry_on_conflict


@dataclass
class WebhookResult:
    order_id: str | None
    stage: str | None
    duplicate: bool
    outcome: str = "created"
    extra: dict[str, Any] = field(default_factory=dict)


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


async def ingest_notice(deps: Deps, notice: PlatformNotice) -> WebhookResult:
    """Apply a refund/delivery/cancellation webhook to its order, or park it until the
    order arrives; decided again on the fresh order if another writer saved it first."""
    result = await retry_on_conflict(lambda: _ingest_notice(deps, notice))
    if result.outcome != "parked" or not deps.interleaves:
        return result
    # The order may have been committed meanwhile without seeing this notice (see _settle).
    late = await apply_pending(deps, notice.platform, notice.platform_order_id)
    if late is None:
        return result
    order, outcomes = late
    outcome = outcomes.get(notice.external_id) if notice.kind == "cancellation" else None
    if outcome:
        return WebhookResult(order.id, order.stage, False, outcome["outcome"], _extra(outcome))
    return WebhookResult(order.id, order.stage, False, "applied")


async def apply_pending(
    deps: Deps, platform: str, platform_order_id: str
) -> tuple[Order, dict[str, dict]] | None:
    """Apply an existing order's unapplied parked notices; None if nothing was applied."""

    async def run() -> tuple[Order, dict[str, dict]] | None:
        async with deps.uow() as uow:
            order = await uow.orders.by_platform_id(platform, platform_order_id)
            if order is None:
                return None
            rows = (await uow.parked.waiting([(platform, platform_order_id)])).get(
                (platform, platform_order_id), []
            )
            if not rows:
                return None
            outcomes = await apply_parked(uow, order, rows)
            await uow.store(order)
            await uow.commit()
            return order, outcomes

    return await retry_on_conflict(run)


async def _ingest_notice(deps: Deps, notice: PlatformNotice) -> WebhookResult:
    async with deps.uow() as uow:
        n = notice
        stored = await uow.parked.add(
            n.kind, n.platform, n.platform_order_id, n.external_id, n.body, uow.now()
        )
        if not stored:
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
    body = await uow.parked.body(notice.kind, notice.platform, notice.external_id)
    result = (body or {}).get("result")
    if result:
        return {"first_outcome": result["outcome"], **_extra(result)}
    return {"parked": True} if body is not None and notice.kind == "cancellation" else {}


async def apply_parked(
    uow: OrderUnitOfWork, order: Order, rows: list | None = None
) -> dict[str, dict]:
    """Apply the order's parked notices in arrival order; → cancellation outcomes by id."""
    if rows is None:
        key = (order.platform, order.platform_order_id)
        rows = (await uow.parked.waiting([key])).get(key, [])
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
            outcome = {"cancel_reason": row.body["reason"], **result}
            await uow.queue_platform_call(order, "cancellation", outcome)
        else:
            order.deliver(
                datetime.fromisoformat(row.body["delivered_at"]),
                row.body.get("source", "platform"),
                actor,
            )
        await uow.parked.mark_applied(row.id, uow.now(), order.id, body)
    return outcomes
