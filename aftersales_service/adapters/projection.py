"""The order projection: upserts from order and warehouse events, in any arrival order."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import Integer, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_service.adapters import rollup
from aftersales_service.adapters import tables as t
from aftersales_service.adapters.rows import money, utc
from aftersales_service.domain.orders import OrderLine, OrderView
from shared.anomalies import AnomalyLog
from shared.db import insert_ignoring_conflicts, rowcount

ANOMALIES = AnomalyLog(t.anomalies)


PLACEHOLDER = {
    "synced": False,
    "total": 0,
    "currency": "CNY",
    "held": False,
    "shipped": False,
    "version": 0,
}


class _Line(NamedTuple):
    sku: str
    warehouse_id: str | None
    qty: int
    unit_price: Decimal


class _Shipment(NamedTuple):
    warehouse_id: str | None
    skus: list[str]
    shipped_at: datetime | None
    submit_to_ship_seconds: int | None


@dataclass
class _Change:
    """A shipment change: its row before; the order's (shipments, lines) after, if known."""

    found: Any
    after: tuple[list, list] | None = None


@dataclass
class _Known:
    """A locked order as this transaction left it; None: not read yet."""

    synced: bool
    stage: str | None
    shipments: list | None = None  # (warehouse_id, skus, shipped_at, submit_to_ship_seconds)
    lines: list | None = None  # _Line rows


def _tally(shipments: list, lines: list) -> rollup.Footprint:
    return rollup.tally(
        ((r.warehouse_id, r.shipped_at, r.submit_to_ship_seconds) for r in shipments),
        ((r.warehouse_id, r.qty, r.unit_price) for r in lines),
    )


def _stored_as_given(price) -> bool:
    """Whether the Money column keeps `price` exactly (at most 2 decimals)."""
    exponent = price.as_tuple().exponent if isinstance(price, Decimal) else None
    return isinstance(exponent, int) and exponent >= -2


class OrderProjection:
    """Reads and upserts projected orders; never another service's database.

    One instance lives for one transaction (a consumer's batch of events): what it read of
    an order it has locked is kept, so the events of a batch do not read it again.

    Write-behind: new order rows, changes to order columns, synced lines and rollup deltas
    are held until `flush()` (the unit of work's commit, a savepoint, or a read that needs
    them), then written a statement per kind for the whole batch: an order's events in
    one batch cost one INSERT or UPDATE row, not one statement each."""

    def __init__(self, session: AsyncSession):
        self.session = session
        self._known: dict[str, _Known] = {}
        self._absent: set[str] = set()  # preloaded and not stored (nor inserted yet)
        self._inserts: dict[str, dict] = {}  # order rows to insert
        self._updates: dict[str, dict] = {}  # order id -> columns to set
        self._versions: dict[str, int] = {}  # order id -> version increments
        self._lines_due: dict[str, list[dict]] = {}  # lines to insert; none stored meanwhile
        self._rollup_due: rollup.Footprint = {}  # deltas to add to the rollup

    async def preload(self, order_ids: Iterable[str]) -> None:
        """Lock the stored ones of these orders and note which are not stored (one query)."""
        wanted = sorted({i for i in order_ids if i not in self._known and i not in self._absent})
        if not wanted:
            return
        o = t.orders.c
        query = select(o.order_id, o.synced, o.stage).where(o.order_id.in_(wanted))
        rows = await self.session.execute(query.order_by(o.order_id).with_for_update())
        for row in rows:
            self._known[row.order_id] = _Known(bool(row.synced), row.stage)
        self._absent.update(i for i in wanted if i not in self._known)

    async def flush(self) -> None:
        """Write what is held back: order inserts, order updates, lines, rollup deltas."""
        if self._inserts:
            rows = [{c.name: r.get(c.name) for c in t.orders.c} for r in self._inserts.values()]
            await self.session.execute(insert(t.orders), rows)
        groups: dict[tuple[str, ...], list[dict]] = {}
        for order_id, values in self._updates.items():
            cols = tuple(sorted(values))
            bound = {f"v_{c}": values[c] for c in cols}
            groups.setdefault(cols, []).append(
                {"k_order_id": order_id, "k_versions": self._versions[order_id], **bound}
            )
        o = t.orders.c
        for cols, params in groups.items():
            sets: dict[str, Any] = {c: bindparam(f"v_{c}", type_=o[c].type) for c in cols}
            sets["version"] = o.version + bindparam("k_versions", type_=Integer)
            stmt = update(t.orders).where(o.order_id == bindparam("k_order_id")).values(sets)
            await self.session.execute(stmt, params)
        lines = [line for due in self._lines_due.values() for line in due]
        if lines:
            await self.session.execute(insert(t.order_lines), lines)
        due = self._rollup_due
        self._inserts, self._updates, self._versions = {}, {}, {}
        self._lines_due, self._rollup_due = {}, {}
        await rollup.apply(self.session, {}, due)

    def _add_to_rollup(self, before: rollup.Footprint, after: rollup.Footprint) -> None:
        for wh in set(before) | set(after):
            zero = [0] * len(rollup.FIELDS)
            old, new = before.get(wh, zero), after.get(wh, zero)
            due = self._rollup_due.setdefault(wh, list(zero))
            for i, (o, n) in enumerate(zip(old, new, strict=True)):
                due[i] += n - o

    async def get(self, order_id: str) -> OrderView | None:
        await self.flush()
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
        sh = t.shipments.c
        left = await self.session.execute(
            select(sh.skus).where(sh.order_id == order_id, sh.status == "shipped")
        )
        shipped_skus = {sku for (skus,) in left for sku in (skus or [])}
        return OrderView(
            order_id=row.order_id,
            stage=row.stage,
            held=bool(row.held),
            synced=bool(row.synced),
            total=money(row.total),
            shipping=None if row.shipping is None else money(row.shipping),
            discount=None if row.discount is None else money(row.discount),
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
                    shipped=r.sku in shipped_skus,
                )
                for r in lines
            ],
        )

    async def status(self, order_id: str) -> tuple[bool, str | None] | None:
        """(synced, stage) of a stored order, None if there is none; the order stays
        locked for the rest of the transaction (it is about to change)."""
        known = await self._lock(order_id)
        return None if known is None else (known.synced, known.stage)

    async def ensure(self, order_id: str) -> None:
        """Create a placeholder row so events before `order.synced` have somewhere to land."""
        await self._ensure(order_id)

    async def update(self, order_id: str, **values) -> None:
        known = await self._ensure(order_id)
        await self._update(order_id, known, values)

    async def sync(self, order_id: str, lines: list[dict], **values) -> None:
        """`order.synced`: the order's figures, stage `synced` unless it has one, its lines.
        A new order is inserted as it would be updated from a placeholder."""
        known = self._known.get(order_id)
        if known is None:
            known = await self._create(order_id, {**values, "stage": "synced", "version": 2})
            if known is not None:
                await self.replace_lines(order_id, lines)
                return
        known = await self._ensure(order_id)
        if known.stage is None:  # as an update, then one setting the stage
            await self._update(order_id, known, {**values, "stage": "synced"}, versions=2)
        else:
            await self._update(order_id, known, values)
        await self.replace_lines(order_id, lines)

    async def replace_lines(self, order_id: str, lines: list[dict]) -> None:
        """Store the synced lines, keeping any warehouse already known from shipments;
        the rollup gets the difference (the order is locked: what is known stays true)."""
        known = await self._ensure(order_id)
        shipments = await self._shipments(order_id, known)
        old = await self._lines(order_id, known)
        wh_by_sku = {sku: r.warehouse_id for r in shipments for sku in (r.skus or [])}
        if self._lines_due.pop(order_id, None) is None and old:
            await self.session.execute(
                delete(t.order_lines).where(t.order_lines.c.order_id == order_id)
            )
        rows = [
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
        ]
        if rows:
            self._lines_due[order_id] = rows
        if all(_stored_as_given(r["unit_price"]) for r in rows):
            known.lines = [
                _Line(r["sku"], r["warehouse_id"], r["qty"], r["unit_price"]) for r in rows
            ]
        else:  # the column rounds it: the rollup adds what is stored
            known.lines = None
        new = await self._lines(order_id, known)
        self._add_to_rollup(_tally(shipments, old), _tally(shipments, new))

    @contextlib.asynccontextmanager
    async def _rollup(self, order_id: str, shipment_id: str) -> AsyncIterator[_Change]:
        """Around a change to one shipment of the order: lock the order, then add what the
        change did to each warehouse's figures to the rollup (same transaction). Yields the
        shipment's row before the change; the change may tell the order's rows after it."""
        known = await self._ensure(order_id)
        change = _Change(await self._shipment(shipment_id))
        mine = change.found is None or change.found.order_id == order_id
        if mine:
            before = _tally(
                await self._shipments(order_id, known), await self._lines(order_id, known)
            )
        else:  # a shipment id of another order: its row counts for both
            await self.flush()
            before = await rollup.footprint(self.session, order_id, shipment_id)
        yield change
        known.shipments, known.lines = change.after or (None, None)
        if mine:
            after = _tally(
                await self._shipments(order_id, known), await self._lines(order_id, known)
            )
        else:
            for other in self._known.values():  # the other order's shipment changed
                other.shipments = other.lines = None
            await self.flush()
            after = await rollup.footprint(self.session, order_id, shipment_id)
        self._add_to_rollup(before, after)

    async def add_shipment(
        self, order_id: str, shipment_id: str, warehouse_id: str, skus: list[str], at: datetime
    ) -> None:
        async with self._rollup(order_id, shipment_id) as change:
            await self._add_shipment(change.found, order_id, shipment_id, warehouse_id, skus, at)
            known = self._known[order_id]
            if change.found is None and known.shipments is not None and known.lines is not None:
                new = _Shipment(warehouse_id, skus, None, None)
                lines = [
                    r if r.sku not in skus else _Line(r.sku, warehouse_id, r.qty, r.unit_price)
                    for r in known.lines
                ]
                change.after = ([*known.shipments, new], lines)

    async def _add_shipment(
        self, found, order_id: str, shipment_id: str, warehouse_id: str, skus: list[str], at
    ) -> None:
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
        due = self._lines_due.get(order_id)
        if due is not None:  # not stored yet (and none stored): set them before they are
            for row in due:
                if row["sku"] in skus:
                    row["warehouse_id"] = warehouse_id
            return
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
        async with self._rollup(order_id, shipment_id) as change:
            await self._shipment_status(
                change.found, order_id, shipment_id, warehouse_id, status, **values
            )
        if status == "shipped":
            await self.update(order_id, shipped=True)

    async def _shipment_status(
        self, found, order_id: str, shipment_id: str, warehouse_id: str, status: str, **values
    ) -> None:
        if found is None:
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

    # What this transaction knows of the orders it has locked. Only this projection
    # writes orders, lines and shipments, and a locked order changes only here until
    # commit; `forget()` after a savepoint rolls back.

    def forget(self) -> None:
        """Drop what is known and what is held back: a savepoint rolled back what it was
        based on (a savepoint starts with a flush, so all held back came after it)."""
        self._known.clear()
        self._absent.clear()
        self._inserts, self._updates, self._versions = {}, {}, {}
        self._lines_due, self._rollup_due = {}, {}

    async def _lock(self, order_id: str) -> _Known | None:
        known = self._known.get(order_id)
        if known is None and order_id not in self._absent:
            o = t.orders.c
            row = (
                await self.session.execute(
                    select(o.synced, o.stage).where(o.order_id == order_id).with_for_update()
                )
            ).first()
            if row is None:
                return None
            known = self._known[order_id] = _Known(bool(row.synced), row.stage)
        return known

    async def _ensure(self, order_id: str) -> _Known:
        known = await self._lock(order_id)
        if known is not None:
            return known
        known = await self._create(order_id, {}) or await self._lock(order_id)
        assert known is not None  # else another consumer created it first
        return known

    async def _create(self, order_id: str, values: dict) -> _Known | None:
        """Insert the placeholder row (with `values`); None if the order exists. One that
        `preload` found absent is inserted at `flush` (if another consumer inserts it
        meanwhile, the flush fails and the batch is tried again)."""
        row = {**PLACEHOLDER, **values}
        if order_id in self._absent:
            self._absent.discard(order_id)
            self._inserts[order_id] = {"order_id": order_id, **row}
        else:
            created = await self.session.execute(
                insert_ignoring_conflicts(t.orders, self.session.get_bind().dialect.name).values(
                    order_id=order_id, **row
                )
            )
            if not rowcount(created):
                return None
        # New: nothing of it exists anywhere else yet.
        known = _Known(bool(row["synced"]), row.get("stage"), shipments=[], lines=[])
        self._known[order_id] = known
        return known

    async def _update(self, order_id: str, known: _Known, values: dict, versions: int = 1):
        """Held back for `flush`: merged into the row to insert, or into the order's SET."""
        inserting = self._inserts.get(order_id)
        if inserting is not None:
            inserting.update(values)
            inserting["version"] += versions
        else:
            self._updates.setdefault(order_id, {}).update(values)
            self._versions[order_id] = self._versions.get(order_id, 0) + versions
        known.synced = bool(values.get("synced", known.synced))
        known.stage = values.get("stage", known.stage)

    async def _shipments(self, order_id: str, known: _Known) -> list:
        if known.shipments is None:
            sh = t.shipments.c
            query = select(sh.warehouse_id, sh.skus, sh.shipped_at, sh.submit_to_ship_seconds)
            result = await self.session.execute(query.where(sh.order_id == order_id))
            known.shipments = list(result.all())
        return known.shipments

    async def _lines(self, order_id: str, known: _Known) -> list:
        if known.lines is None:
            if self._lines_due:
                await self.flush()  # the stored (rounded) figures are wanted
            ln = t.order_lines.c
            query = select(ln.sku, ln.warehouse_id, ln.qty, ln.unit_price)
            result = await self.session.execute(query.where(ln.order_id == order_id))
            known.lines = list(result.all())
        return known.lines

    async def upsert_warehouse(
        self, warehouse_id: str, kind: str, supplier_id: str | None, name: str
    ) -> None:
        values = {"kind": kind, "supplier_id": supplier_id, "name": name}
        result = await self.session.execute(
            update(t.warehouses).where(t.warehouses.c.warehouse_id == warehouse_id).values(**values)
        )
        if rowcount(result) == 0:
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
