"""A partition batch applied in one transaction leaves the state the same events leave
applied one by one: the projection keeps what it read of an order for the batch, so
interleaved orders, repeated and out-of-order events must not make it stale."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

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
