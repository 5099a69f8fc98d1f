"""Stop-shipment propagation: POST /stop-shipments → the last acknowledgement.

Two warehouse_service instances, each its own process serving HTTP (as issue #4
asks: 2 processes), with their own consumer groups on the broadcast topic, each
serving 10 dropship warehouses with 1,000 queued tasks each. The figure is the
time from the POST on instance A until A reports an acknowledgement from every
one of the 20 warehouses (so every task is held).

    .venv/bin/python -m bench.stop_propagation                 # SQLite files + Tansu
    BENCH_DATABASE_URL=postgresql+asyncpg://... KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 \
        .venv/bin/python -m bench.stop_propagation             # one shared PostgreSQL DB

BENCH_INSTANCES / BENCH_WAREHOUSES (per instance) / BENCH_TASKS (per warehouse) override.
BENCH_REPEATS (default 5) more rounds follow the first: lift, wait until every instance
released, issue a fresh stop; p50/p99 are over all rounds.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime

import httpx
import uvicorn
from sqlalchemy import func, select

from bench.common import broker, command, database_url, drop_tables
from shared.clock import Clock
from shared.db import Database
from shared.settings import Settings
from tests.support import bearer
from warehouse_service.adapters import tables
from warehouse_service.app import create_app
from warehouse_service.domain.shipment import Shipment
from warehouse_service.domain.warehouse import Warehouse
from warehouse_service.handlers.warehouses import register_warehouse

INSTANCES = int(os.environ.get("BENCH_INSTANCES", "2"))
WAREHOUSES = int(os.environ.get("BENCH_WAREHOUSES", "10"))
TASKS = int(os.environ.get("BENCH_TASKS", "1000"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))
OPS = bearer("dev-ops")


def warehouse_ids(instance: int) -> list[str]:
    return [f"BWH-{instance}-{w:02d}" for w in range(WAREHOUSES)]


async def seed(app, instance: int) -> None:
    """Register the warehouses and bulk-insert queued tasks (one transaction)."""
    deps = app.state.deps
    now = datetime.now(UTC)
    for wid in warehouse_ids(instance):
        await register_warehouse(deps, Warehouse(wid, "dropship", f"BSUP-{instance}"))
    async with deps.uow() as uow:
        for wid in warehouse_ids(instance):
            for n in range(TASKS):
                order = f"BO-{wid}-{n}"
                await uow.shipments.add(
                    Shipment(
                        shipment_id=f"S-{order}",
                        order_id=order,
                        warehouse_id=wid,
                        warehouse_kind="dropship",
                        warehouse_supplier=f"BSUP-{instance}",
                        lines=[{"sku": "SKU-7", "qty": 1}],
                        address={"name": "x", "phone": "1"},
                        submitted_at=now,
                    ),
                    now,
                )
        await uow.commit()


async def main() -> None:
    with broker() as (servers, broker_kind):
        prefix = f"bench{uuid.uuid4().hex[:6]}."
        shared_url, db_kind = database_url("warehouse")
        if db_kind == "postgresql":
            await drop_tables(shared_url, tables.metadata)
        urls = [
            shared_url if db_kind == "postgresql" else database_url(f"wh{i}")[0]
            for i in range(INSTANCES)
        ]
        procs, ports = [], []
        try:
            for i, url in enumerate(urls):  # one after the other: they share the schema
                procs.append(spawn(i, url, servers, prefix))
                ports.append(await ready(procs[-1]))
            await run(ports, urls, db_kind, broker_kind)
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait()


def spawn(instance: int, url: str, servers: str, prefix: str) -> subprocess.Popen[str]:
    """One instance in its own process (`serve_instance` below)."""
    args = [sys.executable, "-m", "bench.stop_propagation", "serve", str(instance), url]
    args += [servers, prefix]
    return subprocess.Popen(args, stdout=subprocess.PIPE, text=True)


async def ready(proc: subprocess.Popen[str]) -> int:
    """Wait for the instance's `ready <port>` line (it is seeded and serving)."""
    if proc.stdout is None:
        raise RuntimeError("instance spawned without a stdout pipe")
    line = await asyncio.to_thread(proc.stdout.readline)
    assert line.startswith("ready "), f"instance failed to start: {line!r}"
    return int(line.split()[1])


async def serve_instance(instance: int, url: str, servers: str, prefix: str) -> None:
    """The child: start the app, seed it, listen, say `ready <port>`, serve until SIGTERM."""
    settings = Settings(
        service="warehouse",
        kafka_bootstrap_servers=servers,
        topic_prefix=prefix,
        var_dir=tempfile.mkdtemp(),
        warehouse_database_url=url,
        warehouses=",".join(warehouse_ids(instance)),
        instance_id=f"bench-{instance}",
        relay_idle_ms=50,
    )
    app = create_app(settings, clock=Clock())
    async with app.router.lifespan_context(app):
        await seed(app, instance)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)  # connections queue until uvicorn accepts them
        print(f"ready {sock.getsockname()[1]}", flush=True)
        config = uvicorn.Config(app, lifespan="off", log_level="warning")
        await uvicorn.Server(config).serve(sockets=[sock])


async def run(ports: list[int], urls: list[str], db_kind: str, broker_kind: str) -> None:
    clients = [httpx.AsyncClient(base_url=f"http://127.0.0.1:{p}", timeout=300) for p in ports]
    dbs = [Database(url) for url in dict.fromkeys(urls)]
    try:
        await warm_up(clients[0])
        expected = {w for i in range(len(ports)) for w in warehouse_ids(i)}
        rounds, stop_id = [], ""
        for n in range(1 + REPEATS):
            if stop_id:
                await lift(dbs, clients, stop_id)
            recorded, elapsed, stop_id = await one_stop(clients[0], expected)
            rounds.append(elapsed)
            if n == 0:
                print(
                    f"stop propagation: {len(ports)} instances (processes) x {WAREHOUSES} "
                    f"warehouses x {TASKS} queued tasks ({len(expected) * TASKS} held) on "
                    f"{db_kind} + {broker_kind}: stop recorded in {recorded * 1000:.0f} ms, "
                    f"last acknowledgement after {elapsed:.2f} s"
                )
        ordered = sorted(rounds)
        p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
        print(
            f"over {len(rounds)} stops (lift + fresh stop between): p50 "
            f"{statistics.median(rounds):.2f} s, p99 {p99:.2f} s, max {ordered[-1]:.2f} s "
            f"({', '.join(f'{r:.2f}' for r in rounds)})"
        )
        print(f"command: {command()}")
    finally:
        for c in clients:
            await c.aclose()
        for db in dbs:
            await db.dispose()


async def one_stop(http, expected: set[str]) -> tuple[float, float, str]:
    """Issue a stop on every dropship task; (recorded, last acknowledgement, stop id)."""
    body = {"scope": {"all_dropship": True}, "reason": "bench"}
    started = time.perf_counter()
    r = await http.post("/stop-shipments", json=body, headers=OPS)
    recorded = time.perf_counter() - started
    stop_id = r.json()["stop_id"]
    while True:
        report = (await http.get(f"/stop-shipments/{stop_id}", headers=OPS)).json()
        acked = {a["warehouse_id"]: a for a in report["acknowledgements"]}
        if expected <= set(acked):
            break
        await asyncio.sleep(0.02)
    elapsed = time.perf_counter() - started
    held = sum(acked[w]["held_count"] for w in expected)
    assert held == len(expected) * TASKS, held
    return recorded, elapsed, stop_id


async def lift(dbs, clients, stop_id: str) -> None:
    """Lift, wait until no instance holds anything for it and every outbox is published
    (the lift's per-task `shipment.released` events would otherwise sit ahead of the next
    stop's acknowledgements). Not part of the figure."""
    r = await clients[0].post(f"/stop-shipments/{stop_id}/lift", headers=OPS)
    assert r.status_code == 200, r.text
    for http in clients:
        while True:
            report = (await http.get(f"/stop-shipments/{stop_id}", headers=OPS)).json()
            if not report["held_now"]:
                break
            await asyncio.sleep(0.05)
    o = tables.messaging.outbox
    for db in dbs:
        while True:
            async with db.reader() as session:
                pending = await session.scalar(
                    select(func.count()).select_from(o).where(o.c.published_at.is_(None))
                )
            if not pending:
                break
            await asyncio.sleep(0.05)


async def warm_up(http) -> None:
    """Consumers join their groups first, so the figure is propagation, not start-up."""
    body = {"scope": {"skus": ["NO-SUCH-SKU"]}, "reason": "warm-up"}
    stop_id = (await http.post("/stop-shipments", json=body, headers=bearer("dev-ops"))).json()[
        "stop_id"
    ]
    want = {w for i in range(INSTANCES) for w in warehouse_ids(i)}
    while True:
        report = (await http.get(f"/stop-shipments/{stop_id}", headers=bearer("dev-ops"))).json()
        if want <= {a["warehouse_id"] for a in report["acknowledgements"]}:
            return
        await asyncio.sleep(0.05)


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        i, url, servers, prefix = sys.argv[2:6]
        asyncio.run(serve_instance(int(i), url, servers, prefix))
    else:
        asyncio.run(main())
