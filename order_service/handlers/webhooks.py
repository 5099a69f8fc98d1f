"""Webhook use cases: platform orders (create/update); refunds, deliveries and
cancellations are in `notices.py`.

Idempotent twice over: on the webhook id (a receipt row) and on the platform
order id (a unique key). Notices that arrived before their order are applied in the
transaction that stores it. A line without a SKU is mapped by its variant (SKU mappings)
or flagged `unknown_sku`; it is never refused.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

from order_service.adapters.uow import DuplicateKey, OrderUnitOfWork
from order_service.domain.order import Order
from order_service.domain.review import (
    auto_review,
    buyer_keys,
    campaign_breaches,
    holds_campaign_quantity,
    no_stock_flags,
)
from order_service.domain.routing import enrich
from order_service.domain.skus import map_lines, waiting_variants, with_sku_flag
from order_service.handlers import Deps
from order_service.handlers.notices import WebhookResult, apply_parked, apply_pending
from order_service.handlers.sku_mappings import resolve_waiting

log = logging.getLogger(__name__)


@dataclass
class IncomingOrder:
    """A platform order in canonical form, whatever platform sent it."""

    source: str  # e.g. "generic:demo-shop", "shopify:demo-shop"
    webhook_id: str
    shop_id: str
    platform: str
    platform_order_id: str
    buyer: dict
    address: dict
    lines: list[dict]
    total: Decimal
    currency: str
    paid_at: datetime
    note: str = ""
    updated_at: datetime | None = None
    shipping: Decimal | None = None  # what `total` includes besides the lines; None: unknown
    discount: Decimal | None = None


async def ingest_order(deps: Deps, cmd: IncomingOrder) -> WebhookResult:
    """Store a paid order exactly once; a newer update follows the CS edit rule."""
    for _ in range(3):
        try:
            return await _ingest_once(deps, cmd)
        except DuplicateKey:
            continue  # the same order committed concurrently: the next pass sees it
    return await _ingest_once(deps, cmd)


async def ingest_orders(deps: Deps, cmds: list[IncomingOrder]) -> list[WebhookResult | Exception]:
    """Many webhooks in one transaction: the new orders among them are created together
    (a handful of statements for the whole batch). The rest — a webhook id already seen, an
    order already known, a second webhook for an order earlier in the batch — and every
    order of a batch that fails (a concurrent instance won a key) go through `ingest_order`
    one by one, so the outcome is the one each webhook would have had alone."""
    first: dict[tuple, int] = {}
    for i, cmd in enumerate(cmds):
        first.setdefault((cmd.platform, cmd.platform_order_id), i)
        first.setdefault((cmd.source, cmd.webhook_id), i)
    batch = {
        i: c
        for i, c in enumerate(cmds)
        if first[(c.platform, c.platform_order_id)] == i == first[(c.source, c.webhook_id)]
    }
    try:
        results: dict[int, WebhookResult | Exception] = {**await _create_new(deps, batch)}
    except Exception as exc:
        log.info("order batch of %d retried one by one: %s", len(batch), exc)
        results = {}
    for i, cmd in enumerate(cmds):
        if i not in results:
            try:
                results[i] = await ingest_order(deps, cmd)
            except Exception as exc:
                results[i] = exc
    return [results[i] for i in range(len(cmds))]


async def _create_new(deps: Deps, cmds: dict[int, IncomingOrder]) -> dict[int, WebhookResult]:
    """Create those of `cmds` that are new (unseen webhook id, unknown order) in one commit."""
    async with deps.uow() as uow:
        seen = await uow.receipts_seen([(c.source, c.webhook_id) for c in cmds.values()])
        known = await uow.orders.known_platform_ids(
            [(c.platform, c.platform_order_id) for c in cmds.values()]
        )
        new = {
            i: c
            for i, c in cmds.items()
            if (c.source, c.webhook_id) not in seen
            and (c.platform, c.platform_order_id) not in known
        }
        orders = dict(zip(new, await _create(uow, list(new.values())), strict=True))
        await uow.add_receipts([(c.source, c.webhook_id, orders[i].id) for i, c in new.items()])
        await uow.commit()
    await _settle(deps, list(orders.values()))
    return {i: WebhookResult(o.id, o.stage, False, "created") for i, o in orders.items()}


async def _ingest_once(deps: Deps, cmd: IncomingOrder) -> WebhookResult:
    async with deps.uow() as uow:
        seen = await uow.receipt(cmd.source, cmd.webhook_id)
        if seen is not False:
            order = await uow.orders.get(seen) if seen else None
            return WebhookResult(seen, order.stage if order else None, True, "duplicate")
        existing = await uow.orders.by_platform_id(cmd.platform, cmd.platform_order_id)
        if existing is not None:
            outcome = await _update(uow, existing, cmd)
            await uow.add_receipts([(cmd.source, cmd.webhook_id, existing.id)])
            await uow.commit()
            return WebhookResult(existing.id, existing.stage, True, outcome)
        [order] = await _create(uow, [cmd])
        await uow.add_receipts([(cmd.source, cmd.webhook_id, order.id)])
        await uow.commit()
    await _settle(deps, [order])
    return WebhookResult(order.id, order.stage, False, "created")


async def _settle(deps: Deps, orders: list[Order]) -> None:
    """After the orders' commit, what a concurrent writer parked (a cancellation, refund,
    delivery) or mapped (a SKU mapping) while they were being created: neither could see
    the other's uncommitted rows, and both look again after committing, so one of them
    applies it. One query per batch; a second only when a line has no SKU. The orders are
    committed already: a failure here is logged, never answered as the webhook's error."""
    try:
        await _settle_once(deps, orders)
    except Exception as exc:
        log.warning("settling %d new orders after commit failed: %s", len(orders), exc)


async def _settle_once(deps: Deps, orders: list[Order]) -> None:
    if not orders or not deps.interleaves:
        return
    keys = [(o.platform, o.platform_order_id) for o in orders]
    variants = {(o.platform, v) for o in orders for v in waiting_variants(o.lines)}
    pending, mapped = await deps.reads.unsettled(keys, variants)
    for platform, platform_order_id in pending:
        await apply_pending(deps, platform, platform_order_id)
    for platform, by_variant in mapped.items():
        for variant_id in sorted(by_variant):
            await resolve_waiting(deps, platform, variant_id, "sku-mappings")


async def _update(uow: OrderUnitOfWork, order: Order, cmd: IncomingOrder) -> str:
    [mapped] = await _mapped(uow, [cmd])
    lines = enrich(mapped, await uow.reference.catalog())
    changes: dict[str, Any] = {}
    if cmd.address != order.address:
        changes["address"] = cmd.address
    if cmd.note != order.note:
        changes["note"] = cmd.note
    if _line_key(lines) != _line_key(order.lines):
        changes["lines"] = lines
    stale = (
        order.platform_updated_at
        and cmd.updated_at
        and (cmd.updated_at <= order.platform_updated_at)
    )
    if cmd.updated_at is None or (stale and not changes):
        return "duplicate"
    outcome = order.platform_update(changes, cmd.updated_at, actor=f"platform:{cmd.platform}")
    await uow.store(order)
    await uow.sku_mappings.add_waiting(_waiting_rows([order]))
    return outcome


async def _mapped(uow: OrderUnitOfWork, cmds: list[IncomingOrder]) -> list[list[dict]]:
    """Each command's lines with SKUs from the mappings of their variants (one query, and
    none at all when every line has a SKU)."""
    keys = {(c.platform, v) for c in cmds for v in waiting_variants(c.lines)}
    if not keys:
        return [c.lines for c in cmds]
    known = await uow.sku_mappings.lookup(keys)
    return [map_lines(c.lines, known.get(c.platform, {}))[0] for c in cmds]


def _waiting_rows(orders: list[Order]) -> list[dict]:
    """(platform, variant, order) rows for the lines that still wait for a mapping."""
    return [
        {"platform": o.platform, "variant_id": v, "order_id": o.id}
        for o in orders
        if o.stage != "cancelled"
        for v in sorted(waiting_variants(o.lines))
    ]


def _line_key(lines: list[dict]) -> list[tuple]:
    return sorted((ln["sku"], int(ln["qty"]), str(ln.get("unit_price"))) for ln in lines)


async def _create(uow: OrderUnitOfWork, cmds: list[IncomingOrder]) -> list[Order]:
    """New orders, reviewed in arrival order: each one's campaign purchases count for the
    next, as if they had come one by one."""
    if not cmds:
        return []
    catalog = await uow.reference.catalog()
    policy = await uow.reference.review_policy()
    keys = [buyer_keys(c.buyer, c.address) for c in cmds]
    enriched = [enrich(lines, catalog) for lines in await _mapped(uow, cmds)]
    prior = await _prior_purchases(uow, enriched, keys)
    stock = (
        await uow.reference.stock(ln["sku"] for lines in enriched for ln in lines if ln["sku"])
        if policy.auto_review
        else {}
    )
    parked = await uow.parked.waiting([(c.platform, c.platform_order_id) for c in cmds])
    orders, purchases = [], []
    for cmd, lines, order_keys in zip(cmds, enriched, keys, strict=True):
        order = Order.receive(
            actor=f"platform:{cmd.platform}",
            id=f"O{uuid4().hex[:12].upper()}",
            shop_id=cmd.shop_id,
            platform=cmd.platform,
            platform_order_id=cmd.platform_order_id,
            buyer=cmd.buyer,
            address=cmd.address,
            lines=lines,
            total=cmd.total,
            shipping=cmd.shipping,
            discount=cmd.discount,
            currency=cmd.currency,
            paid_at=cmd.paid_at,
            note=cmd.note,
            platform_updated_at=cmd.updated_at,
        )
        order.flags = with_sku_flag(campaign_breaches(lines, prior, order_keys, policy), lines)
        order.flags += no_stock_flags(lines, stock)
        mapped = [
            {"line": i, "variant_id": ln["variant_id"], "sku": ln["sku"]}
            for i, (ln, raw) in enumerate(zip(lines, cmd.lines, strict=True))
            if ln["sku"] and not raw.get("sku")
        ]
        if mapped:
            order.record("sku_mapped", "sku-mappings", lines=mapped, unknown=[])
        if order.flags:
            order.record("review_flagged", "review-rules", flags=order.flags)
        auto_review(order, policy, catalog)
        await apply_parked(uow, order, parked.get((order.platform, order.platform_order_id), []))
        for row in _purchases(order, order_keys):
            key = (row["campaign_id"], row["key_kind"], row["key_value"])
            prior[key] = prior.get(key, 0) + row["qty"]
            purchases.append(row)
        orders.append(order)
    await uow.store_new(orders)
    await uow.campaigns.add(purchases)
    await uow.sku_mappings.add_waiting(_waiting_rows(orders))
    return orders


async def _prior_purchases(
    uow: OrderUnitOfWork, lines: list[list[dict]], keys: list[list[tuple[str, str]]]
) -> dict[tuple[str, str, str], int]:
    """Quantities bought per (campaign, identity kind, identity) in stored orders that still
    hold them, read under the campaigns' locks (held until this transaction commits)."""
    campaigns = sorted({ln["campaign_id"] for ls in lines for ln in ls if ln.get("campaign_id")})
    identities = {k for ks in keys for k in ks}
    if not campaigns or not identities:
        return {}
    await uow.campaigns.lock(campaigns)
    rows = await uow.campaigns.bought(campaigns, identities)
    prior: dict[tuple[str, str, str], int] = {}
    for campaign_id, key_kind, key_value, qty, stage in rows:
        if not holds_campaign_quantity(stage):
            continue
        key = (campaign_id, key_kind, key_value)
        prior[key] = prior.get(key, 0) + qty
    return prior


def _purchases(order: Order, keys: list[tuple[str, str]]) -> list[dict]:
    qty: dict[str, int] = {}
    for ln in order.lines:
        if ln.get("campaign_id"):
            qty[ln["campaign_id"]] = qty.get(ln["campaign_id"], 0) + int(ln["qty"])
    return [
        {"campaign_id": c, "key_kind": k, "key_value": v, "order_id": order.id, "qty": q}
        for c, q in qty.items()
        for k, v in dict.fromkeys(keys)
    ]
