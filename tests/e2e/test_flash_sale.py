"""A flash sale through the three service processes and the broker (SPEC §3.2, §4): more
buyers than units; exactly the units are reserved, the rest is out of stock at once, and
the listing is told of the zero."""

from __future__ import annotations

import asyncio

import pytest

from tests.support import wait_until
from tests.support.webhooks import generic_order, sign_generic

pytestmark = [pytest.mark.e2e, pytest.mark.broker]

SKU, UNITS, BUYERS = "SKU-5", 20, 30


async def _buy(system, n: int) -> str:
    platform = system.client("order")
    clerk = system.client("order", "dev-clerk")
    async with platform, clerk:
        headers, raw = sign_generic(generic_order(skus=(SKU,), buyer=f"flash-{n}"))
        r = await platform.post("/webhooks/generic/orders", content=raw, headers=headers)
        assert r.status_code == 202, r.text
        order_id = r.json()["order_id"]
        r = await clerk.post(f"/orders/{order_id}/review", json={"approve": True})
        assert r.json()["stage"] == "reviewed", r.text
        r = await clerk.post(f"/orders/{order_id}/submit", json={})
        assert r.json()["stage"] == "submitted", r.text
        return order_id


async def test_30_buyers_for_20_units(system):
    ops = system.client("warehouse", "dev-ops")
    clerk = system.client("order", "dev-clerk")
    cs = system.client("aftersales", "dev-cs_agent")
    body = {"warehouse_id": "WH-OWN-1", "sku": SKU, "kind": "count_correction"}
    r = await ops.post(
        "/inventory/adjustments", json=body | {"counted": UNITS, "reason": "flash sale stock"}
    )
    assert r.status_code == 201, r.text

    orders = set(await asyncio.gather(*(_buy(system, n) for n in range(BUYERS))))
    shipments = {f"{o}-S1" for o in orders}

    async def tasks(status: str) -> set[str]:
        r = await ops.get("/warehouses/WH-OWN-1/shipments", params={"status": status})
        return {t["shipment_id"] for t in r.json()} & shipments

    async def settled():
        queued, short = await tasks("queued"), await tasks("exception")
        return (len(queued), len(short)) if len(queued) + len(short) == BUYERS else None

    assert await wait_until(settled, message="every task created") == (UNITS, BUYERS - UNITS)
    r = await ops.get("/inventory", params={"sku": SKU, "warehouse_id": "WH-OWN-1"})
    [row] = r.json()
    assert (row["on_hand"], row["reserved"], row["available"]) == (UNITS, UNITS, 0)

    async def listed() -> list[int]:
        r = await ops.get("/inventory/listing", params={"sku": SKU})
        return [x["available"] for x in r.json()]

    await wait_until(listed, expect=[0], message="the sold-out SKU's zero reaches the listing")

    async def in_exception() -> int:
        stages = [(await clerk.get(f"/orders/{o}")).json()["stage"] for o in orders]
        return stages.count("exception")

    await wait_until(in_exception, expect=BUYERS - UNITS, message="order service sees exception")

    async def notifications() -> int:
        r = await cs.get("/tasks", params={"limit": 500})
        return len({t["order_id"] for t in r.json()} & orders)

    await wait_until(notifications, expect=BUYERS - UNITS, message="after-sales tasks")
    for c in (ops, clerk, cs):
        await c.aclose()
