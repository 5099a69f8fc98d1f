"""Shipping and discount through the order service to after-sales (SPEC §2.3, §2.4): an
order with both is refunded by line at each unit's price less its share of the discount,
the shipping with the last line, and the refunds add up to exactly what was paid."""

from __future__ import annotations

import pytest

from tests.e2e.test_order_journeys import Actors
from tests.support import wait_until
from tests.support.webhooks import generic_order, sign_generic

pytestmark = [pytest.mark.e2e, pytest.mark.broker]


@pytest.fixture
def actors(system):
    return Actors(system)


async def test_cancelled_lines_are_refunded_by_the_orders_shipping_and_discount(actors):
    body = generic_order(skus=("SKU-1", "SKU-3"))
    body["lines"][0].update(qty=2, unit_price="30.00")
    body["lines"][1].update(qty=1, unit_price="40.00")
    body.update(shipping="10.00", discount="20.00", total="90.00")  # 100 + 10 - 20
    headers, raw = sign_generic(body)
    r = await actors.platform.post("/webhooks/generic/orders", content=raw, headers=headers)
    assert r.status_code == 202, r.text
    order_id = r.json()["order_id"]
    got = await actors.order(order_id)
    assert (got["shipping"], got["discount"]) == ("10.00", "20.00")

    async def refunded(count: int):
        refunds = await actors.refunds(order_id)
        issued = [x for x in refunds if x["status"] == "issued"]
        return sorted(x["amount"] for x in issued) if len(issued) >= count else None

    cancel = {"reason": "buyer asked", "lines": [{"sku": "SKU-1", "qty": 2}]}
    r = await actors.cs.post(f"/orders/{order_id}/cancel", json=cancel)
    assert r.status_code in (200, 202), r.text
    assert await wait_until(lambda: refunded(1), message="line refund") == ["48.00"]

    cancel = {"reason": "buyer asked", "lines": [{"sku": "SKU-3", "qty": 1}]}
    r = await actors.cs.post(f"/orders/{order_id}/cancel", json=cancel)
    assert r.status_code in (200, 202), r.text
    amounts = await wait_until(lambda: refunded(2), message="last line refund")
    assert amounts == ["42.00", "48.00"]  # 32.00 + the shipping; together 90.00
