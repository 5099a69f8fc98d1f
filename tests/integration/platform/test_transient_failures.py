"""Transient is not poison: a consumer waits out a database outage instead of dead-lettering
(SPEC §5: a database restarted loses nothing and needs no one to intervene)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from types import SimpleNamespace

import pytest
from fastapi import APIRouter, Request
from prometheus_client import REGISTRY

from shared.db import Database
from shared.service import create_service_app
from tests.integration.platform import toy
from tests.support import running, wait_until

pytestmark = pytest.mark.broker


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Outage:
    """While on, the wrapped handler fails the way a lost database does: a real
    connection refused (a connect to a port nothing listens on)."""

    def __init__(self) -> None:
        self.until = 0.0
        self.refused = 0

    def start(self, seconds: float) -> None:
        self.until = time.monotonic() + seconds

    def wrap(self, handler):
        async def run(envelope):
            if time.monotonic() < self.until:
                self.refused += 1
                _, writer = await asyncio.open_connection("127.0.0.1", _free_port())
                writer.close()  # not reached: the connect is refused
            await handler(envelope)

        return run


def toy_app(settings, wrap):
    """The toy service with its consumer's handler wrapped by `wrap`."""
    router = APIRouter()

    @router.post("/steps/{order_id}/{seq}")
    async def step(order_id: str, seq: int, request: Request) -> dict:
        await toy.record_step(request.app.state.runtime, order_id, seq)
        return {"ok": True}

    def consumers(rt):
        consumer = toy.consumer(rt)
        consumer.handler = wrap(consumer.handler)
        consumer.batch_handler = None  # every event through the wrapped handler
        return [consumer]

    return create_service_app(
        title="toy",
        runtime=toy.runtime(settings),
        metadata=toy.metadata,
        routers=[router],
        consumers=consumers,
    )


def sample(name: str, consumer: str = "toy") -> float:
    return REGISTRY.get_sample_value(name, {"consumer": consumer}) or 0


async def _readyz(client):
    r = await client.get("/readyz")
    return r.status_code, r.json()


async def test_a_database_outage_holds_the_event_until_the_database_is_back(make_settings):
    outage = Outage()
    app = toy_app(make_settings("order"), outage.wrap)
    rt = app.state.runtime
    dead_before = sample("dead_letters_total")
    transient_before = sample("consumer_transient_failures_total")
    async with running(app) as client:
        await wait_until(lambda: _ready(client), timeout=30, message="/readyz 200")
        assert (await client.post("/steps/o-1/1")).status_code == 200
        await wait_until(lambda: toy.count(rt), expect=1, message="step 1 applied")

        outage.start(4.0)  # a database restart of a few seconds
        assert (await client.post("/steps/o-1/2")).status_code == 200
        assert (await client.post("/steps/o-1/3")).status_code == 200  # same partition
        status, body = await _degraded(client)
        assert status == 503
        assert body["ready"] is False
        (reason,) = body["retrying"]
        assert reason.startswith("consumer toy: order.stage_changed")
        assert "ConnectionRefusedError" in reason
        assert sample("consumer_retrying") == 1
        assert await toy.count(rt) == 1  # step 3 did not overtake step 2

        await wait_until(lambda: toy.count(rt), expect=3, timeout=30, message="2 and 3 applied")
        assert outage.refused >= 3  # it really failed, more than the old 3 attempts' worth
        assert await toy.count(rt, toy.applied.c.in_order == 1) == 3
        await wait_until(lambda: _ready(client), message="/readyz ready again")
        assert sample("consumer_retrying") == 0
        assert sample("consumer_transient_failures_total") - transient_before >= 3
        assert sample("dead_letters_total") == dead_before


async def _degraded(client):
    async def degraded():
        status, body = await _readyz(client)
        return (status, body) if body.get("retrying") else None

    return await wait_until(degraded, timeout=10, message="/readyz naming the retrying consumer")


async def _ready(client) -> bool:
    return (await client.get("/readyz")).status_code == 200


class CuttableProxy:
    """A loopback TCP proxy to PostgreSQL that can be cut: every open connection reset
    and new ones refused, as a database restart does, until it is restored."""

    def __init__(self, target_port: int):
        self.port = _free_port()
        self.target_port = target_port
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def restore(self) -> None:
        self._server = await asyncio.start_server(self._pipe, "127.0.0.1", self.port)

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for w in list(self._writers):
            with contextlib.suppress(Exception):
                w.transport.abort()
        self._writers.clear()

    async def _pipe(self, reader, writer) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers |= {writer, up_writer}
        await asyncio.gather(_copy(reader, up_writer), _copy(up_reader, writer))


async def _copy(reader, writer) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def test_postgresql_cut_off_for_seconds_loses_nothing(make_settings, databases):
    if not databases.postgres:
        pytest.skip("a database reached over the network: the production shape")
    settings = make_settings("order")
    url = settings.order_database_url
    host_port = url.split("@", 1)[1].split("/", 1)[0]
    proxy = CuttableProxy(int(host_port.rsplit(":", 1)[1]))
    await proxy.restore()
    proxied = url.replace(host_port, f"127.0.0.1:{proxy.port}")
    app = toy_app(make_settings("order", ORDER_DATABASE_URL=proxied), lambda h: h)
    rt = app.state.runtime
    direct = SimpleNamespace(db=Database(url))  # counts without the proxy
    dead_before = sample("dead_letters_total")
    try:
        async with running(app) as client:
            await wait_until(lambda: _ready(client), timeout=30, message="/readyz 200")
            assert (await client.post("/steps/pg-1/1")).status_code == 200
            await wait_until(lambda: toy.count(direct), expect=1, message="step 1 applied")
            # The event is published, then the database goes away under the consumer.
            consumer = rt.consumers[0]
            inner = consumer.handler
            cut_done = asyncio.Event()

            async def cut_first(envelope):
                if not cut_done.is_set():
                    cut_done.set()
                    await proxy.cut()
                await inner(envelope)

            consumer.handler = cut_first  # (toy_app took the batch handler away)
            await toy.record_step(rt, "pg-1", 2)
            await wait_until(cut_done.is_set, message="the consumer got step 2")
            _, body = await _degraded(client)
            assert body["retrying"][0].startswith("consumer toy: order.stage_changed")
            await asyncio.sleep(3)  # a ~3 s restart (the old consumer gave up in 0.3 s)
            assert await toy.count(direct) == 1
            await proxy.restore()
            await wait_until(lambda: toy.count(direct), expect=2, timeout=30, message="step 2")
            await wait_until(lambda: _ready(client), message="/readyz ready again")
            assert sample("dead_letters_total") == dead_before
    finally:
        await proxy.cut()
        await direct.db.dispose()
