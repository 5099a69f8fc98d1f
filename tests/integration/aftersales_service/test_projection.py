"""The projection takes events in any arrival order, records impossible ones, and
ignores redeliveries."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.aftersales_service import events as ev
from tests.integration.aftersales_service.conftest import AGENT, OPS


async def test_warehouse_events_before_the_order_is_synced(harness):
    h = harness
    lines = [ev.line("SKU-7", 1, "120.00", supplier_id="SUP-1", category="gadgets")]
    # the warehouse topic overtakes the orders topic
    await h.feed(ev.shipped("O-1", "S-1", "WH-DS-1", ev.T0 + timedelta(hours=3)))
    await h.feed(
        ev.synced("O-1", lines),
        ev.submitted("O-1", "S-1", "WH-DS-1", lines, ev.T0),
        ev.stage("O-1", "submitted", "reviewed"),
    )
    # the parcel has left: the order service answers refuse_delivery; nothing is cancelled
    r = await h.client.post("/refunds", json={"order_id": "O-1"}, headers=AGENT)
    assert (r.status_code, r.json()["status"], r.json()["mode"]) == (202, "requested", None)
    await h.feed(ev.decided("O-1", r.json()["id"], "refuse_delivery"))
    got = (await h.client.get(f"/refunds/{r.json()['id']}", headers=AGENT)).json()
    assert (got["status"], got["refused_code"], got["mode"]) == (
        "refused",
        "refund_requires_refusal_or_return",
        "refuse_delivery",
    )
    assert [e.payload["path"] for e in await h.emitted("refund.refused")] == ["refuse_delivery"]
    await h.feed(ev.delivered("O-1", ev.T0 + timedelta(days=1)))
    h.clock.set(ev.T0 + timedelta(days=2))
    body = {"order_id": "O-1", "lines": [{"sku": "SKU-7"}], "reason_code": "changed_mind"}
    r = await h.client.post("/returns", json=body, headers=AGENT)
    assert r.status_code == 201, r.text
    assert r.json()["lines"][0]["warehouse_id"] == "WH-DS-1"
    whs = (await h.client.get("/analytics/warehouses", headers=OPS)).json()["warehouses"]
    ds1 = next(w for w in whs if w["warehouse_id"] == "WH-DS-1")
    assert ds1["avg_submit_to_ship_hours"] == 3.0


async def test_impossible_events_are_recorded_not_fatal(harness):
    h = harness
    # a platform refund for an order never seen: refused and announced, not crashed
    await h.feed(ev.refund_requested("O-GHOST", "PR-9", "10.00"))
    refused = await h.emitted("refund.refused")
    assert [e.payload["code"] for e in refused] == ["order_unknown"]
    # a cancellation of an order never synced: anomaly, no refund
    await h.feed(ev.cancelled("O-GHOST", "10.00"))
    assert await h.emitted("refund.issued") == []
    anomalies = (await h.client.get("/anomalies?order_id=O-GHOST", headers=AGENT)).json()
    assert [(a["event_type"], a["kind"]) for a in anomalies] == [
        ("order.cancelled", "unknown_order"),
        ("order.refund_requested", "unknown_order"),
    ]
    # redelivery of the same event id is a no-op
    synced = ev.synced("O-2", [ev.line("SKU-1")])
    refund = ev.refund_requested("O-2", "PR-1", "59.00")
    await h.feed(synced, refund, refund, synced)
    assert len(await h.emitted("aftersales.refund_requested")) == 1


async def test_returns_refused_after_completion_and_unknown_reason(harness):
    h = harness
    lines = [ev.line("SKU-1")]
    await h.feed(
        ev.synced("O-3", lines),
        ev.delivered("O-3", ev.T0),
        ev.stage("O-3", "completed", "delivered"),
    )
    body = {"order_id": "O-3", "lines": [{"sku": "SKU-1"}], "reason_code": "defect"}
    r = await h.client.post("/returns", json=body, headers=AGENT)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "return_not_available")
    body["reason_code"] = "bored"
    r = await h.client.post("/returns", json=body, headers=AGENT)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "unknown_reason")
    r = await h.client.post("/returns", json={"order_id": "O-3"}, headers=AGENT)
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"
    r = await h.client.post("/returns", json=body)
    assert r.status_code == 401


async def test_missing_item_refunds_at_once_without_goods_back(harness):
    h = harness
    lines = [ev.line("SKU-1", 1, "59.00"), ev.line("SKU-2", 1, "20.00")]
    await h.feed(
        ev.synced("O-4", lines),
        ev.submitted("O-4", "S-4", "WH-OWN-1", lines),
        ev.delivered("O-4", ev.T0),
        ev.stage("O-4", "delivered", "shipped"),
    )
    body = {
        "order_id": "O-4",
        "lines": [{"sku": "SKU-2"}],
        "reason_code": "missing_item",
        "opened": True,
    }
    r = await h.client.post("/returns", json=body, headers=AGENT)
    assert r.status_code == 201 and r.json()["status"] == "closed"
    assert [e.payload["amount"] for e in await h.emitted("refund.issued")] == ["20.00"]
    assert await h.emitted("return.opened") == []
    owed = (await h.client.get("/liabilities?order_id=O-4", headers=AGENT)).json()
    assert [(x["party"], x["amount"], x["warehouse_id"]) for x in owed] == [
        ("warehouse", "20.00", "WH-OWN-1")
    ]


async def test_delivery_before_the_cancel_took_effect_frees_the_goods(harness):
    h = harness
    lines = [ev.line("SKU-1", 1, "59.00")]
    await h.feed(ev.synced("O-5", lines), ev.stage("O-5", "packed", "labelled"))
    r = await h.client.post("/refunds", json={"order_id": "O-5"}, headers=AGENT)
    await h.feed(ev.decided("O-5", r.json()["id"], "intercept"))
    got = (await h.client.get(f"/refunds/{r.json()['id']}", headers=AGENT)).json()
    assert (got["status"], got["mode"]) == ("awaiting_cancel", "intercept")
    # no interception outcome ever arrives; the parcel is delivered
    await h.feed(ev.delivered("O-5", ev.T0), ev.stage("O-5", "delivered", "shipped"))
    got = (await h.client.get(f"/refunds/{r.json()['id']}", headers=AGENT)).json()
    assert (got["status"], got["refused_code"]) == ("refused", "cancel_too_late")
    assert [e.payload["path"] for e in await h.emitted("refund.refused")] == ["return"]
    body = {"order_id": "O-5", "lines": [{"sku": "SKU-1"}], "reason_code": "changed_mind"}
    assert (await h.client.post("/returns", json=body, headers=AGENT)).status_code == 201
