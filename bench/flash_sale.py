"""Flash sale: reservations of one hot SKU against the same orders spread over 1,000 SKUs.

`order.submitted` events for one warehouse are published at full rate into the orders
topic and taken by one, then two warehouse_service processes sharing one database
(SPEC §3.2). Each run starts from an empty database; the hot SKU has stock for 90% of
the orders, so it sells out during the run. Printed per run: tasks decided (reserved or
out of stock) per second, p99 from the event's `occurred_at` to its reservation row,
and oversold units (reserved beyond the stock: must be 0).

    .venv/bin/python -m bench.flash_sale [--short]              # SQLite + Tansu
    BENCH_DATABASE_URL=postgresql+asyncpg://... KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 \
        KAFKA_IDEMPOTENCE=true .venv/bin/python -m bench.flash_sale
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

from bench.common import broker, command, database_url, drop_tables, free_port, pct
from bench.webhook_ingest import serve, stop, wait_http
from shared import topics
from shared.db import Database
from shared.envelope import Envelope
from tests.integration.warehouse_service.support import submitted
from warehouse_service.adapters import tables as t
from warehouse_service.adapters.repository import utc
from warehouse_service.adapters.stock import StockRepository
from warehouse_service.domain.stock import Movement

WAREHOUSE = "WH-OWN-1"
SPREAD = 1_000  # SKUs of the spread run
HOT = "FLASH-HOT"


@dataclass
class Result:
    instances: int
    shape: str
    orders: int
    reserved: int
    short: int
    seconds: float
    p99_ms: float
    oversold: int

    @property
    def rate(self) -> float:
        return (self.reserved + self.short) / self.seconds


def skus(shape: str, n: int) -> list[str]:
    return [HOT] * n if shape == "hot" else [f"FLASH-{i % SPREAD}" for i in range(n)]


def stock_of(shape: str, n: int) -> dict[str, int]:
    if shape == "hot":
        return {HOT: n * 9 // 10}
    return {f"FLASH-{i}": 1_000 for i in range(SPREAD)}


async def seed(url: str, stock: dict[str, int]) -> None:
    """The run's stock, with its receipts in the ledger."""
    db = Database(url)
    now = datetime.now(UTC)
    async with db.session() as session, session.begin():
        repo = StockRepository(session)
        await repo.seed([(WAREHOUSE, s, q) for s, q in stock.items()], now)
        moves = [Movement(WAREHOUSE, k, "receipt", q, 0, "bench", "run") for k, q in stock.items()]
        await repo.record(moves, now)
    await db.dispose()


async def publish(bootstrap: str, topic: str, envs_for: list[str]) -> dict[str, Envelope]:
    """All orders at full rate: each event stamped as it is handed to the producer."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    sent: dict[str, Envelope] = {}
    futures = []
    for sku in envs_for:
        env = submitted(WAREHOUSE, [(sku, 1)])
        sent[env.payload["shipment_id"]] = env
        futures.append(await producer.send(topic, env.encode(), key=env.partition_key.encode()))
    await asyncio.gather(*futures)
    await producer.stop()
    return sent


async def decided(db: Database) -> int:
    async with db.reader() as s:
        return int(await s.scalar(select(func.count()).select_from(t.shipments)) or 0)


async def wait_decided(db: Database, n: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while (await decided(db)) < n:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{n} tasks not created after {timeout}s")
        await asyncio.sleep(0.1)


async def measure(url: str, sent: dict[str, Envelope], stock: dict[str, int], started: float):
    db = Database(url)
    async with db.reader() as s:
        c, r = t.shipments.c, t.reservations.c
        statuses: dict[str, int] = dict(
            (await s.execute(select(c.status, func.count()).group_by(c.status))).all()
        )
        last = utc(await s.scalar(select(func.max(c.updated_at))))
        rows = (await s.execute(select(r.shipment_id, r.sku, r.qty, r.created_at))).all()
    await db.dispose()
    waits = [
        (utc(row.created_at) - sent[row.shipment_id].occurred_at).total_seconds() * 1000
        for row in rows
    ]
    units: dict[str, int] = {}
    for row in rows:
        units[row.sku] = units.get(row.sku, 0) + row.qty
    oversold = sum(max(0, q - stock.get(sku, 0)) for sku, q in units.items())
    seconds = last.timestamp() - started
    queued, short = statuses.get("queued", 0), statuses.get("exception", 0)
    return queued, short, seconds, pct(waits, 99), oversold


async def one_run(bootstrap: str, broker_kind: str, instances: int, shape: str, n: int) -> Result:
    url, db_kind = database_url(f"flash-{shape}-{instances}")
    if db_kind == "postgresql":
        await drop_tables(url, t.metadata)
    prefix = f"fs{uuid.uuid4().hex[:6]}."
    procs = []
    try:
        for i in range(instances):  # one after the other: the first one migrates
            env = dict(
                os.environ,
                KAFKA_BOOTSTRAP_SERVERS=bootstrap,
                WAREHOUSE_DATABASE_URL=url,
                FULFIL_TOPIC_PREFIX=prefix,
                FULFIL_VAR_DIR=tempfile.mkdtemp(),
                FULFIL_WAREHOUSES=WAREHOUSE,
                FULFIL_INSTANCE_ID=f"flash-{i}",
            )
            if broker_kind == "tansu":
                env["KAFKA_SESSION_TIMEOUT_MS"] = "3000"
            port = free_port()
            args = ["services.serve", "warehouse", "--port", str(port), "--log-level", "warning"]
            procs.append(serve(args, env))
            await asyncio.to_thread(wait_http, f"http://127.0.0.1:{port}/readyz", 120)
        stock = stock_of(shape, n)
        await seed(url, stock)
        db = Database(url)
        # Warm-up: the consumers have joined and take events before the clock starts.
        warm = await publish(bootstrap, f"{prefix}{topics.ORDERS}", ["WARM-UP"] * 30)
        await wait_decided(db, len(warm))
        started = time.time()
        sent = await publish(bootstrap, f"{prefix}{topics.ORDERS}", skus(shape, n))
        await wait_decided(db, len(warm) + n)
        await db.dispose()
    finally:
        for p in procs:
            stop(p)
    reserved, short, seconds, p99, oversold = await measure(url, sent, stock, started)
    return Result(instances, shape, n, reserved, short - len(warm), seconds, p99, oversold)


def report(results: list[Result], db_kind: str, broker_kind: str, n: int, short: bool) -> None:
    print(
        f"# flash sale — {db_kind} + {broker_kind}, {n} orders per run at full rate, "
        f"one warehouse, {datetime.now(UTC):%Y-%m-%d}"
    )
    print(
        f"{'processes':<10}{'shape':<22}{'reserved':>9}{'out of stock':>14}"
        f"{'decided/s':>11}{'p99 submitted→reserved':>25}{'oversold':>10}"
    )
    for r in results:
        shape = "hot (1 SKU)" if r.shape == "hot" else f"spread ({SPREAD:,} SKUs)"
        print(
            f"{r.instances:<10}{shape:<22}{r.reserved:>9}{r.short:>14}"
            f"{r.rate:>11.0f}{r.p99_ms:>22.0f} ms{r.oversold:>10}"
        )
    for k in sorted({r.instances for r in results}):
        hot, spread = (
            next(r for r in results if (r.instances, r.shape) == (k, s)) for s in ("hot", "spread")
        )
        print(f"hot / spread rate, {k} process(es): {hot.rate / spread.rate:.2f}")
    print(f"command: {command()}{' --short' if short else ''}")


async def main(short: bool) -> None:
    n = int(os.environ.get("BENCH_ORDERS", "1000" if short else "4000"))
    results = []
    with broker() as (bootstrap, broker_kind):
        _, db_kind = database_url("probe")
        for instances in (1, 2):
            for shape in ("hot", "spread"):
                results.append(await one_run(bootstrap, broker_kind, instances, shape, n))
    report(results, db_kind, broker_kind, n, short)
    if any(r.oversold for r in results):
        raise SystemExit("oversold")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="1,000 orders per run (4,000)")
    asyncio.run(main(parser.parse_args().short))
