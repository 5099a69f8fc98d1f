"""Grading dispositions, the liability they produce, and analytics checked against a
small hand-computed fixture (see the numbers in each assertion's comment)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

from tests.integration.aftersales_service import events as ev
from tests.integration.aftersales_service.conftest import AGENT, OPS, SUPERVISOR

EVIDENCE = {"photos": ["p.jpg"], "order_number": "P", "chat_record": "c"}
SHOES = {"category": "shoes", "supplier_id": "SUP-1"}
BAGS = {"category": "bags", "supplier_id": "SUP-2"}
# order → (warehouse, shipped after hours, lines)
ORDERS = {
    "A": ("WH-DS-1", 4, [ev.line("SKU-1", 2, "50.00", **SHOES)]),
    "B": (
        "WH-DS-2",
        10,
        [ev.line("SKU-1", 1, "50.00", **SHOES), ev.line("SKU-2", 1, "100.00", **BAGS)],
    ),
    "C": ("WH-DS-2", 20, [ev.line("SKU-2", 3, "100.00", **BAGS)]),
    "D": ("WH-DS-1", 6, [ev.line("SKU-3", 1, "20.00", **SHOES)]),
}


async def _seed_orders(h):
    for oid, (wh, hours, lines) in ORDERS.items():
        await h.feed(
            ev.synced(oid, lines),
            ev.submitted(oid, f"S-{oid}", wh, lines, ev.T0),
            ev.shipped(oid, f"S-{oid}", wh, ev.T0 + timedelta(hours=hours)),
            ev.stage(oid, "shipped", "packed"),
            ev.delivered(oid, ev.T0 + timedelta(days=1)),
            ev.stage(oid, "delivered", "shipped"),
        )


async def _open(h, oid, sku, reason, opened=False, evidence=None, headers=AGENT):
    body = {
        "order_id": oid,
        "lines": [{"sku": sku, "qty": 1}],
        "reason_code": reason,
        "opened": opened,
        "evidence": evidence or {},
        "method": "self_send",
    }
    r = await h.client.post("/returns", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


async def _receive_and_inspect(h, rid, grade):
    assert (await h.client.post(f"/returns/{rid}/receive", headers=AGENT)).status_code == 200
    r = await h.client.post(f"/returns/{rid}/inspect", json={"lines": [grade]}, headers=AGENT)
    assert r.status_code == 200, r.text
    return r.json()


async def test_grading_liability_and_analytics(harness):
    h = harness
    await _seed_orders(h)
    h.clock.set(ev.T0 + timedelta(days=3))  # 2 days after delivery
    r1 = await _open(h, "A", "SKU-1", "changed_mind")
    r2 = await _open(h, "B", "SKU-2", "defect", opened=True, evidence=EVIDENCE)
    r3 = await _open(h, "C", "SKU-2", "wrong_item")
    r5 = await _open(h, "D", "SKU-3", "changed_mind", opened=True)
    h.clock.set(ev.T0 + timedelta(days=7))  # 6 days after delivery
    r4 = await _open(h, "A", "SKU-1", "package_damaged")
    assert [r["status"] for r in (r1, r2, r3, r4, r5)] == [
        "approved",
        "pending_review",
        "approved",
        "approved",
        "pending_review",
    ]
    ok = await h.client.post(f"/returns/{r2['id']}/approve", json={}, headers=AGENT)
    assert ok.status_code == 200
    no = await h.client.post(
        f"/returns/{r5['id']}/approve", json={"approve": False, "note": "worn"}, headers=AGENT
    )
    assert no.json()["status"] == "rejected"

    h.clock.set(ev.T0 + timedelta(days=8))
    g1 = await _receive_and_inspect(h, r1["id"], {"sku": "SKU-1", "grade": "new"})
    g2 = await _receive_and_inspect(
        h, r2["id"], {"sku": "SKU-2", "grade": "severe_flaw", "repair_cost": "30.00"}
    )
    g3 = await _receive_and_inspect(h, r3["id"], {"sku": "SKU-2", "grade": "damaged"})
    g4 = await _receive_and_inspect(
        h, r4["id"], {"sku": "SKU-1", "grade": "minor_flaw", "flaw_note": "scuffed toe"}
    )
    assert [g["gradings"][0]["disposition"] for g in (g1, g2, g3, g4)] == [
        "restock",
        "repair",
        "scrap",
        "discounted_resale",
    ]
    # no-reason, restocked as new, buyer paid shipping: nobody carries a loss
    assert g1["liabilities"] == []
    # defect: supplier carries the repair (30) and seller-paid shipping (12)
    assert [(x["party"], x["amount"], x["supplier_id"]) for x in g2["liabilities"]] == [
        ("supplier", "30.00", "SUP-2"),
        ("supplier", "12.00", "SUP-2"),
    ]
    # wrong item from the warehouse, scrapped: warehouse carries 100 + 12
    assert [(x["party"], x["amount"], x["warehouse_id"]) for x in g3["liabilities"]] == [
        ("warehouse", "100.00", "WH-DS-2"),
        ("warehouse", "12.00", "WH-DS-2"),
    ]
    # transit damage, minor flaw sold at 30% off: carrier carries 15 + 12
    assert [(x["party"], x["amount"]) for x in g4["liabilities"]] == [
        ("carrier", "15.00"),
        ("carrier", "12.00"),
    ]
    assert g4["gradings"][0]["recovered"] == "35.00"
    issued = sorted(e.payload["amount"] for e in await h.emitted("refund.issued"))
    assert issued == ["100.00", "100.00", "50.00", "50.00"]

    goods = (await h.client.get("/returned-inventory", headers=OPS)).json()
    assert sorted((g["sku"], g["grade"], g["disposition"]) for g in goods) == [
        ("SKU-1", "minor_flaw", "discounted_resale"),
        ("SKU-1", "new", "restock"),
        ("SKU-2", "damaged", "scrap"),
        ("SKU-2", "severe_flaw", "repair"),
    ]
    assert next(g for g in goods if g["grade"] == "minor_flaw")["flaw_note"] == "scuffed toe"

    await h.client.post(
        "/complaints", json={"subject": "late parcel", "order_id": "A"}, headers=AGENT
    )
    await _check_analytics(h)
    await _check_override(h, g3["liabilities"][0]["liability_id"])


def _rates(body, key):
    return {r[key]: (r["sold_units"], r["returned_units"], r["return_rate"]) for r in body["rows"]}


async def _check_analytics(h):
    get = lambda path: h.client.get(path, headers=OPS)  # noqa: E731
    sku = (await get("/analytics/returns?by=sku")).json()
    # SKU-1: sold 2 (A) + 1 (B), returned 2 (R1, R4); SKU-3's return was rejected
    assert _rates(sku, "sku") == {
        "SKU-1": (3, 2, "0.6667"),
        "SKU-2": (4, 2, "0.5000"),
        "SKU-3": (1, 0, "0.0000"),
    }
    assert {r["sku"]: r["delist"] for r in sku["rows"]} == {
        "SKU-1": True,
        "SKU-2": True,
        "SKU-3": False,
    }
    cat = (await get("/analytics/returns?by=category")).json()
    assert _rates(cat, "category") == {"shoes": (4, 2, "0.5000"), "bags": (4, 2, "0.5000")}
    sup = (await get("/analytics/returns?by=supplier")).json()
    assert _rates(sup, "supplier") == {"SUP-1": (4, 2, "0.5000"), "SUP-2": (4, 2, "0.5000")}
    wh = (await get("/analytics/returns?by=warehouse")).json()
    assert _rates(wh, "warehouse") == {"WH-DS-1": (3, 2, "0.6667"), "WH-DS-2": (5, 2, "0.4000")}
    reasons = (await get("/analytics/returns?by=reason")).json()["rows"]
    assert {r["reason"]: (r["returns"], r["share"]) for r in reasons} == {
        k: (1, "0.2500") for k in ("changed_mind", "defect", "wrong_item", "package_damaged")
    }
    times = (await get("/analytics/return-times")).json()["buckets"]
    assert {b["bucket"]: b["returns"] for b in times} == {
        "0-1d": 0,
        "1-3d": 3,
        "3-7d": 1,
        "7-15d": 0,
        "15d+": 0,
    }
    comp = (await get("/analytics/complaints")).json()
    assert comp == {"orders": 4, "complaints": 1, "complaints_per_10k_orders": "2500.00"}
    whs = {w["warehouse_id"]: w for w in (await get("/analytics/warehouses")).json()["warehouses"]}
    assert whs["WH-DS-1"]["avg_submit_to_ship_hours"] == 5.0  # (4 h + 6 h) / 2
    assert whs["WH-DS-2"]["avg_submit_to_ship_hours"] == 15.0  # (10 h + 20 h) / 2
    assert (whs["WH-DS-2"]["value_shipped"], whs["WH-DS-2"]["warehouse_loss"]) == (
        "450.00",
        "112.00",
    )
    assert whs["WH-DS-2"]["loss_rate"] == "0.2489" and whs["WH-DS-1"]["loss_rate"] == "0.0000"
    assert (whs["WH-DS-1"]["returns"], whs["WH-DS-2"]["returns"]) == (2, 2)
    assert whs["WH-DS-1"]["kind"] == "dropship" and whs["WH-DS-1"]["supplier_id"] == "SUP-1"
    flagged = (await get("/analytics/delisting")).json()["flagged"]
    assert [f["sku"] for f in flagged] == ["SKU-1", "SKU-2"]
    # review data: SKU-3 has 10% bad reviews → flagged too
    r = await h.client.put(
        "/analytics/reviews/SKU-3", json={"reviews": 20, "bad_reviews": 2}, headers=OPS
    )
    assert r.status_code == 200
    flagged = (await get("/analytics/delisting")).json()["flagged"]
    assert {"sku": "SKU-3", "reasons": ["bad_review_rate"]} in flagged
    for name, tag in (
        ("reasons", "path"),
        ("sku-return-rate", "rect"),
        ("returns-timeline", "circle"),
    ):
        r = await get(f"/analytics/charts/{name}.svg")
        assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
        root = ET.fromstring(r.text)
        assert root.findall(f"{{http://www.w3.org/2000/svg}}{tag}")
    assert (await h.client.get("/analytics/warehouses", headers=AGENT)).status_code == 403


async def _check_override(h, liability_id):
    body = {"party": "carrier", "reason": "parcel crushed in transit (carrier sign-off)"}
    r = await h.client.post(f"/liabilities/{liability_id}/override", json=body, headers=AGENT)
    assert r.status_code == 403
    r = await h.client.post(f"/liabilities/{liability_id}/override", json=body, headers=SUPERVISOR)
    assert r.status_code == 200, r.text
    row = r.json()
    assert (row["party"], row["original_party"], row["amount"]) == (
        "carrier",
        "warehouse",
        "100.00",
    )
    whs = (await h.client.get("/analytics/warehouses", headers=OPS)).json()["warehouses"]
    assert next(w for w in whs if w["warehouse_id"] == "WH-DS-2")["warehouse_loss"] == "12.00"
