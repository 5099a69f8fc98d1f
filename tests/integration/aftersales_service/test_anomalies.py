"""Consumers never raise (SPEC §5): every event type the after-sales projection consumes,
for an order it does not know and at a stage that makes it impossible, is an anomaly
listed by `GET /anomalies` (or, for warehouse events that overtake the order on their own
topic, lands on a placeholder and applies later); the inbox is marked in the same
transaction and a redelivery changes nothing. In-process through the consumer's handler."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from aftersales_service.adapters import tables as t
from aftersales_service.app import _build_rollup, _seed, create_app
from aftersales_service.entrypoints.consumers import PROJECTION
from shared import topics
from shared.clock import ManualClock
from shared.envelope import Envelope, new_event
from shared.events.warehouse import WarehouseRegistered
from tests.integration.aftersales_service import events as ev
from tests.integration.aftersales_service.conftest import AGENT, OPS, Harness
from tests.support import bearer, wait_until
from tests.support.acks import committed_past, dead_letters, send_raw

LINES = [ev.line("SKU-1", 1, "59.00")]
AT = ev.T0 + timedelta(hours=2)


@pytest.fixture
async def h(make_settings):
    """Schema, seed and routes without the lifespan (no relay, no consumer: the test is)."""
    clock = ManualClock(ev.T0)
    app = create_app(make_settings("aftersales"), clock=clock)
    rt = app.state.runtime
    await rt.db.create_schema(t.metadata)
    await _seed(app.state.deps)
    await _build_rollup(rt)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield Harness(app, client, clock)
    await rt.db.dispose()


async def anomalies(h: Harness, **params) -> list[dict]:
    r = await h.client.get("/anomalies", params=params, headers=OPS)
    assert r.status_code == 200, r.text
    return r.json()


async def seen(h: Harness, env: Envelope) -> bool:
    async with h.rt.db.reader() as s:
        return await h.rt.inbox.seen(s, PROJECTION, env.event_id)


async def projected(h: Harness, order_id: str) -> int:
    async with h.rt.db.reader() as s:
        q = select(func.count()).select_from(t.orders).where(t.orders.c.order_id == order_id)
        return (await s.execute(q)).scalar_one()


async def assert_recorded_once(h: Harness, env: Envelope, kind: str) -> dict:
    found = await anomalies(h, event_type=env.type)
    assert [(x["kind"], x["event_id"], x["order_id"]) for x in found] == [
        (kind, env.event_id, env.order_id)
    ], found
    assert found[0]["reason"] and found[0]["recorded_at"]
    assert await seen(h, env)
    outbox = len(await h.emitted())
    await h.feed(env)  # redelivered: nothing more
    assert await anomalies(h, event_type=env.type) == found
    assert len(await h.emitted()) == outbox
    return found[0]


ORDER_EVENTS = {
    "order.stage_changed": lambda o: ev.stage(o, "reviewed"),
    "order.submitted": lambda o: ev.submitted(o, f"S-{o}", "WH-OWN-1", LINES),
    "order.cancelled": lambda o: ev.cancelled(o, "59.00"),
    "order.delivered": lambda o: ev.delivered(o, AT),
    "order.refund_requested": lambda o: ev.refund_requested(o, "PR-1", "59.00"),
    "order.refund_decided": lambda o: ev.decided(o, "RF-GHOST", "void"),
}
WAREHOUSE_EVENTS = {
    "shipment.shipped": lambda o: ev.shipped(o, f"S-{o}", "WH-OWN-1", AT),
    "shipment.out_of_stock": lambda o: ev.out_of_stock(o, f"S-{o}", "WH-OWN-1", ["SKU-1"]),
    "shipment.intercepted": lambda o: ev.intercepted(o, f"S-{o}", "WH-OWN-1"),
    "shipment.interception_missed": lambda o: ev.missed(o, f"S-{o}", "WH-OWN-1"),
}


@pytest.mark.parametrize("event_type", sorted(ORDER_EVENTS))
async def test_order_event_for_an_unknown_order_is_an_anomaly(h, event_type):
    env = ORDER_EVENTS[event_type]("O-GHOST")
    await h.feed(env)
    await assert_recorded_once(h, env, "unknown_order")
    assert await projected(h, "O-GHOST") == 0  # not applied: no placeholder either
    assert await h.emitted("refund.issued") == []
    if event_type == "order.refund_requested":  # the platform hears it is refused
        assert [e.payload["code"] for e in await h.emitted("refund.refused")] == ["order_unknown"]
    # the consumer goes on: the next event applies
    await h.feed(ev.synced("O-2", LINES), ev.cancelled("O-2", "59.00"))
    assert [e.payload["amount"] for e in await h.emitted("refund.issued")] == ["59.00"]


@pytest.mark.parametrize("event_type", sorted(WAREHOUSE_EVENTS))
async def test_warehouse_event_before_the_order_waits_on_a_placeholder(h, event_type):
    """Not an anomaly: the warehouse topic may overtake the orders topic; the event lands
    on a placeholder and the order joins it when `order.synced` arrives."""
    env = WAREHOUSE_EVENTS[event_type]("O-1")
    await h.feed(env)
    assert await seen(h, env)
    assert await anomalies(h) == []
    assert await projected(h, "O-1") == 1
    await h.feed(env, ev.synced("O-1", LINES))
    assert await anomalies(h) == [] and await projected(h, "O-1") == 1


@pytest.mark.parametrize("event_type", [*sorted(ORDER_EVENTS), *sorted(WAREHOUSE_EVENTS)])
async def test_event_without_an_order_id_is_an_anomaly(h, event_type):
    built = {**ORDER_EVENTS, **WAREHOUSE_EVENTS}[event_type]("O-X")
    env = built.model_copy(update={"order_id": None, "key": "O-X"})
    await h.feed(env)
    await assert_recorded_once(h, env, "unknown_order")


@pytest.mark.parametrize(
    "event_type", ["shipment.shipped", "shipment.interception_missed", "order.delivered"]
)
async def test_parcel_of_a_cancelled_order_is_an_anomaly(h, event_type):
    await h.feed(
        ev.synced("O-1", LINES),
        ev.submitted("O-1", "S-O-1", "WH-OWN-1", LINES),
        ev.stage("O-1", "cancelled", "submitted"),
        ev.cancelled("O-1", "59.00", "withdraw"),
    )
    emitted = len(await h.emitted())
    env = {**ORDER_EVENTS, **WAREHOUSE_EVENTS}[event_type]("O-1")
    await h.feed(env)
    await assert_recorded_once(h, env, "impossible_stage")
    assert len(await h.emitted()) == emitted  # no return case, no refund refusal
    r = await h.client.post("/refunds", json={"order_id": "O-1"}, headers=AGENT)
    assert r.status_code == 409  # already refunded in full; the parcel fact was not applied


async def test_a_second_cancellation_refunds_nothing_and_is_an_anomaly(h):
    await h.feed(ev.synced("O-1", LINES), ev.cancelled("O-1", "59.00"))
    again = ev.cancelled("O-1", "59.00")
    await h.feed(again)
    await assert_recorded_once(h, again, "refused")
    assert [e.payload["amount"] for e in await h.emitted("refund.issued")] == ["59.00"]


async def test_the_stage_never_makes_these_impossible(h):
    """`order.synced` and `warehouse.registered` introduce what they name; a stage change
    or submission is mirrored whatever it says; an out-of-stock or interception may reach
    a cancelled order after its `order.cancelled` (another topic): all applied, no anomaly."""
    registered = WarehouseRegistered(warehouse_id="WH-NEW", kind="own")
    await h.feed(
        ev.synced("O-1", LINES),
        ev.stage("O-1", "cancelled", "submitted"),
        ev.cancelled("O-1", "59.00", "intercept"),
        ev.submitted("O-1", "S-1", "WH-OWN-1", LINES),
        ev.out_of_stock("O-1", "S-1", "WH-OWN-1", ["SKU-1"]),
        ev.intercepted("O-1", "S-1", "WH-OWN-1"),
        new_event(registered, producer="warehouse_service", key="WH-NEW"),
    )
    assert await anomalies(h) == []


async def test_anomalies_route_bounds_and_roles(h):
    await h.feed(ev.cancelled("O-GHOST", "1.00"))
    c = h.client
    assert (await c.get("/anomalies", params={"limit": 1001}, headers=OPS)).status_code == 422
    assert (await c.get("/anomalies", params={"limit": 0}, headers=OPS)).status_code == 422
    assert (await c.get("/anomalies")).status_code == 401
    assert (await c.get("/anomalies", headers=bearer("dev-clerk"))).status_code == 403
    for key in ("dev-cs_agent", "dev-cs_supervisor", "dev-admin"):
        assert len((await c.get("/anomalies", headers=bearer(key))).json()) == 1
    assert len(await anomalies(h, kind="unknown_order", order_id="O-GHOST")) == 1
    assert await anomalies(h, kind="impossible_stage") == []


@pytest.mark.broker
async def test_through_the_broker_the_consumer_records_acks_and_goes_on(harness):
    """An undecodable message is dead-lettered; an event for an unknown order is an
    anomaly and acknowledged; the next event on the same partition is applied."""
    settings = harness.rt.settings
    ghost, nxt = ev.cancelled("O-GHOST", "1.00"), ev.synced("O-1", LINES)
    values = [b"not an event", ghost.encode(), nxt.encode()]
    sent = await send_raw(settings, topics.ORDERS, "O-1", values)
    await wait_until(lambda: projected(harness, "O-1"), expect=1, message="next event applied")
    found = await anomalies(harness)
    assert [(x["kind"], x["event_id"]) for x in found] == [("unknown_order", ghost.event_id)]
    await wait_until(
        lambda: committed_past(settings, PROJECTION, sent), message="offsets committed"
    )
    dead = await dead_letters(settings)
    assert [d["offset"] for d in dead] == [sent[0].offset]  # only the undecodable one
