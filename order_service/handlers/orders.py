"""CS and clerk use cases: review, submit, edit, cancel, merge-shipping, completion."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

from order_service.domain.errors import DomainError, InvalidRequest
from order_service.domain.order import Order
from order_service.domain.review import ReviewPolicy, check_merge
from order_service.domain.routing import enrich, plan_shipments
from order_service.domain.rules import Capability
from order_service.handlers import Deps
from order_service.handlers.common import load, retry_on_conflict

AFTER_SALES_WINDOW = timedelta(days=15)


class StaleVersion(DomainError):
    """`If-Match` names a version that is no longer current (HTTP 412)."""

    code = "stale_version"


async def review(deps: Deps, order_id: str, approve: bool, reason: str, actor: str) -> Order:
    """Clerk approves (synced → reviewed) or rejects (stays synced, reason visible)."""

    async def run() -> Order:
        async with deps.uow() as uow:
            order = await load(uow, order_id)
            if approve:
                order.approve(actor)
            else:
                order.reject(actor, reason)
            await uow.store(order)
            await uow.commit()
            return order

    return await retry_on_conflict(run)


async def submit(deps: Deps, order_id: str, warehouse_id: str | None, actor: str) -> Order:
    """Send a reviewed order to its warehouse(s): one shipment per warehouse."""

    async def run() -> Order:
        async with deps.uow() as uow:
            order = await load(uow, order_id)
            lines = enrich(order.lines, await uow.reference.catalog())
            plan = plan_shipments(order.id, lines, await uow.reference.warehouses(), warehouse_id)
            order.submit(plan, actor)
            await uow.store(order)
            await uow.commit()
            return order

    return await retry_on_conflict(run)


async def edit(
    deps: Deps, order_id: str, if_match: int, changes: dict[str, Any], actor: str
) -> tuple[Order, Capability]:
    """Edit by the stage table; `if_match` must be the current version."""
    async with deps.uow() as uow:
        order = await load(uow, order_id)
        if order.version != if_match:
            raise StaleVersion(
                f"order is at version {order.version}, not {if_match}; reload and retry",
                current_version=order.version,
            )
        if "lines" in changes:
            catalog = await uow.reference.catalog()
            unknown = sorted({ln["sku"] for ln in changes["lines"]} - set(catalog))
            if unknown:
                raise InvalidRequest(
                    f"unknown SKUs: {', '.join(unknown)}", field="lines", skus=unknown
                )
            changes["lines"] = enrich(changes["lines"], catalog)
        cap = order.edit(changes, actor, request_id=f"E{uuid4().hex[:10]}")
        await uow.store(order)  # VersionConflict here → 412 too
        await uow.commit()
        return order, cap


async def cancel(deps: Deps, order_id: str, reason: str, actor: str) -> tuple[Order, Capability]:
    """Cancel by the stage table; decided again on the fresh state after a conflict."""

    async def run() -> tuple[Order, Capability]:
        async with deps.uow() as uow:
            order = await load(uow, order_id)
            cap = order.cancel(reason, actor, request_id=f"C{uuid4().hex[:10]}")
            await uow.store(order)
            await uow.commit()
            return order, cap

    return await retry_on_conflict(run)


async def merge_shipping(deps: Deps, order_ids: list[str], actor: str) -> str:
    """Ship several orders together, unless that gets round a campaign limit."""

    async def run() -> str:
        async with deps.uow() as uow:
            orders = [await load(uow, oid) for oid in order_ids]
            not_ready = [o.id for o in orders if o.stage not in ("synced", "reviewed")]
            if not_ready:
                raise InvalidRequest(
                    "only orders not yet submitted can be merged",
                    code="not_mergeable",
                    orders=not_ready,
                )
            check_merge(
                [{"order_id": o.id, "buyer_id": o.buyer["id"], "lines": o.lines} for o in orders],
                await uow.reference.review_policy(),
            )
            group = f"M{uuid4().hex[:10]}"
            for o in orders:
                o.merge_group = group
                o.record("merged_shipping", actor, group=group, orders=order_ids)
                await uow.store(o)
            await uow.commit()
            return group

    return await retry_on_conflict(run)


async def set_review_policy(deps: Deps, policy: ReviewPolicy) -> ReviewPolicy:
    async with deps.uow() as uow:
        await uow.reference.set_review_policy(policy)
        await uow.commit()
    return policy


async def complete_due(deps: Deps) -> int:
    """Close delivered orders whose after-sales window has passed with no open return."""
    cutoff = deps.clock.now() - AFTER_SALES_WINDOW
    ids = await deps.reads.delivered_ids()
    done = 0
    for oid in ids:
        async with deps.uow() as uow:
            order = await load(uow, oid)
            if order.stage != "delivered" or not order.delivered_at or order.delivered_at > cutoff:
                continue
            order.complete("timer:after-sales-window")
            await uow.store(order)
            await uow.commit()
            done += 1
    return done
