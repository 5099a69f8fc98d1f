"""Inspection tells the warehouse what comes back to stock (`goods.graded`, SPEC §3.2)."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.aftersales_service import events as ev
from tests.integration.aftersales_service.conftest import AGENT


async def test_inspection_announces_the_graded_units_with_their_warehouse(harness):
    h = harness
    lines = [ev.line("SKU-1", 2, "50.00"), ev.line("SKU-2", 1, "80.00")]
    await h.feed(
        ev.synced("G1", lines),
        ev.submitted("G1", "S-G1", "WH-OWN-1", lines, ev.T0),
        ev.shipped("G1", "S-G1", "WH-OWN-1", ev.T0 + timedelta(hours=4)),
        ev.stage("G1", "shipped", "packed"),
        ev.delivered("G1", ev.T0 + timedelta(days=1)),
        ev.stage("G1", "delivered", "shipped"),
    )
    h.clock.set(ev.T0 + timedelta(days=3))
    body = {
        "order_id": "G1",
        "lines": [{"sku": "SKU-1", "qty": 2}, {"sku": "SKU-2", "qty": 1}],
        "reason_code": "changed_mind",
        "method": "self_send",
    }
    r = await h.client.post("/returns", json=body, headers=AGENT)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert (await h.client.post(f"/returns/{rid}/receive", headers=AGENT)).status_code == 200
    grades = [
        {"sku": "SKU-1", "grade": "new"},
        {"sku": "SKU-2", "grade": "minor_flaw", "flaw_note": "scuffed box"},
    ]
    r = await h.client.post(f"/returns/{rid}/inspect", json={"lines": grades}, headers=AGENT)
    assert r.status_code == 200, r.text
    [graded] = await h.emitted("goods.graded")
    assert graded.order_id == "G1" and graded.payload["return_id"] == rid
    units = {(u["sku"], u["qty"], u["grade"], u["warehouse_id"]) for u in graded.payload["units"]}
    assert units == {("SKU-1", 2, "new", "WH-OWN-1"), ("SKU-2", 1, "minor_flaw", "WH-OWN-1")}
