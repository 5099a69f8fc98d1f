"""A stop applied set-based: its scope as SQL, its holds in a few statements.

`scope_condition` is `Scope.matches` over the task's columns and its
`shipment_keys` rows (kept equal by a test). Applying a stop never builds
aggregates: it selects the matching ids, inserts the holds in bulk and bumps the
held tasks' versions so concurrent optimistic writers retry and see the hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import uuid4

from sqlalchemy import String, and_, cast, exists, false, func, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from warehouse_service.adapters import tables as t
from warehouse_service.adapters.repository import match_keys
from warehouse_service.domain.stops import Scope, Stop

_CHUNK = 1000


@dataclass(frozen=True)
class HeldTask:
    shipment_id: str
    order_id: str
    warehouse_id: str
    hold_id: str


@dataclass(frozen=True)
class ReleasedTask(HeldTask):
    still_held: bool  # another hold (stop or manual) still holds the task


def _has_key(kind: str, values: frozenset[str]) -> ColumnElement[bool]:
    # IN (uncorrelated subquery), not EXISTS: one hashed lookup, whatever the statistics say.
    k = t.shipment_keys.c
    keyed = select(k.shipment_id).where(k.kind == kind, k.value.in_(sorted(values)))
    return t.shipments.c.shipment_id.in_(keyed)


def scope_condition(scope: Scope) -> ColumnElement[bool]:
    """`Scope.matches` as a WHERE clause on `shipments` (AND of criteria, OR inside one)."""
    s = t.shipments.c
    if scope.is_empty:
        return false()
    conds: list[ColumnElement[bool]] = []
    if scope.warehouses:
        conds.append(s.warehouse_id.in_(sorted(scope.warehouses)))
    if scope.all_dropship:
        conds.append(s.warehouse_kind == "dropship")
    if scope.skus:
        conds.append(_has_key("sku", scope.skus))
    if scope.suppliers:
        conds.append(
            or_(
                s.warehouse_supplier.in_(sorted(scope.suppliers)),
                _has_key("supplier", scope.suppliers),
            )
        )
    if scope.campaigns:
        conds.append(_has_key("campaign", scope.campaigns))
    return and_(*conds)


class StopHolds:
    """The stop side of the shipments table, in SQL."""

    def __init__(self, session: AsyncSession):
        self.session = session

    async def hold_matching(
        self, stop: Stop, warehouse_ids: Sequence[str], statuses: Sequence[str], now: datetime
    ) -> list[HeldTask]:
        """Hold every matching task in `statuses` not yet held by this stop; returns them."""
        s, h = t.shipments.c, t.holds.c
        already = s.shipment_id.in_(
            select(h.shipment_id).where(h.stop_id == stop.stop_id, h.released_at.is_(None))
        )
        prefix = f"HOLD-{uuid4().hex[:12]}-"
        number = func.row_number().over(order_by=s.shipment_id)
        matching = select(
            literal(prefix, String) + cast(number, String),
            s.shipment_id,
            s.warehouse_id,
            literal("stop", String),
            literal(stop.reason, String),
            literal(f"stop:{stop.stop_id}", String),
            literal(stop.stop_id, String),
            literal(now, h.created_at.type),
        ).where(
            s.warehouse_id.in_(list(warehouse_ids)),
            s.status.in_(list(statuses)),
            scope_condition(stop.scope),
            ~already,
        )
        columns = ["hold_id", "shipment_id", "warehouse_id", "kind", "reason", "owner", "stop_id"]
        await self.session.execute(insert(t.holds).from_select([*columns, "created_at"], matching))
        mine = and_(h.stop_id == stop.stop_id, h.hold_id.like(f"{prefix}%"))
        await self.session.execute(
            update(t.shipments)
            .where(s.shipment_id.in_(select(h.shipment_id).where(mine)))
            .values(version=s.version + 1, updated_at=now)
        )
        rows = await self.session.execute(
            select(h.shipment_id, s.order_id, h.warehouse_id, h.hold_id)
            .join_from(t.holds, t.shipments, h.shipment_id == s.shipment_id)
            .where(mine)
            .order_by(h.warehouse_id, s.submitted_at, s.shipment_id)
        )
        return [HeldTask(*r) for r in rows]

    async def release(self, stop_id: str, now: datetime, by: str) -> list[ReleasedTask]:
        """Release every active hold of one stop and bump its tasks' versions; returns the
        tasks, each saying whether another hold still holds it."""
        s, h = t.shipments.c, t.holds.c
        rows = (
            await self.session.execute(
                select(h.shipment_id, s.order_id, h.warehouse_id, h.hold_id)
                .join_from(t.holds, t.shipments, h.shipment_id == s.shipment_id)
                .where(h.stop_id == stop_id, h.released_at.is_(None))
                .order_by(h.warehouse_id, s.submitted_at, s.shipment_id)
            )
        ).all()
        if not rows:
            return []
        await self.session.execute(
            update(t.holds)
            .where(h.stop_id == stop_id, h.released_at.is_(None))
            .values(released_at=now, released_by=by)
        )
        of_stop = select(h.shipment_id).where(h.stop_id == stop_id).scalar_subquery()
        await self.session.execute(
            update(t.shipments)
            .where(s.shipment_id.in_(of_stop))
            .values(version=s.version + 1, updated_at=now)
        )
        still = await self.session.execute(
            select(h.shipment_id).where(h.released_at.is_(None), h.shipment_id.in_(of_stop))
        )
        held = {r.shipment_id for r in still}
        return [ReleasedTask(*r, still_held=r.shipment_id in held) for r in rows]

    async def held_counts(
        self, stop_id: str, warehouse_ids: Sequence[str], statuses: Sequence[str]
    ) -> dict[str, int]:
        """Tasks per warehouse that this stop holds now (among tasks still in `statuses`)."""
        s, h = t.shipments.c, t.holds.c
        rows = await self.session.execute(
            select(h.warehouse_id, func.count())
            .join_from(t.holds, t.shipments, h.shipment_id == s.shipment_id)
            .where(
                h.stop_id == stop_id,
                h.released_at.is_(None),
                h.warehouse_id.in_(list(warehouse_ids)),
                s.status.in_(list(statuses)),
            )
            .group_by(h.warehouse_id)
        )
        return {r[0]: int(r[1]) for r in rows}

    async def shipped_before(
        self, stop: Stop, warehouse_ids: Sequence[str], since: datetime
    ) -> dict[str, list[str]]:
        """Order ids per warehouse of matching parcels shipped since `since` and before the
        stop was recorded here (lower epoch)."""
        s = t.shipments.c
        rows = await self.session.execute(
            select(s.warehouse_id, s.order_id)
            .where(
                s.warehouse_id.in_(list(warehouse_ids)),
                s.status == "shipped",
                s.shipped_at >= since,
                s.shipped_epoch < stop.epoch,
                scope_condition(stop.scope),
            )
            .distinct()
        )
        found: dict[str, set[str]] = {}
        for wh, order_id in rows:
            found.setdefault(wh, set()).add(order_id)
        return {wh: sorted(ids) for wh, ids in found.items()}

    async def preview(
        self, scope: Scope, statuses: Sequence[str], since: datetime
    ) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """What `scope` matches now, recording nothing: (order ids of tasks in `statuses`,
        order ids shipped since `since`), each per warehouse."""
        s = t.shipments.c
        found: tuple[dict[str, list[str]], dict[str, list[str]]] = ({}, {})
        for into, where in (
            (found[0], s.status.in_(list(statuses))),
            (found[1], and_(s.status == "shipped", s.shipped_at >= since)),
        ):
            rows = await self.session.execute(
                select(s.warehouse_id, s.order_id)
                .where(where, scope_condition(scope))
                .order_by(s.warehouse_id, s.order_id)
            )
            for wh, order_id in rows:
                into.setdefault(wh, []).append(order_id)
        return found

    async def backfill_keys(self) -> int:
        """Write match keys for tasks stored before `shipment_keys` existed; returns how many."""
        s, k = t.shipments.c, t.shipment_keys.c
        rows = (
            await self.session.execute(
                select(s.shipment_id, s.lines).where(
                    ~exists().where(k.shipment_id == s.shipment_id)
                )
            )
        ).all()
        values = [
            {"shipment_id": r.shipment_id, "kind": kind, "value": value}
            for r in rows
            for kind, value in match_keys(r.lines)
        ]
        for i in range(0, len(values), _CHUNK):
            await self.session.execute(insert(t.shipment_keys), values[i : i + _CHUNK])
        return len(rows)
