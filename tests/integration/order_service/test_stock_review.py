"""Auto-review hears stock through the broker (SPEC §2.2, §3.2): the warehouse announces
available stock per SKU (`stock.levels`), the order service projects it, and a new order
for a SKU no warehouse has waits for a clerk, flagged `no_stock`."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from order_service.adapters import tables as t
from tests.integration.order_service.helpers import CLERK, OPS, generic_order, post_generic
from tests.integration.warehouse_service.test_inventory import set_stock
from tests.support import bearer, running, wait_until
from warehouse_service.app import create_app as create_warehouse

pytestmark = pytest.mark.broker

ADMIN = bearer("dev-admin")


def _order(sku: str) -> dict:
    line = {"sku": sku, "qty": 1, "unit_price": "59.00", "attributes": {}, "campaign_id": None}
    return generic_order(lines=[line])


async def test_a_sku_no_warehouse_has_is_not_auto_reviewed(app, client, make_settings):
    async def known(sku: str) -> int | None:
        async with app.state.runtime.db.reader() as session:
            q = select(t.sku_stock.c.available).where(t.sku_stock.c.sku == sku)
            return (await session.execute(q)).scalar()

    policy = (await client.get("/review-policy", headers=CLERK)).json()
    r = await client.put("/review-policy", json={**policy, "auto_review": True}, headers=ADMIN)
    assert r.status_code == 200, r.text
    async with running(create_warehouse(make_settings("warehouse"))) as wh:
        # development startup announces the seeded levels
        assert await wait_until(lambda: known("SKU-3"), message="seed announced") == 1000
        r = await post_generic(client, "/webhooks/generic/orders", _order("SKU-3"))
        assert r.status_code == 202 and r.json()["stage"] == "reviewed", r.text

        rows = (await wh.get("/inventory", params={"sku": "SKU-3"}, headers=OPS)).json()
        for row in rows:
            await set_stock(wh, "SKU-3", 0, row["warehouse_id"])
        await wait_until(lambda: known("SKU-3"), expect=0, message="the zero announced")

    r = await post_generic(client, "/webhooks/generic/orders", _order("SKU-3"))
    assert r.status_code == 202 and r.json()["stage"] == "synced", r.text
    order_id = r.json()["order_id"]
    order = (await client.get(f"/orders/{order_id}", headers=CLERK)).json()
    assert [f for f in order["flags"] if f["code"] == "no_stock"] == [
        {"code": "no_stock", "skus": ["SKU-3"]}
    ]
    timeline = (await client.get(f"/orders/{order_id}/timeline", headers=CLERK)).json()
    skipped = [e for e in timeline["entries"] if e["kind"] == "auto_review_skipped"]
    assert skipped and "no stock anywhere: SKU-3" in skipped[0]["detail"]["problems"]
