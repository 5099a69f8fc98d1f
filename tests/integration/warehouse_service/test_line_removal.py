"""Line-removal requests through the warehouse's consumer and `POST .../line-removal`."""

from __future__ import annotations

import pytest

from shared.clock import ManualClock
from shared.envelope import new_event
from shared.events.orders import LineQty, LineRemovalRequested
from tests.integration.warehouse_service.support import deliver, emitted, submitted
from tests.support import bearer, running
from warehouse_service.app import create_app

pytestmark = pytest.mark.broker

OWN = bearer("dev-scanner-WH-OWN-1")
DS1 = bearer("dev-scanner-WH-DS-1")
OPS = bearer("dev-ops")
CLERK = bearer("dev-clerk")


def removal(env, request_id: str, lines, guaranteed=False):
    payload = LineRemovalRequested(
        shipment_id=env.payload["shipment_id"],
        request_id=request_id,
        lines=[LineQty(sku=s, qty=q) for s, q in lines],
        reason="customer",
        guaranteed=guaranteed,
    )
    return new_event(payload, producer="order_service", order_id=env.order_id)


async def reserved(http, sku: str) -> int:
    r = await http.get(f"/inventory?sku={sku}&warehouse_id=WH-OWN-1", headers=OPS)
    return sum(row["reserved"] for row in r.json())


async def test_queued_removed_at_once_imported_answered_by_the_scanner(make_settings):
    app = create_app(make_settings("warehouse"), clock=ManualClock())
    env = submitted("WH-OWN-1", [("SKU-4", 2), ("SKU-1", 1)])
    sid = env.payload["shipment_id"]
    async with running(app) as http:
        await deliver(app, env, removal(env, "R1", [("SKU-4", 1)]))
        task = (await http.get(f"/shipments/{sid}", headers=OPS)).json()
        assert task["status"] == "queued"
        assert task["lines"][0]["qty"] == 1 and task["line_removals"][0]["state"] == "removed"
        [done] = await emitted(app, "shipment.lines_removed")
        assert done.payload["lines"] == [{"sku": "SKU-4", "qty": 1}]
        assert await reserved(http, "SKU-4") == 1  # the removed unit left the reservation
        assert await reserved(http, "SKU-1") == 1

        r = await http.post("/warehouses/WH-OWN-1/imports", json={"all_queued": True}, headers=OWN)
        assert r.json()["allocated"] == [sid]
        await deliver(app, removal(env, "R2", [("SKU-1", 1)]))
        assert len(await emitted(app, "shipment.line_removal_pending")) == 1

        body = {"outcome": "removed"}
        r = await http.post(f"/shipments/{sid}/line-removal", json=body, headers=DS1)
        assert r.status_code == 403 and r.json()["error"]["code"] == "wrong_warehouse"
        r = await http.post(f"/shipments/{sid}/line-removal", json=body, headers=CLERK)
        assert r.status_code == 403
        bad = {"outcome": "removed", "lines": [{"sku": "SKU-1", "qty": 2}]}
        r = await http.post(f"/shipments/{sid}/line-removal", json=bad, headers=OWN)
        assert r.status_code == 409 and r.json()["error"]["code"] == "line_removal_mismatch"
        r = await http.post(f"/shipments/{sid}/line-removal", json={"outcome": "x"}, headers=OWN)
        assert r.status_code == 422
        assert r.json()["error"]["details"]["errors"][0]["field"] == "outcome"
        ok = {"outcome": "removed", "lines": [{"sku": "SKU-1", "qty": 1}]}
        r = await http.post(f"/shipments/{sid}/line-removal", json=ok, headers=OWN)
        assert r.status_code == 200, r.text
        assert await reserved(http, "SKU-1") == 0
        assert r.json()["lines"] == [{**task["lines"][0], "qty": 1}]
        r = await http.post(f"/shipments/{sid}/line-removal", json=ok, headers=OPS)
        assert r.status_code == 409 and r.json()["error"]["code"] == "no_line_removal_pending"

        # The pack check counts the remaining lines only.
        await http.post(f"/shipments/{sid}/label", json={"carrier": "SF"}, headers=OWN)
        pack = {"scanned": ["SKU-4", "SKU-1"], "weight_grams": 300}
        r = await http.post(f"/shipments/{sid}/pack", json=pack, headers=OWN)
        assert r.status_code == 409 and r.json()["error"]["details"]["extra"] == {"SKU-1": 1}
        pack["scanned"] = ["SKU-4"]
        assert (
            await http.post(f"/shipments/{sid}/pack", json=pack, headers=OWN)
        ).status_code == 200


async def test_missed_and_every_line_removed_withdraws(make_settings):
    app = create_app(make_settings("warehouse"), clock=ManualClock())
    a, b = submitted("WH-OWN-1", [("SKU-1", 1)]), submitted("WH-OWN-1", [("SKU-1", 1)])
    async with running(app) as http:
        await deliver(app, a, b)
        ids = [a.payload["shipment_id"], b.payload["shipment_id"]]
        await http.post("/warehouses/WH-OWN-1/imports", json={"shipment_ids": ids}, headers=OWN)
        await deliver(app, removal(a, "RA", [("SKU-1", 1)]), removal(b, "RB", [("SKU-1", 1)]))
        r = await http.post(
            f"/shipments/{ids[0]}/line-removal", json={"outcome": "missed"}, headers=OWN
        )
        assert r.json()["status"] == "allocated" and r.json()["lines"][0]["qty"] == 1
        [missed] = await emitted(app, "shipment.line_removal_missed")
        assert missed.payload["request_id"] == "RA"
        r = await http.post(
            f"/shipments/{ids[1]}/line-removal", json={"outcome": "removed"}, headers=OPS
        )
        assert r.json()["status"] == "withdrawn" and r.json()["lines"] == []
        [removed] = await emitted(app, "shipment.lines_removed")
        assert removed.payload["task_withdrawn"] is True


async def test_unknown_shipment_is_an_anomaly(make_settings):
    app = create_app(make_settings("warehouse"), clock=ManualClock())
    env = submitted("WH-OWN-1")
    async with running(app) as http:
        await deliver(app, removal(env, "R1", [("SKU-1", 1)]))
        r = await http.get("/anomalies", headers=OPS)
        assert [a["event_type"] for a in r.json()] == ["order.line_removal_requested"]
