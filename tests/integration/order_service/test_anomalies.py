"""Consumers never raise (SPEC §5): every event type order_service consumes, for an order
it does not know and at a stage that makes it impossible, becomes an anomaly listed by
`GET /anomalies`, with the inbox marked in the same transaction; a redelivery changes
nothing and the next event is applied. In-process through the consumer's own handler."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from order_service.adapters.tables import metadata
from order_service.adapters.uow import OrderUnitOfWork
from order_service.app import create_app
from order_service.entrypoints.consumers import CONSUMER, dispatch
from order_service.handlers.seed import seed_development
from shared import topics
from shared.envelope import Envelope, Payload, new_event
from shared.events import aftersales as a
from shared.events import warehouse as w
from shared.unit_of_work import idempotent
from tests.integration.order_service.helpers import CLERK, CS, generic_order, post_generic
from tests.support import bearer, wait_until
from tests.support.acks import committed_past, dead_letters, send_raw

WH = "WH-OWN-1"
SHIPPED_AT = datetime(2026, 1, 2, tzinfo=UTC)


def shipment_event(kind: str, sid: str, **over) -> Payload:
    """A valid payload of `shipment.<kind>` for shipment `sid`."""
    extra = {
        "labelled": {"carrier": "SF", "tracking_number": "SF1"},
        "packed": {"weight_grams": 100},
        "shipped": {"carrier": "SF", "tracking_number": "SF1", "shipped_at": SHIPPED_AT},
        "out_of_stock": {"skus": ["SKU-1"]},
        "held": {"hold_id": "HOLD-1", "reason": "stop", "stop_id": "STOP-1"},
        "released": {"hold_id": "HOLD-1", "stop_id": "STOP-1"},
        "edit_applied": {"request_id": "R-1"},
        "edit_rejected": {"request_id": "R-1", "reason": "imported"},
        "withdrawn": {"request_id": "R-1"},
        "interception_pending": {"request_id": "R-1"},
        "intercepted": {"request_id": "R-1"},
        "interception_missed": {"request_id": "R-1"},
        "lines_removed": {"request_id": "R-1", "lines": [{"sku": "SKU-1", "qty": 1}]},
        "line_removal_pending": {"request_id": "R-1", "lines": [{"sku": "SKU-1", "qty": 1}]},
        "line_removal_missed": {"request_id": "R-1", "lines": [{"sku": "SKU-1", "qty": 1}]},
        "address_changed": {"request_id": "R-1", "voided_tracking_number": "SF1"},
        "address_change_missed": {"request_id": "R-1"},
    }.get(kind, {})
    cls = {
        "queued": w.ShipmentQueued,
        "allocated": w.ShipmentAllocated,
        "labelled": w.ShipmentLabelled,
        "packed": w.ShipmentPacked,
        "shipped": w.ShipmentShipped,
        "out_of_stock": w.ShipmentOutOfStock,
        "held": w.ShipmentHeld,
        "released": w.ShipmentReleased,
        "edit_applied": w.EditApplied,
        "edit_rejected": w.EditRejected,
        "withdrawn": w.ShipmentWithdrawn,
        "interception_pending": w.InterceptionPending,
        "intercepted": w.ShipmentIntercepted,
        "interception_missed": w.InterceptionMissed,
        "lines_removed": w.LinesRemoved,
        "line_removal_pending": w.LineRemovalPending,
        "line_removal_missed": w.LineRemovalMissed,
        "address_changed": w.AddressChanged,
        "address_change_missed": w.AddressChangeMissed,
    }[kind]
    return cls(shipment_id=sid, warehouse_id=WH, **(extra | over))


SHIPMENT_KINDS = [
    "queued",
    "allocated",
    "labelled",
    "packed",
    "shipped",
    "out_of_stock",
    "held",
    "released",
    "edit_applied",
    "edit_rejected",
    "withdrawn",
    "interception_pending",
    "intercepted",
    "interception_missed",
    "lines_removed",
    "line_removal_pending",
    "line_removal_missed",
    "address_changed",
    "address_change_missed",
]
AFTERSALES = {
    "aftersales.cancel_requested": lambda: a.CancelForRefund(refund_id="RF-1", reason="r"),
    "refund.issued": lambda: a.RefundIssued(refund_id="RF-1", amount=Decimal("1.00")),
    "refund.refused": lambda: a.RefundRefused(refund_id="RF-1", code="x", path="none", reason="r"),
    "return.opened": lambda: a.ReturnOpened(return_id="RT-1", kind="return", reason_code="x"),
    "return.received": lambda: a.ReturnReceived(return_id="RT-1", kind="return"),
}
EVERY_TYPE = [f"shipment.{k}" for k in SHIPMENT_KINDS] + [
    "shipments.held",
    "shipments.released",
    *AFTERSALES,
]


def event_for(event_type: str, order_id: str, sid: str | None = None, **over) -> Envelope:
    """An envelope of `event_type` about `order_id` (shipment `sid`), as its producer sends it."""
    sid = sid or f"{order_id}-S1"
    if event_type.startswith("shipment."):
        payload = shipment_event(event_type.removeprefix("shipment."), sid, **over)
        return new_event(payload, producer="warehouse_service", order_id=order_id)
    if event_type == "shipments.held":
        task = w.HeldTask(shipment_id=sid, order_id=order_id, hold_id="HOLD-1")
        payload = w.ShipmentsHeld(warehouse_id=WH, stop_id="STOP-1", reason="r", tasks=[task])
        return new_event(payload, producer="warehouse_service", key=order_id)
    if event_type == "shipments.released":
        task = w.ReleasedTask(shipment_id=sid, order_id=order_id, hold_id="HOLD-1")
        payload = w.ShipmentsReleased(warehouse_id=WH, stop_id="STOP-1", tasks=[task])
        return new_event(payload, producer="warehouse_service", key=order_id)
    return new_event(AFTERSALES[event_type](), producer="aftersales_service", order_id=order_id)


class Feed:
    """The consumer's idempotent handler, called in-process, plus the reads the tests need."""

    def __init__(self, app, client):
        self.rt, self.client = app.state.runtime, client
        self.run = idempotent(CONSUMER, lambda: OrderUnitOfWork(self.rt), dispatch)

    async def __call__(self, *envs: Envelope) -> None:
        for env in envs:
            await self.run(env)  # raises if the handler does

    async def anomalies(self, **params) -> list[dict]:
        r = await self.client.get("/anomalies", params=params, headers=CLERK)
        assert r.status_code == 200, r.text
        return r.json()

    async def seen(self, env: Envelope) -> bool:
        async with self.rt.db.reader() as s:
            return await self.rt.inbox.seen(s, CONSUMER, env.event_id)

    async def order(self, order_id: str) -> dict:
        return (await self.client.get(f"/orders/{order_id}", headers=CLERK)).json()

    async def new_order(self) -> str:
        r = await post_generic(self.client, "/webhooks/generic/orders", generic_order())
        return r.json()["order_id"]

    async def submitted(self) -> str:
        order_id = await self.new_order()
        r = await self.client.post(
            f"/orders/{order_id}/review", json={"approve": True}, headers=CLERK
        )
        assert r.status_code == 200, r.text
        r = await self.client.post(
            f"/orders/{order_id}/submit", json={"warehouse_id": WH}, headers=CLERK
        )
        assert r.status_code == 200, r.text
        return order_id

    async def cancelled_in_warehouse(self) -> str:
        """Submitted, cancelled by CS, the shipment withdrawn: `cancelled`."""
        order_id = await self.submitted()
        r = await self.client.post(f"/orders/{order_id}/cancel", json={"reason": "r"}, headers=CS)
        assert r.status_code == 202, r.text
        await self(event_for("shipment.withdrawn", order_id))
        assert (await self.order(order_id))["stage"] == "cancelled"
        return order_id

    async def shipped(self) -> str:
        order_id = await self.submitted()
        for kind in ("allocated", "labelled", "packed", "shipped"):
            await self(event_for(f"shipment.{kind}", order_id))
        assert (await self.order(order_id))["stage"] == "shipped"
        return order_id


@pytest.fixture
async def feed(order_settings, clock):
    """The app's schema, seed and routes without its lifespan: no relay and no consumer
    (this test is the consumer), so each test starts and stops in milliseconds."""
    app = create_app(order_settings, clock=clock)
    rt = app.state.runtime
    await rt.db.create_schema(metadata)
    await seed_development(app.state.deps)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield Feed(app, client)
    await rt.db.dispose()


async def assert_recorded_once(feed: Feed, env: Envelope, order_id: str, kind: str) -> dict:
    """The anomaly is listed, the inbox is marked, a redelivery adds nothing."""
    found = await feed.anomalies(order_id=order_id)
    assert [(x["kind"], x["event_type"], x["event_id"]) for x in found] == [
        (kind, env.type, env.event_id)
    ], found
    assert found[0]["reason"] and found[0]["recorded_at"]
    assert await feed.seen(env)
    before = await feed.order(order_id)
    await feed(env)  # redelivered
    assert await feed.anomalies(order_id=order_id) == found
    assert await feed.order(order_id) == before
    return found[0]


@pytest.mark.parametrize("event_type", EVERY_TYPE)
async def test_event_for_an_unknown_order_is_an_anomaly(feed, event_type):
    env = event_for(event_type, "ORD-GHOST")
    await feed(env)
    found = await feed.anomalies(kind="unknown_order")
    assert [(x["event_id"], x["order_id"]) for x in found] == [(env.event_id, "ORD-GHOST")]
    assert found[0]["event_type"] == event_type
    assert await feed.seen(env)
    await feed(env)  # redelivered: nothing more
    assert len(await feed.anomalies()) == 1
    # the consumer goes on: the next event, for a known order, applies
    order_id = await feed.submitted()
    await feed(event_for("shipment.allocated", order_id))
    assert (await feed.order(order_id))["stage"] == "allocated"


@pytest.mark.parametrize(
    "event_type",
    [*(f"shipment.{k}" for k in SHIPMENT_KINDS), "shipments.held", "shipments.released"],
)
async def test_warehouse_event_for_an_order_still_synced_is_an_anomaly(feed, event_type):
    order_id = await feed.new_order()  # synced: it has no shipment yet
    env = event_for(event_type, order_id)
    await feed(env)
    await assert_recorded_once(feed, env, order_id, "unknown_shipment")
    order = await feed.order(order_id)
    assert order["stage"] == "synced" and order["anomalies"][0]["kind"] == "unknown_shipment"


STAGE_CASES = {
    # event type: (how the order got there, kind recorded)
    "shipment.queued": ("cancelled_in_warehouse", "event_after_withdrawal"),
    "shipment.allocated": ("cancelled_in_warehouse", "event_after_withdrawal"),
    "shipment.labelled": ("cancelled_in_warehouse", "event_after_withdrawal"),
    "shipment.packed": ("cancelled_in_warehouse", "event_after_withdrawal"),
    "shipment.shipped": ("cancelled_in_warehouse", "event_after_withdrawal"),
    "shipment.out_of_stock": ("shipped", "out_of_stock_late"),
    "shipment.held": ("cancelled_in_warehouse", "hold_after_close"),
    "shipments.held": ("shipped", "hold_after_close"),
    "shipment.edit_applied": ("submitted", "unexpected_edit_answer"),
    "shipment.edit_rejected": ("submitted", "unexpected_edit_answer"),
    "shipment.withdrawn": ("shipped", "event_after_shipping"),
    "shipment.interception_pending": ("submitted", "unexpected_cancel_answer"),
    "shipment.intercepted": ("shipped", "event_after_shipping"),
    "shipment.interception_missed": ("submitted", "unexpected_cancel_answer"),
    "shipment.lines_removed": ("submitted", "unexpected_line_removal_answer"),
    "shipment.line_removal_pending": ("submitted", "unexpected_line_removal_answer"),
    "shipment.line_removal_missed": ("submitted", "unexpected_line_removal_answer"),
    "shipment.address_changed": ("submitted", "unexpected_edit_answer"),
    "shipment.address_change_missed": ("submitted", "unexpected_edit_answer"),
    "aftersales.cancel_requested": ("shipped", "aftersales_cancel_refused"),
    "return.opened": ("submitted", "return_unexpected"),
    "return.received": ("shipped", "return_unexpected"),
}


@pytest.mark.parametrize("event_type", sorted(STAGE_CASES))
async def test_event_its_stage_makes_impossible_is_an_anomaly(feed, event_type):
    setup, kind = STAGE_CASES[event_type]
    order_id = await getattr(feed, setup)()
    before = await feed.order(order_id)
    env = event_for(event_type, order_id)
    await feed(env)
    await assert_recorded_once(feed, env, order_id, kind)
    after = await feed.order(order_id)
    assert after["stage"] == before["stage"]
    assert [s["status"] for s in after["shipments"]] == [s["status"] for s in before["shipments"]]
    assert after["anomalies"][-1]["kind"] == kind


async def test_the_stage_never_makes_these_impossible(feed):
    """`shipment.released` (a lift may outlive a withdrawal), `shipments.released`,
    `refund.issued` and `refund.refused` are facts at any stage: applied, no anomaly."""
    order_id = await feed.cancelled_in_warehouse()
    for event_type in ("shipment.released", "shipments.released", "refund.issued"):
        await feed(event_for(event_type, order_id))
    await feed(event_for("refund.refused", order_id))
    assert await feed.anomalies() == []


async def test_a_cancel_request_while_a_cancel_is_under_way_is_no_anomaly(feed):
    """After-sales asks to cancel an order already intercepting: that cancel answers the
    refund too, so the refusal is only noted on the timeline."""
    order_id = await feed.submitted()
    await feed(event_for("shipment.allocated", order_id))
    r = await feed.client.post(f"/orders/{order_id}/cancel", json={"reason": "r"}, headers=CS)
    assert r.json()["stage"] == "intercepting", r.text
    await feed(event_for("aftersales.cancel_requested", order_id))
    assert await feed.anomalies() == []
    r = await feed.client.get(f"/orders/{order_id}/timeline", headers=CLERK)
    assert "aftersales_cancel_refused" in [e["kind"] for e in r.json()["entries"]]


async def test_a_rule_that_refuses_an_event_stores_nothing_of_it(feed, monkeypatch):
    """Safety net: a domain error raised while reacting is an anomaly, the order unchanged."""
    from order_service.domain.errors import IllegalTransition
    from order_service.domain.order import Order

    order_id = await feed.submitted()
    before = await feed.order(order_id)

    def refuse(self, *args):
        self.stage = "mangled"
        raise IllegalTransition("no such step", rule="no_such_transition")

    monkeypatch.setattr(Order, "on_shipment_event", refuse)
    env = event_for("shipment.allocated", order_id)
    await feed(env)
    monkeypatch.undo()
    found = await assert_recorded_once(feed, env, order_id, "illegal_transition")
    assert found["reason"] == "no such step"
    assert await feed.order(order_id) == before


async def test_anomalies_route_bounds_and_roles(feed):
    await feed(event_for("shipment.packed", "ORD-GHOST"))
    c = feed.client
    assert (await c.get("/anomalies", params={"limit": 0}, headers=CLERK)).status_code == 422
    assert (await c.get("/anomalies", params={"limit": 1001}, headers=CLERK)).status_code == 422
    r = await c.get("/anomalies", params={"kind": "x" * 61}, headers=CLERK)
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"
    assert (await c.get("/anomalies")).status_code == 401
    assert (await c.get("/anomalies", headers=CS)).status_code == 403
    for key in ("dev-ops", "dev-admin"):
        assert len((await c.get("/anomalies", headers=bearer(key))).json()) == 1
    assert await feed.anomalies(kind="unknown_shipment") == []
    assert len(await feed.anomalies(event_type="shipment.packed", limit=1)) == 1


@pytest.mark.broker
async def test_through_the_broker_the_consumer_records_acks_and_goes_on(client, order_settings):
    """An undecodable message is dead-lettered; an event for an unknown order is an
    anomaly and acknowledged; the next event on the same partition is applied."""
    r = await post_generic(client, "/webhooks/generic/orders", generic_order())
    order_id = r.json()["order_id"]
    await client.post(f"/orders/{order_id}/review", json={"approve": True}, headers=CLERK)
    await client.post(f"/orders/{order_id}/submit", json={"warehouse_id": WH}, headers=CLERK)
    ghost = event_for("shipment.packed", "ORD-GHOST")
    nxt = event_for("shipment.allocated", order_id)
    sent = await send_raw(
        order_settings, topics.WAREHOUSE, order_id, [b"not an event", ghost.encode(), nxt.encode()]
    )

    async def stage():
        return (await client.get(f"/orders/{order_id}", headers=CLERK)).json()["stage"]

    await wait_until(stage, expect="allocated", message="the next event applied")
    found = (await client.get("/anomalies", headers=CLERK)).json()
    assert [(x["kind"], x["event_id"]) for x in found] == [("unknown_order", ghost.event_id)]
    await wait_until(
        lambda: committed_past(order_settings, CONSUMER, sent), message="offsets committed"
    )
    dead = await dead_letters(order_settings)
    assert [d["offset"] for d in dead] == [sent[0].offset]  # only the undecodable one
