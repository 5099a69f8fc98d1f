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
        urllib.request.urlopen(req, timeout=60).close()


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
            label = load(port, scans(ids, "label", {"carrier": "SF"}))
            pack = load(
                port, scans(ids, "pack", {"scanned": ["SKU-2", "SKU-1"], "weight_grams": 640})
            )
            ship = load(port, scans(ids, "ship", {}))
        finally:
            stop(proc)
    both = (pack["requests"] + ship["requests"]) / (pack["seconds"] + ship["seconds"])
    print(
        f"# scanner throughput — {db_kind} + {broker_kind}, one process, "
        f"{N_TASKS} parcels, 32 connections, {datetime.now(UTC):%Y-%m-%d}"
    )
    print(line("label", label))
    print(line("pack (SKU scan check)", pack))
    print(line("ship (stop check)", ship))
    print(f"{'pack + ship combined':<28}{both:8.0f} scans/s")
    print(f"command: {command()}")


if __name__ == "__main__":
    main()
