"""Through the real broker: submit, warehouse events advance the stage, CS across services."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared import topics
from shared.events import aftersales as a
from shared.events import warehouse as w
from tests.integration.order_service.helpers import (
    CLERK,
    CS,
    Publisher,
    generic_order,
    post_generic,
    read_topic,
)
from tests.support import wait_until

pytestmark = pytest.mark.broker


async def _reviewed(client, **over) -> str:
    r = await post_generic(client, "/webhooks/generic/orders", generic_order(**over))
    order_id = r.json()["order_id"]
    r = await client.post(f"/orders/{order_id}/review", json={"approve": True}, headers=CLERK)
    assert r.status_code == 200 and r.json()["stage"] == "reviewed", r.text
    return order_id


async def _stage(client, order_id):
    return (await client.get(f"/orders/{order_id}", headers=CLERK)).json()


async def test_split_submit_and_warehouse_events_advance_stage(app, client, order_settings):
    lines = [
        {"sku": "SKU-1", "qty": 1, "unit_price": "10.00"},
        {"sku": "SKU-7", "qty": 1, "unit_price": "20.00"},
    ]
    order_id = await _reviewed(client, lines=lines, total="30.00")
    r = await client.post(f"/orders/{order_id}/submit", headers=CLERK)
    assert r.status_code == 200, r.text
    ships = {s["shipment_id"]: s["warehouse_id"] for s in r.json()["shipments"]}
    assert ships == {f"{order_id}-S1": "WH-OWN-1", f"{order_id}-S2": "WH-DS-1"}

    async def submitted_on_topic():
        events = await read_topic(order_settings)
        return [e for e in events if e.type == "order.submitted"]

    submitted = await wait_until(lambda: _n(submitted_on_topic, 2), message="order.submitted x2")
    assert {e.payload["warehouse_id"] for e in submitted} == {"WH-OWN-1", "WH-DS-1"}
    assert all(e.order_id == order_id for e in submitted)

    s1, s2 = f"{order_id}-S1", f"{order_id}-S2"
    async with Publisher(order_settings) as pub:
        for sid, wh in ((s1, "WH-OWN-1"), (s2, "WH-DS-1")):
            await pub.send(
                topics.WAREHOUSE, w.ShipmentAllocated(shipment_id=sid, warehouse_id=wh), order_id
            )
        await pub.send(
            topics.WAREHOUSE,
            w.ShipmentLabelled(
                shipment_id=s1, warehouse_id="WH-OWN-1", carrier="SF", tracking_number="SF1"
            ),
            order_id,
        )
        await wait_until(lambda: _is(client, order_id, "allocated"), message="allocated")
        # S1 runs ahead; the order follows the least advanced shipment.
        for payload in (
            w.ShipmentPacked(shipment_id=s1, warehouse_id="WH-OWN-1", weight_grams=300),
            w.ShipmentShipped(
                shipment_id=s1,
                warehouse_id="WH-OWN-1",
                carrier="SF",
                tracking_number="SF1",
                shipped_at=datetime.now(UTC),
            ),
            w.ShipmentLabelled(
                shipment_id=s2, warehouse_id="WH-DS-1", carrier="YTO", tracking_number="YT2"
            ),
            w.ShipmentPacked(shipment_id=s2, warehouse_id="WH-DS-1", weight_grams=900),
            w.ShipmentShipped(
                shipment_id=s2,
                warehouse_id="WH-DS-1",
                carrier="YTO",
                tracking_number="YT2",
                shipped_at=datetime.now(UTC),
            ),
        ):
            await pub.send(topics.WAREHOUSE, payload, order_id)
        await wait_until(lambda: _is(client, order_id, "shipped"), message="shipped")
        calls = app.state.deps.platform.calls
        await wait_until(lambda: len(calls) == 2, message="tracking synced twice")
        assert {c["tracking_number"] for c in calls} == {"SF1", "YT2"}
        assert all(c["platform_order_id"] for c in calls)

        await pub.send(
            topics.AFTERSALES,
            a.ReturnOpened(return_id="R1", kind="return", reason_code="changed_mind"),
            order_id,
            producer="aftersales_service",
        )
        await wait_until(lambda: _is(client, order_id, "returning"), message="returning")

    events = await read_topic(order_settings)
    changes = [
        e.payload["stage"]
        for e in events
        if e.type == "order.stage_changed" and e.order_id == order_id
    ]
    assert changes == [
        "synced",
        "reviewed",
        "submitted",
        "allocated",
        "labelled",
        "packed",
        "shipped",
        "returning",
    ]


async def test_withdraw_pending_then_confirmed_and_impossible_event_is_anomaly(
    client, order_settings
):
    order_id = await _reviewed(client)
    await client.post(
        f"/orders/{order_id}/submit", json={"warehouse_id": "WH-OWN-1"}, headers=CLERK
    )
    caps = (await client.get(f"/orders/{order_id}/capabilities", headers=CS)).json()
    assert caps["cancel"]["mode"] == "withdraw" and caps["cancel"]["guaranteed"] is False
    r = await client.post(f"/orders/{order_id}/cancel", json={"reason": "buyer asked"}, headers=CS)
    assert r.status_code == 202 and r.json()["mode"] == "withdraw"
    assert r.json()["order"]["pending_cancel"]["mode"] == "withdraw"
    sid = f"{order_id}-S1"
    async with Publisher(order_settings) as pub:
        await pub.send(
            topics.WAREHOUSE,
            w.ShipmentWithdrawn(shipment_id=sid, warehouse_id="WH-OWN-1", request_id="x"),
            order_id,
        )
        await wait_until(lambda: _is(client, order_id, "cancelled"), message="cancelled")
        await pub.send(
            topics.WAREHOUSE,
            w.ShipmentPacked(shipment_id=sid, warehouse_id="WH-OWN-1", weight_grams=1),
            order_id,
        )
        order = await wait_until(lambda: _anomalous(client, order_id), message="anomaly")
    assert order["stage"] == "cancelled"
    assert order["last_cancel"]["outcome"] == "cancelled"
    events = await read_topic(order_settings)
    cancelled = [e for e in events if e.type == "order.cancelled"]
    assert cancelled and cancelled[0].payload["refund_due"] == "59.00"


async def test_intercept_missed_keeps_shipping_with_refuse_delivery(client, order_settings):
    order_id = await _reviewed(client)
    await client.post(f"/orders/{order_id}/submit", headers=CLERK)
    sid = f"{order_id}-S1"
    async with Publisher(order_settings) as pub:
        await pub.send(
            topics.WAREHOUSE,
            w.ShipmentAllocated(shipment_id=sid, warehouse_id="WH-OWN-1"),
            order_id,
        )
        await wait_until(lambda: _is(client, order_id, "allocated"), message="allocated")
        edit = await client.patch(
            f"/orders/{order_id}", json={"note": "x"}, headers={**CS, "If-Match": "1"}
        )
        assert edit.status_code == 412
        current = (await client.get(f"/orders/{order_id}", headers=CS)).json()["version"]
        edit = await client.patch(
            f"/orders/{order_id}", json={"note": "x"}, headers={**CS, "If-Match": str(current)}
        )
        assert edit.status_code == 409
        assert edit.json()["error"]["code"] == "in_warehouse_processing"
        r = await client.post(f"/orders/{order_id}/cancel", json={"reason": "late"}, headers=CS)
        assert r.json()["mode"] == "intercept" and r.json()["stage"] == "intercepting"
        await pub.send(
            topics.WAREHOUSE,
            w.InterceptionMissed(shipment_id=sid, warehouse_id="WH-OWN-1"),
            order_id,
        )
        order = await wait_until(lambda: _is(client, order_id, "allocated"), message="resumed")
    assert order["instructions"][0]["kind"] == "refuse_delivery"
    assert order["last_cancel"]["outcome"] == "missed"


async def _n(fn, n):
    got = await fn()
    return got if len(got) >= n else None


async def _is(client, order_id, stage):
    order = await _stage(client, order_id)
    return order if order["stage"] == stage else None


async def _anomalous(client, order_id):
    order = await _stage(client, order_id)
    return order if order["anomalies"] else None
