"""The relay recovers from every producer error by itself (SPEC §5, issue 13).

A scripted producer (fake_producer.py) stands in for aiokafka here, on the real
database; the oversized event goes to the real broker.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from aiokafka.errors import OutOfOrderSequenceNumber
from fastapi import FastAPI
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from shared import topics
from shared.envelope import new_event
from shared.errors import install_error_handlers
from shared.events.orders import OrderStageChanged
from shared.observability import router as ops_router
from shared.parked import router as parked_router
from tests.integration.platform import toy
from tests.integration.platform.fake_producer import HANG, Wire
from tests.support import bearer, wait_until


async def started(rt):
    await rt.db.create_schema(toy.metadata)
    tasks = [asyncio.create_task(rt.bus.run()), asyncio.create_task(rt.relay.run())]
    await rt.bus.wait_connected()
    return tasks


async def stopped(rt, tasks) -> None:
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await rt.bus.stop()
    await rt.db.dispose()


async def unpublished(rt, key: str | None = None) -> int:
    t = toy.tables.outbox
    query = select(func.count()).select_from(t).where(t.c.published_at.is_(None))
    if key is not None:
        query = query.where(t.c.key == key)
    async with rt.db.reader() as s:
        return (await s.execute(query)).scalar_one()


def parked_api(rt) -> httpx.AsyncClient:
    """The operators' routes for parked events, on the toy runtime."""
    app = FastAPI()
    app.state.runtime, app.state.settings = rt, rt.settings
    install_error_handlers(app)
    app.router.routes.extend(parked_router.routes)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def sample(name: str, relay: str) -> float:
    return REGISTRY.get_sample_value(name, {"relay": relay}) or 0


async def test_a_fatal_producer_error_gets_a_fresh_producer_and_loses_no_order(
    make_settings, monkeypatch
):
    # The first producer acknowledges 7 records, then answers every send with
    # OutOfOrderSequenceNumber, as aiokafka did after a Kafka restart; later ones work.
    def behaviour(producer, key, value):
        if producer.index == 0 and producer.sent >= 7:
            return OutOfOrderSequenceNumber()
        return None

    wire = Wire(behaviour)
    wire.install(monkeypatch)
    rt = toy.runtime(make_settings("order", FULFIL_RELAY_BATCH=20))
    restarts = sample("outbox_producer_restarts_total", rt.relay.name)
    tasks = await started(rt)
    orders = [f"ord-{i}" for i in range(4)]
    try:
        for seq in range(1, 11):
            for order in orders:
                await toy.record_step(rt, order, seq)
        await wait_until(lambda: unpublished(rt), expect=0, message="outbox drained")
        assert {o: wire.steps(o) for o in orders} == {o: list(range(1, 11)) for o in orders}
        assert len(wire.producers) >= 2 and wire.producers[0].stopped
        assert sample("outbox_producer_restarts_total", rt.relay.name) > restarts
        assert rt.relay.health()["ok"]
    finally:
        await stopped(rt, tasks)


async def test_a_partition_that_never_answers_holds_back_only_its_keys(make_settings, monkeypatch):
    # Sends for one order's partition never complete (its leader is away); the rest work.
    wire = Wire(lambda producer, key, value: HANG if key == "stuck" else None)
    wire.install(monkeypatch)
    rt = toy.runtime(
        make_settings("order", FULFIL_RELAY_SEND_TIMEOUT_MS=60000, FULFIL_RELAY_STALE_SECONDS=0.5)
    )
    tasks = await started(rt)
    try:
        for seq in range(1, 6):
            for order in ("stuck", "a", "b", "c"):
                await toy.record_step(rt, order, seq)
        await wait_until(lambda: unpublished(rt), expect=5, message="all but the stuck order")
        assert await unpublished(rt, "stuck") == 5
        assert {o: wire.steps(o) for o in "abc"} == {o: [1, 2, 3, 4, 5] for o in "abc"}
        # One event of the stuck order is in flight, never more; /readyz learns of it.
        await wait_until(lambda: not rt.relay.health()["ok"], message="relay reported stale")
    finally:
        await stopped(rt, tasks)


async def test_readyz_reports_a_relay_whose_producer_keeps_failing(make_settings, monkeypatch):
    wire = Wire(lambda producer, key, value: OutOfOrderSequenceNumber())
    wire.install(monkeypatch)
    rt = toy.runtime(make_settings("order", FULFIL_RELAY_STALE_SECONDS=0.3))
    tasks = await started(rt)
    app = FastAPI()
    app.state.runtime, app.state.settings = rt, rt.settings
    app.router.routes.extend(ops_router.routes)
    transport = httpx.ASGITransport(app=app)
    try:
        await toy.record_step(rt, "ord-1", 1)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

            async def status() -> int:
                return (await client.get("/readyz")).status_code

            await wait_until(status, expect=503, message="/readyz 503")
            body = (await client.get("/readyz")).json()
        assert body["database"] and body["broker"]
        assert body["relay"]["ok"] is False and body["relay"]["waiting"] == 1
    finally:
        await stopped(rt, tasks)


@pytest.mark.broker
async def test_an_event_too_large_is_parked_and_holds_back_only_its_order(make_settings):
    rt = toy.runtime(make_settings("order"))
    parked_before = sample("outbox_parked_total", rt.relay.name)
    tasks = await started(rt)

    async def emit(order_id: str, seq: int, stage: str = "s") -> None:
        async with toy.uow(rt) as u:
            payload = OrderStageChanged(stage=stage, previous="p", trigger=str(seq))
            u.emit(topics.ORDERS, new_event(payload, producer="toy", order_id=order_id))
            await u.commit()

    try:
        await emit("big", 1)
        await emit("big", 2, stage="x" * (2 * 1024 * 1024))  # 2 MiB: the broker refuses it
        await emit("big", 3)
        await emit("big", 4)
        for seq in (1, 2, 3):
            await emit("other", seq)
        await wait_until(lambda: unpublished(rt, "other"), expect=0, message="other order sent")
        await wait_until(lambda: rt.relay.parked(), message="the big event parked")
        (parked,) = await rt.relay.parked()
        assert "MessageSizeTooLarge" in parked["error"] and parked["held_back"] == 2
        assert await unpublished(rt, "big") == 3  # the parked one and the two behind it
        assert sample("outbox_parked_total", rt.relay.name) == parked_before + 1
        assert rt.relay.health()["ok"]  # held-back rows are an anomaly, not a stuck relay
        # An operator sees it and gives it up: the order's later events follow, in order.
        async with parked_api(rt) as api:
            ops, clerk = bearer("dev-ops"), bearer("dev-clerk")
            listed = (await api.get("/outbox/parked", headers=ops)).json()
            assert [(p["id"], p["held_back"]) for p in listed] == [(parked["id"], 2)]
            discard = f"/outbox/parked/{parked['id']}/discard"
            assert (await api.post(discard, headers=clerk)).status_code == 403
            assert (await api.post(discard, headers=ops)).json()["outcome"] == "discarded"
            again = await api.post(discard, headers=ops)
            assert again.status_code == 404 and again.json()["error"]["code"] == "not_parked"
        await wait_until(lambda: unpublished(rt, "big"), expect=0, message="big order resumed")
        assert await rt.relay.parked() == []
    finally:
        await stopped(rt, tasks)
