"""Platform-side cancellations (SPEC §2.3, §2.1): Shopify `orders/cancelled` and the generic
cancellation webhook take the CS cancel's stage path (void, withdraw, intercept, refused once
shipped), are idempotent, are parked until their order lands, and report the outcome back
to the platform through the adapter."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from order_service.adapters import tables as t
from order_service.adapters.uow import OrderUnitOfWork
from order_service.handlers import notices
from order_service.handlers import webhooks as wh
from order_service.handlers.webhooks import IncomingOrder
from shared import topics
from shared.events import warehouse as w
from tests.fixtures import fixture
from tests.integration.order_service.helpers import (
    CLERK,
    Publisher,
    generic_order,
    post_generic,
    shopify_signed,
    signed,
)
from tests.support import wait_until

pytestmark = pytest.mark.broker
PATH = "/webhooks/generic/cancellations"


def _cancellation(pid: str, **over) -> dict:
    return {**fixture("generic/cancellation.json"), "platform_order_id": pid, **over}


async def _count(app, table) -> int:
    async with app.state.runtime.db.reader() as s:
        return (await s.execute(select(func.count()).select_from(table))).scalar_one()


async def _outbox_types(app) -> list[str]:
    async with app.state.runtime.db.reader() as s:
        rows = (
            (await s.execute(select(t.messaging.outbox.c.value).order_by(t.messaging.outbox.c.id)))
            .scalars()
            .all()
        )
    return [json.loads(v)["type"] for v in rows]


async def _order(client, order_id: str) -> dict:
    return (await client.get(f"/orders/{order_id}", headers=CLERK)).json()


async def _reported(app, order_id: str) -> list[dict]:
    """The cancellation outcomes sent to the platform for this order (recorded calls)."""
    calls = app.state.deps.platform.calls

    def found():
        return [c for c in calls if c["call"] == "cancellation" and c["order_id"] == order_id]

    return await wait_until(found, message=f"cancellation reported for {order_id}")


async def _new(client, pid: str) -> str:
    r = await post_generic(client, "/webhooks/generic/orders", generic_order(pid))
    assert r.status_code == 202, r.text
    return r.json()["order_id"]


async def _submitted(client, pid: str) -> str:
    order_id = await _new(client, pid)
    r = await client.post(f"/orders/{order_id}/review", json={"approve": True}, headers=CLERK)
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/orders/{order_id}/submit", json={"warehouse_id": "WH-OWN-1"}, headers=CLERK
    )
    assert r.status_code == 200, r.text
    return order_id


async def test_generic_cancellation_voids_a_synced_order_once_and_reports_it(app, client):
    order_id = await _new(client, "TB-C-1")
    body = _cancellation("TB-C-1")
    r = await post_generic(client, PATH, body)
    assert r.status_code == 202, r.text
    assert r.json()["order_id"] == order_id
    assert (r.json()["stage"], r.json()["mode"], r.json()["outcome"]) == (
        "cancelled",
        "void",
        "cancelled",
    )
    again = await post_generic(client, PATH, body)
    other_event = await post_generic(client, PATH, {**body, "event_id": "evt-cancel-2"})
    for dup in (again, other_event):
        assert dup.status_code == 200, dup.text
        assert dup.json()["duplicate"] is True and dup.json()["mode"] == "void"
    assert (await _outbox_types(app)).count("order.cancelled") == 1
    [call] = await _reported(app, order_id)
    assert (call["platform"], call["platform_order_id"]) == ("taobao", "TB-C-1")
    assert (call["outcome"], call["mode"]) == ("cancelled", "void")
    timeline = (await client.get(f"/orders/{order_id}/timeline", headers=CLERK)).json()
    kinds = [e["kind"] for e in timeline["entries"]]
    assert "platform_cancellation" in kinds


async def test_shopify_orders_cancelled_takes_the_cancel_path(app, client):
    raw, headers = shopify_signed(fixture("shopify/orders_create.json"))
    created = await client.post("/webhooks/shopify/orders", content=raw, headers=headers)
    order_id = created.json()["order_id"]
    raw, headers = shopify_signed(
        fixture("shopify/orders_cancelled.json"), topic="orders/cancelled"
    )
    r = await client.post("/webhooks/shopify/orders", content=raw, headers=headers)
    assert r.status_code == 202, r.text
    assert (r.json()["order_id"], r.json()["mode"], r.json()["stage"]) == (
        order_id,
        "void",
        "cancelled",
    )
    again = await client.post("/webhooks/shopify/orders", content=raw, headers=headers)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    order = await _order(client, order_id)
    assert order["last_cancel"]["mode"] == "void"
    [call] = await _reported(app, order_id)
    assert call["platform"] == "shopify" and call["cancel_reason"] == "customer"


async def test_cancellation_before_its_order_is_parked_then_applied_on_arrival(app, client):
    r = await post_generic(client, PATH, _cancellation("TB-EARLY"))
    assert r.status_code == 202, r.text
    assert r.json()["parked"] is True and r.json()["order_id"] is None
    order_id = await _new(client, "TB-EARLY")
    order = await _order(client, order_id)
    assert order["stage"] == "cancelled"
    types = await _outbox_types(app)
    assert types.index("order.synced") < types.index("order.cancelled")
    [call] = await _reported(app, order_id)
    assert call["outcome"] == "cancelled" and call["mode"] == "void"


async def test_cancellation_of_a_submitted_order_withdraws_it(app, client):
    order_id = await _submitted(client, "TB-C-SUB")
    r = await post_generic(client, PATH, _cancellation("TB-C-SUB"))
    assert r.status_code == 202, r.text
    assert (r.json()["mode"], r.json()["outcome"]) == ("withdraw", "pending")
    assert (await _order(client, order_id))["pending_cancel"]["mode"] == "withdraw"
    assert "order.withdraw_requested" in await _outbox_types(app)
    [call] = await _reported(app, order_id)
    assert (call["outcome"], call["mode"], call["guaranteed"]) == ("pending", "withdraw", False)


async def _advance(order_settings, client, order_id: str, *events) -> None:
    async with Publisher(order_settings) as pub:
        for payload in events:
            await pub.send(topics.WAREHOUSE, payload, order_id)


async def _stage(client, order_id: str) -> str:
    return (await _order(client, order_id))["stage"]


async def test_cancellation_in_the_warehouse_intercepts_and_after_shipping_is_refused(
    app, client, order_settings
):
    allocated = await _submitted(client, "TB-C-ALLOC")
    shipped = await _submitted(client, "TB-C-SHIP")
    await _advance(
        order_settings,
        client,
        allocated,
        w.ShipmentAllocated(shipment_id=f"{allocated}-S1", warehouse_id="WH-OWN-1"),
    )
    sid = f"{shipped}-S1"
    await _advance(
        order_settings,
        client,
        shipped,
        w.ShipmentAllocated(shipment_id=sid, warehouse_id="WH-OWN-1"),
        w.ShipmentLabelled(
            shipment_id=sid, warehouse_id="WH-OWN-1", carrier="SF", tracking_number="SF9"
        ),
        w.ShipmentPacked(shipment_id=sid, warehouse_id="WH-OWN-1", weight_grams=300),
        w.ShipmentShipped(
            shipment_id=sid,
            warehouse_id="WH-OWN-1",
            carrier="SF",
            tracking_number="SF9",
            shipped_at=datetime.now(UTC),
        ),
    )
    await wait_until(lambda: _stage(client, allocated), expect="allocated", message="allocated")
    await wait_until(lambda: _stage(client, shipped), expect="shipped", message="shipped")

    r = await post_generic(client, PATH, _cancellation("TB-C-ALLOC"))
    assert r.status_code == 202, r.text
    assert (r.json()["mode"], r.json()["stage"]) == ("intercept", "intercepting")
    assert "order.intercept_requested" in await _outbox_types(app)

    r = await post_generic(client, PATH, _cancellation("TB-C-SHIP", event_id="evt-ship"))
    assert r.status_code == 202, r.text
    body = r.json()
    assert (body["outcome"], body["mode"], body["stage"]) == (
        "refused",
        "refuse_delivery",
        "shipped",
    )
    assert body["code"] == "shipped" and "refuse delivery" in body["reason"]
    [call] = await _reported(app, shipped)
    assert (call["outcome"], call["mode"], call["code"]) == (
        "refused",
        "refuse_delivery",
        "shipped",
    )
    [call] = await _reported(app, allocated)
    assert call["mode"] == "intercept" and call["outcome"] == "pending"


async def test_cancellation_bad_signature_or_shape_stores_nothing(app, client):
    raw, headers = signed(_cancellation("TB-X"), secret="wrong")
    assert (await client.post(PATH, content=raw, headers=headers)).status_code == 401
    for bad, field in (
        ({"reason": "r" * 501}, "reason"),
        ({"platform_order_id": ""}, "platform_order_id"),
        ({"cancelled_at": "yesterday"}, "cancelled_at"),
        ({"extra": 1}, "extra"),
    ):
        r = await post_generic(client, PATH, _cancellation("TB-X", **bad))
        assert r.status_code == 422, r.text
        assert r.json()["error"]["message"].startswith(field)
    assert await _count(app, t.parked) == 0


async def test_shopify_other_topics_are_still_refused(client):
    raw, headers = shopify_signed(fixture("shopify/orders_create.json"), topic="orders/delete")
    r = await client.post("/webhooks/shopify/orders", content=raw, headers=headers)
    assert r.status_code == 422 and r.json()["error"]["code"] == "unsupported_topic"


async def test_a_cancellation_parked_while_its_order_commits_is_still_applied(
    app, client, databases
):
    """The interleaving PostgreSQL allows (read committed): the order's transaction read the
    parked notices before the cancellation was parked, and the cancellation looked for the
    order before it was committed. The order's side looks again after committing."""
    if not databases.postgres:
        pytest.skip("SQLite write transactions are exclusive: this interleaving cannot occur")
    rt = app.state.runtime
    body = generic_order("TB-RACE")
    cmd = IncomingOrder(
        source="generic:demo-shop",
        webhook_id=body["event_id"],
        shop_id="demo-shop",
        platform="taobao",
        platform_order_id="TB-RACE",
        buyer=body["buyer"],
        address=body["address"],
        lines=body["lines"],
        total=Decimal(body["total"]),
        currency="CNY",
        paid_at=datetime.fromisoformat(body["paid_at"]),
    )
    async with OrderUnitOfWork(rt) as uow:
        [order] = await wh._create(uow, [cmd])
        notice = notices.cancellation_notice(
            "taobao", "TB-RACE", webhook_id="evt-race", reason="buyer", cancelled_at=None
        )
        assert (await notices.ingest_notice(app.state.deps, notice)).outcome == "parked"
        await uow.commit()
    await wh._settle(app.state.deps, [order])
    assert (await _order(client, order.id))["stage"] == "cancelled"
    [call] = await _reported(app, order.id)
    assert call["mode"] == "void"
