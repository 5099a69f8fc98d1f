"""The order unit of work: repositories on one transaction, and `store()` that writes an
aggregate together with its events (outbox), timeline rows and pending platform calls."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from sqlalchemy import func, insert, select, tuple_

from order_service.adapters import tables as t
from order_service.adapters.repository import OrderRepository
from order_service.domain.order import Order
from order_service.domain.review import ReviewPolicy
from order_service.domain.routing import CatalogItem, Warehouse
from shared import topics
from shared.anomalies import AnomalyLog
from shared.db import insert_ignoring_conflicts
from shared.envelope import Envelope, new_event, payload_type
from shared.service import Runtime
from shared.unit_of_work import UnitOfWork

PRODUCER = "order_service"
ANOMALIES = AnomalyLog(t.anomalies)
CAMPAIGN_LOCKS = 0x0C4A  # advisory lock class of per-campaign checks (the key is the id's hash)


class OrderUnitOfWork(UnitOfWork):
    """`async with uow:` → `uow.orders`, reference data, and `store(order)`."""

    def __init__(self, runtime: Runtime):
        super().__init__(runtime.db, runtime.outbox, runtime.inbox)
        self.clock = runtime.clock

    async def __aenter__(self) -> OrderUnitOfWork:
        await super().__aenter__()
        self.orders = OrderRepository(self.session)
        return self

    def now(self):
        return self.clock.now()

    async def store(self, order: Order, *, cause: Envelope | None = None) -> None:
        """Persist the order (version-checked) with its events, timeline and tracking calls."""
        now = self.now()
        await self.orders.save(order, now)
        await self._side_effects([order], now, cause)

    async def store_new(self, orders: list[Order]) -> None:
        """Insert new orders (one statement per table, however many orders)."""
        now = self.now()
        await self.orders.add_all(orders, now)
        await self._side_effects(orders, now, None)

    async def _side_effects(self, orders: list[Order], now, cause: Envelope | None) -> None:
        rows = []
        for order in orders:
            for event_type, data in order.events:
                payload = payload_type(event_type).model_validate(data)
                self.emit(
                    topics.ORDERS,
                    new_event(
                        payload, producer=PRODUCER, order_id=order.id, cause=cause, occurred_at=now
                    ),
                )
            rows += [
                {
                    "order_id": order.id,
                    "at": now,
                    "kind": e["kind"],
                    "actor": e["actor"],
                    "cause": cause.type if cause else None,
                    "detail": e["detail"],
                }
                for e in order.timeline
            ]
        if rows:
            await self.session.execute(insert(t.timeline), rows)
        for order in orders:
            await self._tracking_calls(order, now)
            order.events, order.timeline = [], []

    async def _tracking_calls(self, order: Order, now) -> None:
        for call in order.tracking_sync:
            await self.session.execute(
                insert(t.platform_calls).values(
                    order_id=order.id,
                    shop_id=order.shop_id,
                    platform=order.platform,
                    platform_order_id=order.platform_order_id,
                    call="tracking",
                    body=call,
                    created_at=now,
                    attempts=0,
                )
            )
        order.tracking_sync = []

    async def anomaly(
        self,
        kind: str,
        env: Envelope,
        reason: str,
        *,
        order_id: str | None = None,
        shipment_id: str | None = None,
    ) -> None:
        """Record a consumed event that could not be applied (listed by `GET /anomalies`)."""
        await ANOMALIES.record(
            self.session,
            kind,
            env,
            reason,
            self.now(),
            order_id=order_id,
            shipment_id=shipment_id,
        )

    async def lock_campaigns(self, campaign_ids: Iterable[str]) -> None:
        """Hold these campaigns' per-buyer checks until commit, so that orders taken by two
        instances at once are checked one after the other: the second sees the first's
        purchases. PostgreSQL advisory locks, taken in sorted order (no deadlock between
        batches); a SQLite write transaction is exclusive already."""
        if self.db.dialect != "postgresql":
            return
        for campaign_id in sorted(set(campaign_ids)):
            key = func.hashtext(f"campaign:{campaign_id}")
            await self.session.execute(select(func.pg_advisory_xact_lock(CAMPAIGN_LOCKS, key)))

    # ---- reference data ------------------------------------------------------------------
    async def catalog(self) -> dict[str, CatalogItem]:
        rows = (await self.session.execute(select(t.catalog))).all()
        return {r.sku: CatalogItem(r.sku, r.category, r.supplier_id) for r in rows}

    async def warehouses(self) -> list[Warehouse]:
        rows = (await self.session.execute(select(t.warehouses))).all()
        return [Warehouse(r.warehouse_id, r.kind, r.supplier_id) for r in rows]

    async def review_policy(self) -> ReviewPolicy:
        row = (
            await self.session.execute(select(t.config.c.value).where(t.config.c.key == "review"))
        ).first()
        return ReviewPolicy(**row.value) if row else ReviewPolicy()

    async def receipt(self, source: str, webhook_id: str) -> str | Literal[False] | None:
        """The order id a webhook id already produced; False if never seen."""
        row = (
            await self.session.execute(
                select(t.webhook_receipts.c.order_id).where(
                    t.webhook_receipts.c.source == source,
                    t.webhook_receipts.c.webhook_id == webhook_id,
                )
            )
        ).first()
        return row.order_id if row else False

    async def receipts_seen(self, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of these (source, webhook id) pairs were already received."""
        if not keys:
            return set()
        r = t.webhook_receipts
        rows = await self.session.execute(
            select(r.c.source, r.c.webhook_id).where(tuple_(r.c.source, r.c.webhook_id).in_(keys))
        )
        return {(row.source, row.webhook_id) for row in rows}

    async def add_receipts(self, receipts: list[tuple[str, str, str | None]]) -> None:
        """(source, webhook id, order id) rows; one seen concurrently is kept as it was."""
        if receipts:
            await self.session.execute(
                insert_ignoring_conflicts(t.webhook_receipts, self.db.dialect),
                [
                    {"source": s, "webhook_id": w, "order_id": o, "received_at": self.now()}
                    for s, w, o in receipts
                ],
            )
