"""Outbound calls to shop platforms, made after commit, never inside it: tracking sync,
and the outcome of a platform-side cancellation.

Rows in `platform_calls` are written in the same transaction as the change they report
(the `shipped` stage change; the cancellation's void / withdraw / intercept / refusal);
`push_pending_calls` sends them afterwards through a `PlatformAdapter`, by `call` kind.
Development and tests use `RecordingPlatformAdapter`, which records each call so a test
can assert it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select, update

from order_service.adapters import tables as t
from shared.db import Database

log = logging.getLogger(__name__)


class PlatformAdapter(Protocol):
    async def push_tracking(self, call: dict[str, Any]) -> None:
        """Tell the platform an order's shipment left with this carrier and tracking number."""

    async def push_cancellation(self, call: dict[str, Any]) -> None:
        """Tell the platform what its cancellation did: `outcome` (cancelled | pending |
        refused | already_cancelled), `mode` (void | withdraw | intercept | refuse_delivery
        | return | none), `reason`, and `code` when refused."""


@dataclass
class RecordingPlatformAdapter:
    """Records the calls instead of making them (development and tests)."""

    calls: list[dict[str, Any]] = field(default_factory=list)

    async def push_tracking(self, call: dict[str, Any]) -> None:
        self.calls.append(call)

    async def push_cancellation(self, call: dict[str, Any]) -> None:
        self.calls.append(call)


def _sender(adapter: PlatformAdapter, call: str):
    return {"tracking": adapter.push_tracking, "cancellation": adapter.push_cancellation}[call]


class PlatformSync:
    """Pushes pending platform calls; one pass at a time per process."""

    def __init__(self, db: Database, adapter: PlatformAdapter, clock):
        self.db, self.adapter, self.clock = db, adapter, clock
        self._lock = asyncio.Lock()

    async def push_pending(self) -> int:
        async with self._lock:
            return await push_pending_calls(self.db, self.adapter, self.clock)


async def push_pending_calls(
    db: Database, adapter: PlatformAdapter, clock, limit: int = 100
) -> int:
    """Send unsent platform calls, oldest first; a failure is kept for the next attempt."""
    pc = t.platform_calls
    async with db.reader() as session:
        rows = (
            await session.execute(
                select(pc).where(pc.c.sent_at.is_(None)).order_by(pc.c.id).limit(limit)
            )
        ).all()
    sent = 0
    for row in rows:
        call = {
            "platform": row.platform,
            "shop_id": row.shop_id,
            "platform_order_id": row.platform_order_id,
            "order_id": row.order_id,
            "call": row.call,
            **row.body,
        }
        values: dict[str, Any] = {"attempts": row.attempts + 1}
        try:
            await _sender(adapter, row.call)(call)
            values["sent_at"] = clock.now()
            sent += 1
        except Exception as exc:  # a platform outage must not stop the loop
            log.warning("platform call %s failed: %s", row.id, exc)
            values["error"] = str(exc)
        async with db.session() as session, session.begin():
            await session.execute(
                update(pc).where(pc.c.id == row.id, pc.c.sent_at.is_(None)).values(**values)
            )
    return sent
