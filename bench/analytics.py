"""Analytics benchmark: seed 1,000,000 orders / 150,000 returns, print p99 per endpoint.

    .venv/bin/python -m bench.analytics                       # SQLite under /tmp
    .venv/bin/python -m bench.analytics --orders 100000 --returns 15000 --requests 20
    BENCH_DATABASE_URL=postgresql+asyncpg://... .venv/bin/python -m bench.analytics
    BENCH_REUSE=1 ...    # reuse the seeded database when its row counts match, else re-seed

Seeding uses bulk multi-row inserts (SQLAlchemy Core executemany; COPY on PostgreSQL)
straight into the after-sales tables, then builds the warehouse rollup the projection
would have kept (adapters/rollup.py) and refreshes planner statistics (ANALYZE; on
PostgreSQL VACUUM ANALYZE, what autovacuum does to a loaded table). The endpoints are
then called in-process through the real app (auth, routing, SQL, JSON), without a broker.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy import JSON, func, insert, select, text

from aftersales_service.adapters import rollup
from aftersales_service.adapters import tables as t
from aftersales_service.app import create_app
from bench.common import command, pct
from shared.db import Database
from shared.settings import Settings

T0 = datetime(2026, 1, 1, tzinfo=UTC)
WAREHOUSES = ["WH-OWN-1", "WH-DS-1", "WH-DS-2", "WH-DS-3", "WH-DS-4", "WH-DS-5"]
REASONS = {
    "defect": "quality",
    "damaged": "quality",
    "not_as_described": "quality",
    "late": "logistics",
    "package_damaged": "logistics",
    "wrong_order": "customer",
    "changed_mind": "customer",
    "wrong_item": "warehouse",
    "missing_item": "warehouse",
}
PARTY = {
    "quality": "supplier",
    "logistics": "carrier",
    "customer": "customer",
    "warehouse": "warehouse",
}
ENDPOINTS = [
    "/analytics/returns?by=sku",
    "/analytics/returns?by=category",
    "/analytics/returns?by=warehouse",
    "/analytics/returns?by=supplier",
    "/analytics/returns?by=reason",
    "/analytics/return-times",
    "/analytics/complaints",
    "/analytics/warehouses",
    "/analytics/delisting",
    "/analytics/charts/reasons.svg",
    "/analytics/charts/sku-return-rate.svg",
    "/analytics/charts/returns-timeline.svg",
]
BATCH = 20_000


async def _bulk(db: Database, table, rows: list[dict]) -> None:
    if db.dialect == "postgresql" and rows:  # COPY: minutes become seconds
        await _copy(db, table, rows)
        return
    for i in range(0, len(rows), BATCH):
        async with db.session() as s, s.begin():
            await s.execute(insert(table), rows[i : i + BATCH])


async def _copy(db: Database, table, rows: list[dict]) -> None:
    cols = list(rows[0])
    json_cols = {c.name for c in table.columns if isinstance(c.type, JSON)}
    records = [tuple(json.dumps(r[c]) if c in json_cols else r[c] for c in cols) for r in rows]
    async with db.engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        if driver is None:
            raise RuntimeError("no asyncpg connection under the pool")
        await driver.copy_records_to_table(table.name, records=records, columns=cols)
        await conn.commit()


def _sku(rng: random.Random) -> tuple[str, str, str, Decimal]:
    n = min(int(rng.paretovariate(1.2)), 500)
    return f"SKU-{n}", f"CAT-{n % 25}", f"SUP-{n % 12}", Decimal(10 + n % 90)


async def seed(db: Database, orders: int, returns: int, seed_: int = 7) -> None:
    rng = random.Random(seed_)
    await _bulk(
        db,
        t.warehouses,
        [
            {
                "warehouse_id": w,
                "kind": "own" if "OWN" in w else "dropship",
                "supplier_id": None if "OWN" in w else f"SUP-{i}",
                "name": w,
            }
            for i, w in enumerate(WAREHOUSES)
        ],
    )
    chunk = 100_000
    picked: list[tuple[str, dict]] = []
    for start in range(0, orders, chunk):
        o_rows, l_rows, s_rows = [], [], []
        for n in range(start, min(start + chunk, orders)):
            oid, wh = f"O-{n:07d}", WAREHOUSES[n % len(WAREHOUSES)]
            paid = T0 + timedelta(minutes=n // 4)
            total = Decimal(0)
            for ln in range(1 + (n % 3 == 0)):
                sku, cat, sup, price = _sku(rng)
                qty = 1 + (n % 7 == 0)
                line = {
                    "order_id": oid,
                    "line_no": ln,
                    "sku": sku,
                    "qty": qty,
                    "unit_price": price,
                    "category": cat,
                    "supplier_id": sup,
                    "warehouse_id": wh,
                }
                total += price * qty
                l_rows.append(line)
            ship_s = rng.randint(3600, 72 * 3600)
            o_rows.append(
                {
                    "order_id": oid,
                    "synced": True,
                    "platform": "taobao",
                    "buyer_id": f"B{n % 50000}",
                    "currency": "CNY",
                    "total": total,
                    "stage": "delivered",
                    "held": False,
                    "shipped": True,
                    "paid_at": paid,
                    "delivered_at": paid + timedelta(days=3),
                    "version": 1,
                }
            )
            s_rows.append(
                {
                    "shipment_id": f"S-{n:07d}",
                    "order_id": oid,
                    "warehouse_id": wh,
                    "skus": [],
                    "status": "shipped",
                    "submitted_at": paid,
                    "shipped_at": paid + timedelta(seconds=ship_s),
                    "submit_to_ship_seconds": ship_s,
                }
            )
            if len(picked) < returns and rng.random() < returns / orders * 1.05:
                picked.append((oid, l_rows[-1]))
        await _bulk(db, t.orders, o_rows)
        await _bulk(db, t.order_lines, l_rows)
        await _bulk(db, t.shipments, s_rows)
        print(f"  seeded {min(start + chunk, orders):,} orders", file=sys.stderr)
    await _seed_returns(db, rng, picked[:returns])


async def _seed_returns(db: Database, rng: random.Random, picked) -> None:
    r_rows, rl_rows, li_rows = [], [], []
    for i, (oid, line) in enumerate(picked):
        reason = rng.choice(list(REASONS))
        days = rng.randint(0, 15)
        opened = T0 + timedelta(days=3 + days, minutes=i)
        rid = f"RT-{i:07d}"
        status = rng.choice(["inspected", "inspected", "received", "approved", "rejected"])
        value = line["unit_price"] * line["qty"]
        r_rows.append(
            {
                "return_id": rid,
                "order_id": oid,
                "kind": "return",
                "reason_code": reason,
                "reason_category": REASONS[reason],
                "method": "pickup",
                "opened": True,
                "evidence": {},
                "status": status,
                "shipping_payer": "buyer",
                "return_address": "",
                "amount": value,
                "warehouse_id": line["warehouse_id"],
                "opened_at": opened,
                "days_after_delivery": days,
                "decision_note": "",
                "handling_seconds": rng.randint(86400, 10 * 86400),
                "version": 1,
            }
        )
        rl_rows.append(
            {
                "return_id": rid,
                "line_no": 0,
                "order_id": oid,
                "sku": line["sku"],
                "qty": line["qty"],
                "unit_price": line["unit_price"],
                "category": line["category"],
                "supplier_id": line["supplier_id"],
                "warehouse_id": line["warehouse_id"],
                "active": status != "rejected",
            }
        )
        if status == "inspected":
            li_rows.append(
                {
                    "liability_id": f"LB-{i:07d}",
                    "return_id": rid,
                    "order_id": oid,
                    "party": PARTY[REASONS[reason]],
                    "amount": value / 2,
                    "basis": reason,
                    "sku": line["sku"],
                    "supplier_id": line["supplier_id"],
                    "warehouse_id": line["warehouse_id"],
                    "created_at": opened,
                }
            )
    await _bulk(db, t.returns, r_rows)
    await _bulk(db, t.return_lines, rl_rows)
    await _bulk(db, t.liabilities, li_rows)
    await _bulk(
        db,
        t.complaints,
        [
            {
                "complaint_id": f"CP-{i:06d}",
                "tier": "L1",
                "subject": "x",
                "description": "",
                "evidence": [],
                "status": "responded",
                "escalations": 0,
                "owner": "cs_agent",
                "opened_at": T0,
                "due_at": T0,
                "responses": [],
                "version": 1,
            }
            for i in range(len(picked) // 30)
        ],
    )
    print(f"  seeded {len(r_rows):,} returns, {len(li_rows):,} liabilities", file=sys.stderr)


async def measure(app, requests: int) -> None:
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": "Bearer dev-ops"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bench", headers=headers, timeout=120
    ) as client:
        print(f"{'endpoint':44} {'p50 ms':>9} {'p99 ms':>9}")
        for path in ENDPOINTS:
            samples = []
            for _ in range(requests):
                start = time.perf_counter()
                r = await client.get(path)
                samples.append((time.perf_counter() - start) * 1000)
                assert r.status_code == 200, (path, r.status_code, r.text[:200])
            print(f"{path:44} {statistics.median(samples):9.1f} {pct(samples, 99):9.1f}")


def _remove_sqlite(path: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(path + suffix).unlink(missing_ok=True)


async def _counts(db: Database) -> tuple[int, int]:
    async with db.reader() as s:
        orders = (await s.execute(select(func.count()).select_from(t.orders))).scalar_one()
        returns = (await s.execute(select(func.count()).select_from(t.returns))).scalar_one()
    return orders, returns


async def _empty(db: Database) -> None:
    """Empty the tables the bench seeds (PostgreSQL; the SQLite file is removed instead)."""
    names = ", ".join(table.name for table in t.metadata.sorted_tables)
    async with db.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {names}"))


async def _after_seed(db: Database) -> None:
    async with db.session() as s, s.begin():
        await rollup.rebuild(s)
    if db.dialect == "sqlite":
        async with db.engine.connect() as conn:
            await conn.exec_driver_sql("ANALYZE")
    else:
        engine = db.engine.execution_options(isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.exec_driver_sql("VACUUM ANALYZE")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--returns", type=int, default=150_000)
    parser.add_argument("--requests", type=int, default=20, help="requests per endpoint")
    parser.add_argument("--db", default="/tmp/aftersales-bench.db", help="SQLite file")
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded DB")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite+aiosqlite:///{args.db}"
    reuse = args.reuse
    if os.environ.get("BENCH_REUSE") == "1" and _has_database(url, args.db):
        reuse = await _seeded_as_asked(url, args.orders, args.returns)
        print(
            f"BENCH_REUSE=1: {'reusing' if reuse else 're-seeding'} the database", file=sys.stderr
        )
    if url.startswith("sqlite") and not reuse:
        _remove_sqlite(args.db)
    app = create_app(_settings(url))
    db = app.state.runtime.db
    await db.create_schema(t.metadata)
    if not reuse:
        if db.dialect != "sqlite":
            await _empty(db)
        start = time.perf_counter()
        await seed(db, args.orders, args.returns)
        await _after_seed(db)
        print(f"seeded in {time.perf_counter() - start:.1f}s", file=sys.stderr)
    else:
        async with db.session() as s, s.begin():
            await rollup.rebuild_if_missing(s)
    print(f"command: {' '.join([command(), *sys.argv[1:]])}")
    print(f"database: {db.dialect}, orders={args.orders:,}, returns={args.returns:,}")
    await measure(app, args.requests)
    await db.dispose()


def _has_database(url: str, sqlite_file: str) -> bool:
    return not url.startswith("sqlite") or Path(sqlite_file).exists()


def _settings(url: str) -> Settings:
    return Settings(
        service="aftersales", aftersales_database_url=url, kafka_bootstrap_servers="127.0.0.1:1"
    )


async def _seeded_as_asked(url: str, orders: int, returns: int) -> bool:
    db = Database(url)
    try:
        await db.create_schema(t.metadata)
        return await _counts(db) == (orders, returns)
    finally:
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
