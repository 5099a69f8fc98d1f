"""The order unit of work: repositories on one transaction, and `store()` that writes an
aggregate together with its events (outbox), timeline rows and pending platform calls."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import insert, select, tuple_
from sqlalchemy.exc import IntegrityError as DuplicateKey

from order_service.adapters import tables as t
from order_service.adapters.parked import ParkedNotices
from order_service.adapters.reference import CampaignPurchases, ReferenceData
from order_service.adapters.repository import OrderRepository
from order_service.adapters.sku_mappings import SkuMappings
from order_service.domain.order import Order
from shared import topics
from shared.anomalies import AnomalyLog
from shared.db import insert_ignoring_conflicts
from shared.envelope import Envelope, new_event, payload_type
from shared.service import Runtime
from shared.unit_of_work import UnitOfWork

PRODUCER = "order_service"
ANOMALIES = AnomalyLog(t.anomalies)
__all__ = ["DuplicateKey", "OrderUnitOfWork"]  # DuplicateKey: a unique key another writer won


class OrderUnitOfWork(UnitOfWork):
    """`async with uow:` → `uow.orders`, reference data, parked notices, SKU mappings,
    campaign purchases, and `store(order)`."""

    def __init__(self, runtime: Runtime):
        super().__init__(runtime.db, runtime.outbox, runtime.inbox)
        self.clock = runtime.clock

    async def __aenter__(self) -> OrderUnitOfWork:
        await super().__aenter__()
        self.orders = OrderRepository(self.session)
        self.reference = ReferenceData(self.session)
        self.campaigns = CampaignPurchases(self.session, self.db.dialect)
        self.parked = ParkedNotices(self.session)
        self.sku_mappings = SkuMappings(self.session, self.db.dialect)
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
            await self.queue_platform_call(order, "tracking", call, now)
        order.tracking_sync = []

    async def queue_platform_call(
        self, order: Order, call: str, body: dict, now: datetime | None = None
    ) -> None:
        """A call to the order's platform, sent after commit by PlatformSync."""
        await self.session.execute(
            insert(t.platform_calls).values(
                order_id=order.id,
                shop_id=order.shop_id,
                platform=order.platform,
                platform_order_id=order.platform_order_id,
                call=call,
                body=body,
                created_at=now or self.now(),
                attempts=0,
            )
        )

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
