"""Per-database schema set-up: `create_all` against the migrations (as services and test
fixtures run them at start-up: the rendered SQL) and the migrations run op by op, on
fresh databases, in rotating order; medians of wall and CPU.

    python -m bench.schema [N]                                   # SQLite files
    TEST_POSTGRES_URL=postgresql+asyncpg://u:p@host/postgres python -m bench.schema [N]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid

from shared.db import Database
from shared.migrations import SERVICES, Tree

ADMIN = os.environ.get("TEST_POSTGRES_URL", "")


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(ADMIN.replace("+asyncpg", ""))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _one(tmp: str, tree: Tree, way: str) -> tuple[float, float]:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    if ADMIN:
        await _admin(f'CREATE DATABASE "{name}"')
        url = ADMIN.rsplit("/", 1)[0] + "/" + name
    else:
        url = f"sqlite+aiosqlite:///{tmp}/{name}.db"
    db = Database(url)
    wall, cpu = time.perf_counter(), time.process_time()
    if way == "create_all":
        await db.create_schema(tree.metadata)
    else:
        async with db.engine.begin() as conn:
            await conn.run_sync(tree.upgrade_on, "head", fast=way == "migrations")
    took = time.perf_counter() - wall, time.process_time() - cpu
    await db.dispose()
    if ADMIN:
        await _admin(f'DROP DATABASE "{name}" WITH (FORCE)')
    return took


async def main(n: int) -> None:
    print(f"python -m bench.schema {n}  ({'PostgreSQL' if ADMIN else 'SQLite'})")
    with tempfile.TemporaryDirectory() as tmp:
        for service in SERVICES:
            tree = Tree(service)
            await _one(tmp, tree, "migrations")  # renders the SQL once, as a process does
            ways = ["create_all", "migrations", "op-by-op"]
            runs: dict[str, list[tuple[float, float]]] = {way: [] for way in ways}
            for i in range(n):
                for way in ways[i % 3 :] + ways[: i % 3]:
                    runs[way].append(await _one(tmp, tree, way))
            for way, xs in runs.items():
                wall = statistics.median(x[0] for x in xs) * 1000
                cpu = statistics.median(x[1] for x in xs) * 1000
                print(f"{service:<11}{way:<11} wall {wall:6.1f} ms  cpu {cpu:5.1f} ms")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20))
