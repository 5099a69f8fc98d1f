"""Bounds on order_service request bodies and queries: 413/422 naming the field, nothing stored."""

from __future__ import annotations

import json

from tests.integration.order_service.helpers import CLERK, CS, generic_order, post_generic
from tests.support import bearer

ADMIN = bearer("dev-admin")


async def _order(client) -> dict:
    r = await post_generic(client, "/webhooks/generic/orders", generic_order())
    assert r.status_code == 202, r.text
    return (await client.get(f"/orders/{r.json()['order_id']}", headers=CLERK)).json()


async def _patch(client, order: dict, body) -> object:
    headers = {**CS, "If-Match": str(order["version"]), "Content-Type": "application/json"}
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await client.patch(f"/orders/{order['order_id']}", content=raw, headers=headers)


async def _unchanged(client, order: dict) -> None:
    now = (await client.get(f"/orders/{order['order_id']}", headers=CLERK)).json()
    assert now["version"] == order["version"]
    assert now["address"] == order["address"] and now["lines"] == order["lines"]


def _field(r) -> str:
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "validation_error"
    return err["details"]["errors"][0]["field"]


async def test_patch_with_a_2_mib_address_line_is_413_and_changes_nothing(client):
    order = await _order(client)
    address = {**order["address"], "line1": "x" * (2 * 1024 * 1024)}
    r = await _patch(client, order, {"address": address})
    assert r.status_code == 413, r.text
    assert r.json()["error"]["code"] == "payload_too_large"
    await _unchanged(client, order)


async def test_patch_with_a_long_address_line_names_the_field(client):
    order = await _order(client)
    address = {**order["address"], "line1": "x" * 5000}
    assert _field(await _patch(client, order, {"address": address})) == "address.line1"
    await _unchanged(client, order)


async def test_patch_with_100000_lines_is_refused_and_changes_nothing(client):
    order = await _order(client)
    lines = [{"sku": "SKU-1", "qty": 1}] * 100_000
    r = await _patch(client, order, {"lines": lines})
    assert r.status_code in (413, 422), r.text
    await _unchanged(client, order)
    r = await _patch(client, order, {"lines": [{"sku": "SKU-1", "qty": 1}] * 1000})
    assert _field(r) == "lines"
    await _unchanged(client, order)


async def test_patch_qty_price_and_line_value_are_bounded(client):
    order = await _order(client)
    huge_qty = b'{"lines": [{"sku": "SKU-1", "qty": 1' + b"0" * 30 + b"}]}"
    assert _field(await _patch(client, order, huge_qty)) == "lines.0.qty"
    huge_price = b'{"lines": [{"sku": "SKU-1", "qty": 1, "unit_price": 1e100}]}'
    assert _field(await _patch(client, order, huge_price)) == "lines.0.unit_price"
    cents = {"lines": [{"sku": "SKU-1", "qty": 1, "unit_price": "1.001"}]}
    assert _field(await _patch(client, order, cents)) == "lines.0.unit_price"
    r = await _patch(client, order, {"lines": [{"sku": "S" * 500, "qty": 1}]})
    assert _field(r) == "lines.0.sku"
    r = await _patch(client, order, {"note": "n" * 100_000})
    assert _field(r) == "note"
    value = {"lines": [{"sku": "SKU-1", "qty": 10_000, "unit_price": "999999999.00"}]}
    r = await _patch(client, order, value)
    assert r.status_code == 422 and "at most" in r.json()["error"]["message"]
    await _unchanged(client, order)


async def test_campaign_limit_must_be_at_least_one(client):
    policy = (await client.get("/review-policy", headers=CLERK)).json()
    r = await client.put(
        "/review-policy", json={**policy, "campaign_limits": {"C-1": -5}}, headers=ADMIN
    )
    assert _field(r) == "campaign_limits.C-1"
    r = await client.put(
        "/review-policy", json={**policy, "default_campaign_limit": 0}, headers=ADMIN
    )
    assert _field(r) == "default_campaign_limit"
    assert (await client.get("/review-policy", headers=CLERK)).json() == policy


async def test_review_policy_is_changed_only_by_admin(client):
    policy = (await client.get("/review-policy", headers=CLERK)).json()
    changed = {**policy, "default_campaign_limit": 50}
    r = await client.put("/review-policy", json=changed, headers=CLERK)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert (await client.get("/review-policy", headers=CLERK)).json() == policy
    r = await client.put("/review-policy", json=changed, headers=ADMIN)
    assert r.status_code == 200
    assert (await client.get("/review-policy", headers=CLERK)).json() == changed


async def test_order_queries_are_bounded(client):
    r = await client.get("/orders", params={"offset": 10**20}, headers=CLERK)
    assert _field(r) == "query.offset"
    r = await client.get("/orders", params={"limit": 10**20}, headers=CLERK)
    assert _field(r) == "query.limit"
    r = await client.get("/orders", params={"platform_order_id": "P" * 1000}, headers=CLERK)
    assert _field(r) == "query.platform_order_id"
    r = await client.get("/orders", params={"offset": 999_999}, headers=CLERK)
    assert r.status_code == 200 and r.json()["orders"] == []


async def test_platform_refund_and_delivery_webhooks_are_bounded(client):
    order = await _order(client)
    refund = {
        "event_id": "evt-r1",
        "platform": "taobao",
        "platform_order_id": order["platform_order_id"],
        "platform_refund_id": "RF-1",
        "amount": 1e100,
        "reason": "",
        "skus": [],
    }
    r = await post_generic(client, "/webhooks/generic/refunds", refund)
    assert _field(r) == "amount"
    r = await post_generic(
        client, "/webhooks/generic/refunds", {**refund, "amount": "1", "skus": ["S"] * 1000}
    )
    assert _field(r) == "skus"
    delivery = {
        "event_id": "evt-d1",
        "platform": "taobao",
        "platform_order_id": "P" * 1000,
        "delivered_at": "2026-01-02T00:00:00+00:00",
    }
    r = await post_generic(client, "/webhooks/generic/deliveries", delivery)
    assert _field(r) == "platform_order_id"
    await _unchanged(client, order)


async def test_merge_and_cancel_bodies_are_bounded(client):
    order = await _order(client)
    r = await client.post("/orders/merge-shipping", json={"order_ids": ["O"] * 1000}, headers=CLERK)
    assert _field(r) == "order_ids"
    r = await client.post(
        f"/orders/{order['order_id']}/cancel", json={"reason": "r" * 100_000}, headers=CS
    )
    assert _field(r) == "reason"
    now = (await client.get(f"/orders/{order['order_id']}", headers=CLERK)).json()
    assert now["stage"] == order["stage"]


async def test_nul_characters_are_refused_not_stored(client):
    order = await _order(client)
    r = await client.get("/orders", params={"platform_order_id": "P\x00"}, headers=CLERK)
    assert r.status_code == 422, r.text
    r = await client.get("/orders/O%00", headers=CLERK)
    assert r.status_code in (404, 422), r.text
    r = await _patch(client, order, {"note": "a\x00b"})
    assert r.status_code == 422 and "note" in r.json()["error"]["message"], r.text
    await _unchanged(client, order)


async def test_if_match_is_bounded(client):
    order = await _order(client)
    for version in ("9" * 5000, "\u00b2", "\u0661"):  # superscript two, Arabic-Indic one
        headers = {**CS, "If-Match": version.encode()}
        r = await client.patch(f"/orders/{order['order_id']}", json={"note": "x"}, headers=headers)
        assert r.status_code == 412, (version, r.text)
        assert r.json()["error"]["code"] == "stale_version"
    await _unchanged(client, order)
