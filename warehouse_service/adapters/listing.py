"""Available stock pushed to the shop listing through a `ListingAdapter`, after commit.

`ListingSync.run_once` reads what each SKU has available now against what the listing
was last told (`listing_state`), claims the figures that are due (domain/listing.py)
in one transaction, then calls the adapter; a failed call un-claims its SKU so the next
pass retries it. Instances sharing a database claim each figure once. Development and
tests use `RecordingListingAdapter`. With an outbox, the claiming transaction also emits
the claimed figures as `stock.levels` (so the order service's auto-review learns which
SKUs no warehouse has, on the same debounce, a zero at once).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from shared import topics
from shared.clock import Clock
from shared.db import Database, rowcount
from shared.envelope import Envelope, new_event
from shared.events.warehouse import SkuAvailable, StockLevels
from shared.outbox import Outbox
from warehouse_service.adapters import tables as t
from warehouse_service.adapters.repository import utc
from warehouse_service.domain.listing import DEBOUNCE, Listed, due
from warehouse_service.domain.stock import SELLABLE

log = logging.getLogger(__name__)
UNKNOWN = -1  # an un-claimed figure: the next pass pushes whatever is current
LEVELS_PER_EVENT = 1_000
PRODUCER = "warehouse_service"


class ListingAdapter(Protocol):
    async def push_stock(self, call: dict[str, Any]) -> None:
        """Set the listing's stock of `sku` to `available` units."""


@dataclass
class RecordingListingAdapter:
    """Records the calls instead of making them (development and tests): the newest
    10,000, so a long-running development instance does not grow without bound."""

    calls: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=10_000))

    async def push_stock(self, call: dict[str, Any]) -> None:
        self.calls.append(call)


class ListingSync:
    """One pass at a time per process."""

    def __init__(
        self,
        db: Database,
        adapter: ListingAdapter,
        clock: Clock,
        debounce: timedelta = DEBOUNCE,
        outbox: Outbox | None = None,
    ):
        self.db, self.adapter, self.clock, self.debounce = db, adapter, clock, debounce
        self.outbox = outbox
        self._lock = asyncio.Lock()

    async def run_once(self) -> int:
        async with self._lock:
            claimed = await self._claim()
            for sku, available in claimed:
                try:
                    await self.adapter.push_stock({"sku": sku, "available": available})
                except Exception as exc:  # a platform outage must not stop the loop
                    log.warning("listing push of %s failed: %s", sku, exc)
                    await self._unclaim(sku, available)
            return len(claimed)

    async def _claim(self) -> list[tuple[str, int]]:
        s, ls = t.stock.c, t.listing_state.c
        current = (
            select(s.sku, func.sum(s.on_hand - s.reserved).label("available"))
            .where(s.pool == SELLABLE)
            .group_by(s.sku)
            .subquery()
        )
        query = (
            select(current.c.sku, current.c.available, ls.available.label("listed"), ls.pushed_at)
            .outerjoin(t.listing_state, ls.sku == current.c.sku)
            .where((ls.available.is_(None)) | (ls.available != current.c.available))
            .order_by(current.c.sku)
        )
        now = self.clock.now()
        claimed = []
        async with self.db.session() as session, session.begin():
            for row in (await session.execute(query)).all():
                last = Listed(row.listed, utc(row.pushed_at)) if row.listed is not None else None
                if due(int(row.available), last, now, self.debounce) and await _claim_one(
                    session, row.sku, int(row.available), row.listed, now
                ):
                    claimed.append((row.sku, int(row.available)))
            if self.outbox is not None:
                await self.outbox.add(session, _levels_events(claimed, now))
        if claimed and self.outbox is not None:
            self.outbox.notify()
        return claimed

    async def _unclaim(self, sku: str, available: int) -> None:
        ls = t.listing_state.c
        async with self.db.session() as session, session.begin():
            await session.execute(
                update(t.listing_state)
                .where(ls.sku == sku, ls.available == available)
                .values(available=UNKNOWN)
            )


def _levels_events(claimed: list[tuple[str, int]], now: datetime) -> list[tuple[str, Envelope]]:
    """The claimed figures as `stock.levels` batches on the warehouse topic."""
    return [
        (
            topics.WAREHOUSE,
            new_event(
                StockLevels(
                    as_of=now,
                    levels=[SkuAvailable(sku=s, available=a) for s, a in chunk],
                ),
                producer=PRODUCER,
                key="stock",
            ),
        )
        for chunk in (
            claimed[i : i + LEVELS_PER_EVENT] for i in range(0, len(claimed), LEVELS_PER_EVENT)
        )
    ]


async def listed(db: Database, sku: str | None = None) -> list[dict[str, Any]]:
    """What the listing was last told, per SKU (-1: a failed push, retried)."""
    ls = t.listing_state.c
    query = select(t.listing_state).order_by(ls.sku).limit(5_000)
    if sku:
        query = query.where(ls.sku == sku)
    async with db.reader() as session:
        rows = (await session.execute(query)).all()
    return [{"sku": r.sku, "available": r.available, "pushed_at": utc(r.pushed_at)} for r in rows]


async def _claim_one(session, sku: str, available: int, listed: int | None, now) -> bool:
    """Record the figure as pushed unless another instance changed it first."""
    ls = t.listing_state.c
    if listed is None:
        upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        new = upsert(t.listing_state).values(sku=sku, available=available, pushed_at=now)
        return rowcount(await session.execute(new.on_conflict_do_nothing())) == 1
    changed = (
        update(t.listing_state)
        .where(ls.sku == sku, ls.available == listed)
        .values(available=available, pushed_at=now)
    )
    return rowcount(await session.execute(changed)) == 1
