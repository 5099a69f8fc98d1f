"""The per-warehouse rollup the projection keeps equals the figures recomputed from the
shipments and order lines, whatever the order of events, and `/analytics/warehouses`
reads it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from aftersales_service.adapters import rollup
from aftersales_service.adapters import tables as t
from tests.integration.aftersales_service import events as ev
from tests.integration.aftersales_service.conftest import OPS

H = timedelta(hours=1)


async def _figures(h) -> tuple[dict, dict]:
    async with h.rt.db.reader() as s:
        return await rollup.stored(s), await rollup.recompute(s)


async def _check(h) -> dict:
    stored, recomputed = await _figures(h)
    assert stored == recomputed
    return stored


async def test_rollup_equals_recomputed_figures_after_each_event(harness):
    h = harness
    a = [ev.line("SKU-1", 2, "10.50"), ev.line("SKU-2", 1, "99.99")]
    b = [ev.line("SKU-3", 3, "0.10")]
    steps = [
        # warehouse topic first: a shipment row before the order is known
        ev.shipped("O-1", "S-1", "WH-DS-1", ev.T0 + 4 * H),
        ev.synced("O-1", a),
        ev.submitted("O-1", "S-1", "WH-DS-1", [a[0]], ev.T0),
        ev.submitted("O-1", "S-2", "WH-DS-2", [a[1]], ev.T0 + H),
        ev.shipped("O-1", "S-2", "WH-DS-2", ev.T0 + 11 * H),
        # re-submission of S-1 to another warehouse moves its figures and its line value
        ev.submitted("O-1", "S-1", "WH-OWN-1", [a[0]], ev.T0 + 2 * H),
        # the order re-synced with other prices: the line values are replaced
        ev.synced("O-1", [ev.line("SKU-1", 1, "12.00"), a[1]]),
        ev.synced("O-2", b),
        ev.submitted("O-2", "S-3", "WH-DS-1", b, ev.T0),
        ev.out_of_stock("O-2", "S-3", "WH-DS-1", ["SKU-3"]),
        ev.submitted("O-2", "S-4", "WH-DS-2", b, ev.T0 + H),
        ev.intercepted("O-2", "S-4", "WH-DS-2"),
        ev.missed("O-2", "S-4", "WH-DS-2"),
        ev.shipped("O-2", "S-4", "WH-DS-2", ev.T0 + 3 * H),
    ]
    for step in steps:
        await h.feed(step)
        await _check(h)
    await h.feed(*steps)  # redeliveries change nothing
    stored = await _check(h)
    # by hand: S-1 at WH-OWN-1 (2 h → 4 h), S-2 at WH-DS-2 (10 h), S-4 at WH-DS-2 (2 h)
    assert stored == {
        "WH-OWN-1": (1, 1, 2 * 3600, 1, 1200),
        "WH-DS-1": (1, 0, 0, 0, 0),
        "WH-DS-2": (2, 2, 12 * 3600, 2, 9999 + 30),
    }
    whs = (await h.client.get("/analytics/warehouses", headers=OPS)).json()["warehouses"]
    got = {
        w["warehouse_id"]: (
            w["shipments"],
            w["shipped"],
            w["avg_submit_to_ship_hours"],
            w["max_submit_to_ship_hours"],
            w["value_shipped"],
        )
        for w in whs
    }
    assert got["WH-OWN-1"] == (1, 1, 2.0, 2.0, "12.00")
    assert got["WH-DS-1"] == (1, 0, None, None, "0.00")
    assert got["WH-DS-2"] == (2, 2, 6.0, 10.0, "100.29")


async def test_a_database_without_the_rollup_gets_it_built(harness):
    h = harness
    lines = [ev.line("SKU-1", 2, "10.50")]
    await h.feed(
        ev.synced("O-1", lines),
        ev.submitted("O-1", "S-1", "WH-DS-1", lines, ev.T0),
        ev.shipped("O-1", "S-1", "WH-DS-1", ev.T0 + 5 * H),
    )
    before = await _check(h)
    async with h.rt.db.session() as s, s.begin():
        await s.execute(delete(t.warehouse_rollup))
        assert await rollup.rebuild_if_missing(s)
    async with h.rt.db.session() as s, s.begin():
        assert not await rollup.rebuild_if_missing(s)  # already there: left alone
        assert len((await s.execute(select(t.warehouse_rollup))).all()) == 1
    assert await _check(h) == before == {"WH-DS-1": (1, 1, 5 * 3600, 1, 2100)}
