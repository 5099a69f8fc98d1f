"""Exchanges and reships through the order service, the warehouse and the broker (SPEC §4.1):
`aftersales.replacement_requested` for a shipped or delivered order becomes `<order>-R1`,
announced as `order.submitted`, a warehouse task that reserves its lines and is held by an
active stop like any other, and `order.replacement_created`; the order's stage stays."""

from __future__ import annotations

import pytest

from order_service.app import create_app as order_app
from shared import topics
from shared.clock import ManualClock
from shared.events.aftersales import ReplacementRequested
from shared.events.orders import LineQty
from tests.integration.order_service.helpers import (
    CLERK,
    CS,
    OPS,
    START,
    Publisher,
    generic_order,
    post_generic,
    read_topic,
)
from tests.support import bearer, running, wait_until
from warehouse_service.app import create_app as warehouse_app

pytestmark = pytest.mark.broker

OWN = bearer("dev-scanner-WH-OWN-1")


@pytest.fixture
async def services(make_settings):
    settings = make_settings("order")
    orders = order_app(settings, clock=ManualClock(START))
    warehouse = warehouse_app(make_settings("warehouse"), clock=ManualClock(START))
    async with running(orders) as o, running(warehouse) as w:
        yield o, w, settings


async def doc(o, order_id):
    return (await o.get(f"/orders/{order_id}", headers=CS)).json()


async def task(w, sid):
    r = await w.get(f"/shipments/{sid}", headers=OPS)
    return r.json() if r.status_code == 200 else None


async def scan_through(w, sid, *, ship: bool = True) -> None:
    """Import, label, pack and (unless told not to) ship one task at WH-OWN-1."""
    r = await w.post("/warehouses/WH-OWN-1/imports", json={"shipment_ids": [sid]}, headers=OWN)
    assert r.status_code == 200 and r.json()["allocated"] == [sid], r.text
    r = await w.post(f"/shipments/{sid}/label", json={"carrier": "SF"}, headers=OWN)
    assert r.status_code == 200, r.text
    pack = {"scanned": ["SKU-1"], "weight_grams": 300}
    r = await w.post(f"/shipments/{sid}/pack", json=pack, headers=OWN)
    assert r.status_code == 200, r.text
    if ship:
        r = await w.post(f"/shipments/{sid}/ship", headers=OWN)
        assert r.status_code == 200, r.text


async def shipped_order(o, w) -> str:
    r = await post_generic(o, "/webhooks/generic/orders", generic_order())
    order_id = r.json()["order_id"]
    await o.post(f"/orders/{order_id}/review", json={"approve": True}, headers=CLERK)
    r = await o.post(f"/orders/{order_id}/submit", headers=CLERK)
    assert r.status_code == 200, r.text
    await wait_until(lambda: task(w, f"{order_id}-S1"), message="S1 task")
    await scan_through(w, f"{order_id}-S1")

    async def shipped():
        return (await doc(o, order_id))["stage"] == "shipped"

    await wait_until(shipped, message="the order shipped")
    return order_id


async def ask_replacement(
    settings, order_id: str, rid: str, kind: str = "reship", sku: str = "SKU-1"
) -> None:
    payload = ReplacementRequested(
        replacement_id=rid, kind=kind, lines=[LineQty(sku=sku, qty=1)], reason="missing item"
    )
    async with Publisher(settings) as pub:
        await pub.send(topics.AFTERSALES, payload, order_id, producer="aftersales_service")


async def replacement_shipment(o, order_id: str, sid: str, check=lambda s: True):
    async def found():
        order = await doc(o, order_id)
        ship = next((s for s in order["shipments"] if s["shipment_id"] == sid), None)
        return order if ship is not None and check(ship) else None

    return await wait_until(found, message=f"{sid} on the order")


def line_cap(caps, sid):
    return next(line for line in caps["lines"] if line["shipment_id"] == sid)


async def test_a_reship_of_a_shipped_order_ships_R1_through_the_warehouse(services):
    o, w, settings = services
    order_id = await shipped_order(o, w)
    r1 = f"{order_id}-R1"
    await ask_replacement(settings, order_id, "RP-1")
    await ask_replacement(settings, order_id, "RP-1")  # the same replacement again
    order = await replacement_shipment(o, order_id, r1)
    assert order["stage"] == "shipped" and order["held"] is False
    [ship] = [s for s in order["shipments"] if s["replacement_id"] == "RP-1"]
    assert (ship["shipment_id"], ship["warehouse_id"]) == (r1, "WH-OWN-1")
    assert order["line_changes"][-1]["kind"] == "reship"

    # The warehouse: a task like any other, reserved, showing its replacement.
    found = await wait_until(lambda: task(w, r1), message="R1 task")
    assert (found["status"], found["replacement_id"], found["held"]) == ("queued", "RP-1", False)
    moves = (await w.get("/inventory/movements?sku=SKU-1", headers=OPS)).json()
    assert [m["kind"] for m in moves if m["shipment_id"] == r1] == ["reservation"]

    # The events: R1 announced once with its replacement id, and the answer.
    events = [e for e in await read_topic(settings) if e.order_id == order_id]
    submitted = [e.payload for e in events if e.type == "order.submitted"]
    assert [(p["shipment_id"], p["replacement_id"]) for p in submitted] == [
        (f"{order_id}-S1", None),
        (r1, "RP-1"),
    ]
    [created] = [e.payload for e in events if e.type == "order.replacement_created"]
    assert created["shipments"][0]["shipment_id"] == r1 and created["value"] == "59.00"
    assert "order.replacement_refused" not in [e.type for e in events]

    # Capabilities answer R1's line by its own stage; the order's own line is shipped.
    caps = (await o.get(f"/orders/{order_id}/capabilities", headers=CS)).json()
    assert caps["stage"] == "shipped" and caps["cancel"]["mode"] == "refuse_delivery"
    assert line_cap(caps, r1)["cancel"]["mode"] == "withdraw"
    assert line_cap(caps, f"{order_id}-S1")["cancel"]["allowed"] is False

    # The scanner flow as for any task; the order keeps its stage and shows R1's progress.
    await scan_through(w, r1)
    order = await replacement_shipment(o, order_id, r1, lambda s: s["status"] == "shipped")
    [ship] = [s for s in order["shipments"] if s["shipment_id"] == r1]
    assert ship["tracking_number"] and order["stage"] == "shipped"
    assert ("SKU-1", r1, "shipped") in {
        (s["sku"], s["shipment_id"], s["state"]) for s in order["line_states"]
    }

    # A second replacement is R2; its line is cancelled by line as capabilities said
    # (withdrawn from the queued task): nothing is refunded, the order's lines stay.
    r2 = f"{order_id}-R2"
    await ask_replacement(settings, order_id, "RP-2")
    await wait_until(lambda: task(w, r2), message="R2 task")
    cap = line_cap((await o.get(f"/orders/{order_id}/capabilities", headers=CS)).json(), r2)
    assert cap["cancel"]["mode"] == "withdraw"
    body = {"reason": "found it", "lines": [{"sku": "SKU-1", "qty": 1, "shipment_id": r2}]}
    r = await o.post(f"/orders/{order_id}/cancel", json=body, headers=CS)
    assert r.status_code == 202 and r.json()["lines"][0]["mode"] == "withdraw", r.text
    order = await replacement_shipment(o, order_id, r2, lambda s: s["status"] == "withdrawn")
    assert order["lines"][0]["qty"] == 1 and order["stage"] == "shipped"
    assert (await task(w, r2))["status"] == "withdrawn"
    events = [e for e in await read_topic(settings) if e.order_id == order_id]
    assert "order.cancelled" not in [e.type for e in events]

    # An exchange for a SKU the order did not have is worth its catalog price.
    await ask_replacement(settings, order_id, "RP-3", kind="exchange", sku="SKU-2")
    await replacement_shipment(o, order_id, f"{order_id}-R3")

    async def answered():
        found = [e for e in await read_topic(settings) if e.type == "order.replacement_created"]
        return next((e.payload for e in found if e.payload["replacement_id"] == "RP-3"), None)

    assert (await wait_until(answered, message="RP-3 answered"))["value"] == "69.00"

    timeline = (await o.get(f"/orders/{order_id}/timeline", headers=CS)).json()
    kinds = [e["kind"] for e in timeline["entries"]]
    assert "replacement_created" in kinds and "replacement_duplicate" in kinds


async def test_an_exchange_of_a_delivered_order_is_held_by_an_active_stop(services):
    o, w, settings = services
    order_id = await shipped_order(o, w)
    delivery = {
        "event_id": "evt-d1",
        "platform": "taobao",
        "platform_order_id": (await doc(o, order_id))["platform_order_id"],
        "delivered_at": "2026-01-02T00:00:00+00:00",
    }
    r = await post_generic(o, "/webhooks/generic/deliveries", delivery)
    assert r.status_code in (200, 202), r.text
    r = await w.post(
        "/stop-shipments", json={"scope": {"skus": ["SKU-1"]}, "reason": "recall"}, headers=OPS
    )
    assert r.status_code in (200, 201, 202), r.text
    stop_id = r.json()["stop_id"]

    r1 = f"{order_id}-R1"
    await ask_replacement(settings, order_id, "EX-1", kind="exchange")
    found = await wait_until(lambda: task(w, r1), message="R1 task")
    assert found["held"] is True and found["held_by"] == [stop_id]
    assert found["replacement_id"] == "EX-1"

    order = await replacement_shipment(o, order_id, r1, lambda s: bool(s["holds"]))
    assert order["stage"] == "delivered" and order["held"] is False
    caps = (await o.get(f"/orders/{order_id}/capabilities", headers=CS)).json()
    cap = line_cap(caps, r1)["cancel"]
    assert (cap["mode"], cap["guaranteed"]) == ("withdraw", True)

    # No parcel leaves while the stop is active; lifted, R1 ships like any task.
    r = await w.post("/warehouses/WH-OWN-1/imports", json={"shipment_ids": [r1]}, headers=OWN)
    assert r.status_code == 200 and r.json()["allocated"] == [], r.text
    r = await w.post(f"/shipments/{r1}/label", json={"carrier": "SF"}, headers=OWN)
    assert r.status_code in (409, 423), r.text
    r = await w.post(f"/stop-shipments/{stop_id}/lift", headers=OPS)
    assert r.status_code == 200, r.text
    await replacement_shipment(o, order_id, r1, lambda s: not s["holds"])
    await scan_through(w, r1)
    order = await replacement_shipment(o, order_id, r1, lambda s: s["status"] == "shipped")
    assert order["stage"] == "delivered" and not order["anomalies"]
