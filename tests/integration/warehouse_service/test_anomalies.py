"""Consumers never raise (SPEC §5): every event type warehouse_service consumes, about a
shipment, warehouse or stop it does not know, or at a step that makes it impossible, is
recorded (listed by `GET /anomalies`) or answered, with the inbox marked in the same
transaction; a redelivery changes nothing. In-process through the consumers' own handlers."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from shared import topics
from shared.clock import ManualClock
from shared.envelope import Envelope, new_event
from shared.events import orders as ev
from shared.events.stops import StopAcknowledged, StopLifted
from shared.unit_of_work import idempotent
from tests.integration.warehouse_service.support import emitted, submitted
from tests.support import bearer, running, wait_until
from tests.support.acks import committed_past, dead_letters, send_raw
from warehouse_service.adapters import tables
from warehouse_service.app import create_app
from warehouse_service.entrypoints.consumers import ORDERS_CONSUMER, broadcast_consumer_name
from warehouse_service.handlers.inventory import seed_dev_stock
from warehouse_service.handlers.orders import order_events
from warehouse_service.handlers.stops import broadcast_events
from warehouse_service.handlers.warehouses import seed_dev_warehouses

OPS, CLERK = bearer("dev-ops"), bearer("dev-clerk")
WH = "WH-OWN-1"
SCANNER = bearer(f"dev-scanner-{WH}")


class Feed:
    """Both consumers' idempotent handlers, called in-process, and the reads tests need."""

    def __init__(self, app, client):
        self.app, self.client = app, client
        self.deps, self.rt = app.state.deps, app.state.runtime
        self.stops_consumer = broadcast_consumer_name(self.deps.instance)
        self.orders = idempotent(ORDERS_CONSUMER, self.deps.uow, order_events(self.deps))
        self.stops = idempotent(self.stops_consumer, self.deps.uow, broadcast_events(self.deps))

    async def __call__(self, *envs: Envelope) -> None:
        for env in envs:
            run = self.stops if env.type.startswith("stop.") else self.orders
            await run(env)  # raises if the handler does

    async def anomalies(self, **params) -> list[dict]:
        r = await self.client.get("/anomalies", params=params, headers=OPS)
        assert r.status_code == 200, r.text
        return r.json()

    async def seen(self, env: Envelope) -> bool:
        consumer = self.stops_consumer if env.type.startswith("stop.") else ORDERS_CONSUMER
        async with self.rt.db.reader() as s:
            return await self.rt.inbox.seen(s, consumer, env.event_id)

    async def task(self, shipment_id: str) -> dict | None:
        r = await self.client.get(f"/shipments/{shipment_id}", headers=OPS)
        return r.json() if r.status_code == 200 else None

    async def queued(self) -> Envelope:
        env = submitted(WH)
        await self(env)
        return env

    async def shipped(self) -> Envelope:
        env = await self.queued()
        sid, c = env.payload["shipment_id"], self.client
        steps = [
            (f"/warehouses/{WH}/imports", {"shipment_id": sid}),
            (f"/shipments/{sid}/label", {"carrier": "SF"}),
            (f"/shipments/{sid}/pack", {"scanned": ["SKU-1"], "weight_grams": 100}),
            (f"/shipments/{sid}/ship", None),
        ]
        for path, body in steps:
            r = await c.post(path, json=body, headers=SCANNER)
            assert r.status_code == 200, (path, r.text)
        assert (await self.task(sid))["status"] == "shipped"
        return env


@pytest.fixture
async def feed(make_settings):
    """Schema, seed and routes without the lifespan (no relay, no consumer: the test is)."""
    app = create_app(
        make_settings("warehouse"), clock=ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    )
    rt = app.state.runtime
    await rt.db.create_schema(tables.metadata)
    async with app.state.deps.uow() as uow:
        await uow.stops.ensure_guard()
        await uow.commit()
    await seed_dev_warehouses(app.state.deps)
    await seed_dev_stock(app.state.deps)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield Feed(app, client)
    await rt.db.dispose()


def request(kind: str, order_id: str, shipment_id: str) -> Envelope:
    payload = {
        "order.edit_requested": lambda: ev.EditRequested(
            shipment_id=shipment_id, request_id="R-1", note="n"
        ),
        "order.withdraw_requested": lambda: ev.WithdrawRequested(
            shipment_id=shipment_id, request_id="R-1", reason="r"
        ),
        "order.intercept_requested": lambda: ev.InterceptRequested(
            shipment_id=shipment_id, request_id="R-1", reason="r"
        ),
        "order.line_removal_requested": lambda: ev.LineRemovalRequested(
            shipment_id=shipment_id,
            request_id="R-1",
            reason="r",
            lines=[ev.LineQty(sku="SKU-1", qty=1)],
        ),
        "order.address_change_requested": lambda: ev.AddressChangeRequested(
            shipment_id=shipment_id,
            request_id="R-1",
            address={"name": "n", "phone": "1", "province": "p", "city": "c", "line1": "l"},
        ),
    }[kind]()
    return new_event(payload, producer="order_service", order_id=order_id)


def stop_event(kind: str, stop_id: str) -> Envelope:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    payload = (
        StopLifted(stop_id=stop_id, lifted_by="ops", lifted_at=at)
        if kind == "stop.lifted"
        else StopAcknowledged(
            stop_id=stop_id, warehouse_id=WH, instance_id="other", held_count=0, already_shipped=[]
        )
    )
    return new_event(payload, producer="warehouse_service", key=stop_id)


async def assert_recorded_once(feed: Feed, env: Envelope, kind: str) -> dict:
    found = await feed.anomalies(event_type=env.type)
    assert [(x["kind"], x["event_id"]) for x in found] == [(kind, env.event_id)], found
    assert found[0]["reason"] and found[0]["recorded_at"]
    assert await feed.seen(env)
    outbox = len(await emitted(feed.app))
    await feed(env)  # redelivered: nothing more
    assert await feed.anomalies(event_type=env.type) == found
    assert len(await emitted(feed.app)) == outbox
    return found[0]


REQUESTS = [
    "order.edit_requested",
    "order.withdraw_requested",
    "order.intercept_requested",
    "order.line_removal_requested",
    "order.address_change_requested",
]


@pytest.mark.parametrize("event_type", REQUESTS)
async def test_request_for_an_unknown_shipment_is_an_anomaly(feed, event_type):
    env = request(event_type, "ORD-GHOST", "ORD-GHOST-S1")
    await feed(env)
    found = await assert_recorded_once(feed, env, "unknown_shipment")
    assert (found["order_id"], found["shipment_id"]) == ("ORD-GHOST", "ORD-GHOST-S1")
    answers = [e.type for e in await emitted(feed.app)]
    if event_type == "order.edit_requested":  # the order service hears the edit cannot be
        assert "shipment.edit_rejected" in answers
    if event_type == "order.address_change_requested":
        assert "shipment.address_change_missed" in answers
    # the consumer goes on: the next event is applied
    nxt = await feed.queued()
    assert (await feed.task(nxt.payload["shipment_id"]))["status"] == "queued"


async def test_submitted_to_an_unknown_warehouse_is_queued_and_an_anomaly(feed):
    env = submitted("WH-NOWHERE")
    await feed(env)
    found = await assert_recorded_once(feed, env, "unknown_warehouse")
    assert found["shipment_id"] == env.payload["shipment_id"]
    assert (await feed.task(env.payload["shipment_id"]))["status"] == "queued"


async def test_a_second_submission_of_a_shipment_is_an_anomaly_and_changes_nothing(feed):
    first = await feed.shipped()
    sid = first.payload["shipment_id"]
    again = submitted("WH-DS-1", order_id=first.order_id)  # same shipment id, new event
    assert again.payload["shipment_id"] == sid
    before = await feed.task(sid)
    await feed(again)
    await assert_recorded_once(feed, again, "duplicate_shipment")
    assert await feed.task(sid) == before


@pytest.mark.parametrize("event_type", ["stop.lifted", "stop.acknowledged"])
async def test_stop_event_for_an_unknown_stop_is_an_anomaly(feed, event_type):
    env = stop_event(event_type, "STOP-GHOST")
    await feed(env)
    await assert_recorded_once(feed, env, "unknown_stop")
    r = await feed.client.get("/stop-shipments/STOP-GHOST", headers=OPS)
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("event_type", "answer"),
    [
        ("order.edit_requested", "shipment.edit_rejected"),
        ("order.withdraw_requested", "shipment.interception_missed"),
        ("order.intercept_requested", "shipment.interception_missed"),
        ("order.line_removal_requested", "shipment.line_removal_missed"),
        ("order.address_change_requested", "shipment.address_change_missed"),
    ],
)
async def test_request_after_shipping_is_answered_not_raised(feed, event_type, answer):
    """A request that reaches a parcel already gone is the protocol's late case: the
    warehouse answers it (the order service decides), records no anomaly, raises nothing."""
    first = await feed.shipped()
    sid = first.payload["shipment_id"]
    env = request(event_type, first.order_id, sid)
    await feed(env)
    assert await feed.seen(env)
    assert (await feed.task(sid))["status"] == "shipped"
    answered = [e for e in await emitted(feed.app) if e.causation_id == env.event_id]
    assert [e.type for e in answered] == [answer]
    await feed(env)  # redelivered: not answered twice
    assert [e for e in await emitted(feed.app) if e.causation_id == env.event_id] == answered
    assert await feed.anomalies() == []


async def test_anomalies_route_bounds_and_roles(feed):
    await feed(request("order.withdraw_requested", "ORD-GHOST", "ORD-GHOST-S1"))
    c = feed.client
    assert (await c.get("/anomalies", params={"limit": 1001}, headers=OPS)).status_code == 422
    assert (await c.get("/anomalies", params={"limit": 0}, headers=OPS)).status_code == 422
    assert (await c.get("/anomalies")).status_code == 401
    assert (await c.get("/anomalies", headers=SCANNER)).status_code == 403
    assert len((await c.get("/anomalies", headers=CLERK)).json()) == 1
    assert len(await feed.anomalies(kind="unknown_shipment", order_id="ORD-GHOST")) == 1
    assert await feed.anomalies(kind="unknown_stop") == []


@pytest.mark.broker
async def test_through_the_broker_the_consumer_records_acks_and_goes_on(make_settings):
    """An undecodable message is dead-lettered; a request for an unknown shipment is an
    anomaly and acknowledged; the next event on the same partition is applied."""
    settings = make_settings("warehouse")
    app = create_app(settings, clock=ManualClock(datetime(2026, 1, 1, tzinfo=UTC)))
    async with running(app) as http:
        nxt = submitted(WH)
        ghost = request("order.withdraw_requested", nxt.order_id, "SHP-GHOST")
        values = [b"not an event", ghost.encode(), nxt.encode()]
        sent = await send_raw(settings, topics.ORDERS, nxt.order_id, values)

        async def status():
            r = await http.get(f"/shipments/{nxt.payload['shipment_id']}", headers=OPS)
            return r.json()["status"] if r.status_code == 200 else None

        await wait_until(status, expect="queued", message="the next event applied")
        found = (await http.get("/anomalies", headers=OPS)).json()
        assert [(x["kind"], x["event_id"]) for x in found] == [("unknown_shipment", ghost.event_id)]
        await wait_until(
            lambda: committed_past(settings, ORDERS_CONSUMER, sent), message="offsets committed"
        )
        dead = await dead_letters(settings)
        assert [d["offset"] for d in dead] == [sent[0].offset]  # only the undecodable one


@pytest.mark.broker
async def test_an_event_from_a_newer_producer_with_fields_unknown_here_is_applied(make_settings):
    """A rolling upgrade: `order.submitted` carries fields this warehouse does not know yet,
    in the envelope, the payload and a line. The task is created with what it knows;
    nothing is dead-lettered."""
    settings = make_settings("warehouse")
    app = create_app(settings, clock=ManualClock(datetime(2026, 1, 1, tzinfo=UTC)))
    async with running(app) as http:
        newer = json.loads(submitted(WH).encode())
        newer["trace"] = {"span": "s-1"}
        newer["payload"]["channel"] = "live_stream"
        newer["payload"]["lines"][0]["bundle_id"] = "B-1"
        newer["payload"]["address"]["geo"] = {"lat": 30.2, "lon": 120.1}
        sent = await send_raw(
            settings, topics.ORDERS, newer["order_id"], [json.dumps(newer).encode()]
        )

        async def task():
            r = await http.get(f"/shipments/{newer['payload']['shipment_id']}", headers=OPS)
            return r.json() if r.status_code == 200 else None

        found = await wait_until(task, message="the newer event applied")
        assert found["status"] == "queued" and found["lines"][0]["sku"] == "SKU-1"
        assert "geo" not in found["address"] and "bundle_id" not in found["lines"][0]
        await wait_until(
            lambda: committed_past(settings, ORDERS_CONSUMER, sent), message="offsets committed"
        )
        assert await dead_letters(settings) == []
