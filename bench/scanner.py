"""Scanner throughput: label, pack and ship scans per second on one warehouse process.

N shipment tasks arrive through Kafka (`order.submitted`), are imported, then
scanned from a separate load process over 32 keep-alive connections, one
phase per step (a parcel's pack must precede its ship).

    .venv/bin/python -m bench.scanner                        # SQLite + Tansu
    BENCH_DATABASE_URL=postgresql+asyncpg://... KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 \
        KAFKA_IDEMPOTENCE=true .venv/bin/python -m bench.scanner
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from bench.common import broker, command, database_url, drop_tables, free_port
from bench.webhook_ingest import http_request, line, load, serve, stop, wait_http
from shared import topics
from tests.integration.warehouse_service.support import submitted
from warehouse_service.adapters import tables

N_TASKS = int(os.environ.get("BENCH_TASKS", "2000"))
DRAIN_SECONDS = 2.0
WAREHOUSE = "WH-OWN-1"
AUTH = {"Authorization": f"Bearer dev-scanner-{WAREHOUSE}", "Content-Type": "application/json"}


async def publish_tasks(bootstrap: str, topic: str) -> list[str]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    envs = [submitted(WAREHOUSE, [("SKU-1", 1), ("SKU-2", 1)]) for _ in range(N_TASKS)]
    futures = [await producer.send(topic, e.encode(), key=e.partition_key.encode()) for e in envs]
    await asyncio.gather(*futures)
    await producer.stop()
    return [e.payload["shipment_id"] for e in envs]


def call(port: int, method: str, path: str, body: dict | None = None) -> dict | list:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        method=method,
        headers=AUTH,
        data=json.dumps(body).encode() if body else None,
    )
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def receive_stock(port: int) -> None:
    """Every task reserves its lines: receive enough beyond the 1,000 of the dev seed."""
    for sku in ("SKU-1", "SKU-2"):
        body = {"warehouse_id": WAREHOUSE, "sku": sku, "kind": "receipt", "qty": N_TASKS}
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/inventory/adjustments",
            method="POST",
            headers={**AUTH, "Authorization": "Bearer dev-ops"},
            data=json.dumps(body | {"reason": "bench"}).encode(),
        )
        try:
            urllib.request.urlopen(req, timeout=60).close()
        except urllib.error.HTTPError as exc:  # code before inventory: nothing to receive
            if exc.code != 404:
                raise


def wait_queued(port: int, n: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        queued = call(port, "GET", f"/warehouses/{WAREHOUSE}/shipments?status=queued&limit=5000")
        if len(queued) >= n:
            return
        time.sleep(0.2)
    raise TimeoutError(f"{n} tasks not queued after {timeout}s")


def scans(ids: list[str], step: str, body: dict) -> list[bytes]:
    raw = json.dumps(body).encode()
    return [http_request("POST", f"/shipments/{sid}/{step}", AUTH, raw) for sid in ids]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc; 0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def phase(proc, port: int, requests: list[bytes], idle: float) -> dict:
    """One phase's load, then DRAIN_SECONDS for the relay to publish what it emitted:
    the warehouse's CPU over both less its `idle` CPU a second, per scan (the figure a
    loaded machine spoils least)."""
    before = cpu_seconds(proc.pid)
    result = load(port, requests)
    time.sleep(DRAIN_SECONDS)
    spent = cpu_seconds(proc.pid) - before - idle * DRAIN_SECONDS
    return result | {"cpu_ms": spent * 1000 / len(requests)}


def main() -> None:
    with broker() as (bootstrap, broker_kind):
        url, db_kind = database_url("warehouse")
        if db_kind == "postgresql":
            asyncio.run(drop_tables(url, tables.metadata))
        prefix = f"s{uuid.uuid4().hex[:6]}."
        env = dict(
            os.environ,
            KAFKA_BOOTSTRAP_SERVERS=bootstrap,
            WAREHOUSE_DATABASE_URL=url,
            FULFIL_TOPIC_PREFIX=prefix,
            FULFIL_VAR_DIR=tempfile.mkdtemp(),
            FULFIL_WAREHOUSES=WAREHOUSE,
        )
        if broker_kind == "tansu":
            env["KAFKA_SESSION_TIMEOUT_MS"] = "3000"
        port = free_port()
        proc = serve(
            ["services.serve", "warehouse", "--port", str(port), "--log-level", "warning"], env
        )
        try:
            wait_http(f"http://127.0.0.1:{port}/readyz")
            receive_stock(port)
            ids = asyncio.run(publish_tasks(bootstrap, f"{prefix}{topics.ORDERS}"))
            wait_queued(port, N_TASKS)
            call(port, "POST", f"/warehouses/{WAREHOUSE}/imports", {"all_queued": True})
            start = cpu_seconds(proc.pid)
            time.sleep(DRAIN_SECONDS)
            idle = (cpu_seconds(proc.pid) - start) / DRAIN_SECONDS
            label = phase(proc, port, scans(ids, "label", {"carrier": "SF"}), idle)
            packing = {"scanned": ["SKU-2", "SKU-1"], "weight_grams": 640}
            pack = phase(proc, port, scans(ids, "pack", packing), idle)
            ship = phase(proc, port, scans(ids, "ship", {}), idle)
        finally:
            stop(proc)
    both = (pack["requests"] + ship["requests"]) / (pack["seconds"] + ship["seconds"])
    print(
        f"# scanner throughput — {db_kind} + {broker_kind}, one process, "
        f"{N_TASKS} parcels, 32 connections, {datetime.now(UTC):%Y-%m-%d}"
    )
    for name, r in (("label", label), ("pack (SKU scan check)", pack), ("ship (stop check)", ship)):
        print(f"{line(name, r)}   CPU {r['cpu_ms']:.2f} ms/scan")
    cpu = (pack["cpu_ms"] + ship["cpu_ms"]) / 2
    print(f"{'pack + ship combined':<28}{both:8.0f} scans/s   CPU {cpu:.2f} ms/scan")
    print(f"command: {command()}")


if __name__ == "__main__":
    main()
