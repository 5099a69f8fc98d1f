"""Repositories mapping rows to domain objects (shipments with holds, stops, warehouses)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, overload

from sqlalchemy import and_, bindparam, delete, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import rowcount
from warehouse_service.adapters import tables as t
from warehouse_service.domain.errors import Conflict
from warehouse_service.domain.shipment import Hold, Shipment

_CHUNK = 500
_SHIPMENT_FIELDS = (
    "order_id",
    "warehouse_id",
    "warehouse_kind",
    "warehouse_supplier",
    "status",
    "lines",
    "address",
    "note",
    "interception",
    "line_removals",
    "relabels",
    "carrier",
    "tracking_number",
    "weight_grams",
    "scanned",
    "submitted_at",
    "shipped_at",
    "shipped_epoch",
    "replacement_id",
)


def _versioned_update():
    """UPDATE shipments SET every field WHERE id and version match, built once: building it
    per save (values() over 16 columns) cost more than executing it."""
    c = t.shipments.c
    return (
        update(t.shipments)
        .where(c.shipment_id == bindparam("b_id"), c.version == bindparam("b_version"))
        .values(
            version=bindparam("b_next"),
            updated_at=bindparam("b_now"),
            **{f: bindparam(f"b_{f}") for f in _SHIPMENT_FIELDS},
        )
    )


_SAVE = _versioned_update()


@overload
def utc(value: datetime) -> datetime: ...
@overload
def utc(value: None) -> None: ...
def utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def match_keys(lines: Sequence[dict[str, Any]]) -> set[tuple[str, str]]:
    """The (kind, value) pairs a stop scope can match on, from a task's lines."""
    return {
        (kind, str(line[name]))
        for line in lines
        for kind, name in (("sku", "sku"), ("supplier", "supplier_id"), ("campaign", "campaign_id"))
        if line.get(name) is not None
    }


def _hold(row: Row) -> Hold:
    return Hold(
        hold_id=row.hold_id,
        kind=row.kind,
        reason=row.reason,
        owner=row.owner,
        created_at=utc(row.created_at),
        until=utc(row.until),
        stop_id=row.stop_id,
        released_at=utc(row.released_at),
        released_by=row.released_by,
    )


class ShipmentRepository:
    """Shipment tasks with their active holds; saves with an optimistic version check."""

    def __init__(self, session: AsyncSession):
        self.session = session
        self._loaded_holds: dict[str, set[str]] = {}
        self._loaded_keys: dict[str, set[tuple[str, str]]] = {}
        self._staged: list[tuple[Shipment, dict[str, Any]]] = []

    async def get(self, shipment_id: str) -> Shipment | None:
        found = await self._load(t.shipments.c.shipment_id == shipment_id)
        return found[0] if found else None

    async def find(
        self,
        *,
        warehouse_ids: Sequence[str] | None = None,
        statuses: Sequence[str] | None = None,
        shipment_ids: Sequence[str] | None = None,
        shipped_since: datetime | None = None,
        limit: int | None = None,
        lock: bool = False,
    ) -> list[Shipment]:
        """Shipments with their active holds; `lock` takes their row locks (PostgreSQL; a
        SQLite write transaction already excludes every other writer)."""
        c = t.shipments.c
        conds = []
        if shipped_since is not None:
            conds.append(c.shipped_at >= shipped_since)
        if warehouse_ids is not None:
            conds.append(c.warehouse_id.in_(list(warehouse_ids)))
        if statuses is not None:
            conds.append(c.status.in_(list(statuses)))
        if shipment_ids is not None:
            found: list[Shipment] = []
            for chunk in _chunks(list(shipment_ids)):
                found += await self._load(and_(c.shipment_id.in_(chunk), *conds), lock=lock)
            return found
        return await self._load(and_(*conds) if conds else None, limit=limit, lock=lock)

    async def _load(self, where, limit: int | None = None, lock: bool = False) -> list[Shipment]:
        query = select(t.shipments).order_by(t.shipments.c.submitted_at, t.shipments.c.shipment_id)
        if where is not None:
            query = query.where(where)
        if limit:
            query = query.limit(limit)
        if lock:  # in a stable order, so two lockers never wait on each other in a cycle
            query = query.with_for_update(of=t.shipments)
        rows = (await self.session.execute(query)).all()
        by_id = {r.shipment_id: self._shipment(r) for r in rows}
        for chunk in _chunks(list(by_id)):
            held = await self.session.execute(
                select(t.holds).where(
                    t.holds.c.shipment_id.in_(chunk), t.holds.c.released_at.is_(None)
                )
            )
            for h in held:
                by_id[h.shipment_id].holds.append(_hold(h))
        for s in by_id.values():
            self._loaded_holds[s.shipment_id] = {h.hold_id for h in s.holds}
            self._loaded_keys[s.shipment_id] = match_keys(s.lines)
        return list(by_id.values())

    @staticmethod
    def _shipment(row: Row) -> Shipment:
        data = {f: getattr(row, f) for f in _SHIPMENT_FIELDS}
        data["submitted_at"], data["shipped_at"] = utc(row.submitted_at), utc(row.shipped_at)
        data["line_removals"] = data["line_removals"] or []
        data["relabels"] = data["relabels"] or []
        return Shipment(shipment_id=row.shipment_id, version=row.version, **data)

    async def add(self, shipment: Shipment, now: datetime) -> None:
        values = {f: getattr(shipment, f) for f in _SHIPMENT_FIELDS}
        await self.session.execute(
            insert(t.shipments).values(
                shipment_id=shipment.shipment_id, version=shipment.version, updated_at=now, **values
            )
        )
        self._loaded_holds[shipment.shipment_id] = set()
        self._loaded_keys[shipment.shipment_id] = set()
        await self._save_keys(shipment)
        await self._save_holds(shipment)

    async def save(self, shipment: Shipment, now: datetime) -> None:
        """Versioned update: 0 rows means another writer won → `Conflict`."""
        result = await self.session.execute(_SAVE, self._next_version(shipment, now))
        if rowcount(result) != 1:
            raise Conflict(
                f"shipment {shipment.shipment_id} was changed concurrently; retry",
                shipment_id=shipment.shipment_id,
            )
        await self._save_keys(shipment)
        await self._save_holds(shipment)

    def stage(self, shipment: Shipment, now: datetime) -> None:
        """`save` deferred to `flush()` (the unit of work's commit), where every staged save
        runs as one executemany, in order. Only for shipments loaded with `lock=True`:
        PostgreSQL's executemany cannot say which row missed its version."""
        self._staged.append((shipment, self._next_version(shipment, now)))

    async def flush(self) -> None:
        staged, self._staged = self._staged, []
        if not staged:
            return
        result = await self.session.execute(_SAVE, [params for _, params in staged])
        sane = self.session.get_bind().dialect.supports_sane_multi_rowcount
        if sane and rowcount(result) != len(staged):
            raise Conflict("a staged shipment was changed concurrently; retry")
        for shipment in {s.shipment_id: s for s, _ in staged}.values():
            await self._save_keys(shipment)
            await self._save_holds(shipment)

    @staticmethod
    def _next_version(shipment: Shipment, now: datetime) -> dict[str, Any]:
        """The parameters of the versioned UPDATE, and the shipment moved to its next version."""
        params = {f"b_{f}": getattr(shipment, f) for f in _SHIPMENT_FIELDS}
        params.update(
            b_id=shipment.shipment_id,
            b_version=shipment.version,
            b_next=shipment.version + 1,
            b_now=now,
        )
        shipment.version += 1
        return params

    async def _save_keys(self, shipment: Shipment) -> None:
        """Keep `shipment_keys` in step with the lines (rewritten only when they changed)."""
        keys = match_keys(shipment.lines)
        loaded = self._loaded_keys.get(shipment.shipment_id)
        if loaded == keys:
            return
        k = t.shipment_keys
        if loaded is None or loaded:
            await self.session.execute(delete(k).where(k.c.shipment_id == shipment.shipment_id))
        if keys:
            rows = [{"shipment_id": shipment.shipment_id, "kind": a, "value": b} for a, b in keys]
            await self.session.execute(insert(k), rows)
        self._loaded_keys[shipment.shipment_id] = keys

    async def _save_holds(self, shipment: Shipment) -> None:
        loaded = self._loaded_holds.setdefault(shipment.shipment_id, set())
        new = [h for h in shipment.holds if h.hold_id not in loaded]
        if new:
            await self.insert_holds([(shipment, h) for h in new])
        for h in shipment.holds:
            if h.hold_id in loaded and h.released_at is not None:
                await self.session.execute(
                    update(t.holds)
                    .where(t.holds.c.hold_id == h.hold_id)
                    .values(released_at=h.released_at, released_by=h.released_by)
                )
        loaded.update(h.hold_id for h in new)

    async def insert_holds(self, pairs: Sequence[tuple[Shipment, Hold]]) -> None:
        rows = [
            {
                "hold_id": h.hold_id,
                "shipment_id": s.shipment_id,
                "warehouse_id": s.warehouse_id,
                "kind": h.kind,
                "reason": h.reason,
                "owner": h.owner,
                "stop_id": h.stop_id,
                "created_at": h.created_at,
                "until": h.until,
            }
            for s, h in pairs
        ]
        for chunk in _chunks(rows):
            await self.session.execute(insert(t.holds), list(chunk))

    async def tracking_in_use(self, numbers: Sequence[str]) -> set[str]:
        """Which of these tracking numbers are already on a shipment."""
        c = t.shipments.c
        rows = await self.session.execute(
            select(c.tracking_number).where(c.tracking_number.in_(list(numbers)))
        )
        return {r.tracking_number for r in rows}

    async def due_hold_ids(self, now: datetime) -> list[tuple[str, str]]:
        rows = await self.session.execute(
            select(t.holds.c.shipment_id, t.holds.c.hold_id).where(
                t.holds.c.released_at.is_(None),
                t.holds.c.until.is_not(None),
                t.holds.c.until <= now,
            )
        )
        return [(r.shipment_id, r.hold_id) for r in rows]
