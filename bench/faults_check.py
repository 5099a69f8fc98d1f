"""The checker: what the system holds after a fault, compared with what clients were told.

Orders come from the order service's API (the truth CS sees); the after-sales projection,
warehouse tasks, timelines and refunds are read from the services' databases (read only,
so thousands of orders are compared in a few queries); dead letters and `refund.issued`
events from the scenario's topics.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from tests.support import bearer

ZERO = (
    "lost",
    "duplicated",
    "double_transitions",
    "double_refunds",
    "after_stop",
    "dead_letters",
    "views_differ",
)
PENDING_REFUND = ("requested", "awaiting_cancel")


@dataclass
class Result:
    acked: int = 0
    stored: int = 0
    lost: int = 0
    duplicated: int = 0
    double_transitions: int = 0
    double_refunds: int = 0
    after_stop: int = 0
    dead_letters: int = 0
    views_differ: int = 0
    seconds: float | None = None  # to recover; None: not within the bound
    notes: Counter = field(default_factory=Counter)
    figures: dict[str, str] = field(default_factory=dict)  # printed with the notes

    @property
    def ok(self) -> bool:
        return self.seconds is not None and all(getattr(self, k) == 0 for k in ZERO)


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg", "postgresql")


async def _rows(url: str, sql: str) -> list:
    conn = await asyncpg.connect(_dsn(url))
    try:
        return await conn.fetch(sql)
    finally:
        await conn.close()


async def stored_orders(order_url: str) -> list[dict]:
    """Every order, page by page, from `GET /orders` (a fresh database: all are ours)."""
    out: list[dict] = []
    async with httpx.AsyncClient(base_url=order_url, timeout=30) as http:
        while True:
            page = await http.get(
                "/orders", params={"limit": 500, "offset": len(out)}, headers=bearer("dev-clerk")
            )
            page.raise_for_status()
            found = page.json()["orders"]
            out += found
            if len(found) < 500:
                return out


def _lines(lines) -> Counter:
    return Counter((ln["sku"], int(ln["qty"])) for ln in lines)


async def views(orders: list[dict], db: dict[str, str], notes: Counter) -> int:
    """Orders whose after-sales view (lines, amount, stage, refunds) or warehouse tasks
    (lines, status) differ from the order service's."""
    after = {
        r["order_id"]: r
        for r in await _rows(db["aftersales"], "SELECT order_id, synced, total, stage FROM orders")
    }
    lines: dict[str, Counter] = {}
    for r in await _rows(db["aftersales"], "SELECT order_id, sku, qty FROM order_lines"):
        lines.setdefault(r["order_id"], Counter())[(r["sku"], r["qty"])] += 1
    pending = {
        r["order_id"]
        for r in await _rows(
            db["aftersales"], f"SELECT order_id FROM refunds WHERE status IN {PENDING_REFUND}"
        )
    }
    tasks = {
        r["shipment_id"]: r
        for r in await _rows(db["warehouse"], "SELECT shipment_id, status, lines FROM shipments")
    }
    differ = 0
    for o in orders:
        why = _after_sales_differs(o, after.get(o["order_id"]), lines.get(o["order_id"]))
        if not why and o["stage"] == "cancelled" and o["order_id"] in pending:
            why = "refund_pending"
        why = why or _tasks_differ(o, tasks)
        if why:
            differ += 1
            notes[why] += 1
    return differ


def _after_sales_differs(o: dict, row, lines: Counter | None) -> str | None:
    if row is None or not row["synced"]:
        return "aftersales_unknown"
    if float(row["total"]) != float(o["total"]):
        return "aftersales_amount"
    if lines != _lines(o["lines"]):
        return "aftersales_lines"
    if row["stage"] != o["stage"]:
        return "aftersales_stage"
    return None


def _tasks_differ(o: dict, tasks: dict) -> str | None:
    for s in o["shipments"]:
        task = tasks.get(s["shipment_id"])
        if task is None:
            return "warehouse_task_missing"
        if _lines(json.loads(task["lines"])) != _lines(s["lines"]):
            return "warehouse_lines"
        if task["status"] != {"submitted": "queued"}.get(s["status"], s["status"]):
            return "warehouse_status"
    return None


async def double_transitions(db: dict[str, str]) -> int:
    """The same transition (trigger, from, to) twice on one order's timeline."""
    rows = await _rows(
        db["order"],
        """
        SELECT 1 FROM order_timeline WHERE kind = 'transition'
        GROUP BY order_id, detail->>'trigger', detail->>'previous', detail->>'stage'
        HAVING count(*) > 1""",
    )
    return len(rows)


async def double_refunds(db: dict[str, str], issued_events: list[dict]) -> int:
    """Orders refunded beyond what was paid, plus refunds announced as issued twice."""
    over = await _rows(
        db["aftersales"],
        """
        SELECT r.order_id FROM refunds r JOIN orders o USING (order_id)
        WHERE r.status = 'issued' GROUP BY r.order_id, o.total HAVING sum(r.amount) > o.total""",
    )
    distinct = {(e["payload"]["refund_id"], e["event_id"]) for e in issued_events}
    per_refund = Counter(refund_id for refund_id, _ in distinct)
    return len(over) + sum(1 for n in per_refund.values() if n > 1)


async def read_topic(bootstrap: str, topic: str) -> list[bytes]:
    """Every message of `topic` from the beginning (no consumer group)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = await asyncio.wait_for(consumer._client.fetch_all_metadata(), 30)
        tps = [TopicPartition(topic, p) for p in parts.partitions_for_topic(topic) or ()]
        if not tps:
            return []
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end = await consumer.end_offsets(tps)
        out: list[bytes] = []
        while [tp for tp in tps if await consumer.position(tp) < end[tp]]:
            batch = await consumer.getmany(timeout_ms=1000)
            out += [m.value for msgs in batch.values() for m in msgs]
        return out
    finally:
        await consumer.stop()


async def check(acked: dict[str, str], api: str, db: dict[str, str], result: Result) -> bool:
    """Fill `result` from the system as it is now; True when every view agrees."""
    orders = await stored_orders(api)
    per_pid = Counter(o["platform_order_id"] for o in orders)
    result.acked, result.stored = len(acked), len(orders)
    result.lost = sum(1 for pid in acked if pid not in per_pid)
    result.duplicated = sum(1 for n in per_pid.values() if n > 1)
    result.notes = Counter()
    result.views_differ = await views(orders, db, result.notes)
    return result.lost == 0 and result.views_differ == 0


async def final(bootstrap: str, prefix: str, db: dict[str, str], result: Result) -> None:
    """What only needs reading once, after recovery: timelines, refunds, dead letters."""
    result.double_transitions = await double_transitions(db)
    dead = await read_topic(bootstrap, f"{prefix}dead-letter")
    result.dead_letters = len(dead)
    for raw in dead[:3]:
        body = json.loads(raw)
        result.notes[f"dead: {body['consumer']}: {body['error'][:80]}"] += 1
    events = [json.loads(m) for m in await read_topic(bootstrap, f"{prefix}aftersales")]
    issued = [e for e in events if e.get("type") == "refund.issued"]
    result.notes["refunds_issued"] = len(issued)
    result.double_refunds = await double_refunds(db, issued)
