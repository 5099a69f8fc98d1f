"""What the benchmarks share: a broker (given, or an embedded Tansu) and percentiles."""

from __future__ import annotations

import contextlib
import os
import socket
import statistics
import sys
import tempfile
from pathlib import Path

from services.broker import start_tansu


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def broker():
    """`KAFKA_BOOTSTRAP_SERVERS` if set (Apache Kafka), else a fresh Tansu."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield os.environ["KAFKA_BOOTSTRAP_SERVERS"], "kafka"
        return
    port = free_port()
    proc = start_tansu(port, Path(tempfile.mkdtemp()) / "tansu.log")
    try:
        yield f"127.0.0.1:{port}", "tansu"
    finally:
        proc.terminate()
        proc.wait()


def database_url(name: str) -> tuple[str, str]:
    """`BENCH_DATABASE_URL` if set (PostgreSQL), else a fresh SQLite file."""
    if url := os.environ.get("BENCH_DATABASE_URL"):
        return url, "postgresql"
    return f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/{name}.db", "sqlite"


async def drop_tables(url: str, *metadatas) -> None:
    """Start a PostgreSQL benchmark from empty tables (the services create them again):
    rows left by earlier runs — hundreds of thousands of orders and outbox rows — make
    runs incomparable."""
    from sqlalchemy import text

    from shared.db import Database

    db = Database(url)
    async with db.engine.begin() as conn:
        for metadata in metadatas:
            await conn.run_sync(metadata.drop_all)
        # and the schema's revision, or start-up would take the empty database as migrated
        await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    await db.dispose()


def pct(values: list[float], p: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def command() -> str:
    shape = ("KAFKA_BOOTSTRAP_SERVERS", "BENCH_DATABASE_URL", "KAFKA_IDEMPOTENCE")
    knobs = sorted(k for k in os.environ if k.startswith("BENCH_") and k not in shape)
    env = " ".join(f"{k}={os.environ[k]}" for k in (*shape, *knobs) if k in os.environ)
    spec = sys.modules["__main__"].__spec__  # None when run as a file, not with -m
    target = f"-m {spec.name}" if spec else sys.argv[0]
    return f"{env} .venv/bin/python {target}".strip()
