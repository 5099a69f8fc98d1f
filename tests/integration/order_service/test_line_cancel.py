"""Cancel by line through both services and the broker (SPEC §2.4): a split order (own +
dropship warehouse) with a line cancelled at every stage of its shipment, a removal
request answered `missed`, and the refusals; capabilities said each path first."""

from __future__ import annotations

import pytest

from order_service.app import create_app as order_app
from shared import topics
from shared.clock import ManualClock
from tests.integration.order_service.helpers import (
    CLERK,
    CS,
    START,
    generic_order,
    post_generic,
    read_topic,
)
from tests.support import bearer, running, wait_until
from warehouse_service.app import create_app as warehouse_app

pytestmark = pytest.mark.broker

OWN = bearer("dev-scanner-WH-OWN-1")
DS1 = bearer("dev-scanner-WH-DS-1")
LINES = [
    {"sku": "SKU-1", "qty": 4, "unit_price": "10.00"},  # own warehouse
    {"sku": "SKU-4", "qty": 1, "unit_price": "20.00"},  # own warehouse
    {"sku": "SKU-7", "qty": 3, "unit_price": "30.00"},  # dropship SUP-1
]


@pytest.fixture
async def services(make_settings):
    orders = order_app(make_settings("order"), clock=ManualClock(START))
    warehouse = warehouse_app(make_settings("warehouse"), clock=ManualClock(START))
    async with running(orders) as o, running(warehouse) as w:
        yield o, w


async def doc(o, order_id):
    return (await o.get(f"/orders/{order_id}", headers=CS)).json()


def line_cap(caps, sku):
    return next(line for line in caps["lines"] if line["sku"] == sku)


def states(order, sku):
    """Units of `sku` by state, over its shipments."""
    total: dict[str, int] = {}
    for s in order["line_states"]:
        if s["sku"] == sku:
            total[s["state"]] = total.get(s["state"], 0) + s["qty"]
    return sorted(total.items())


async def cancel(o, order_id, sku, qty=1):
    body = {"reason": "buyer asked", "lines": [{"sku": sku, "qty": qty}]}
    return await o.post(f"/orders/{order_id}/cancel", json=body, headers=CS)


async def predicted(o, order_id, sku):
    caps = (await o.get(f"/orders/{order_id}/capabilities", headers=CS)).json()
    return line_cap(caps, sku)["cancel"]


async def until_state(o, order_id, sku, expected, message):
    async def check():
        order = await doc(o, order_id)
        return order if states(order, sku) == expected else None

    return await wait_until(check, message=message)


async def task(w, sid):
    r = await w.get(f"/shipments/{sid}", headers=bearer("dev-ops"))
    return r.json() if r.status_code == 200 else None


async def test_split_order_one_line_cancelled_in_each_stage(services, make_settings):
    o, w = services
    r = await post_generic(
        o, "/webhooks/generic/orders", generic_order(lines=LINES, total="150.00")
    )
    order_id = r.json()["order_id"]
    await o.post(f"/orders/{order_id}/review", json={"approve": True}, headers=CLERK)

    # Not yet submitted: removed at once, guaranteed; the reviewed order goes back to review.
    assert (await predicted(o, order_id, "SKU-1"))["mode"] == "remove"
    r = await cancel(o, order_id, "SKU-1")
    assert r.status_code == 200, r.text
    assert r.json()["mode"] == "lines" and r.json()["stage"] == "synced"
    assert r.json()["lines"] == [
        {
            "sku": "SKU-1",
            "qty": 1,
            "shipment_id": None,
            "mode": "remove",
            "guaranteed": True,
            "outcome": "removed",
        }
    ]
    assert states(r.json()["order"], "SKU-1") == [("active", 3), ("removed", 1)]
    await o.post(f"/orders/{order_id}/review", json={"approve": True}, headers=CLERK)
    r = await o.post(f"/orders/{order_id}/submit", headers=CLERK)
    s1, s2 = f"{order_id}-S1", f"{order_id}-S2"
    assert {s["shipment_id"]: s["warehouse_id"] for s in r.json()["shipments"]} == {
        s1: "WH-OWN-1",
        s2: "WH-DS-1",
    }
    await wait_until(lambda: task(w, s1), message="own task")
    await wait_until(lambda: task(w, s2), message="dropship task")
    assert (await task(w, s1))["lines"][0]["qty"] == 3

    # Submitted, not imported: withdrawn from the task.
    cap = await predicted(o, order_id, "SKU-7")
    assert (cap["mode"], cap["guaranteed"]) == ("withdraw", False)
    r = await cancel(o, order_id, "SKU-7")
    assert r.status_code == 202 and r.json()["lines"][0]["outcome"] == "pending"
    await until_state(o, order_id, "SKU-7", [("active", 2), ("removed", 1)], "SKU-7 withdrawn")
    assert (await task(w, s2))["lines"][0]["qty"] == 2

    # Allocated: a line-removal request, answered removed by the scanner.
    await w.post("/warehouses/WH-OWN-1/imports", json={"all_queued": True}, headers=OWN)
    await until_state(o, order_id, "SKU-1", [("active", 3), ("removed", 1)], "S1 imported")

    async def allocated():
        return (await predicted(o, order_id, "SKU-1"))["mode"] == "removal_request"

    await wait_until(allocated, message="S1 allocated at the order service")
    r = await cancel(o, order_id, "SKU-1")
    assert r.status_code == 202 and r.json()["lines"][0]["mode"] == "removal_request"
    await wait_until(lambda: _pending_removal(w, s1), message="removal recorded on the task")
    r = await w.post(f"/shipments/{s1}/line-removal", json={"outcome": "removed"}, headers=OWN)
    assert r.status_code == 200, r.text
    await until_state(o, order_id, "SKU-1", [("active", 2), ("removed", 2)], "SKU-1 removed")

    # Held (dropship task imported, then held): removed, guaranteed.
    await w.post("/warehouses/WH-DS-1/imports", json={"all_queued": True}, headers=DS1)
    r = await w.post(f"/shipments/{s2}/holds", json={"reason": "fraud_review"}, headers=CLERK)
    assert r.status_code == 201, r.text

    async def held():
        cap = await predicted(o, order_id, "SKU-7")
        return cap if cap["guaranteed"] else None

    cap = await wait_until(held, message="held seen by the order service")
    assert cap["mode"] == "withdraw"
    r = await cancel(o, order_id, "SKU-7")
    assert r.status_code == 202 and r.json()["lines"][0]["guaranteed"] is True
    await until_state(o, order_id, "SKU-7", [("active", 1), ("removed", 2)], "held line removed")

    # Labelled: a removal request answered missed; the item ships (return path).
    await w.post(f"/shipments/{s1}/label", json={"carrier": "SF"}, headers=OWN)

    async def labelled():
        return (await doc(o, order_id))["shipments"][0]["status"] == "labelled"

    await wait_until(labelled, message="S1 labelled")
    r = await cancel(o, order_id, "SKU-1")
    assert r.status_code == 202 and r.json()["lines"][0]["mode"] == "removal_request"
    change = r.json()["change"]
    await wait_until(lambda: _pending_removal(w, s1), message="removal recorded on the task")
    r = await w.post(f"/shipments/{s1}/line-removal", json={"outcome": "missed"}, headers=OWN)
    assert r.status_code == 200 and r.json()["lines"][0]["qty"] == 2

    async def missed():
        order = await doc(o, order_id)
        return order if order["line_changes"][change - 1]["outcome"] == "missed" else None

    order = await wait_until(missed, message="missed at the order service")
    assert states(order, "SKU-1") == [("active", 2), ("removed", 2)]
    assert order["instructions"][-1]["kind"] == "return_items"

    # Packed (against the remaining lines only): refused, the path is refusal or return.
    pack = {"scanned": ["SKU-1", "SKU-1", "SKU-4"], "weight_grams": 500}
    r = await w.post(f"/shipments/{s1}/pack", json=pack, headers=OWN)
    assert r.status_code == 200, r.text

    async def packed():
        cap = await predicted(o, order_id, "SKU-4")
        return cap if cap.get("code") == "packed" else None

    cap = await wait_until(packed, message="S1 packed at the order service")
    assert (cap["allowed"], cap["mode"]) == (False, "refuse_delivery")
    r = await cancel(o, order_id, "SKU-4")
    assert r.status_code == 409 and r.json()["error"]["code"] == "packed"

    # Bounds: an unknown line, more than the active units, a bad body.
    r = await cancel(o, order_id, "SKU-9")
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_line"
    r = await cancel(o, order_id, "SKU-7", qty=2)
    assert r.status_code == 409 and r.json()["error"]["code"] == "qty_exceeds_active"
    assert r.json()["error"]["details"]["active_qty"] == 1
    body = {"reason": "x", "lines": [{"sku": "SKU-7", "qty": 0}]}
    r = await o.post(f"/orders/{order_id}/cancel", json=body, headers=CS)
    assert r.status_code == 422
    before = await doc(o, order_id)
    r = await o.post(f"/orders/{order_id}/cancel", json={"reason": "x", "lines": []}, headers=CS)
    assert r.status_code == 422 and (await doc(o, order_id))["version"] == before["version"]

    # One versioned change record per line cancel, with each line's path and outcome.
    order = await doc(o, order_id)
    assert [(c["version"], c["lines"][0]["mode"], c["outcome"]) for c in order["line_changes"]] == [
        (1, "remove", "done"),
        (2, "withdraw", "done"),
        (3, "removal_request", "done"),
        (4, "withdraw", "done"),
        (5, "removal_request", "missed"),
    ]
    timeline = (await o.get(f"/orders/{order_id}/timeline", headers=CS)).json()["entries"]
    kinds = [e["kind"] for e in timeline]
    assert kinds.count("lines_cancel_requested") == 5 and "lines_missed" in kinds

    events = [e for e in await read_topic(make_settings("order")) if e.order_id == order_id]
    cancelled = [e.payload for e in events if e.type == "order.cancelled"]
    assert [(c["lines"], c["refund_due"]) for c in cancelled] == [
        ([{"sku": "SKU-1", "qty": 1}], "10.00"),
        ([{"sku": "SKU-7", "qty": 1}], "30.00"),
        ([{"sku": "SKU-1", "qty": 1}], "10.00"),
        ([{"sku": "SKU-7", "qty": 1}], "30.00"),
    ]
    assert len([e for e in events if e.type == "order.lines_changed"]) >= 5
    assert topics.ORDERS


async def _pending_removal(w, sid):
    found = await task(w, sid)
    return any(r["state"] == "pending" for r in found["line_removals"])


async def test_every_line_removed_withdraws_the_task_and_cancels_the_order(services):
    o, w = services
    lines = [{"sku": "SKU-1", "qty": 1, "unit_price": "10.00"}]
    r = await post_generic(o, "/webhooks/generic/orders", generic_order(lines=lines, total="10.00"))
    order_id = r.json()["order_id"]
    await o.post(f"/orders/{order_id}/review", json={"approve": True}, headers=CLERK)
    await o.post(f"/orders/{order_id}/submit", headers=CLERK)
    sid = f"{order_id}-S1"
    await wait_until(lambda: task(w, sid), message="task")
    await w.post("/warehouses/WH-OWN-1/imports", json={"all_queued": True}, headers=OWN)

    async def allocated():
        return (await predicted(o, order_id, "SKU-1"))["mode"] == "removal_request"

    await wait_until(allocated, message="allocated")
    r = await cancel(o, order_id, "SKU-1")
    assert r.status_code == 202
    await wait_until(lambda: _pending_removal(w, sid), message="removal recorded")
    r = await w.post(f"/shipments/{sid}/line-removal", json={"outcome": "removed"}, headers=OWN)
    assert r.json()["status"] == "withdrawn"

    async def cancelled():
        order = await doc(o, order_id)
        return order if order["stage"] == "cancelled" else None

    order = await wait_until(cancelled, message="order cancelled")
    assert states(order, "SKU-1") == [("removed", 1)]
    assert order["shipments"][0]["status"] == "withdrawn"


async def test_order_cancel_after_a_line_cancel_emptying_a_shipment_does_not_wait(services):
    """Issue 15: a partly shipped split order; the dropship task's only line is asked off
    (removal pending at the scanner), then the order is cancelled (interception pending);
    the scanner removes the line, which withdraws the emptied task and drops the
    interception. The cancel must settle (missed: the own parcel has left), not wait."""
    o, w = services
    lines = [
        {"sku": "SKU-1", "qty": 1, "unit_price": "10.00"},
        {"sku": "SKU-7", "qty": 1, "unit_price": "30.00"},
    ]
    r = await post_generic(o, "/webhooks/generic/orders", generic_order(lines=lines, total="40.00"))
    order_id = r.json()["order_id"]
    await o.post(f"/orders/{order_id}/review", json={"approve": True}, headers=CLERK)
    await o.post(f"/orders/{order_id}/submit", headers=CLERK)
    s1, s2 = f"{order_id}-S1", f"{order_id}-S2"
    await wait_until(lambda: task(w, s1), message="own task")
    await wait_until(lambda: task(w, s2), message="dropship task")
    await w.post("/warehouses/WH-OWN-1/imports", json={"shipment_ids": [s1]}, headers=OWN)
    await w.post(f"/shipments/{s1}/label", json={"carrier": "SF"}, headers=OWN)
    pack = {"scanned": ["SKU-1"], "weight_grams": 300}
    assert (await w.post(f"/shipments/{s1}/pack", json=pack, headers=OWN)).status_code == 200
    assert (await w.post(f"/shipments/{s1}/ship", headers=OWN)).status_code == 200
    await w.post("/warehouses/WH-DS-1/imports", json={"all_queued": True}, headers=DS1)

    async def partly_shipped():
        order = await doc(o, order_id)
        statuses = [s["status"] for s in order["shipments"]]
        return order if statuses == ["shipped", "allocated"] else None

    await wait_until(partly_shipped, message="S1 shipped, S2 allocated")
    r = await cancel(o, order_id, "SKU-7")
    assert r.status_code == 202 and r.json()["lines"][0]["mode"] == "removal_request"
    await wait_until(lambda: _pending_removal(w, s2), message="removal recorded on the task")
    caps = (await o.get(f"/orders/{order_id}/capabilities", headers=CS)).json()
    assert caps["cancel"]["mode"] == "intercept"
    r = await o.post(f"/orders/{order_id}/cancel", json={"reason": "buyer asked"}, headers=CS)
    assert r.status_code == 202 and r.json()["stage"] == "intercepting", r.text

    async def interception_pending():
        found = await task(w, s2)
        return found if found["interception_request"] else None

    await wait_until(interception_pending, message="interception pending on the task")
    r = await w.post(f"/shipments/{s2}/line-removal", json={"outcome": "removed"}, headers=DS1)
    assert r.status_code == 200 and r.json()["status"] == "withdrawn", r.text

    async def settled():
        order = await doc(o, order_id)
        return order if order["pending_cancel"] is None else None

    order = await wait_until(settled, message="the order cancel settled")
    assert order["stage"] == "shipped" and order["anomalies"] == []
    assert [s["status"] for s in order["shipments"]] == ["shipped", "withdrawn"]
    assert states(order, "SKU-7") == [("removed", 1)]
    cap = order["capabilities"]["cancel"]
    assert (cap["allowed"], cap["mode"]) == (False, "refuse_delivery")
    r = await o.post(f"/orders/{order_id}/cancel", json={"reason": "again"}, headers=CS)
    assert r.status_code == 409 and r.json()["error"]["code"] == cap["code"]
