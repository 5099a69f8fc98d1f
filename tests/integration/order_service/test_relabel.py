"""Address change once the warehouse has the order, through both services and the broker
(SPEC §2.4): at `labelled` a PATCH of the address is a relabel (capabilities said so): the
warehouse holds the task `address_change`, voids the label and takes the new address; pack
is refused while held; the next label releases it with a new tracking number, and the order
shows the new address and label. Once shipped the change is refused."""

from __future__ import annotations

import pytest

from order_service.app import create_app as order_app
from shared.clock import ManualClock
from tests.integration.order_service.helpers import CLERK, CS, START, generic_order, post_generic
from tests.support import bearer, running, wait_until
from warehouse_service.app import create_app as warehouse_app

pytestmark = pytest.mark.broker

OWN = bearer("dev-scanner-WH-OWN-1")
OPS = bearer("dev-ops")
NEW = {
    "name": "Li Lei",
    "phone": "13800000000",
    "province": "Zhejiang",
    "city": "Ningbo",
    "district": "Haishu",
    "line1": "9 Harbour Rd",
    "postcode": "315000",
}


@pytest.fixture
async def services(make_settings):
    orders = order_app(make_settings("order"), clock=ManualClock(START))
    warehouse = warehouse_app(make_settings("warehouse"), clock=ManualClock(START))
    async with running(orders) as o, running(warehouse) as w:
        yield o, w


async def doc(o, order_id):
    return (await o.get(f"/orders/{order_id}", headers=CS)).json()


async def task(w, sid):
    r = await w.get(f"/shipments/{sid}", headers=OPS)
    return r.json() if r.status_code == 200 else None


async def until_order(o, order_id, check, message):
    async def probe():
        order = await doc(o, order_id)
        return order if check(order) else None

    return await wait_until(probe, message=message)


async def labelled_order(o, w, tracking: str) -> tuple[str, str]:
    r = await post_generic(o, "/webhooks/generic/orders", generic_order())
    order_id = r.json()["order_id"]
    await o.post(f"/orders/{order_id}/review", json={"approve": True}, headers=CLERK)
    await o.post(f"/orders/{order_id}/submit", headers=CLERK)
    sid = f"{order_id}-S1"
    await wait_until(lambda: task(w, sid), message="task queued")
    await w.post("/warehouses/WH-OWN-1/imports", json={"shipment_ids": [sid]}, headers=OWN)
    r = await w.post(
        f"/shipments/{sid}/label", json={"carrier": "SF", "tracking_number": tracking}, headers=OWN
    )
    assert r.status_code == 200, r.text
    await until_order(
        o,
        order_id,
        lambda d: d["shipments"][0]["tracking_number"] == tracking,
        "labelled at the order service",
    )
    return order_id, sid


async def patch_address(o, order_id):
    version = (await doc(o, order_id))["version"]
    return await o.patch(
        f"/orders/{order_id}", json={"address": NEW}, headers={**CS, "If-Match": str(version)}
    )


async def test_address_change_at_labelled_is_a_relabel_released_by_the_next_label(services):
    o, w = services
    order_id, sid = await labelled_order(o, w, "SF-OLD-1")
    caps = (await o.get(f"/orders/{order_id}/capabilities", headers=CS)).json()
    assert caps["edit"]["allowed"] is False  # items and note stay refused
    assert (caps["address_change"]["mode"], caps["address_change"]["guaranteed"]) == (
        "relabel",
        True,
    )

    stock = {"sku": "SKU-1", "warehouse_id": "WH-OWN-1"}
    moves = (await w.get("/inventory/movements", params=stock, headers=OPS)).json()
    assert any(m["kind"] == "reservation" and m["shipment_id"] == sid for m in moves)
    r = await patch_address(o, order_id)
    assert r.status_code == 202, r.text
    assert r.json()["edit"] == caps["address_change"]
    assert r.json()["order"]["pending_edit"]["mode"] == "relabel"

    async def held():
        t = await task(w, sid)
        return t if t and t["held"] else None

    t = await wait_until(held, message="the warehouse holds the task")
    assert [h["reason"] for h in t["holds"]] == ["address_change"]
    assert t["address"]["city"] == "Ningbo" and t["tracking_number"] is None
    assert t["needs_label"] and t["relabels"][0]["voided_tracking_number"] == "SF-OLD-1"
    # The reservation is per task and its lines: a relabel moves no stock.
    assert (await w.get("/inventory/movements", params=stock, headers=OPS)).json() == moves
    pack = {"scanned": ["SKU-1"], "weight_grams": 500}
    r = await w.post(f"/shipments/{sid}/pack", json=pack, headers=OWN)
    assert r.status_code == 423 and r.json()["error"]["details"]["reason"] == "address_change"

    order = await until_order(
        o, order_id, lambda d: d["pending_edit"] is None, "the order hears the relabel"
    )
    assert order["address"]["city"] == "Ningbo" and order["held"] is True
    assert order["shipments"][0]["tracking_number"] is None
    assert order["shipments"][0]["voided_tracking_numbers"] == ["SF-OLD-1"]
    [change] = [c for c in order["line_changes"] if c["kind"] == "address_change"]
    assert change["outcome"] == "done" and change["lines"][0]["outcome"] == "relabelled"

    r = await w.post(
        f"/shipments/{sid}/label",
        json={"carrier": "SF", "tracking_number": "SF-NEW-1"},
        headers=OWN,
    )
    assert r.status_code == 200, r.text
    assert r.json()["held"] is False and r.json()["status"] == "labelled"
    order = await until_order(
        o,
        order_id,
        lambda d: d["shipments"][0]["tracking_number"] == "SF-NEW-1" and not d["held"],
        "new label and released at the order service",
    )
    assert order["stage"] == "labelled" and order["address"]["line1"] == "9 Harbour Rd"
    r = await w.post(f"/shipments/{sid}/pack", json=pack, headers=OWN)
    assert r.status_code == 200, r.text


async def test_address_change_once_shipped_is_refused(services):
    o, w = services
    order_id, sid = await labelled_order(o, w, "SF-OLD-2")
    pack = {"scanned": ["SKU-1"], "weight_grams": 500}
    assert (await w.post(f"/shipments/{sid}/pack", json=pack, headers=OWN)).status_code == 200
    assert (await w.post(f"/shipments/{sid}/ship", headers=OWN)).status_code == 200
    await until_order(o, order_id, lambda d: d["stage"] == "shipped", "shipped")
    caps = (await o.get(f"/orders/{order_id}/capabilities", headers=CS)).json()
    assert (
        caps["address_change"]["allowed"] is False
        and caps["address_change"]["code"] == "already_shipped"
    )
    r = await patch_address(o, order_id)
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_shipped"
    assert (await doc(o, order_id))["address"]["city"] == "Hangzhou"
