"""`POST /stop-shipments/preview`: what a scope would hold and what has left, recording nothing."""

from __future__ import annotations

import pytest

from tests.integration.warehouse_service.support import deliver, emitted, submitted
from tests.support import bearer, running
from warehouse_service.app import create_app

pytestmark = pytest.mark.broker

OPS = bearer("dev-ops")


async def _ship(http, sid: str, wh: str) -> None:
    key = bearer(f"dev-scanner-{wh}")
    shipment = (await http.get(f"/shipments/{sid}", headers=OPS)).json()
    scanned = [ln["sku"] for ln in shipment["lines"] for _ in range(ln["qty"])]
    for path, body in (
        (f"/warehouses/{wh}/imports", {"shipment_id": sid}),
        (f"/shipments/{sid}/label", {"carrier": "SF"}),
        (f"/shipments/{sid}/pack", {"scanned": scanned, "weight_grams": 500}),
        (f"/shipments/{sid}/ship", None),
    ):
        r = await http.post(path, json=body, headers=key)
        assert r.status_code == 200, r.text


async def test_preview_counts_matching_tasks_and_shipped_orders_and_records_nothing(
    make_settings,
):
    app = create_app(make_settings("warehouse"))
    queued = submitted("WH-DS-1", [("SKU-7", 1)], supplier_id="SUP-1")
    shipped = submitted("WH-DS-1", [("SKU-7", 1)], supplier_id="SUP-1")
    ds2 = submitted("WH-DS-2", [("SKU-8", 1)], supplier_id="SUP-2")
    own = submitted("WH-OWN-1", [("SKU-1", 1)])
    async with running(app) as http:
        await deliver(app, queued, shipped, ds2, own)
        await _ship(http, shipped.payload["shipment_id"], "WH-DS-1")
        before = len(await emitted(app))

        r = await http.post(
            "/stop-shipments/preview", json={"scope": {"all_dropship": True}}, headers=OPS
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["tasks"] == 2
        assert sorted(body["orders"]) == sorted([queued.order_id, ds2.order_id])
        assert body["already_shipped"] == [shipped.order_id]
        per = {w["warehouse_id"]: w for w in body["warehouses"]}
        assert per["WH-DS-1"]["tasks"] == 1
        assert per["WH-DS-1"]["already_shipped"] == [shipped.order_id]
        assert per["WH-DS-2"]["tasks"] == 1
        assert "WH-OWN-1" not in per

        assert (await http.get("/stop-shipments", headers=OPS)).json() == []
        assert len(await emitted(app)) == before
        assert (await http.get(f"/shipments/{queued.payload['shipment_id']}", headers=OPS)).json()[
            "held"
        ] is False

        empty = await http.post("/stop-shipments/preview", json={"scope": {}}, headers=OPS)
        assert empty.status_code == 422
        clerk = await http.post(
            "/stop-shipments/preview",
            json={"scope": {"skus": ["SKU-7"]}},
            headers=bearer("dev-clerk"),
        )
        assert clerk.status_code == 403
