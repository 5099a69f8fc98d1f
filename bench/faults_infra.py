"""The fault suite's own infrastructure, started and broken from outside.

Never the shared PostgreSQL (5432) or Kafka (9092): a PostgreSQL cluster of its own
(`PG_CLUSTER=faults`, port 5433), a single-node Kafka of its own (9392, data under
/tmp/fulfil-kafka-faults; 9292-9294 are the cluster's controller ports) and the 3-node
cluster of `deploy/kafka/start.sh --cluster` (9192-9194). Each is driven with the
`deploy/` scripts; what this run started, it stops.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import asyncpg

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
PG_VERSION = os.environ.get("PG_VERSION", "15")
PG_CLUSTER = os.environ.get("FAULTS_PG_CLUSTER", "faults")
PG_PORT = int(os.environ.get("FAULTS_PG_PORT", "5433"))
KAFKA_PORT = int(os.environ.get("FAULTS_KAFKA_PORT", "9392"))
KAFKA_DIR = os.environ.get("FAULTS_KAFKA_DIR", "/tmp/fulfil-kafka-faults")
CLUSTER = "127.0.0.1:9192,127.0.0.1:9193,127.0.0.1:9194"


def sh(*args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
    """Run a deploy script (or pg_ctlcluster); its progress goes to our stderr."""
    done = subprocess.run(
        list(args), env=dict(os.environ, **(env or {})), stdout=subprocess.PIPE, text=True
    )
    if check and done.returncode:
        raise RuntimeError(f"{' '.join(args)} exited with {done.returncode}")
    return done.stdout


def started(start: Callable[[], object], tries: int = 3) -> None:
    """Start a broker that was just killed: a node can exit at once while the one before it
    still lets go of its ports and data lock (seen once in CI), so try again, backing off."""
    for attempt in range(1, tries + 1):
        try:
            start()
            return
        except RuntimeError:
            if attempt == tries:
                raise
            time.sleep(2.0 * attempt)


# Never the shared servers other sessions test on.
assert PG_CLUSTER != "main" and PG_PORT != 5432, "the fault suite must not touch 5432"
assert KAFKA_PORT != 9092 and KAFKA_DIR != "/tmp/fulfil-kafka", "nor the Kafka on 9092"


class Postgres:
    """Our own cluster: fresh databases per scenario, restarted on demand."""

    env = {"PG_CLUSTER": PG_CLUSTER, "PG_PORT": str(PG_PORT), "PG_DATABASES": "fulfil_faults"}
    admin = f"postgresql://fulfil:fulfil@127.0.0.1:{PG_PORT}/postgres"

    def start(self) -> None:
        sh("bash", str(DEPLOY / "postgres/start.sh"), env=self.env)

    def stop(self) -> None:
        sh("bash", str(DEPLOY / "postgres/stop.sh"), env=self.env, check=False)

    def down(self) -> None:
        sh("pg_ctlcluster", PG_VERSION, PG_CLUSTER, "stop", "-m", "fast")

    def up(self) -> None:
        sh("pg_ctlcluster", PG_VERSION, PG_CLUSTER, "start")
        deadline = time.monotonic() + 60
        ready = ["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(PG_PORT)]
        while subprocess.run(ready).returncode:
            if time.monotonic() > deadline:
                raise RuntimeError("PostgreSQL did not come back")
            time.sleep(0.2)

    async def fresh_databases(self, tag: str) -> dict[str, str]:
        """One new database per service; SQLAlchemy URLs by service name."""
        conn = await asyncpg.connect(self.admin)
        urls = {}
        try:
            for name in ("order", "warehouse", "aftersales"):
                db = f"faults_{tag}_{name}_{uuid.uuid4().hex[:6]}"
                await conn.execute(f'CREATE DATABASE "{db}"')
                urls[name] = f"postgresql+asyncpg://fulfil:fulfil@127.0.0.1:{PG_PORT}/{db}"
        finally:
            await conn.close()
        return urls

    async def drop_databases(self, urls: dict[str, str]) -> None:
        conn = await asyncpg.connect(self.admin)
        try:
            for url in urls.values():
                await conn.execute(
                    f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'
                )
        finally:
            await conn.close()


class Kafka:
    """The single node (`KAFKA_PORT=9392`), started fresh and thrown away at the end."""

    env = {"KAFKA_PORT": str(KAFKA_PORT), "KAFKA_DATA_DIR": KAFKA_DIR}
    bootstrap = f"127.0.0.1:{KAFKA_PORT}"

    def start(self) -> None:
        sh("bash", str(DEPLOY / "kafka/stop.sh"), "--clean", env=self.env, check=False)
        self.up()

    def up(self) -> None:
        started(lambda: sh("bash", str(DEPLOY / "kafka/start.sh"), env=self.env))

    def kill(self) -> None:
        sh("bash", str(DEPLOY / "kafka/stop.sh"), "--kill", env=self.env)

    def stop(self) -> None:
        sh("bash", str(DEPLOY / "kafka/stop.sh"), "--clean", env=self.env, check=False)


class Cluster:
    """The 3-node cluster; stopped at the end only if this run started it."""

    bootstrap = CLUSTER

    def __init__(self) -> None:
        self.started = False

    def running(self) -> bool:
        pids = Path(os.environ.get("KAFKA_CLUSTER_DIR", "/tmp/fulfil-kafka-cluster"))
        return any(
            (pids / f"node{n}/kafka.pid").exists()
            and Path(f"/proc/{(pids / f'node{n}/kafka.pid').read_text().strip()}").exists()
            for n in (1, 2, 3)
        )

    def start(self) -> None:
        self.started = not self.running()
        sh("bash", str(DEPLOY / "kafka/start.sh"), "--cluster", "--fresh")

    def kill_node(self, n: int) -> None:
        sh("bash", str(DEPLOY / "kafka/stop.sh"), "--node", str(n), "--kill")

    def start_node(self, n: int) -> None:
        started(lambda: sh("bash", str(DEPLOY / "kafka/start.sh"), "--node", str(n)))

    def stop(self) -> None:
        if self.started:
            sh("bash", str(DEPLOY / "kafka/stop.sh"), "--cluster", check=False)
            self.started = False


async def off_thread(fn, *args) -> None:
    """Run a blocking script without stalling the load generator's event loop."""
    await asyncio.to_thread(fn, *args)
