"""Repositories of the registry side: stops (with the guard row), warehouses, anomalies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from shared.anomalies import AnomalyLog
from shared.envelope import Envelope
from warehouse_service.adapters import tables as t
from warehouse_service.adapters.repository import utc
from warehouse_service.domain.stops import Scope, Stop
from warehouse_service.domain.warehouse import Warehouse


class StopRepository:
    """Stops, their acknowledgements and the guard row that orders stops against ships."""

    def __init__(self, session: AsyncSession):
        self.session = session

    async def ensure_guard(self) -> None:
        """Create the guard row once (instances sharing a database may race: one wins)."""
        found = await self.session.execute(select(t.stop_guard.c.id).where(t.stop_guard.c.id == 1))
        if found.first() is None:
            await self.session.execute(insert(t.stop_guard).values(id=1, epoch=0))

    async def lock_shared(self) -> int:
        """Ship side: FOR SHARE on the guard (PostgreSQL); returns the current epoch."""
        row = await self.session.execute(
            select(t.stop_guard.c.epoch).where(t.stop_guard.c.id == 1).with_for_update(read=True)
        )
        return int(row.scalar_one())

    async def lock_and_advance(self) -> int:
        """Stop side: exclusive lock on the guard, epoch + 1; returns the new epoch."""
        g = t.stop_guard
        await self.session.execute(update(g).where(g.c.id == 1).values(epoch=g.c.epoch + 1))
        row = await self.session.execute(select(g.c.epoch).where(g.c.id == 1))
        return int(row.scalar_one())

    async def get(self, stop_id: str) -> Stop | None:
        row = (
            await self.session.execute(select(t.stops).where(t.stops.c.stop_id == stop_id))
        ).first()
        return _stop(row) if row else None

    async def active(self) -> list[Stop]:
        rows = await self.session.execute(select(t.stops).where(t.stops.c.lifted_at.is_(None)))
        return [_stop(r) for r in rows]

    async def add(self, stop: Stop) -> None:
        await self.session.execute(
            insert(t.stops).values(
                stop_id=stop.stop_id,
                scope=stop.scope.to_dict(),
                reason=stop.reason,
                issued_by=stop.issued_by,
                issued_at=stop.issued_at,
                epoch=stop.epoch,
            )
        )

    async def mark_lifted(self, stop_id: str, when: datetime, by: str) -> None:
        await self.session.execute(
            update(t.stops)
            .where(t.stops.c.stop_id == stop_id, t.stops.c.lifted_at.is_(None))
            .values(lifted_at=when, lifted_by=by)
        )

    async def record_acks(self, acks: list[dict[str, Any]]) -> None:
        """Idempotent, one statement: the acknowledging instance records its own with its
        holds, then every instance (itself included) records each one it consumes."""
        if not acks:
            return
        dialect = self.session.get_bind().dialect.name
        upsert = pg_insert if dialect == "postgresql" else sqlite_insert
        await self.session.execute(upsert(t.stop_acks).values(acks).on_conflict_do_nothing())


def _stop(row: Row) -> Stop:
    return Stop(
        stop_id=row.stop_id,
        scope=Scope.from_dict(row.scope),
        reason=row.reason,
        issued_by=row.issued_by,
        issued_at=utc(row.issued_at),
        epoch=row.epoch,
        lifted_at=utc(row.lifted_at),
        lifted_by=row.lifted_by,
    )


class WarehouseRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def get(self, warehouse_id: str) -> Warehouse | None:
        row = (
            await self.session.execute(
                select(t.warehouses).where(t.warehouses.c.warehouse_id == warehouse_id)
            )
        ).first()
        return _warehouse(row) if row else None

    async def all(self) -> list[Warehouse]:
        rows = await self.session.execute(
            select(t.warehouses).order_by(t.warehouses.c.warehouse_id)
        )
        return [_warehouse(r) for r in rows]

    async def add(self, wh: Warehouse, now: datetime) -> None:
        await self.session.execute(
            insert(t.warehouses).values(
                warehouse_id=wh.warehouse_id,
                kind=wh.kind,
                supplier_id=wh.supplier_id,
                name=wh.name,
                created_at=now,
            )
        )


def _warehouse(row: Row) -> Warehouse:
    return Warehouse(row.warehouse_id, row.kind, row.supplier_id, row.name)


ANOMALIES = AnomalyLog(t.anomalies)


async def record_anomaly(
    session: AsyncSession,
    kind: str,
    env: Envelope,
    reason: str,
    now: datetime,
    *,
    order_id: str | None = None,
    shipment_id: str | None = None,
) -> None:
    """A consumed event that could not be applied: kept and listed, never raised."""
    await ANOMALIES.record(
        session, kind, env, reason, now, order_id=order_id, shipment_id=shipment_id
    )
