"""The order projection: upserts from order and warehouse events, in any arrival order."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_service.adapters import rollup
from aftersales_service.adapters import tables as t
from aftersales_service.adapters.rows import money, utc
from aftersales_service.domain.orders import OrderLine, OrderView
from shared.anomalies import AnomalyLog

ANOMALIES = AnomalyLog(t.anomalies)


class OrderProjection:
    """Reads and upserts projected orders; never another service's database."""

    def __init__(self, session: AsyncSession):
        self.session = session

    async def get(self, order_id: str) -> OrderView | None:
        row = (
            await self.session.execute(select(t.orders).where(t.orders.c.order_id == order_id))
        ).first()
        if row is None:
            return None
        lines = (
            await self.session.execute(
                select(t.order_lines)
                .where(t.order_lines.c.order_id == order_id)
                .order_by(t.order_lines.c.line_no)
            )
        ).all()
        return OrderView(
            order_id=row.order_id,
            stage=row.stage,
            held=bool(row.held),
            synced=bool(row.synced),
            total=money(row.total),
            currency=row.currency,
            buyer_id=row.buyer_id,
            platform=row.platform,
            delivered_at=utc(row.delivered_at),
            shipped=bool(row.shipped),
            lines=[
                OrderLine(
                    r.line_no,
                    r.sku,
                    r.qty,
                    money(r.unit_price),
                    r.category,
                    r.supplier_id,
                    r.warehouse_id,
                )
                for r in lines
            ],
        )

    async def ensure(self, order_id: str) -> None:
        """Create a placeholder row so events before `order.synced` have somewhere to land."""
        exists = (
            await self.session.execute(
                select(t.orders.c.order_id).where(t.orders.c.order_id == order_id)
            )
        ).first()
        if exists is None:
            try:
                async with self.session.begin_nested():
                    await self.session.execute(
                        insert(t.orders).values(
                            order_id=order_id,
                            synced=False,
                            total=0,
                            currency="CNY",
                            held=False,
                            shipped=False,
                            version=0,
                        )
                    )
            except IntegrityError:
                pass  # another consumer created it first

    async def update(self, order_id: str, **values) -> None:
        await self.ensure(order_id)
        await self.session.execute(
            update(t.orders)
            .where(t.orders.c.order_id == order_id)
            .values(**values, version=t.orders.c.version + 1)
        )

    async def replace_lines(self, order_id: str, lines: list[dict]) -> None:
        """Store the synced lines, keeping any warehouse already known from shipments."""
        async with self._rollup(order_id):
            await self._replace_lines(order_id, lines)

    @contextlib.asynccontextmanager
    async def _rollup(self, order_id: str, shipment_id: str | None = None) -> AsyncIterator[None]:
        """Around a change to the order's shipments/lines: lock the order, then add what
        the change did to each warehouse's figures to the rollup (same transaction)."""
        await self.ensure(order_id)
        await self.session.execute(
            select(t.orders.c.order_id).where(t.orders.c.order_id == order_id).with_for_update()
        )
        before = await rollup.footprint(self.session, order_id, shipment_id)
        yield
        after = await rollup.footprint(self.session, order_id, shipment_id)
        await rollup.apply(self.session, before, after)

    async def _replace_lines(self, order_id: str, lines: list[dict]) -> None:
        wh_by_sku = await self._warehouse_by_sku(order_id)
        await self.session.execute(
            delete(t.order_lines).where(t.order_lines.c.order_id == order_id)
        )
        if lines:
            await self.session.execute(
                insert(t.order_lines),
                [
                    {
                        "order_id": order_id,
                        "line_no": i,
                        "sku": ln["sku"],
                        "qty": ln["qty"],
                        "unit_price": ln["unit_price"],
                        "category": ln.get("category"),
                        "supplier_id": ln.get("supplier_id"),
                        "warehouse_id": wh_by_sku.get(ln["sku"]),
                    }
                    for i, ln in enumerate(lines)
                ],
            )

    async def _warehouse_by_sku(self, order_id: str) -> dict[str, str]:
        rows = (
            await self.session.execute(
                select(t.shipments.c.warehouse_id, t.shipments.c.skus).where(
                    t.shipments.c.order_id == order_id
                )
            )
        ).all()
        return {sku: r.warehouse_id for r in rows for sku in (r.skus or [])}

    async def add_shipment(
        self, order_id: str, shipment_id: str, warehouse_id: str, skus: list[str], at: datetime
    ) -> None:
        async with self._rollup(order_id, shipment_id):
            await self._add_shipment(order_id, shipment_id, warehouse_id, skus, at)

    async def _add_shipment(
        self, order_id: str, shipment_id: str, warehouse_id: str, skus: list[str], at: datetime
    ) -> None:
        found = await self._shipment(shipment_id)
        if found is None:
            await self.session.execute(
                insert(t.shipments).values(
                    shipment_id=shipment_id,
                    order_id=order_id,
                    warehouse_id=warehouse_id,
                    skus=skus,
                    status="submitted",
                    submitted_at=at,
                )
            )
        else:
            await self.session.execute(
                update(t.shipments)
                .where(t.shipments.c.shipment_id == shipment_id)
                .values(warehouse_id=warehouse_id, skus=skus, submitted_at=at)
            )
            await self._set_ship_time(shipment_id)
        await self.session.execute(
            update(t.order_lines)
            .where(t.order_lines.c.order_id == order_id, t.order_lines.c.sku.in_(skus))
            .values(warehouse_id=warehouse_id)
        )

    async def _shipment(self, shipment_id: str):
        return (
            await self.session.execute(
                select(t.shipments).where(t.shipments.c.shipment_id == shipment_id)
            )
        ).first()

    async def shipment_status(
        self, order_id: str, shipment_id: str, warehouse_id: str, status: str, **values
    ) -> None:
        """Record a warehouse outcome; creates the shipment if `order.submitted` is late."""
        async with self._rollup(order_id, shipment_id):
            await self._shipment_status(order_id, shipment_id, warehouse_id, status, **values)
        if status == "shipped":
            await self.update(order_id, shipped=True)

    async def _shipment_status(
        self, order_id: str, shipment_id: str, warehouse_id: str, status: str, **values
    ) -> None:
        if await self._shipment(shipment_id) is None:
            await self.session.execute(
                insert(t.shipments).values(
                    shipment_id=shipment_id,
                    order_id=order_id,
                    warehouse_id=warehouse_id,
                    skus=[],
                    status=status,
                    **values,
                )
            )
        else:
            await self.session.execute(
                update(t.shipments)
                .where(t.shipments.c.shipment_id == shipment_id)
                .values(status=status, **values)
            )
        if status == "shipped":
            await self._set_ship_time(shipment_id)

    async def _set_ship_time(self, shipment_id: str) -> None:
        row = await self._shipment(shipment_id)
        if row and row.submitted_at and row.shipped_at:
            seconds = int((utc(row.shipped_at) - utc(row.submitted_at)).total_seconds())
            await self.session.execute(
                update(t.shipments)
                .where(t.shipments.c.shipment_id == shipment_id)
                .values(submit_to_ship_seconds=max(seconds, 0))
            )

    async def upsert_warehouse(
        self, warehouse_id: str, kind: str, supplier_id: str | None, name: str
    ) -> None:
        values = {"kind": kind, "supplier_id": supplier_id, "name": name}
        result = await self.session.execute(
            update(t.warehouses).where(t.warehouses.c.warehouse_id == warehouse_id).values(**values)
        )
        if result.rowcount == 0:
            await self.session.execute(
                insert(t.warehouses).values(warehouse_id=warehouse_id, **values)
            )

    async def record_anomaly(
        self,
        order_id: str | None,
        event_type: str,
        event_id: str,
        note: str,
        at: datetime,
        *,
        kind: str = "refused",
        shipment_id: str | None = None,
    ) -> None:
        """A consumed event not applied (or refused by a rule), listed by `GET /anomalies`."""
        await ANOMALIES.add(
            self.session,
            kind=kind,
            event_type=event_type,
            event_id=event_id,
            order_id=order_id,
            shipment_id=shipment_id,
            reason=note,
            recorded_at=at,
        )
