"""Exchanges and reships (SPEC §4.1) through the real broker, after-sales alone: order and
warehouse facts, and the order service's answer (`order.replacement_created` /
`_refused`, the replacement's `order.submitted`), are published as those services would;
`aftersales.replacement_requested`, `refund.issued` and the rest are read off the topic.
The order half (routing `<order>-R1`) is tested in tests/integration/order_service."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from shared import topics
from tests.integration.aftersales_service import events as ev
from tests.integration.aftersales_service.conftest import AGENT, SUPERVISOR
from tests.integration.aftersales_service.test_refund_stages_broker import Wire
from tests.support import bearer, wait_until

pytestmark = pytest.mark.broker
WH = "WH-OWN-1"
ADMIN = bearer("dev-admin")


async def _delivered(wire: Wire, h, order_id: str, lines, total: str | None = None) -> None:
    """An order shipped from WH in one shipment and delivered yesterday."""
    await wire.publish(
        topics.ORDERS,
        ev.synced(order_id, lines, total),
        ev.submitted(order_id, f"{order_id}-S1", WH, lines),
        ev.stage(order_id, "delivered", "shipped"),
        ev.delivered(order_id, ev.T0 - timedelta(days=1)),
    )
    await wire.publish(
        topics.WAREHOUSE, ev.shipped(order_id, f"{order_id}-S1", WH, ev.T0 - timedelta(days=2))
    )

    async def ready():
        from aftersales_service.adapters.projection import OrderProjection

        async with h.rt.db.reader() as s:
            order = await OrderProjection(s).get(order_id)
        return order is not None and order.delivered_at is not None and order.lines[0].shipped

    await wait_until(ready, timeout=30, message=f"{order_id} delivered and shipped")


def _exchange_body(order_id: str, reason: str, *, sku: str = "SKU-1-L") -> dict:
    return {
        "order_id": order_id,
        "lines": [{"sku": "SKU-1", "qty": 1}],
        "reason_code": reason,
        "resolution": "exchange",
        "replacement_lines": [{"sku": sku, "qty": 1}],
    }


async def _exchange(h, return_id: str) -> dict:
    r = await h.client.get(f"/returns/{return_id}", headers=AGENT)
    assert r.status_code == 200, r.text
    return r.json()["exchange"]


async def _exchange_status(h, return_id: str) -> str:
    return (await _exchange(h, return_id))["status"]


async def _ship_replacement(wire: Wire, order_id: str, replacement_id: str, kind: str, value):
    """The order service routes it as `<order>-R1`; the warehouse ships it."""
    lines = [ev.line("SKU-1-L", 1, value)]
    created = ev.replacement_created(order_id, replacement_id, kind, value, lines, WH)
    r1 = f"{order_id}-R1"
    sub = ev.submitted(order_id, r1, WH, lines, replacement_id=replacement_id)
    await wire.publish(topics.ORDERS, created, created, sub)  # redelivered: applied once
    await wire.publish(topics.WAREHOUSE, ev.shipped(order_id, r1, WH, ev.T0))


async def test_an_exchange_ships_when_its_return_is_received(harness, make_settings):
    h = harness
    async with Wire(make_settings("aftersales")) as wire:
        await _delivered(wire, h, "O-EX1", [ev.line("SKU-1", 1, "59.00")])
        r = await h.client.post(
            "/returns", json=_exchange_body("O-EX1", "changed_mind"), headers=AGENT
        )
        assert r.status_code == 201, r.text
        case = r.json()
        ex = case["exchange"]
        assert (case["resolution"], case["refund_id"], case["status"]) == (
            "exchange",
            None,
            "approved",
        )
        assert (ex["status"], ex["returned_value"], ex["lines"]) == (
            "waiting",
            "59.00",
            [{"sku": "SKU-1-L", "qty": 1}],
        )
        await wire.wait_for("return.opened", "O-EX1")
        assert not wire.of("aftersales.replacement_requested", "O-EX1")

        r = await h.client.post(f"/returns/{case['id']}/receive", headers=AGENT)
        assert (r.status_code, r.json()["exchange"]["status"]) == (200, "requested"), r.text
        (asked,) = await wire.wait_for("aftersales.replacement_requested", "O-EX1")
        assert asked.payload == {
            "replacement_id": ex["replacement_id"],
            "kind": "exchange",
            "lines": [{"sku": "SKU-1-L", "qty": 1}],
            "reason": "changed_mind",
            "return_id": case["id"],
        }

        await _ship_replacement(wire, "O-EX1", ex["replacement_id"], "exchange", "59.00")
        await wait_until(
            lambda: _exchange_status(h, case["id"]), expect="shipped", message="exchange shipped"
        )
        got = await _exchange(h, case["id"])
        assert (got["shipment_ids"], got["shipped"]) == (["O-EX1-R1"], ["O-EX1-R1"])
        assert (got["price_difference"], got["due_from_customer"], got["refund_id"]) == (
            "0.00",
            "0.00",
            None,
        )
        refunds = await h.client.get("/refunds", params={"order_id": "O-EX1"}, headers=AGENT)
        assert refunds.json() == []  # the returned unit is exchanged, not refunded


async def test_an_exchange_ships_first_and_shows_what_the_customer_owes(harness, make_settings):
    h = harness
    async with Wire(make_settings("aftersales")) as wire:
        policy = (await h.client.get("/policies", headers=AGENT)).json()["policy"]
        assert (policy["exchange_ship_first"], policy["exchange_ship_first_reasons"]) == (
            False,
            ["wrong_item"],
        )
        await _delivered(wire, h, "O-EX2", [ev.line("SKU-1", 1, "59.00")])
        r = await h.client.post(
            "/returns", json=_exchange_body("O-EX2", "wrong_item"), headers=AGENT
        )
        assert r.status_code == 201, r.text
        case = r.json()
        assert case["exchange"]["status"] == "requested"  # before the parcel is back
        await wire.wait_for("aftersales.replacement_requested", "O-EX2")
        await _ship_replacement(wire, "O-EX2", case["replacement_id"], "exchange", "69.00")
        await wait_until(lambda: _exchange_status(h, case["id"]), expect="shipped")
        got = await _exchange(h, case["id"])
        assert (got["value"], got["price_difference"], got["due_from_customer"]) == (
            "69.00",
            "10.00",
            "10.00",
        )
        # receiving the return later sends nothing again
        r = await h.client.post(f"/returns/{case['id']}/receive", headers=AGENT)
        assert r.status_code == 200, r.text
        await wire.wait_for("return.received", "O-EX2")
        assert len(wire.of("aftersales.replacement_requested", "O-EX2")) == 1

        # the policy may ship every exchange first
        policy["exchange_ship_first"] = True
        r = await h.client.put("/policies", json=policy, headers=ADMIN)
        assert r.status_code == 200, r.text
        await _delivered(wire, h, "O-EX3", [ev.line("SKU-1", 1, "59.00")])
        r = await h.client.post(
            "/returns", json=_exchange_body("O-EX3", "changed_mind"), headers=AGENT
        )
        assert r.json()["exchange"]["status"] == "requested", r.text
        await wire.wait_for("aftersales.replacement_requested", "O-EX3")


async def test_a_cheaper_exchange_refunds_the_difference_once(harness, make_settings):
    h = harness
    async with Wire(make_settings("aftersales")) as wire:
        # 2 x 50.00 less a 10.00 discount: a unit was paid 45.00
        await _delivered(wire, h, "O-EX4", [ev.line("SKU-1", 2, "50.00")], total="90.00")
        r = await h.client.post(
            "/returns", json=_exchange_body("O-EX4", "wrong_item"), headers=AGENT
        )
        assert r.status_code == 201, r.text
        case = r.json()
        assert case["exchange"]["returned_value"] == "45.00"
        await wire.wait_for("aftersales.replacement_requested", "O-EX4")
        await _ship_replacement(wire, "O-EX4", case["replacement_id"], "exchange", "39.00")
        (issued,) = await wire.wait_for("refund.issued", "O-EX4")
        assert Decimal(issued.payload["amount"]) == Decimal("6.00")
        got = await _exchange(h, case["id"])
        assert (got["price_difference"], got["refund_id"]) == ("-6.00", issued.payload["refund_id"])
        refund = (await h.client.get(f"/refunds/{got['refund_id']}", headers=AGENT)).json()
        assert (refund["kind"], refund["status"], refund["return_id"]) == (
            "price_difference",
            "issued",
            case["id"],
        )
        # the same answer again (a new event): recorded as an anomaly, nothing paid twice
        again = ev.replacement_created("O-EX4", case["replacement_id"], "exchange", "39.00", [], WH)
        await wire.publish(topics.ORDERS, again)

        async def recorded():
            r = await h.client.get("/anomalies", headers=AGENT)
            return [a for a in r.json() if a.get("event_type") == "order.replacement_created"]

        await wait_until(recorded, timeout=30, message="second answer recorded")
        await wire.drain()
        assert len(wire.of("refund.issued", "O-EX4")) == 1


async def test_a_refused_exchange_falls_back_to_a_refund(harness, make_settings):
    h = harness
    async with Wire(make_settings("aftersales")) as wire:
        await _delivered(wire, h, "O-EX5", [ev.line("SKU-1", 1, "59.00")])
        r = await h.client.post(
            "/returns", json=_exchange_body("O-EX5", "wrong_item", sku="NOPE"), headers=AGENT
        )
        case = r.json()
        await wire.wait_for("aftersales.replacement_requested", "O-EX5")
        await wire.publish(
            topics.ORDERS,
            ev.replacement_refused("O-EX5", case["replacement_id"], "exchange", "unknown_sku"),
        )
        await wait_until(lambda: _exchange_status(h, case["id"]), expect="refused")
        got = (await h.client.get(f"/returns/{case['id']}", headers=AGENT)).json()
        assert (got["resolution"], got["exchange"]["refused_code"]) == ("refund", "unknown_sku")
        refund = (await h.client.get(f"/refunds/{got['refund_id']}", headers=AGENT)).json()
        assert (refund["status"], refund["amount"]) == ("awaiting_return", "59.00")


async def _reship(h, reship_id: str) -> dict:
    r = await h.client.get(f"/reships/{reship_id}", headers=AGENT)
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_reship_records_the_liability_and_follows_its_shipment(harness, make_settings):
    h = harness
    async with Wire(make_settings("aftersales")) as wire:
        await _delivered(wire, h, "O-RS1", [ev.line("SKU-1", 2, "59.00")])
        body = {
            "order_id": "O-RS1",
            "lines": [{"sku": "SKU-1", "qty": 1}],
            "reason_code": "missing_item",
            "note": "one unit missing from the box",
        }
        r = await h.client.post("/reships", json=body, headers=AGENT)
        assert r.status_code == 201, r.text
        reship = r.json()
        assert (reship["status"], reship["value"], reship["liable_party"]) == (
            "requested",
            "59.00",
            "warehouse",
        )
        assert [(x["party"], x["amount"], x["sku"]) for x in reship["liabilities"]] == [
            ("warehouse", "59.00", "SKU-1")
        ]
        (asked,) = await wire.wait_for("aftersales.replacement_requested", "O-RS1")
        assert (asked.payload["replacement_id"], asked.payload["kind"]) == (reship["id"], "reship")
        ledger = await h.client.get("/liabilities", params={"order_id": "O-RS1"}, headers=AGENT)
        assert [(x["party"], x["amount"]) for x in ledger.json()] == [("warehouse", "59.00")]

        # one unit left to reship; a SKU not in the order; over the agent's limit
        r = await h.client.post(
            "/reships", json=body | {"lines": [{"sku": "SKU-1", "qty": 2}]}, headers=AGENT
        )
        assert (r.status_code, r.json()["error"]["code"]) == (409, "reship_exceeds_shipped")
        r = await h.client.post(
            "/reships", json=body | {"lines": [{"sku": "SKU-9"}]}, headers=AGENT
        )
        assert (r.status_code, r.json()["error"]["code"]) == (422, "unknown_line")

        await _ship_replacement(wire, "O-RS1", reship["id"], "reship", "59.00")

        async def status():
            return (await _reship(h, reship["id"]))["status"]

        await wait_until(status, timeout=30, expect="shipped", message="reship shipped")
        got = await _reship(h, reship["id"])
        assert (got["shipment_ids"], got["catalog_value"]) == (["O-RS1-R1"], "59.00")

        # transit damage: the carrier's loss; the supervisor's limit
        await _delivered(wire, h, "O-RS2", [ev.line("SKU-2", 1, "500.00")])
        body = {"order_id": "O-RS2", "lines": [{"sku": "SKU-2"}], "reason_code": "transit_damage"}
        r = await h.client.post("/reships", json=body, headers=AGENT)
        assert (r.status_code, r.json()["error"]["details"]["limit"]) == (403, "200.00")
        r = await h.client.post("/reships", json=body, headers=SUPERVISOR)
        assert (r.status_code, r.json()["liable_party"]) == (201, "carrier"), r.text
        await wire.wait_for("aftersales.replacement_requested", "O-RS2")
        await wire.publish(
            topics.ORDERS, ev.replacement_refused("O-RS2", r.json()["id"], "reship", "no_warehouse")
        )

        async def refused():
            return (await _reship(h, r.json()["id"]))["status"]

        await wait_until(refused, timeout=30, expect="refused", message="reship refused")
        assert (await _reship(h, r.json()["id"]))["liabilities"] == []  # nothing was lost

        # an order's reships, refused ones too (the ledger no longer names those)
        listed = await h.client.get("/reships", params={"order_id": "O-RS2"}, headers=AGENT)
        assert [(x["id"], x["status"], x["liabilities"]) for x in listed.json()] == [
            (r.json()["id"], "refused", [])
        ]
        listed = await h.client.get("/reships", params={"order_id": "O-RS1"}, headers=AGENT)
        assert listed.json() == [got]


async def test_bad_exchange_and_reship_requests_store_nothing(harness, make_settings):
    h = harness
    async with Wire(make_settings("aftersales")) as wire:
        await _delivered(wire, h, "O-BAD", [ev.line("SKU-1", 1, "59.00")])
    base = _exchange_body("O-BAD", "changed_mind")
    for bad in (
        base | {"replacement_lines": []},
        base | {"resolution": "refund"},
        base | {"resolution": "swap"},
        base | {"replacement_lines": [{"sku": "X" * 200, "qty": 1}]},
        base | {"replacement_lines": [{"sku": "SKU-1-L", "qty": 0}]},
        base | {"replacement_lines": [{"sku": "S", "qty": 1}] * 501},
    ):
        r = await h.client.post("/returns", json=bad, headers=AGENT)
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["error"]["code"]
    for bad in (
        {"order_id": "O-BAD", "lines": [{"sku": "SKU-1"}], "reason_code": "late"},
        {"order_id": "O-BAD", "lines": [], "reason_code": "missing_item"},
        {
            "order_id": "O-BAD",
            "lines": [{"sku": "SKU-1"}],
            "reason_code": "missing_item",
            "note": "x" * 5000,
        },
    ):
        r = await h.client.post("/reships", json=bad, headers=AGENT)
        assert r.status_code == 422, (bad, r.text)
    r = await h.client.post(
        "/reships",
        json={"order_id": "O-NONE", "lines": [{"sku": "SKU-1"}], "reason_code": "missing_item"},
        headers=AGENT,
    )
    assert (r.status_code, r.json()["error"]["code"]) == (404, "order_unknown")
    r = await h.client.get("/reships/RS-nope", headers=AGENT)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "reship_not_found")
    for params in (
        {},
        {"order_id": ""},
        {"order_id": "O" * 129},
        {"order_id": "O-BAD", "limit": 0},
    ):
        r = await h.client.get("/reships", params=params, headers=AGENT)
        assert (r.status_code, r.json()["error"]["code"]) == (422, "validation_error"), params
    r = await h.client.get("/reships", params={"order_id": "O-BAD"}, headers=AGENT)
    assert r.json() == []
    returns = await h.client.get("/returns", params={"order_id": "O-BAD"}, headers=AGENT)
    assert returns.json() == []
    ledger = await h.client.get("/liabilities", params={"order_id": "O-BAD"}, headers=AGENT)
    assert ledger.json() == []
