"""Stop-shipment: the broadcast across instances, the ship/stop race, overlapping lifts."""

from __future__ import annotations

import asyncio
import random

import pytest

from shared.clock import ManualClock
from tests.integration.warehouse_service.support import deliver, emitted, submitted
from tests.support import bearer, running, wait_until
from warehouse_service.app import create_app

pytestmark = pytest.mark.broker

OPS = bearer("dev-ops")


async def _advance(http, sid: str, key: dict, *, to: str) -> None:
    """Drive one task with the scanner API up to `to` (allocated/labelled/packed/shipped)."""
    steps = [
        ("allocated", "/warehouses/{wh}/imports", {"shipment_id": sid}),
        ("labelled", f"/shipments/{sid}/label", {"carrier": "SF"}),
        ("packed", f"/shipments/{sid}/pack", None),
        ("shipped", f"/shipments/{sid}/ship", None),
    ]
    shipment = (await http.get(f"/shipments/{sid}", headers=OPS)).json()
    for status, path, body in steps:
        if status == "packed":
            scanned = [ln["sku"] for ln in shipment["lines"] for _ in range(ln["qty"])]
            body = {"scanned": scanned, "weight_grams": 500}
        r = await http.post(path.format(wh=shipment["warehouse_id"]), json=body, headers=key)
        assert r.status_code == 200, r.text
        if status == to:
            return


def _acks(report: dict) -> dict[str, dict]:
    return {a["warehouse_id"]: a for a in report["acknowledgements"]}


async def _acked(http, stop_id: str, warehouses: set[str]) -> dict | None:
    report = (await http.get(f"/stop-shipments/{stop_id}", headers=OPS)).json()
    return report if warehouses <= set(_acks(report)) else None


async def test_every_instance_holds_and_acknowledges_and_a_late_one_catches_up(
    make_settings, databases
):
    a = create_app(
        make_settings("warehouse", FULFIL_WAREHOUSES="WH-OWN-1,WH-DS-1", FULFIL_INSTANCE_ID="wh-a")
    )
    b_settings = make_settings(
        "warehouse",
        FULFIL_WAREHOUSES="WH-DS-2",
        FULFIL_INSTANCE_ID="wh-b",
        WAREHOUSE_DATABASE_URL=databases.url("warehouse_b"),
    )
    b = create_app(b_settings)
    ds1_queued = submitted("WH-DS-1", [("SKU-7", 1)], supplier_id="SUP-1")
    ds1_shipped = submitted("WH-DS-1", [("SKU-7", 1)], supplier_id="SUP-1")
    own = submitted("WH-OWN-1", [("SKU-1", 1)])
    ds2 = submitted("WH-DS-2", [("SKU-8", 1)], supplier_id="SUP-2")
    ds2_late = submitted("WH-DS-2", [("SKU-9", 2)], supplier_id="SUP-2")
    sid = {e.order_id: e.payload["shipment_id"] for e in (ds1_queued, ds1_shipped, own, ds2)}
    all_wh = {"WH-OWN-1", "WH-DS-1", "WH-DS-2"}

    async with running(a) as ha:
        async with running(b) as hb:
            await deliver(a, ds1_queued, ds1_shipped, own)
            await deliver(b, ds2, ds2_late)
            shipped_id = sid[ds1_shipped.order_id]
            await _advance(ha, shipped_id, bearer("dev-scanner-WH-DS-1"), to="shipped")

            body = {"scope": {"all_dropship": True}, "reason": "supplier recall"}
            r = await ha.post("/stop-shipments", json=body, headers=OPS)
            assert r.status_code == 201
            stop_id = r.json()["stop_id"]

            report_a = await wait_until(lambda: _acked(ha, stop_id, all_wh), message="acks on A")
            report_b = await wait_until(lambda: _acked(hb, stop_id, all_wh), message="acks on B")
            for report in (report_a, report_b):
                acks = _acks(report)
                assert acks["WH-DS-1"]["held_count"] == 1
                assert acks["WH-DS-1"]["already_shipped"] == [ds1_shipped.order_id]
                assert acks["WH-DS-1"]["instance_id"] == "wh-a"
                assert acks["WH-OWN-1"]["held_count"] == 0
                assert acks["WH-DS-2"] | {"acknowledged_at": None} == {
                    "warehouse_id": "WH-DS-2",
                    "instance_id": "wh-b",
                    "held_count": 2,
                    "already_shipped": [],
                    "acknowledged_at": None,
                }
                assert report["unacknowledged_warehouses"] == []

            key = bearer("dev-scanner-WH-DS-1")
            r = await ha.post(
                "/warehouses/WH-DS-1/imports",
                json={"shipment_id": sid[ds1_queued.order_id]},
                headers=key,
            )
            assert r.status_code == 423
            assert stop_id in r.json()["error"]["message"]
            assert "supplier recall" in r.json()["error"]["message"]
            await _advance(ha, sid[own.order_id], bearer("dev-scanner-WH-OWN-1"), to="shipped")
            ds2_task = (await hb.get(f"/shipments/{sid[ds2.order_id]}", headers=OPS)).json()
            assert ds2_task["held_by"] == [stop_id]

        # B is down while a second stop is issued; it applies it when it comes back.
        body = {"scope": {"skus": ["SKU-9"]}, "reason": "wrong labels"}
        second = (await ha.post("/stop-shipments", json=body, headers=OPS)).json()["stop_id"]
        await wait_until(lambda: _acked(ha, second, {"WH-OWN-1", "WH-DS-1"}))
        report = (await ha.get(f"/stop-shipments/{second}", headers=OPS)).json()
        assert report["unacknowledged_warehouses"] == ["WH-DS-2"]

        async with running(create_app(b_settings)) as hb2:
            report = await wait_until(lambda: _acked(ha, second, all_wh), message="late ack")
            assert _acks(report)["WH-DS-2"]["held_count"] == 1
            late = (await hb2.get(f"/shipments/SHP-{ds2_late.order_id}", headers=OPS)).json()
            assert sorted(late["held_by"]) == sorted([stop_id, second])
            # The first stop was not applied twice after the restart.
            b_acks = await emitted(b, "stop.acknowledged")
            assert sorted(e.typed().stop_id for e in b_acks) == sorted([stop_id, second])


async def test_no_parcel_leaves_after_the_stop_is_recorded(make_settings):
    """Many ship scans race one stop: each parcel that left had left before the stop was
    recorded, and the acknowledgement lists exactly those parcels."""
    app = create_app(make_settings("warehouse", FULFIL_WAREHOUSES="WH-DS-1"), clock=ManualClock())
    key = bearer("dev-scanner-WH-DS-1")
    envs = [submitted("WH-DS-1", [("SKU-7", 1)], supplier_id="SUP-1") for _ in range(40)]
    order_of = {e.payload["shipment_id"]: e.order_id for e in envs}
    ids = list(order_of)
    async with running(app) as http:
        await deliver(app, *envs)
        r = await http.post("/warehouses/WH-DS-1/imports", json={"all_queued": True}, headers=key)
        assert len(r.json()["allocated"]) == len(ids)
        for sid in ids:
            await http.post(f"/shipments/{sid}/label", json={"carrier": "SF"}, headers=key)
            body = {"scanned": ["SKU-7"], "weight_grams": 300}
            assert (await http.post(f"/shipments/{sid}/pack", json=body, headers=key)).is_success

        results: dict[str, tuple[int, bool]] = {}
        stop_answered = False

        async def ship(sid: str) -> None:
            for _ in range(random.randrange(30)):
                await asyncio.sleep(0)  # shuffle the interleaving, no wall-clock wait
            started_after_stop = stop_answered
            r = await http.post(f"/shipments/{sid}/ship", headers=key)
            results[sid] = (r.status_code, started_after_stop)

        async def stop() -> str:
            nonlocal stop_answered
            for _ in range(random.randrange(10)):
                await asyncio.sleep(0)
            body = {"scope": {"suppliers": ["SUP-1"]}, "reason": "recall"}
            r = await http.post("/stop-shipments", json=body, headers=bearer("dev-ops"))
            stop_answered = True
            return r.json()["stop_id"]

        first = ids[:3]
        for sid in first:  # these certainly left before the stop
            await ship(sid)
        # Eight scanners ship their parcels one after another; the stop lands mid-way.
        some_left = asyncio.Event()

        stop_done = asyncio.Event()

        async def scanner(lane: list[str]) -> None:
            for sid in lane[:-1]:  # these race the stop
                await ship(sid)
                if sum(code == 200 for code, _ in results.values()) >= len(first) + 8:
                    some_left.set()
            await stop_done.wait()  # each lane's last parcel is scanned after it: refused
            await ship(lane[-1])

        lanes = [asyncio.create_task(scanner(ids[3 + i :: 8])) for i in range(8)]
        await some_left.wait()
        stop_id = await stop()
        stop_done.set()
        await asyncio.gather(*lanes)
        for sid in ids:  # everything not shipped is refused from now on
            if results[sid][0] != 200:
                r = await http.post(f"/shipments/{sid}/ship", headers=key)
                assert r.status_code == 423 and stop_id in r.json()["error"]["message"]

        assert {code for code, _ in results.values()} <= {200, 423}
        assert not [sid for sid, (code, after) in results.items() if after and code == 200]
        shipped = sorted(order_of[sid] for sid, (code, _) in results.items() if code == 200)
        assert len(first) + 8 <= len(shipped) < len(ids)

        report = await wait_until(lambda: _acked(http, stop_id, {"WH-DS-1"}))
        ack = _acks(report)["WH-DS-1"]
        assert ack["already_shipped"] == shipped
        assert ack["held_count"] == len(ids) - len(shipped)
        worklist = await http.get("/warehouses/WH-DS-1/shipments?status=packed", headers=key)
        assert all(s["held_by"] == [stop_id] for s in worklist.json())
        assert len(worklist.json()) == len(ids) - len(shipped)
    assert len(await emitted(app, "shipment.shipped")) == len(shipped)


async def test_lifting_one_of_two_overlapping_stops(make_settings):
    app = create_app(make_settings("warehouse"), clock=ManualClock())
    both = submitted("WH-DS-1", [("SKU-7", 1)], supplier_id="SUP-1", campaign_id="C1")
    sku_only = submitted("WH-DS-1", [("SKU-7", 1)], supplier_id="SUP-1")
    campaign_only = submitted("WH-OWN-1", [("SKU-1", 1)], campaign_id="C1")
    neither = submitted("WH-OWN-1", [("SKU-2", 1)])
    all_wh = {"WH-OWN-1", "WH-DS-1", "WH-DS-2"}

    def sid(env) -> str:
        return env.payload["shipment_id"]

    async def held_by(http, env) -> list[str]:
        return (await http.get(f"/shipments/{sid(env)}", headers=OPS)).json()["held_by"]

    async with running(app) as http:
        await deliver(app, both, sku_only, campaign_only, neither)
        s1 = (
            await http.post(
                "/stop-shipments", json={"scope": {"skus": ["SKU-7"]}, "reason": "r1"}, headers=OPS
            )
        ).json()["stop_id"]
        s2 = (
            await http.post(
                "/stop-shipments",
                json={"scope": {"campaigns": ["C1"]}, "reason": "r2"},
                headers=OPS,
            )
        ).json()["stop_id"]
        await wait_until(lambda: _acked(http, s1, all_wh))
        report = await wait_until(lambda: _acked(http, s2, all_wh))
        assert report["held_now"] == {"WH-DS-1": 1, "WH-OWN-1": 1}
        assert sorted(await held_by(http, both)) == sorted([s1, s2])

        r = await http.post(f"/stop-shipments/{s1}/lift", headers=bearer("dev-clerk"))
        assert r.status_code == 403
        r = await http.post(f"/stop-shipments/{s1}/lift", headers=OPS)
        assert r.json()["status"] == "lifted" and r.json()["held_now"] == {}
        assert await held_by(http, both) == [s2]
        assert await held_by(http, sku_only) == []
        assert await held_by(http, campaign_only) == [s2]
        assert await held_by(http, neither) == []

        # New arrivals: held by the still-active stop only.
        late_sku = submitted("WH-DS-1", [("SKU-7", 1)], supplier_id="SUP-1")
        late_campaign = submitted("WH-DS-2", [("SKU-8", 1)], supplier_id="SUP-2", campaign_id="C1")
        await deliver(app, late_sku, late_campaign)
        assert await held_by(http, late_sku) == []
        assert await held_by(http, late_campaign) == [s2]
        r = await http.post(
            "/warehouses/WH-DS-1/imports",
            json={"shipment_ids": [sid(both), sid(sku_only)]},
            headers=bearer("dev-scanner-WH-DS-1"),
        )
        assert r.json()["allocated"] == [sid(sku_only)]
        assert r.json()["refused"][0]["code"] == "held"
        assert s2 in r.json()["refused"][0]["message"]

        # The lift reached the broadcast consumer too; releasing again changes nothing.
        await wait_until(lambda: _lift_seen(app))
        assert await held_by(http, both) == [s2]
    released = {
        task.shipment_id: task
        for batch in await emitted(app, "shipments.released")
        for task in batch.typed().tasks
    }
    assert set(released) == {sid(both), sid(sku_only)}
    assert released[sid(both)].still_held is True
    assert released[sid(sku_only)].still_held is False
    queued = {e.typed().shipment_id: e.typed() for e in await emitted(app, "shipment.queued")}
    assert queued[sid(late_campaign)].held_by == [s2]


async def _lift_seen(app) -> bool:
    from sqlalchemy import select

    from warehouse_service.adapters import tables

    inbox = tables.messaging.inbox
    async with app.state.runtime.db.reader() as session:
        rows = (await session.execute(select(inbox.c.event_id))).all()
    lifted = await emitted(app, "stop.lifted")
    return bool(lifted) and lifted[0].event_id in {r.event_id for r in rows}
