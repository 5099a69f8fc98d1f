"""A reship (补发) and an exchange through all three service processes (SPEC §4.1):
after-sales asks, the order service routes the replacement as `<order>-R1`, the warehouse
ships it, after-sales follows it to `shipped` (with the warehouse's loss on the ledger, or
the exchange's price difference).

Needs the order half of the replacement contract (order_service answering
`aftersales.replacement_requested`); until it is merged this journey is expected to fail.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.e2e.test_order_journeys import Actors
from tests.support import wait_until
from tests.support.webhooks import sign_generic

pytestmark = [pytest.mark.e2e, pytest.mark.broker]
WH = "WH-OWN-1"  # SKU-1 is not dropshipped: routed to the own warehouse


@pytest.fixture
def actors(system):
    return Actors(system)


async def _ship(actors: Actors, shipment_id: str, skus: list[str]) -> None:
    scanner = actors.scanner(WH)
    await actors.task(scanner, shipment_id)
    r = await scanner.post(f"/warehouses/{WH}/imports", json={"shipment_ids": [shipment_id]})
    assert r.json()["allocated"] == [shipment_id], r.text
    r = await scanner.post(f"/shipments/{shipment_id}/label", json={"carrier": "SF"})
    assert r.status_code == 200, r.text
    r = await scanner.post(
        f"/shipments/{shipment_id}/pack", json={"scanned": skus, "weight_grams": 480}
    )
    assert r.status_code == 200, r.text
    r = await scanner.post(f"/shipments/{shipment_id}/ship", json={})
    assert r.status_code == 200, r.text


async def test_a_reship_is_routed_shipped_and_charged_to_the_warehouse(actors):
    order_id = await actors.new_order("SKU-1")
    r = await actors.clerk.post(f"/orders/{order_id}/submit", json={})
    assert r.json()["stage"] == "submitted", r.text
    await _ship(actors, f"{order_id}-S1", ["SKU-1"])
    await actors.stage_is(order_id, "shipped")

    body = {"order_id": order_id, "lines": [{"sku": "SKU-1"}], "reason_code": "missing_item"}

    async def asked():  # after-sales learns of the shipment from the warehouse's event
        r = await actors.aftersales.post("/reships", json=body)
        return r if r.status_code == 201 else None

    reship = (await wait_until(asked, timeout=30, message="reship accepted")).json()
    assert (reship["status"], reship["liable_party"]) == ("requested", "warehouse")

    async def status() -> str:
        return (await actors.aftersales.get(f"/reships/{reship['id']}")).json()["status"]

    await wait_until(status, timeout=30, expect="created", message="order service routed it")
    got = (await actors.aftersales.get(f"/reships/{reship['id']}")).json()
    assert got["shipment_ids"] == [f"{order_id}-R1"]
    await _ship(actors, f"{order_id}-R1", ["SKU-1"])
    await wait_until(status, timeout=30, expect="shipped", message="reship shipped")

    ledger = (await actors.aftersales.get("/liabilities", params={"order_id": order_id})).json()
    assert [(x["party"], x["amount"]) for x in ledger] == [("warehouse", got["value"])]


async def _delivered(actors: Actors, order_id: str) -> None:
    """The platform reports the parcel delivered; after-sales learns it by event."""
    delivery = {
        "event_id": str(uuid.uuid4()),
        "platform": "taobao",
        "platform_order_id": (await actors.order(order_id))["platform_order_id"],
        "delivered_at": datetime.now(UTC).isoformat(),
    }
    headers, raw = sign_generic(delivery)
    r = await actors.platform.post("/webhooks/generic/deliveries", content=raw, headers=headers)
    assert r.status_code in (200, 202), r.text


async def test_an_exchange_ships_first_and_shows_its_price_difference(actors):
    order_id = await actors.new_order("SKU-1")
    r = await actors.clerk.post(f"/orders/{order_id}/submit", json={})
    assert r.json()["stage"] == "submitted", r.text
    await _ship(actors, f"{order_id}-S1", ["SKU-1"])
    await actors.stage_is(order_id, "shipped")
    await _delivered(actors, order_id)
    body = {
        "order_id": order_id,
        "lines": [{"sku": "SKU-1"}],
        "reason_code": "wrong_item",  # the seller's fault: ships first by default
        "resolution": "exchange",
        "replacement_lines": [{"sku": "SKU-1"}],
    }

    async def opened():
        r = await actors.aftersales.post("/returns", json=body)
        return r if r.status_code == 201 else None

    case = (await wait_until(opened, timeout=30, message="exchange opened")).json()
    assert case["exchange"]["status"] == "requested"

    async def exchange() -> dict:
        return (await actors.aftersales.get(f"/returns/{case['id']}")).json()["exchange"]

    async def status() -> str:
        return (await exchange())["status"]

    await wait_until(status, timeout=30, expect="created", message="order service routed it")
    got = await exchange()
    assert got["shipment_ids"] == [f"{order_id}-R1"]
    difference = Decimal(got["value"]) - Decimal(got["returned_value"])
    assert Decimal(got["price_difference"]) == difference
    await _ship(actors, f"{order_id}-R1", ["SKU-1"])
    await wait_until(status, timeout=30, expect="shipped", message="exchange shipped")


async def test_an_address_change_after_shipping_relabels_the_reship_still_in_the_warehouse(actors):
    """The order's own parcel has left; the reship is labelled: CS's new address reaches
    the reship (its label voided and held until the next one), and the order stays shipped."""
    order_id = await actors.new_order("SKU-1")
    await actors.clerk.post(f"/orders/{order_id}/submit", json={})
    await _ship(actors, f"{order_id}-S1", ["SKU-1"])
    await actors.stage_is(order_id, "shipped")
    body = {"order_id": order_id, "lines": [{"sku": "SKU-1"}], "reason_code": "missing_item"}

    async def asked():
        r = await actors.aftersales.post("/reships", json=body)
        return r if r.status_code == 201 else None

    await wait_until(asked, timeout=30, message="reship accepted")
    r1, scanner = f"{order_id}-R1", actors.scanner(WH)
    await actors.task(scanner, r1)
    await scanner.post(f"/warehouses/{WH}/imports", json={"shipment_ids": [r1]})
    r = await scanner.post(f"/shipments/{r1}/label", json={"carrier": "SF"})
    assert r.status_code == 200, r.text
    old_label = r.json()["tracking_number"]

    async def labelled_here() -> bool:
        return (await actors.order(order_id))["shipments"][1]["tracking_number"] == old_label

    await wait_until(labelled_here, message="the order service has the reship's label")
    caps = await actors.capabilities(order_id)
    assert (caps["address_change"]["mode"], caps["address_change"]["guaranteed"]) == (
        "relabel",
        True,
    )
    new = {**(await actors.order(order_id))["address"], "line1": "9 Harbour Rd"}
    r = await actors.cs.patch(
        f"/orders/{order_id}",
        json={"address": new},
        headers={"If-Match": str((await actors.order(order_id))["version"])},
    )
    assert r.status_code == 202, r.text

    async def relabelled() -> dict | None:
        t = (await scanner.get(f"/shipments/{r1}")).json()
        return t if t["held"] else None

    task = await wait_until(relabelled, message="the warehouse holds the reship for a new label")
    assert task["address"]["line1"] == "9 Harbour Rd" and task["tracking_number"] is None
    r = await scanner.post(f"/shipments/{r1}/label", json={"carrier": "SF"})
    assert r.status_code == 200 and r.json()["held"] is False, r.text
    r = await scanner.post(
        f"/shipments/{r1}/pack", json={"scanned": ["SKU-1"], "weight_grams": 480}
    )
    assert r.status_code == 200, r.text
    assert (await scanner.post(f"/shipments/{r1}/ship", json={})).status_code == 200

    async def settled() -> dict | None:
        o = await actors.order(order_id)
        return o if o["pending_edit"] is None and o["shipments"][1]["status"] == "shipped" else None

    order = await wait_until(settled, message="the order hears the relabel and the ship")
    assert order["stage"] == "shipped" and order["address"]["line1"] == "9 Harbour Rd"
    [change] = [c for c in order["line_changes"] if c["kind"] == "address_change"]
    assert [(x["shipment_id"], x["outcome"]) for x in change["lines"]] == [(r1, "relabelled")]
