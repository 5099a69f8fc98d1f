"""Replenishment and clearance alerts (SPEC §3.2) with per-SKU rules."""

from __future__ import annotations

import pytest

from shared.clock import ManualClock
from tests.integration.warehouse_service.support import deliver, submitted
from tests.integration.warehouse_service.test_inventory import _ship as ship
from tests.integration.warehouse_service.test_inventory import set_stock
from tests.support import bearer, running
from warehouse_service.app import create_app

pytestmark = pytest.mark.broker

OPS, CLERK = bearer("dev-ops"), bearer("dev-clerk")


async def flagged(http, **params) -> set[tuple[str, str, str]]:
    r = await http.get("/inventory/alerts", params=params, headers=CLERK)
    assert r.status_code == 200, r.text
    return {(a["warehouse_id"], a["sku"], a["kind"]) for a in r.json()}


async def test_reorder_and_slow_moving_alerts_follow_the_sku_rules(make_settings):
    clock = ManualClock()
    app = create_app(make_settings("warehouse"), clock=clock)
    async with running(app) as http:
        assert await flagged(http) == set()  # no sales, no expected figure: nothing
        await set_stock(http, "SKU-3", 10)
        r = await http.put("/inventory/alert-rules/SKU-3", json={"daily_sales": 5}, headers=OPS)
        assert r.status_code == 200, r.text
        assert r.json() == {
            "sku": "SKU-3",
            "daily_sales": 5,
            "reorder_days": 3,
            "slow_moving_days": 7,
        }
        body = {"daily_sales": 2, "reorder_days": 1}
        assert (await http.put("/inventory/alert-rules/SKU-4", json=body, headers=OPS)).is_success
        bad = {"reorder_days": 0}
        r = await http.put("/inventory/alert-rules/SKU-4", json=bad, headers=OPS)
        assert r.status_code == 422
        r = await http.put("/inventory/alert-rules/SKU-4", json=body, headers=CLERK)
        assert r.status_code == 403
        # 10 available < 5 a day x 3 days; SKU-4: 1,000 >= 2 x 1.
        assert await flagged(http) == {("WH-OWN-1", "SKU-3", "reorder")}
        [a] = (await http.get("/inventory/alerts", headers=CLERK)).json()
        assert (a["available"], a["daily_sales"], a["point"]) == (10, 5.0, 15.0)

        clock.advance(days=15)  # two whole weeks without a sale
        assert await flagged(http) == {
            ("WH-OWN-1", "SKU-3", "reorder"),
            ("WH-OWN-1", "SKU-3", "slow_moving"),
            ("WH-OWN-1", "SKU-4", "slow_moving"),
        }
        assert await flagged(http, kind="slow_moving", sku="SKU-4") == {
            ("WH-OWN-1", "SKU-4", "slow_moving")
        }
        rules = (await http.get("/inventory/alert-rules", headers=CLERK)).json()
        assert [x["sku"] for x in rules] == ["SKU-3", "SKU-4"]

        # 20 shipped this week: at 2 a day (14 a week) SKU-4 is no longer slow-moving.
        env = submitted("WH-OWN-1", [("SKU-4", 20)])
        await deliver(app, env)
        await ship(http, env)
        assert ("WH-OWN-1", "SKU-4", "slow_moving") not in await flagged(http)
        r = await http.get("/inventory/alerts", params={"sku": "SKU-3"}, headers=CLERK)
        assert {a["kind"] for a in r.json()} == {"reorder", "slow_moving"}
        await http.put("/inventory/alert-rules/SKU-4", json={"daily_sales": 3}, headers=OPS)
        [a] = (await http.get("/inventory/alerts", params={"sku": "SKU-4"}, headers=CLERK)).json()
        assert (a["kind"], a["weekly_sales"], a["point"]) == ("slow_moving", [20, 0], 21.0)
