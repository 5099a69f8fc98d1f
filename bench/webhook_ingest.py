"""Signed webhook ingest and the capabilities query, next to a bare FastAPI INSERT.

One order_service process (uvicorn, httptools + uvloop) on the chosen shape;
load from a separate process (`bench.load`, 32 keep-alive connections). The
bare endpoint runs on the same database kind in the same run; the ratio is the
figure to watch on a shared, noisy machine. "Until published" counts the time
until the relay has published every event the load committed: a relay held back
during the load makes ingest look faster and its events late.

    .venv/bin/python -m bench.webhook_ingest                 # SQLite + Tansu
    BENCH_DATABASE_URL=postgresql+asyncpg://fulfil:fulfil@127.0.0.1:5432/fulfil_order \
      KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 KAFKA_IDEMPOTENCE=true \
      .venv/bin/python -m bench.webhook_ingest
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime

from bench import bare_app
from bench.common import broker, command, database_url, drop_tables, free_port
from order_service.adapters import tables
from tests.support.webhooks import generic_order, sign_generic

N_WEBHOOKS = int(os.environ.get("BENCH_WEBHOOKS", "6000"))
N_QUERIES = int(os.environ.get("BENCH_QUERIES", "10000"))
CONNECTIONS = 32


def http_request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    head = [f"{method} {path} HTTP/1.1", "Host: bench", f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def webhooks(n: int) -> list[bytes]:
    out = []
    for _ in range(n):
        headers, raw = sign_generic(generic_order(f"B-{uuid.uuid4().hex}", skus=("SKU-1",)))
        out.append(http_request("POST", "/webhooks/generic/orders", headers, raw))
    return out


def load(port: int, requests: list[bytes]) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".b64", delete=False) as f:
        f.writelines(base64.b64encode(r).decode() + "\n" for r in requests)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.load",
            "--port",
            str(port),
            "--connections",
            str(CONNECTIONS),
            f.name,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(url)


def serve(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=20)


def created_orders(port: int, n: int) -> list[str]:
    ids = []
    for _ in range(n):
        headers, raw = sign_generic(generic_order(f"C-{uuid.uuid4().hex}"))
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/webhooks/generic/orders",
            data=raw,
            headers=headers,
            method="POST",
        )
        with urllib.request.urlopen(req) as r:
            ids.append(json.loads(r.read())["order_id"])
    return ids


def line(name: str, r: dict) -> str:
    ok = sum(v for k, v in r["statuses"].items() if k.startswith("2"))
    return (
        f"{name:<28}{r['rps']:8.0f} req/s   p50 {r['p50_ms']:6.1f} ms   "
        f"p99 {r['p99_ms']:6.1f} ms   ({r['requests']} requests, {ok} 2xx)"
    )


async def unpublished(url: str) -> int:
    from sqlalchemy import func, select

    from shared.db import Database

    db, outbox = Database(url), tables.metadata.tables["outbox"]
    try:
        async with db.reader() as session:
            query = select(func.count()).where(outbox.c.published_at.is_(None))
            return int((await session.execute(query)).scalar_one())
    finally:
        await db.dispose()


def published_after(url: str, timeout: float = 120) -> float:
    """Seconds until the relay has published every event the load committed."""
    start = time.monotonic()
    while asyncio.run(unpublished(url)) and time.monotonic() - start < timeout:
        time.sleep(0.05)
    return time.monotonic() - start


def main() -> None:
    with broker() as (bootstrap, broker_kind):
        order_url, db_kind = database_url("order")
        bare_url, _ = database_url("bare")
        if db_kind == "postgresql":
            asyncio.run(drop_tables(order_url, tables.metadata, bare_app.metadata))
        env = dict(
            os.environ,
            KAFKA_BOOTSTRAP_SERVERS=bootstrap,
            ORDER_DATABASE_URL=order_url,
            BARE_DATABASE_URL=bare_url,
            FULFIL_TOPIC_PREFIX=f"b{uuid.uuid4().hex[:6]}.",
            FULFIL_VAR_DIR=tempfile.mkdtemp(),
        )
        if broker_kind == "tansu":
            env["KAFKA_SESSION_TIMEOUT_MS"] = "3000"

        port = free_port()
        bare = serve(["bench.bare_app", str(port)], env)
        try:
            wait_http(f"http://127.0.0.1:{port}/docs")
            load(port, webhooks(500))  # warm-up
            bare_result = load(port, webhooks(N_WEBHOOKS))
        finally:
            stop(bare)

        port = free_port()
        order = serve(
            ["services.serve", "order", "--port", str(port), "--log-level", "warning"], env
        )
        try:
            wait_http(f"http://127.0.0.1:{port}/readyz")
            load(port, webhooks(500))  # warm-up
            ingest = load(port, webhooks(N_WEBHOOKS))
            drain = published_after(order_url)
            ids = created_orders(port, 200)
            auth = {"Authorization": "Bearer dev-cs_agent"}
            queries = [
                http_request("GET", f"/orders/{ids[i % len(ids)]}/capabilities", auth)
                for i in range(N_QUERIES)
            ]
            caps = load(port, queries)
        finally:
            stop(order)

    print(
        f"# webhook ingest and capabilities — {db_kind} + {broker_kind}, "
        f"{CONNECTIONS} connections, {datetime.now(UTC):%Y-%m-%d}"
    )
    print(line("bare FastAPI + 1 INSERT", bare_result))
    print(line("signed webhook ingest", ingest))
    print(f"{'ratio ingest / bare':<28}{ingest['rps'] / bare_result['rps']:8.2f}")
    until = ingest["requests"] / (ingest["requests"] / ingest["rps"] + drain)
    print(f"{'ingest until published':<28}{until:8.0f} req/s   (events out {drain:.2f} s after)")
    print(line("GET capabilities", caps))
    print(f"command: {command()}")


if __name__ == "__main__":
    main()
