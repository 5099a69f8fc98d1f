"""A partition batch applied in one transaction leaves the state the same events leave
applied one by one: the projection keeps what it read of an order for the batch, so
interleaved orders, repeated and out-of-order events must not make it stale."""

from __future__ import annotations

from contextvars import ContextVar
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from aftersales_service.adapters import rollup
from aftersales_service.adapters import tables as t
from aftersales_service.app import create_app
from aftersales_service.entrypoints.consumers import PROJECTION
from aftersales_service.handlers.projection import apply_event
from shared.clock import ManualClock
from shared.unit_of_work import idempotent_batch
from tests.integration.aftersales_service import events as ev
from tests.support import running

H = timedelta(hours=1)


def stream() -> list:
    a = [ev.line("SKU-1", 2, "10.50"), ev.line("SKU-2", 1, "99.99")]
    b = [ev.line("SKU-3", 3, "0.10"), ev.line("SKU-1", 1, "10.555")]  # stored rounded
    a2 = [ev.line("SKU-2", 2, "99.99"), ev.line("SKU-4", 1, "5.00")]
    resync = ev.synced("O-1", a2)
    shipped_first = ev.shipped("O-2", "S-3", "WH-2", ev.T0 + 3 * H)
    return [
        ev.synced("O-1", a),
        shipped_first,  # before O-2 is known: lands on a placeholder
        ev.stage("O-1", "reviewing"),
        ev.synced("O-2", b),
        ev.submitted("O-1", "S-1", "WH-1", [a[0]], ev.T0),
        ev.stage("O-3", "reviewing"),  # never synced: an anomaly
        ev.submitted("O-2", "S-3", "WH-2", b, ev.T0 + H),
        ev.submitted("O-1", "S-2", "WH-2", [a[1]], ev.T0 + H),
        resync,  # new lines after shipments: warehouses kept from them
        resync,  # delivered twice in one batch
        ev.shipped("O-1", "S-1", "WH-1", ev.T0 + 5 * H),
        ev.intercepted("O-1", "S-2", "WH-2"),
        ev.stage("O-2", "submitted"),
        ev.cancelled("O-2", "0"),
        ev.shipped("O-2", "S-3", "WH-2", ev.T0 + 6 * H),  # cancelled: impossible stage
        shipped_first,
        ev.stage("O-1", "shipped"),
        ev.delivered("O-1", ev.T0 + 30 * H),
    ]


async def _state(app) -> dict:
    async with app.state.runtime.db.reader() as s:

        async def rows(table, *skip: str):
            cols = [c for c in table.c if c.name not in skip]
            return sorted(tuple(r) for r in (await s.execute(select(*cols))).all())

        return {
            "orders": await rows(t.orders),
            "lines": await rows(t.order_lines),
            "shipments": await rows(t.shipments),
            "rollup": await rollup.stored(s),
            "recomputed": await rollup.recompute(s),
            "anomalies": await rows(t.anomalies, "id", "event_id"),
        }


async def test_a_batch_leaves_the_state_events_one_by_one_leave(harness, make_settings, databases):
    events = stream()
    await harness.feed(*events)
    one_by_one = await _state(harness.app)
    assert one_by_one["rollup"] == one_by_one["recomputed"]
    kinds = [a[0] for a in one_by_one["anomalies"]]
    assert sorted(kinds) == ["impossible_stage", "refused", "unknown_order"]

    clock = ManualClock(ev.T0)
    url = databases.url("aftersales_batch")
    app = create_app(make_settings("aftersales", AFTERSALES_DATABASE_URL=url), clock=clock)
    async with running(app):

        async def handle(uow, env):
            await apply_event(uow, env, clock.now())

        await idempotent_batch(PROJECTION, app.state.deps.uow, handle)(events)
        assert await _state(app) == one_by_one


class Boom(Exception):
    """A handler failing mid-batch."""


def _batch(app, clock, fail_at: int | None = None):
    """The consumer's batch handler; with `fail_at`, the event at that index raises after
    the ones before it were applied (their writes held back or already flushed)."""
    calls = 0

    async def handle(uow, env):
        nonlocal calls
        if calls == fail_at:
            raise Boom(env.type)
        calls += 1
        await apply_event(uow, env, clock.now())

    return idempotent_batch(PROJECTION, app.state.deps.uow, handle)


async def _inbox(app) -> int:
    async with app.state.runtime.db.reader() as s:
        return len((await s.execute(select(t.messaging.inbox.c.event_id))).all())


async def test_a_redelivered_batch_changes_nothing(harness):
    events = stream()
    run = _batch(harness.app, harness.clock)
    await run(events)
    once = await _state(harness.app)
    emitted = await harness.emitted()
    await run(events)  # the consumer crashed before committing its offsets
    await run(events[5:] + events[:5])  # and a rebalance redelivers it otherwise split
    assert await _state(harness.app) == once
    assert await harness.emitted() == emitted
    assert await _inbox(harness.app) == len({e.event_id for e in events})


async def test_a_failure_mid_batch_applies_nothing_of_it(harness):
    events = stream()
    before = await _state(harness.app)
    unique = len({e.event_id for e in events})  # 16: two are repeated
    # 13: after a savepoint (order.cancelled) wrote what was held back before it
    for fail_at in (1, 8, 13, unique - 1):
        with pytest.raises(Boom):
            await _batch(harness.app, harness.clock, fail_at)(events)
        assert await _state(harness.app) == before, fail_at
        assert await _inbox(harness.app) == 0
        assert await harness.emitted() == []
    await _batch(harness.app, harness.clock)(events)  # then it applies whole
    await harness.feed(*events)  # as one by one: nothing more
    assert (await _state(harness.app))["rollup"] == (await _state(harness.app))["recomputed"]


async def test_a_batch_writes_each_kind_of_row_once(harness):
    """New orders synced and moved on in one batch: one INSERT for all the orders (their
    stage changes merged in), one for all their lines, no UPDATE; then stage changes of
    stored orders: one UPDATE statement for the batch, one SELECT locking them all."""
    statements: list[str] = []
    counting: ContextVar[bool] = ContextVar("counting", default=False)

    def count(conn, cursor, sql, params, context, executemany):
        if counting.get():  # this test's batches, not the relay running beside them
            statements.append(sql.split(None, 1)[0].upper() + " " + _table(sql))

    orders = [f"O-{i}" for i in range(10)]
    first = [ev.synced(o, [ev.line("SKU-1", 2, "10.50")]) for o in orders]
    first += [ev.stage(o, "reviewing") for o in orders]
    engine = harness.rt.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    counting.set(True)
    try:
        await _batch(harness.app, harness.clock)(first)
        writes = [s for s in statements if not s.startswith(("SELECT", "BEGIN", "COMMIT"))]
        assert sorted(writes) == ["INSERT inbox", "INSERT order_lines", "INSERT orders"]
        statements.clear()
        await _batch(harness.app, harness.clock)([ev.stage(o, "submitted") for o in orders])
        writes = [s for s in statements if not s.startswith(("SELECT", "BEGIN", "COMMIT"))]
        assert sorted(writes) == ["INSERT inbox", "UPDATE orders"]
        assert statements.count("SELECT orders") == 1
    finally:
        event.remove(engine, "before_cursor_execute", count)
    async with harness.rt.db.reader() as s:
        rows = (await s.execute(select(t.orders.c.stage, t.orders.c.version))).all()
    assert rows == [("submitted", 4)] * len(orders)  # synced 2, two stage changes


def _table(sql: str) -> str:
    """The table a statement reads or writes first."""
    words = sql.replace('"', "").split()
    upper = [w.upper() for w in words]
    after = {"SELECT": "FROM", "INSERT": "INTO", "UPDATE": "UPDATE", "DELETE": "FROM"}
    keyword = after.get(upper[0])
    if keyword is None or keyword not in upper:
        return ""
    return words[upper.index(keyword) + 1].split(".")[-1]
