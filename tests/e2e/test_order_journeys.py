"""Journeys across the three service processes, through the real broker (SPEC §2.1, §3.1, §4).

Each test drives the public HTTP APIs the way a platform, a clerk, a scanner,
CS and operations would, and waits on the other services to react to events.
"""

from __future__ import annotations

import pytest

from tests.support import wait_until
from tests.support.webhooks import generic_order, sign_generic

pytestmark = [pytest.mark.e2e, pytest.mark.broker]


class Actors:
    """HTTP clients per role, against the running system."""

    def __init__(self, system):
        self.system = system
        self.platform = system.client("order")
        self.clerk = system.client("order", "dev-clerk")
        self.cs = system.client("order", "dev-cs_agent")
        self.ops = system.client("warehouse", "dev-ops")
        self.aftersales = system.client("aftersales", "dev-cs_agent")

    def scanner(self, warehouse: str):
        return self.system.client("warehouse", f"dev-scanner-{warehouse}")

    async def new_order(self, *skus: str, review: bool = True) -> str:
        headers, raw = sign_generic(generic_order(skus=skus))
        r = await self.platform.post("/webhooks/generic/orders", content=raw, headers=headers)
        assert r.status_code == 202, r.text
        order_id = r.json()["order_id"]
        if review:
            r = await self.clerk.post(f"/orders/{order_id}/review", json={"approve": True})
            assert r.json()["stage"] == "reviewed", r.text
        return order_id

    async def order(self, order_id: str) -> dict:
        return (await self.clerk.get(f"/orders/{order_id}")).json()

    async def capabilities(self, order_id: str) -> dict:
        r = await self.cs.get(f"/orders/{order_id}/capabilities")
        assert r.status_code == 200, r.text
        return r.json()

    async def stage_is(self, order_id: str, stage: str) -> None:
        await wait_until(lambda: self._stage(order_id), expect=stage, message=f"stage {stage}")

    async def _stage(self, order_id: str) -> str:
        return (await self.order(order_id))["stage"]

    async def task(self, scanner, shipment_id: str) -> dict:
        async def visible():
            r = await scanner.get(f"/shipments/{shipment_id}")
            return r.json() if r.status_code == 200 else None

        return await wait_until(visible, message=f"task {shipment_id} in the warehouse")

    async def refunds(self, order_id: str) -> list[dict]:
        return (await self.aftersales.get("/refunds", params={"order_id": order_id})).json()


@pytest.fixture
def actors(system):
    return Actors(system)


async def test_an_order_travels_to_shipped_and_cs_answers_change_with_the_stage(actors):
    order_id = await actors.new_order("SKU-1")
    assert (await actors.capabilities(order_id))["cancel"]["mode"] == "void"

    r = await actors.clerk.post(f"/orders/{order_id}/submit", json={})
    assert r.json()["stage"] == "submitted", r.text
    caps = await actors.capabilities(order_id)
    assert caps["cancel"]["mode"] == "withdraw" and caps["edit"]["pending_confirmation"]

    scanner = actors.scanner("WH-OWN-1")  # SKU-1 is not dropshipped: routed to own warehouse
    shipment_id = f"{order_id}-S1"
    await actors.task(scanner, shipment_id)
    r = await scanner.post("/warehouses/WH-OWN-1/imports", json={"shipment_ids": [shipment_id]})
    assert r.json()["allocated"] == [shipment_id]
    await actors.stage_is(order_id, "allocated")
    caps = await actors.capabilities(order_id)
    assert caps["cancel"]["mode"] == "intercept" and not caps["edit"]["allowed"]
    edit = await actors.cs.patch(
        f"/orders/{order_id}",
        json={"note": "gift wrap"},
        headers={"If-Match": str((await actors.order(order_id))["version"])},
    )
    assert edit.status_code == 409, edit.text  # the action agrees with the answer

    r = await scanner.post(f"/shipments/{shipment_id}/ship", json={})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "wrong_step")
    assert (
        await scanner.post(f"/shipments/{shipment_id}/label", json={"carrier": "SF"})
    ).status_code == 200
    wrong = await scanner.post(
        f"/shipments/{shipment_id}/pack", json={"scanned": ["SKU-2"], "weight_grams": 480}
    )
    assert wrong.status_code == 409 and wrong.json()["error"]["details"]["missing"] == {"SKU-1": 1}
    assert (
        await scanner.post(
            f"/shipments/{shipment_id}/pack", json={"scanned": ["SKU-1"], "weight_grams": 480}
        )
    ).status_code == 200
    assert (await scanner.post(f"/shipments/{shipment_id}/ship", json={})).status_code == 200
    await actors.stage_is(order_id, "shipped")

    caps = await actors.capabilities(order_id)
    assert (caps["cancel"]["allowed"], caps["cancel"]["mode"]) == (False, "refuse_delivery")
    cancel = await actors.cs.post(f"/orders/{order_id}/cancel", json={"reason": "too late"})
    assert cancel.status_code == 409, cancel.text

    # after-sales asks the order service, whose rule says: refuse delivery or return
    refund = await actors.aftersales.post(
        "/refunds", json={"order_id": order_id, "reason_code": "changed_mind"}
    )
    assert refund.status_code == 202, refund.text
    assert (refund.json()["status"], refund.json()["mode"]) == ("requested", None)

    async def refund_answer():
        got = (await actors.aftersales.get(f"/refunds/{refund.json()['id']}")).json()
        return got if got["status"] == "refused" else None

    got = await wait_until(refund_answer, message="the order service decided the refund")
    assert (got["refused_code"], got["mode"]) == (
        "refund_requires_refusal_or_return",
        caps["refund"]["mode"],
    )
    timeline = (await actors.cs.get(f"/orders/{order_id}/timeline")).json()["entries"]
    stages = [e["detail"]["stage"] for e in timeline if e["kind"] == "transition"]
    assert stages == [
        "synced",
        "reviewed",
        "submitted",
        "allocated",
        "labelled",
        "packed",
        "shipped",
    ]


async def test_a_void_before_the_warehouse_is_refunded_by_after_sales(actors):
    order_id = await actors.new_order("SKU-2")
    caps = await actors.capabilities(order_id)
    assert (caps["cancel"]["mode"], caps["cancel"]["guaranteed"]) == ("void", True)
    r = await actors.cs.post(f"/orders/{order_id}/cancel", json={"reason": "buyer asked"})
    assert (r.json()["mode"], r.json()["stage"]) == ("void", "cancelled"), r.text
    refunds = await wait_until(lambda: actors.refunds(order_id), message="refund issued")
    assert [(x["amount"], x["status"]) for x in refunds] == [("59.00", "issued")]


async def test_an_interception_that_succeeds_cancels_and_refunds(actors):
    order_id = await actors.new_order("SKU-3")
    await actors.clerk.post(f"/orders/{order_id}/submit", json={"warehouse_id": "WH-OWN-1"})
    scanner, shipment_id = actors.scanner("WH-OWN-1"), f"{order_id}-S1"
    await actors.task(scanner, shipment_id)
    await scanner.post("/warehouses/WH-OWN-1/imports", json={"shipment_ids": [shipment_id]})
    await actors.stage_is(order_id, "allocated")

    r = await actors.cs.post(f"/orders/{order_id}/cancel", json={"reason": "changed mind"})
    assert (r.json()["mode"], r.json()["guaranteed"]) == ("intercept", False), r.text
    await wait_until(
        lambda: _interception_requested(scanner, shipment_id),
        message="interception request on the worklist",
    )
    r = await scanner.post(
        f"/shipments/{shipment_id}/interception", json={"outcome": "intercepted"}
    )
    assert r.status_code == 200, r.text
    await actors.stage_is(order_id, "cancelled")
    refunds = await wait_until(lambda: actors.refunds(order_id), message="refund issued")
    assert [x["status"] for x in refunds] == ["issued"]


async def test_an_after_sales_refund_takes_the_order_services_path(actors):
    order_id = await actors.new_order("SKU-4")
    await actors.clerk.post(f"/orders/{order_id}/submit", json={"warehouse_id": "WH-OWN-1"})
    scanner, shipment_id = actors.scanner("WH-OWN-1"), f"{order_id}-S1"
    await actors.task(scanner, shipment_id)
    await scanner.post("/warehouses/WH-OWN-1/imports", json={"shipment_ids": [shipment_id]})
    await actors.stage_is(order_id, "allocated")
    caps = await actors.capabilities(order_id)

    async def known():  # after-sales learns of the order from events
        r = await actors.aftersales.post("/refunds", json={"order_id": order_id})
        return r if r.status_code == 202 else None

    r = await wait_until(known, message="after-sales knows the order")
    refund_id = r.json()["id"]

    async def mode():
        return (await actors.aftersales.get(f"/refunds/{refund_id}")).json()["mode"]

    await wait_until(mode, expect=caps["refund"]["mode"], message="the order service's mode")
    await actors.stage_is(order_id, "intercepting")
    await wait_until(
        lambda: _interception_requested(scanner, shipment_id),
        message="interception request on the worklist",
    )
    r = await scanner.post(
        f"/shipments/{shipment_id}/interception", json={"outcome": "intercepted"}
    )
    assert r.status_code == 200, r.text

    async def issued():
        got = (await actors.aftersales.get(f"/refunds/{refund_id}")).json()
        return got if got["status"] == "issued" else None

    assert (await wait_until(issued, message="refund issued"))["amount"] == "59.00"
    # a goodwill refund afterwards would exceed what was paid
    r = await actors.aftersales.post(
        "/refunds", json={"order_id": order_id, "kind": "goodwill", "amount": "5.00"}
    )
    assert (r.status_code, r.json()["error"]["code"]) == (409, "refund_exceeds_paid")


async def _interception_requested(scanner, shipment_id: str):
    return (await scanner.get(f"/shipments/{shipment_id}")).json().get("interception_request")


async def test_a_stop_shipment_halts_dropship_parcels_and_makes_cancel_guaranteed(actors):
    order_id = await actors.new_order("SKU-7")  # dropshipped by SUP-1 from WH-DS-1
    kept_id = await actors.new_order("SKU-7")  # held too, and let go by the lift
    for oid in (order_id, kept_id):
        await actors.clerk.post(f"/orders/{oid}/submit", json={})
    scanner, shipment_id = actors.scanner("WH-DS-1"), f"{order_id}-S1"
    await actors.task(scanner, shipment_id)
    await actors.task(scanner, f"{kept_id}-S1")
    other = await actors.scanner("WH-DS-2").get(f"/shipments/{shipment_id}")
    assert other.status_code == 403  # a scanner key is bound to its warehouse
    await scanner.post("/warehouses/WH-DS-1/imports", json={"all_queued": True})
    await actors.stage_is(order_id, "allocated")

    r = await actors.ops.post(
        "/stop-shipments", json={"scope": {"suppliers": ["SUP-1"]}, "reason": "quality recall"}
    )
    assert r.status_code == 201, r.text
    stop_id = r.json()["stop_id"]

    async def acknowledged():
        stop = (await actors.ops.get(f"/stop-shipments/{stop_id}")).json()
        return stop if not stop["unacknowledged_warehouses"] else None

    stop = await wait_until(acknowledged, message="every warehouse acknowledged")
    held = {a["warehouse_id"]: a["held_count"] for a in stop["acknowledgements"]}
    assert held["WH-DS-1"] >= 1
    await wait_until(lambda: _held(actors, order_id), message="order shows the hold")

    blocked = await scanner.post(f"/shipments/{shipment_id}/label", json={"carrier": "SF"})
    assert blocked.status_code == 423 and stop_id in blocked.json()["error"]["message"]
    caps = await actors.capabilities(order_id)
    assert (caps["held"], caps["cancel"]["guaranteed"]) == (True, True)
    r = await actors.cs.post(f"/orders/{order_id}/cancel", json={"reason": "recall"})
    assert r.json()["guaranteed"] is True, r.text
    await actors.stage_is(order_id, "cancelled")
    assert (await actors.task(scanner, shipment_id))["status"] == "withdrawn"
    await wait_until(lambda: actors.refunds(order_id), message="refund issued")

    assert await _held(actors, kept_id)
    r = await actors.ops.post(f"/stop-shipments/{stop_id}/lift")
    assert r.status_code == 200, r.text
    await wait_until(lambda: _released(actors, kept_id), message="the lift reached the order")
    r = await scanner.post(f"/shipments/{kept_id}-S1/label", json={"carrier": "SF"})
    assert r.status_code == 200, r.text


async def _held(actors, order_id: str) -> bool:
    return (await actors.order(order_id))["held"]


async def _released(actors, order_id: str) -> bool:
    return not await _held(actors, order_id)
