"""Stock rows, the movement ledger and reservations in SQL (SQLite and PostgreSQL).

The intake's statements are conditional (`WHERE on_hand - reserved >= :n`), so
instances sharing the database can never reserve more than there is; everything else
locks its rows first (`FOR UPDATE` on PostgreSQL, in key order; SQLite's write
transaction excludes every other writer).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import rowcount
from shared.envelope import Envelope
from warehouse_service.adapters import tables as t
from warehouse_service.adapters.repository import utc
from warehouse_service.domain.stock import SELLABLE, Key, Movement, Stock

S = t.stock.c
R = t.reservations.c
_CHUNK = 500


def _reserve_if_available():
    return (
        update(t.stock)
        .where(
            S.warehouse_id == bindparam("w"),
            S.sku == bindparam("s"),
            S.pool == SELLABLE,
            S.on_hand - S.reserved >= bindparam("n"),
        )
        .values(reserved=S.reserved + bindparam("n"), updated_at=bindparam("now"))
    )


def _change():
    return (
        update(t.stock)
        .where(S.warehouse_id == bindparam("w"), S.sku == bindparam("s"), S.pool == bindparam("p"))
        .values(
            on_hand=S.on_hand + bindparam("d_on_hand"),
            reserved=S.reserved + bindparam("d_reserved"),
            updated_at=bindparam("now"),
        )
    )


_RESERVE = _reserve_if_available()
_CHANGE = _change()


def _stock(row: Row) -> Stock:
    return Stock(row.warehouse_id, row.sku, row.on_hand, row.reserved, row.pool)


class StockRepository:
    """Stock rows, their ledger and the tasks' reservations."""

    def __init__(self, session: AsyncSession):
        self.session = session

    def _upsert(self):
        dialect = self.session.get_bind().dialect.name
        return pg_insert if dialect == "postgresql" else sqlite_insert

    # -- the intake (conditional, race-free across instances) ---------------------------

    async def try_reserve(self, key: Key, qty: int, now: datetime) -> bool:
        """Reserve `qty` on the sellable row if that much is available: one statement."""
        params = {"w": key[0], "s": key[1], "n": qty, "now": now}
        return rowcount(await self.session.execute(_RESERVE, params)) == 1

    async def available_locked(self, keys: Sequence[Key]) -> dict[Key, int]:
        """Available units of these sellable rows, locked (a row missing has none)."""
        found = {k: 0 for k in keys}
        query = (
            select(S.warehouse_id, S.sku, S.on_hand, S.reserved)
            .where(tuple_(S.warehouse_id, S.sku).in_(list(keys)), S.pool == SELLABLE)
            .order_by(S.warehouse_id, S.sku)
            .with_for_update()
        )
        for r in await self.session.execute(query):
            found[(r.warehouse_id, r.sku)] = r.on_hand - r.reserved
        return found

    async def shift(self, changes: dict[Key, tuple[int, int]], now: datetime) -> None:
        """Add (on_hand, reserved) deltas to sellable rows, in key order."""
        params = [
            {"w": k[0], "s": k[1], "p": SELLABLE, "d_on_hand": a, "d_reserved": b, "now": now}
            for k, (a, b) in sorted(changes.items())
            if a or b
        ]
        if params:
            await self.session.execute(_CHANGE, params)

    # -- single rows (API adjustments, transfers, restock) --------------------------------

    async def lock(self, keys: Iterable[tuple[str, str, str]], now: datetime) -> list[Stock]:
        """These rows (created empty when missing), locked, in key order."""
        ordered = sorted(set(keys))
        rows = [
            {"warehouse_id": w, "sku": s, "pool": p, "on_hand": 0, "reserved": 0, "updated_at": now}
            for w, s, p in ordered
        ]
        await self.session.execute(self._upsert()(t.stock).values(rows).on_conflict_do_nothing())
        query = (
            select(t.stock)
            .where(tuple_(S.warehouse_id, S.sku, S.pool).in_(ordered))
            .order_by(S.warehouse_id, S.sku, S.pool)
            .with_for_update()
        )
        rows_found = await self.session.execute(query)
        found = {(r.warehouse_id, r.sku, r.pool): _stock(r) for r in rows_found}
        return [found[k] for k in ordered]

    async def save(self, stocks: Sequence[Stock], now: datetime) -> None:
        """Write locked rows back as they are."""
        for st in stocks:
            await self.session.execute(
                update(t.stock)
                .where(S.warehouse_id == st.warehouse_id, S.sku == st.sku, S.pool == st.pool)
                .values(on_hand=st.on_hand, reserved=st.reserved, updated_at=now)
            )

    async def seed(self, rows: Sequence[tuple[str, str, int]], now: datetime) -> list[Key]:
        """Insert sellable rows that do not exist yet; returns the keys it inserted."""
        inserted: list[Key] = []
        for w, s, qty in rows:
            values = {"warehouse_id": w, "sku": s, "pool": SELLABLE}
            stmt = self._upsert()(t.stock).values(**values, on_hand=qty, reserved=0, updated_at=now)
            if rowcount(await self.session.execute(stmt.on_conflict_do_nothing())) == 1:
                inserted.append((w, s))
        return inserted

    # -- ledger and reservations -----------------------------------------------------------

    async def record(self, movements: Sequence[Movement], now: datetime) -> None:
        rows = [{**asdict(m), "at": now} for m in movements]
        for i in range(0, len(rows), _CHUNK):
            await self.session.execute(insert(t.stock_movements), rows[i : i + _CHUNK])

    async def add_reservations(self, rows: Sequence[tuple[str, str, str, int]], now) -> None:
        """(shipment_id, warehouse_id, sku, qty) rows, live."""
        values = [
            {
                "shipment_id": sid,
                "warehouse_id": w,
                "sku": s,
                "qty": q,
                "status": "live",
                "created_at": now,
            }
            for sid, w, s, q in rows
        ]
        for i in range(0, len(values), _CHUNK):
            await self.session.execute(insert(t.reservations), values[i : i + _CHUNK])

    async def settle(
        self, shipment_ids: Sequence[str], status: str, now: datetime
    ) -> list[tuple[str, str, str, int]]:
        """Close the live reservations of these tasks; returns (shipment, wh, sku, qty).

        One statement; on PostgreSQL its subquery locks the rows in key order first (two
        instances settling overlapping tasks cannot deadlock)."""
        ids = sorted(set(shipment_ids))
        chosen = R.shipment_id.in_(ids)
        if self.session.get_bind().dialect.name == "postgresql":
            locked = (
                select(R.shipment_id, R.sku)
                .where(chosen, R.status == "live")
                .order_by(R.shipment_id, R.sku)
                .with_for_update()
            )
            chosen = tuple_(R.shipment_id, R.sku).in_(locked)
        result = await self.session.execute(
            update(t.reservations)
            .where(chosen, R.status == "live")
            .values(status=status, settled_at=now)
            .returning(R.shipment_id, R.warehouse_id, R.sku, R.qty)
        )
        return sorted((r.shipment_id, r.warehouse_id, r.sku, r.qty) for r in result)

    async def forget_settled(self, shipment_id: str) -> None:
        """Drop a task's closed reservations (its lines are reserved anew after an edit)."""
        await self.session.execute(
            t.reservations.delete().where(R.shipment_id == shipment_id, R.status != "live")
        )

    # -- reads -----------------------------------------------------------------------------

    async def find(
        self, *, sku: str | None = None, warehouse_id: str | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]:
        query = select(t.stock).order_by(S.warehouse_id, S.sku, S.pool).limit(limit)
        if sku:
            query = query.where(S.sku == sku)
        if warehouse_id:
            query = query.where(S.warehouse_id == warehouse_id)
        rows = await self.session.execute(query)
        return [
            {
                "warehouse_id": r.warehouse_id,
                "sku": r.sku,
                "pool": r.pool,
                "on_hand": r.on_hand,
                "reserved": r.reserved,
                "available": r.on_hand - r.reserved,
                "updated_at": utc(r.updated_at),
            }
            for r in rows
        ]

    async def live_reserved(self) -> dict[Key, int]:
        """Sum of live reservations per row (the invariant `reserved` must equal)."""
        out: dict[Key, int] = defaultdict(int)
        for r in await self.session.execute(
            select(R.warehouse_id, R.sku, R.qty).where(R.status == "live")
        ):
            out[(r.warehouse_id, r.sku)] += r.qty
        return dict(out)

    async def movements(
        self, *, sku: str | None = None, warehouse_id: str | None = None, limit: int = 1000
    ) -> list[Movement]:
        m = t.stock_movements.c
        query = select(t.stock_movements).order_by(m.movement_id.desc()).limit(limit)
        if sku:
            query = query.where(m.sku == sku)
        if warehouse_id:
            query = query.where(m.warehouse_id == warehouse_id)
        return [
            Movement(
                r.warehouse_id,
                r.sku,
                r.kind,
                r.on_hand_delta,
                r.reserved_delta,
                r.actor,
                r.reason,
                r.pool,
                r.cause_event_id,
                r.shipment_id,
                r.reference,
            )
            for r in await self.session.execute(query)
        ]


async def settle(
    repo: StockRepository, settling: Sequence[tuple[str, str, Envelope]], now: datetime
) -> None:
    """Close the live reservations that emitted events settle: `pick` consumes the units
    (shipped), `release` gives them back (withdrawn, intercepted). A task without a live
    reservation (settled before, or created before stock was kept) changes nothing."""
    movements: list[Movement] = []
    changes: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
    for how in ("pick", "release"):
        causes = {sid: env for h, sid, env in settling if h == how}
        if not causes:
            continue
        status = "picked" if how == "pick" else "released"
        for sid, w, sku, qty in await repo.settle(list(causes), status, now):
            delta = changes[(w, sku)]
            delta[0] -= qty if how == "pick" else 0
            delta[1] -= qty
            movements.append(
                Movement(
                    w,
                    sku,
                    how,
                    -qty if how == "pick" else 0,
                    -qty,
                    actor=causes[sid].producer,
                    reason=causes[sid].type,
                    cause_event_id=causes[sid].event_id,
                    shipment_id=sid,
                )
            )
    await repo.shift({k: (a, b) for k, (a, b) in changes.items()}, now)
    await repo.record(movements, now)
