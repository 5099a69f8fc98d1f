"""After-sales refunds take the order service's refund path (SPEC §4.1), through the broker:
the order service and after-sales apps run side by side; warehouse facts are published as
the warehouse service would."""

from __future__ import annotations

from decimal import Decimal

import pytest

from order_service.app import create_app as create_order_app
from shared import topics
from shared.clock import ManualClock
from shared.events import warehouse as w
from tests.integration.aftersales_service.conftest import AGENT
from tests.integration.order_service.helpers import (
    CLERK,
    CS,
    START,
    Publisher,
    generic_order,
    post_generic,
)
from tests.support import running, wait_until

pytestmark = pytest.mark.broker


@pytest.fixture
async def orders(make_settings):
    """The order service on this test's broker (same topic prefix as `harness`)."""
    settings = make_settings("order")
    app = create_order_app(settings, clock=ManualClock(START))
    async with running(app) as client:
        client.settings = settings
        yield client


async def _order(orders, harness, *, submit: bool, **over) -> str:
    r = await post_generic(orders, "/webhooks/generic/orders", generic_order(**over))
    assert r.status_code == 202, r.text
    order_id = r.json()["order_id"]
    if submit:
        r = await orders.post(f"/orders/{order_id}/review", json={"approve": True}, headers=CLERK)
        assert r.status_code == 200, r.text
        r = await orders.post(f"/orders/{order_id}/submit", headers=CLERK)
        assert r.status_code == 200, r.text
    await _known(harness, order_id)
    return order_id


async def _known(harness, order_id: str) -> None:
    async def synced():
        r = await harness.client.get("/refunds", params={"order_id": order_id}, headers=AGENT)
        order = await _projection(harness, order_id)
        return r.status_code == 200 and order is not None and order.synced

    await wait_until(synced, timeout=30, message=f"after-sales knows {order_id}")


async def _projection(harness, order_id: str):
    from aftersales_service.adapters.projection import OrderProjection

    async with harness.rt.db.reader() as s:
        return await OrderProjection(s).get(order_id)


async def _caps(orders, order_id: str) -> dict:
    return (await orders.get(f"/orders/{order_id}/capabilities", headers=CS)).json()


async def _refund(harness, refund_id: str) -> dict:
    return (await harness.client.get(f"/refunds/{refund_id}", headers=AGENT)).json()


async def _mode_reported(harness, refund_id: str, expected: str) -> None:
    async def mode():
        return (await _refund(harness, refund_id)).get("mode")

    await wait_until(mode, timeout=30, expect=expected, message=f"{refund_id} mode")


async def test_exception_stage_refund_reports_the_order_services_mode(orders, harness):
    order_id = await _order(orders, harness, submit=True)
    async with Publisher(orders.settings) as pub:
        await pub.send(
            topics.WAREHOUSE,
            w.ShipmentOutOfStock(
                shipment_id=f"{order_id}-S1", warehouse_id="WH-OWN-1", skus=["SKU-1"]
            ),
            order_id,
        )

    async def exception_everywhere():
        order = await _projection(harness, order_id)
        caps = await _caps(orders, order_id)
        return caps["stage"] == "exception" and order.stage == "exception"

    await wait_until(exception_everywhere, timeout=30, message="exception stage")
    caps = await _caps(orders, order_id)
    assert caps["refund"]["mode"] == "withdraw"

    r = await harness.client.post(
        "/refunds", json={"order_id": order_id, "reason": "out of stock"}, headers=AGENT
    )
    assert r.status_code == 202, r.text
    await _mode_reported(harness, r.json()["id"], caps["refund"]["mode"])


async def test_partly_held_split_order_is_judged_fully_held_or_not(orders, harness):
    lines = [
        {"sku": "SKU-1", "qty": 1, "unit_price": "10.00"},
        {"sku": "SKU-7", "qty": 1, "unit_price": "20.00"},
    ]
    order_id = await _order(orders, harness, submit=True, lines=lines, total="30.00")
    s1, s2 = f"{order_id}-S1", f"{order_id}-S2"
    async with Publisher(orders.settings) as pub:
        # S1 is held before the order reaches `allocated`, so that stage change says held
        for payload in (
            w.ShipmentAllocated(shipment_id=s1, warehouse_id="WH-OWN-1"),
            w.ShipmentHeld(shipment_id=s1, warehouse_id="WH-OWN-1", hold_id="H1", reason="other"),
            w.ShipmentAllocated(shipment_id=s2, warehouse_id="WH-DS-1"),
        ):
            await pub.send(topics.WAREHOUSE, payload, order_id)

    async def partly_held():
        order = await _projection(harness, order_id)
        caps = await _caps(orders, order_id)
        return caps["stage"] == "allocated" and caps["held"] and order.held

    await wait_until(partly_held, timeout=30, message="allocated, one shipment held")
    caps = await _caps(orders, order_id)
    assert (caps["refund"]["mode"], caps["refund"]["guaranteed"]) == ("intercept", False)

    r = await harness.client.post("/refunds", json={"order_id": order_id}, headers=AGENT)
    assert r.status_code == 202, r.text
    await _mode_reported(harness, r.json()["id"], "intercept")


async def test_partial_platform_refund_pays_that_part_and_cancels_nothing(orders, harness):
    order_id = await _order(orders, harness, submit=False)
    body = generic_order()  # only for the platform fields
    r = await post_generic(
        orders,
        "/webhooks/generic/refunds",
        {
            "event_id": "rf-partial",
            "platform": body["platform"],
            "platform_order_id": (await orders.get(f"/orders/{order_id}", headers=CLERK)).json()[
                "platform_order_id"
            ],
            "platform_refund_id": "PRF-1",
            "amount": "10.00",
            "reason": "late parcel",
        },
    )
    assert r.status_code in (200, 202), r.text

    async def issued():
        r = await harness.client.get("/refunds", params={"order_id": order_id}, headers=AGENT)
        return [x for x in r.json() if x["status"] == "issued"]

    refunds = await wait_until(issued, timeout=30, message="platform refund issued")
    assert [Decimal(x["amount"]) for x in refunds] == [Decimal("10.00")]
    order = (await orders.get(f"/orders/{order_id}", headers=CLERK)).json()
    assert order["stage"] == "synced"


async def test_before_the_warehouse_the_refund_voids_and_is_issued(orders, harness):
    order_id = await _order(orders, harness, submit=False)
    assert (await _caps(orders, order_id))["refund"]["mode"] == "void"
    r = await harness.client.post("/refunds", json={"order_id": order_id}, headers=AGENT)
    assert (r.status_code, r.json()["status"], r.json()["mode"]) == (202, "requested", None)

    async def issued():
        got = await _refund(harness, r.json()["id"])
        return got if got["status"] == "issued" else None

    got = await wait_until(issued, timeout=30, message="refund issued")
    assert (got["mode"], got["amount"]) == ("void", "59.00")
    assert got["decision"] == {
        "allowed": True,
        "mode": "void",
        "guaranteed": True,
        "timing": "at_once",
        "code": "",
        "reason": "issued at once",
        "cancel": "requested",
    }
    order = (await orders.get(f"/orders/{order_id}", headers=CLERK)).json()
    assert order["stage"] == "cancelled"


async def test_platform_refund_naming_skus_refunds_those_lines(orders, harness):
    lines = [
        {"sku": "SKU-1", "qty": 1, "unit_price": "30.00"},
        {"sku": "SKU-2", "qty": 1, "unit_price": "29.00"},
    ]
    order_id = await _order(orders, harness, submit=False, lines=lines, total="59.00")
    pid = (await orders.get(f"/orders/{order_id}", headers=CLERK)).json()["platform_order_id"]
    r = await post_generic(
        orders,
        "/webhooks/generic/refunds",
        {
            "event_id": "rf-lines",
            "platform": "taobao",
            "platform_order_id": pid,
            "platform_refund_id": "PRF-2",
            "amount": "30.00",
            "skus": ["SKU-1"],
        },
    )
    assert r.status_code in (200, 202), r.text

    async def decided():
        r = await harness.client.get("/refunds", params={"order_id": order_id}, headers=AGENT)
        found = [x for x in r.json() if x["mode"]]
        return found[0] if found else None

    refund = await wait_until(decided, timeout=30, message="the order service decided")
    assert (refund["kind"], refund["lines"], refund["amount"]) == (
        "lines",
        [{"sku": "SKU-1", "qty": 1}],
        "30.00",
    )
    assert (refund["mode"], refund["decision"]["cancel"]) == ("void", "requested")

    # the order service removed the line by its own rule; its `order.cancelled` (with
    # lines) issues exactly that line
    async def issued():
        return (await _refund(harness, refund["id"]))["status"] == "issued"

    await wait_until(issued, timeout=30, message="line refund issued")
    assert (await _refund(harness, refund["id"]))["amount"] == "30.00"
    doc = (await orders.get(f"/orders/{order_id}", headers=CLERK)).json()
    assert (doc["stage"], [ln["sku"] for ln in doc["lines"]]) == ("synced", ["SKU-2"])
