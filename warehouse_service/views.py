"""Read side: worklists, stop reports, registry listings (read sessions, no writes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from shared.db import Database
from warehouse_service.adapters import tables as t
from warehouse_service.adapters.registry import StopRepository, WarehouseRepository
from warehouse_service.adapters.repository import ShipmentRepository, utc
from warehouse_service.adapters.stop_holds import StopHolds
from warehouse_service.domain import relabel
from warehouse_service.domain.shipment import Hold, Shipment
from warehouse_service.domain.stops import Scope
from warehouse_service.domain.warehouse import Warehouse


def hold_dict(h: Hold) -> dict[str, Any]:
    return {
        "hold_id": h.hold_id,
        "kind": h.kind,
        "reason": h.reason,
        "owner": h.owner,
        "stop_id": h.stop_id,
        "created_at": h.created_at,
        "until": h.until,
        "released_at": h.released_at,
    }


def shipment_dict(s: Shipment) -> dict[str, Any]:
    return {
        "shipment_id": s.shipment_id,
        "order_id": s.order_id,
        "warehouse_id": s.warehouse_id,
        "status": s.status,
        "held": s.held,
        "held_by": s.held_by_stops,
        "holds": [hold_dict(h) for h in s.active_holds],
        "interception_request": s.interception,
        "line_removals": s.line_removals,
        "relabels": s.relabels,
        "needs_label": relabel.relabelling(s),
        "lines": s.lines,
        "address": s.address,
        "note": s.note,
        "carrier": s.carrier,
        "tracking_number": s.tracking_number,
        "weight_grams": s.weight_grams,
        "submitted_at": s.submitted_at,
        "shipped_at": s.shipped_at,
        "replacement_id": s.replacement_id,
        "version": s.version,
    }


def warehouse_dict(w: Warehouse) -> dict[str, Any]:
    return {"warehouse_id": w.warehouse_id, "kind": w.kind, "supplier_id": w.supplier_id}


async def worklist(
    db: Database, warehouse_id: str, status: str | None, held: bool | None, limit: int
) -> list[dict[str, Any]]:
    async with db.reader() as session:
        found = await ShipmentRepository(session).find(
            warehouse_ids=[warehouse_id], statuses=[status] if status else None, limit=limit
        )
    return [shipment_dict(s) for s in found if held is None or s.held == held]


async def get_shipment(db: Database, shipment_id: str) -> Shipment | None:
    async with db.reader() as session:
        return await ShipmentRepository(session).get(shipment_id)


async def warehouses(db: Database) -> list[dict[str, Any]]:
    async with db.reader() as session:
        return [warehouse_dict(w) for w in await WarehouseRepository(session).all()]


async def stop_report(db: Database, stop_id: str) -> dict[str, Any] | None:
    """A stop with every acknowledgement this instance has recorded (from all instances),
    live held counts per warehouse in this database and the warehouses not yet heard from."""
    async with db.reader() as session:
        stop = await StopRepository(session).get(stop_id)
        if stop is None:
            return None
        acks = (
            await session.execute(
                select(t.stop_acks)
                .where(t.stop_acks.c.stop_id == stop_id)
                .order_by(t.stop_acks.c.warehouse_id, t.stop_acks.c.instance_id)
            )
        ).all()
        held = await session.execute(
            select(t.holds.c.warehouse_id, func.count())
            .where(t.holds.c.stop_id == stop_id, t.holds.c.released_at.is_(None))
            .group_by(t.holds.c.warehouse_id)
        )
        registry = await WarehouseRepository(session).all()
    acked = {a.warehouse_id for a in acks}
    shipped = sorted({o for a in acks for o in a.already_shipped})
    return {
        "stop_id": stop.stop_id,
        "status": "active" if stop.active else "lifted",
        "scope": stop.scope.to_dict(),
        "reason": stop.reason,
        "issued_by": stop.issued_by,
        "issued_at": stop.issued_at,
        "lifted_at": stop.lifted_at,
        "lifted_by": stop.lifted_by,
        "acknowledgements": [
            {
                "warehouse_id": a.warehouse_id,
                "instance_id": a.instance_id,
                "held_count": a.held_count,
                "already_shipped": a.already_shipped,
                "acknowledged_at": utc(a.acknowledged_at),
            }
            for a in acks
        ],
        "held_now": {wh: n for wh, n in held.all()},
        "already_shipped": shipped,
        "unacknowledged_warehouses": sorted(
            w.warehouse_id for w in registry if w.warehouse_id not in acked
        ),
    }


async def stops(db: Database, active: bool | None) -> list[dict[str, Any]]:
    async with db.reader() as session:
        query = select(t.stops).order_by(t.stops.c.issued_at)
        if active is not None:
            query = query.where(
                t.stops.c.lifted_at.is_(None) if active else t.stops.c.lifted_at.is_not(None)
            )
        rows = (await session.execute(query)).all()
    return [
        {
            "stop_id": r.stop_id,
            "status": "lifted" if r.lifted_at else "active",
            "scope": r.scope,
            "reason": r.reason,
            "issued_at": utc(r.issued_at),
        }
        for r in rows
    ]


async def stop_preview(
    db: Database, scope: Scope, statuses: tuple[str, ...], since: datetime
) -> dict[str, Any]:
    """What a stop with `scope` would hold (tasks not yet shipped) and which matching
    orders have already shipped since `since`, per warehouse; records nothing."""
    async with db.reader() as session:
        tasks, shipped = await StopHolds(session).preview(scope, statuses, since)
    per: list[dict[str, Any]] = [
        {
            "warehouse_id": wh,
            "tasks": len(tasks.get(wh, [])),
            "orders": sorted(set(tasks.get(wh, []))),
            "already_shipped": sorted(set(shipped.get(wh, []))),
        }
        for wh in sorted(tasks.keys() | shipped.keys())
    ]
    return {
        "scope": scope.to_dict(),
        "tasks": sum(w["tasks"] for w in per),
        "orders": sorted({o for w in per for o in w["orders"]}),
        "already_shipped": sorted({o for w in per for o in w["already_shipped"]}),
        "warehouses": per,
    }
