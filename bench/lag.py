"""Consumer lag under a steady webhook stream: three services, signed webhooks at a rate.

The three services run as processes (`services.serve`) on the chosen shape; this
process sends signed order webhooks at a fixed rate (open loop: one every 1/rate
seconds, whatever the answers take) for a given time. A recorder reads every event
the services publish (topic, partition, offset → the envelope's `occurred_at`) and
polls each consumer group's committed offsets every 50 ms; consumers commit an
offset only after the database commit of the events before it, so an event counts
as applied when its group's committed offset passes it. Lag = that moment minus
`occurred_at` (so it includes the producer's relay), per service, p50/p99/max; then
the part after the relay sent it (the consumer's), and per topic the relay's part
(`occurred_at` to the record's timestamp, the producer's send).

    .venv/bin/python -m bench.lag                               # SQLite + Tansu
    BENCH_DATABASE_URL=postgresql+asyncpg://fulfil:fulfil@127.0.0.1:5432/postgres \
      KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 KAFKA_IDEMPOTENCE=true .venv/bin/python -m bench.lag

BENCH_RATE (webhooks/s, default 150: half the slower shape's measured ingest),
BENCH_SECONDS (default 30). On PostgreSQL each service gets a fresh database
`bench_lag_<service>` on BENCH_DATABASE_URL's server.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bench.common import broker, command, free_port, pct
from bench.webhook_ingest import webhooks
from shared import topics

RATE = float(os.environ.get("BENCH_RATE", "150"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "30"))
CONNECTIONS = 32
CATCH_UP_SECONDS = 120  # after the stream, for the consumers to finish; later = not applied
SERVICES = ("order", "warehouse", "aftersales")
TOPICS = (topics.ORDERS, topics.WAREHOUSE, topics.AFTERSALES)
# service → (consumer group name, topics it reads)
GROUPS = {
    "order": ("order-service", (topics.WAREHOUSE, topics.AFTERSALES)),
    "warehouse": ("warehouse-orders", (topics.ORDERS,)),
    "aftersales": ("aftersales-projection", (topics.ORDERS, topics.WAREHOUSE)),
}


@dataclass
class Recorder:
    """Offsets → occurred_at as published; offsets → first time a group committed past."""

    prefix: str
    occurred: dict[tuple[str, int, int], float] = field(default_factory=dict)
    published: dict[tuple[str, int, int], float] = field(default_factory=dict)
    ends: dict[TopicPartition, int] = field(default_factory=dict)
    committed: dict[str, dict[TopicPartition, int]] = field(default_factory=dict)
    applied: dict[str, dict[tuple[str, int, int], float]] = field(default_factory=dict)

    async def read_events(self, bootstrap: str, stop: asyncio.Event) -> None:
        names = [self.prefix + t for t in TOPICS]
        consumer = AIOKafkaConsumer(
            *names, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
        )
        await consumer.start()
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=100)
                for tp, msgs in batches.items():
                    for m in msgs:
                        at = datetime.fromisoformat(json.loads(m.value)["occurred_at"])
                        key = (tp.topic, tp.partition, m.offset)
                        self.occurred[key] = at.timestamp()
                        self.published[key] = m.timestamp / 1000  # the relay's send time
                    if msgs:
                        self.ends[tp] = msgs[-1].offset + 1
        finally:
            await consumer.stop()

    async def poll_groups(self, bootstrap: str, stop: asyncio.Event) -> None:
        # One idle member-less consumer per group reads its committed offsets (Tansu drops
        # the admin client's OffsetFetch); all partitions in one request per group.
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        described = await admin.describe_topics([self.prefix + t for t in TOPICS])
        await admin.close()
        partitions = {d["topic"]: [p["partition"] for p in d["partitions"]] for d in described}
        watchers = {}
        for service, (name, names) in GROUPS.items():
            c = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=self.prefix + name)
            await c.start()
            tps = {
                TopicPartition(self.prefix + n, p)
                for n in names
                for p in partitions[self.prefix + n]
            }
            watchers[service] = (c, tps)
        try:
            while not stop.is_set():
                for service, (c, tps) in watchers.items():
                    offsets = await c._coordinator.fetch_committed_offsets(tps)
                    self._advance(service, {tp: m.offset for tp, m in offsets.items()})
                await asyncio.sleep(0.05)
        finally:
            for c, _ in watchers.values():
                await c.stop()

    def _advance(self, service: str, offsets: dict[TopicPartition, int]) -> None:
        now = time.time()
        before = self.committed.setdefault(service, {})
        applied = self.applied.setdefault(service, {})
        for tp, end in offsets.items():
            for offset in range(max(before.get(tp, 0), 0), end):
                applied.setdefault((tp.topic, tp.partition, offset), now)
            before[tp] = max(before.get(tp, 0), end)

    def caught_up(self) -> bool:
        for service, (_, names) in GROUPS.items():
            done = self.committed.get(service, {})
            for tp, end in self.ends.items():
                if tp.topic in {self.prefix + n for n in names} and done.get(tp, 0) < end:
                    return False
        return True

    def relay_delays(self, topic: str, since: float) -> list[float]:
        """For the topic's events that occurred after `since`: occurred_at to sent (s)."""
        return [
            max(self.published[key] - at, 0.0)
            for key, at in self.occurred.items()
            if key[0] == self.prefix + topic and at >= since
        ]

    def lags(self, service: str, since: float) -> tuple[list[float], list[float], int]:
        """For events that occurred after `since` on the service's topics: lag from
        occurred_at to applied, from the relay's send to applied (s), and how many
        were never applied."""
        names = {self.prefix + n for n in GROUPS[service][1]}
        applied = self.applied.get(service, {})
        total, consumer, missing = [], [], 0
        for key, at in self.occurred.items():
            if key[0] not in names or at < since:
                continue
            if key in applied:
                total.append(max(applied[key] - at, 0.0))
                consumer.append(max(applied[key] - self.published[key], 0.0))
            else:
                missing += 1
        return total, consumer, missing


async def send_webhooks(port: int, rate: float, seconds: float) -> dict:
    """Open loop over keep-alive connections: webhook i leaves at start + i / rate (late
    only if every connection is still waiting for an answer)."""
    requests = webhooks(int(rate * seconds))
    statuses: Counter = Counter()
    start, next_i = time.monotonic(), iter(range(len(requests)))

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for i in next_i:
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            writer.write(requests[i])
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                (
                    int(h.split(b":")[1])
                    for h in head.split(b"\r\n")
                    if h.lower().startswith(b"content-length:")
                ),
                0,
            )
            await reader.readexactly(length)
            statuses[int(head.split(b" ", 2)[1])] += 1
        writer.close()

    await asyncio.gather(*(connection() for _ in range(CONNECTIONS)))
    return {"sent": len(requests), "seconds": time.monotonic() - start, "statuses": statuses}


async def fresh_databases(admin_url: str) -> dict[str, str]:
    dsn = admin_url.replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(dsn)
    try:
        for s in SERVICES:
            await conn.execute(f'DROP DATABASE IF EXISTS "bench_lag_{s}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "bench_lag_{s}"')
    finally:
        await conn.close()
    base = admin_url.rsplit("/", 1)[0]
    return {s: f"{base}/bench_lag_{s}" for s in SERVICES}


def spawn(service: str, port: int, env: dict[str, str], logs: str) -> subprocess.Popen:
    log = open(f"{logs}/{service}.log", "wb")  # noqa: SIM115 - lives as long as the child
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "services.serve",
            service,
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


async def wait_ready(port: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(f"service on {port} not ready")


async def measure(bootstrap: str, prefix: str, order_port: int) -> tuple[dict, Recorder, float]:
    rec, stop = Recorder(prefix), asyncio.Event()
    loops = [
        asyncio.create_task(rec.read_events(bootstrap, stop)),
        asyncio.create_task(rec.poll_groups(bootstrap, stop)),
    ]
    await send_webhooks(order_port, RATE, 3)  # warm-up, not counted
    since = time.time()
    sent = await send_webhooks(order_port, RATE, SECONDS)
    deadline = time.monotonic() + CATCH_UP_SECONDS
    await asyncio.sleep(1)
    while time.monotonic() < deadline and not rec.caught_up():  # noqa: ASYNC110 - polls
        await asyncio.sleep(0.2)
    stop.set()
    await asyncio.gather(*loops)
    return sent, rec, since


def main() -> None:
    with broker() as (bootstrap, broker_kind):
        admin_url = os.environ.get("BENCH_DATABASE_URL", "")
        var = tempfile.mkdtemp()
        if admin_url:
            urls, db_kind = asyncio.run(fresh_databases(admin_url)), "postgresql"
        else:
            urls, db_kind = {s: f"sqlite+aiosqlite:///{var}/{s}.db" for s in SERVICES}, "sqlite"
        prefix = f"lag{uuid.uuid4().hex[:6]}."
        env = dict(
            os.environ,
            KAFKA_BOOTSTRAP_SERVERS=bootstrap,
            FULFIL_TOPIC_PREFIX=prefix,
            FULFIL_VAR_DIR=var,
            **{f"{s.upper()}_DATABASE_URL": urls[s] for s in SERVICES},
        )
        if broker_kind == "tansu":
            env["KAFKA_SESSION_TIMEOUT_MS"] = "3000"
        ports = {s: free_port() for s in SERVICES}
        procs = [spawn(s, ports[s], env, var) for s in SERVICES]
        try:
            for s in SERVICES:
                asyncio.run(wait_ready(ports[s]))
            sent, rec, since = asyncio.run(measure(bootstrap, prefix, ports["order"]))
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(timeout=30)
    report(sent, rec, since, db_kind, broker_kind, var)


def report(sent: dict, rec: Recorder, since: float, db_kind: str, broker_kind: str, var: str):
    ok = sum(v for k, v in sent["statuses"].items() if 200 <= k < 300)
    print(
        f"# consumer lag — {db_kind} + {broker_kind}, {RATE:.0f} webhooks/s for {SECONDS:.0f} s, "
        f"{datetime.now(UTC):%Y-%m-%d}"
    )
    print(
        f"sent {sent['sent']} webhooks in {sent['seconds']:.1f} s "
        f"({sent['sent'] / sent['seconds']:.0f}/s), {ok} answered 2xx"
    )
    for service in SERVICES:
        lags, consumed, missing = rec.lags(service, since)
        if not lags:
            print(f"{service:<11} no events applied, {missing} not applied")
            continue
        rate = len(lags) / sent["seconds"]
        print(
            f"{service:<11}{len(lags):6d} events ({rate:4.0f}/s)  lag p50 {pct(lags, 50):6.3f} s  "
            f"p99 {pct(lags, 99):6.3f} s  max {max(lags):6.3f} s  not applied {missing}"
        )
        print(
            f"{'':<11}since the relay sent it:    p50 {pct(consumed, 50):6.3f} s  "
            f"p99 {pct(consumed, 99):6.3f} s  max {max(consumed):6.3f} s"
        )
    for topic in TOPICS:
        delays = rec.relay_delays(topic, since)
        if delays:
            print(
                f"relay {topic:<11} {len(delays):6d} events  occurred to sent: "
                f"p50 {pct(delays, 50):6.3f} s  p99 {pct(delays, 99):6.3f} s  "
                f"max {max(delays):6.3f} s"
            )
    print(f"service logs: {var}")
    print(f"command: {command()}")


if __name__ == "__main__":
    main()
