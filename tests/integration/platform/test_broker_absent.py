"""Services start without a broker, say so on /readyz, and lose nothing meanwhile."""

from __future__ import annotations

import socket

import pytest
from fastapi import APIRouter, Request

from shared.service import create_service_app
from tests.integration.platform import toy
from tests.support import running, wait_until
from tests.support.proxy import TcpProxy

pytestmark = pytest.mark.broker


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def toy_app(settings):
    rt = toy.runtime(settings)
    router = APIRouter()

    @router.post("/steps/{order_id}/{seq}")
    async def step(order_id: str, seq: int, request: Request) -> dict:
        await toy.record_step(request.app.state.runtime, order_id, seq)
        return {"ok": True}

    return create_service_app(
        title="toy",
        runtime=rt,
        metadata=toy.metadata,
        routers=[router],
        consumers=lambda r: [toy.consumer(r)],
    )


async def test_services_start_without_a_broker_and_catch_up_when_it_appears(make_settings, broker):
    port = _free_port()  # nothing listens here yet: the broker is "absent"
    app = toy_app(make_settings("order", KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{port}"))
    proxy = TcpProxy(port, broker)
    async with running(app) as client:
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert {k: v for k, v in ready.json().items() if k != "relay"} == {
            "ready": False,
            "database": True,
            "broker": False,
            "consumers": False,
        }
        for seq in (1, 2, 3):  # state changes keep working; their events wait in the outbox
            assert (await client.post(f"/steps/late-order/{seq}")).status_code == 200

        await proxy.start()  # the broker appears
        try:
            await wait_until(lambda: _ready(client), timeout=30, message="/readyz true")
            rt = app.state.runtime
            await wait_until(
                lambda: toy.count(rt),
                expect=3,
                timeout=30,
                message="the 3 events written while the broker was away",
            )
            assert await toy.count(rt, toy.applied.c.in_order == 1) == 3
        finally:
            await proxy.stop()


async def _ready(client) -> bool:
    return (await client.get("/readyz")).status_code == 200
