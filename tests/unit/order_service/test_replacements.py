"""Replacement shipments (SPEC §4.1): routed as new shipments of the same order (`-R1`),
answered once per replacement id, and kept out of the order's own stage."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from order_service.domain import lines, replacements, rules
from order_service.domain.order import Order
from order_service.domain.routing import DEV_CATALOG, DEV_WAREHOUSES, enrich, plan_shipments

CATALOG = {c.sku: c for c in DEV_CATALOG}
ADDRESS = {"name": "A", "phone": "1", "province": "P", "city": "C", "line1": "L"}


def order_at(stage: str = "shipped", skus: tuple[str, ...] = ("SKU-1",)) -> Order:
    """An order taken through submit and the warehouse's progress up to `stage`."""
    order_lines = enrich(
        [{"sku": s, "qty": 1, "unit_price": "59.00", "attributes": {"size": "M"}} for s in skus],
        CATALOG,
    )
    order = Order.receive(
        actor="platform",
        id="O1",
        shop_id="s",
        platform="taobao",
        platform_order_id="TB-1",
        buyer={"id": "b1"},
        address=dict(ADDRESS),
        lines=order_lines,
        total=Decimal("59.00") * len(skus),
        currency="CNY",
        paid_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    if stage == "synced":
        return order
    order.approve("clerk")
    if stage == "reviewed":
        return order
    order.submit(plan_shipments(order.id, order.lines, DEV_WAREHOUSES), "clerk")
    steps = ["allocated", "labelled", "packed", "shipped"]
    for step in steps[: steps.index(stage) + 1] if stage in steps else steps:
        for s in order.shipments:
            tell(order, s.shipment_id, step)
    if stage == "delivered":
        order.deliver(datetime(2026, 1, 3, tzinfo=UTC), "platform", "platform")
    order.events.clear()
    return order


def tell(order: Order, sid: str, kind: str, **data) -> None:
    extra = {"carrier": "SF", "tracking_number": f"T-{sid}"} if kind == "labelled" else {}
    order.on_shipment_event(kind, {"shipment_id": sid, **extra, **data}, "warehouse")


def ask(order: Order, rid: str = "RP-1", kind: str = "reship", lines_=None) -> dict:
    request = {
        "replacement_id": rid,
        "kind": kind,
        "lines": lines_ or [{"sku": "SKU-1", "qty": 1}],
        "reason": "missing item",
        "return_id": None,
    }
    return replacements.request_replacement(
        order, request, CATALOG, list(DEV_WAREHOUSES), "aftersales"
    )


def emitted(order: Order, kind: str) -> list[dict]:
    return [d for k, d in order.events if k == kind]


@pytest.mark.parametrize("stage", ["shipped", "delivered"])
def test_a_replacement_is_a_new_shipment_R1_announced_and_answered(stage):
    order = order_at(stage)
    record = ask(order)
    assert record["outcome"] == "created"
    r1 = order.shipment("O1-R1")
    assert r1 is not None and r1.replacement_id == "RP-1" and r1.warehouse_id == "WH-OWN-1"
    assert r1.lines[0]["sku"] == "SKU-1" and r1.lines[0]["attributes"] == {"size": "M"}
    [sub] = emitted(order, "order.submitted")
    assert (sub["shipment_id"], sub["replacement_id"]) == ("O1-R1", "RP-1")
    [created] = emitted(order, "order.replacement_created")
    assert created["shipments"][0]["shipment_id"] == "O1-R1"
    assert Decimal(created["value"]) == Decimal("59.00")
    assert order.stage == stage and "order.stage_changed" not in [k for k, _ in order.events]
    [change] = [c for c in order.line_changes if c["kind"] == "reship"]
    assert change["request_id"] == "RP-1" and change["lines"][0]["shipment_id"] == "O1-R1"
    assert "order.lines_changed" in [k for k, _ in order.events]


def test_the_second_replacement_is_R2_and_a_split_one_R1_then_R1_2():
    order = order_at("shipped", ("SKU-1", "SKU-7"))
    ask(order, "RP-1", lines_=[{"sku": "SKU-7", "qty": 1}, {"sku": "SKU-1", "qty": 2}])
    ask(order, "RP-2", kind="exchange")
    replacement = [s for s in order.shipments if s.replacement_id]
    assert [(s.shipment_id, s.warehouse_id, s.replacement_id) for s in replacement] == [
        ("O1-R1", "WH-OWN-1", "RP-1"),
        ("O1-R1-2", "WH-DS-1", "RP-1"),
        ("O1-R2", "WH-OWN-1", "RP-2"),
    ]


def test_the_same_replacement_twice_is_one_replacement():
    order = order_at("delivered")
    ask(order)
    order.events.clear()
    again = ask(order)
    assert again["outcome"] == "created"
    assert [s.shipment_id for s in order.shipments if s.replacement_id] == ["O1-R1"]
    assert order.events == [] and len(order.replacements) == 1


@pytest.mark.parametrize(
    ("stage", "wanted", "code"),
    [
        ("reviewed", "SKU-1", "not_shipped"),
        ("packed", "SKU-1", "not_shipped"),
        ("shipped", "SKU-404", "unknown_sku"),
    ],
)
def test_a_replacement_is_refused_with_a_code_and_nothing_ships(stage, wanted, code):
    order = order_at(stage)
    record = ask(order, lines_=[{"sku": wanted, "qty": 1}])
    assert (record["outcome"], record["code"]) == ("refused", code)
    [refused] = emitted(order, "order.replacement_refused")
    assert (refused["code"], refused["replacement_id"]) == (code, "RP-1")
    assert not emitted(order, "order.submitted")
    assert not [s for s in order.shipments if s.replacement_id]


def test_a_cancelled_order_refuses_a_replacement():
    order = order_at("synced")
    order.cancel("buyer", "cs", "C1")
    assert ask(order)["code"] == "order_cancelled"


def test_a_route_nobody_serves_is_refused_no_warehouse():
    order = order_at("shipped")
    record = replacements.request_replacement(
        order,
        {"replacement_id": "RP-9", "kind": "reship", "lines": [{"sku": "SKU-9", "qty": 1}]},
        CATALOG,
        [w for w in DEV_WAREHOUSES if w.warehouse_id != "WH-DS-2"],
        "aftersales",
    )
    assert record["code"] == "no_warehouse"


def test_a_replacement_is_left_out_of_the_order_stage_and_its_holds():
    order = order_at("shipped")
    ask(order)
    tell(order, "O1-R1", "queued", held_by=["STOP-1"])
    assert order.shipment("O1-R1").holds and not order.held and not order.fully_held
    assert order.held_by == [] and order.shipments_stage() == "shipped"
    assert [s.shipment_id for s in order.live_shipments()] == ["O1-S1"]
    tell(order, "O1-R1", "released", hold_id="STOP-1")
    for step in ("allocated", "labelled", "packed", "shipped"):
        tell(order, "O1-R1", step)
    r1 = order.shipment("O1-R1")
    assert (r1.status, r1.tracking_number) == ("shipped", "T-O1-R1")
    assert order.stage == "shipped" and not order.anomalies


def test_a_replacement_on_a_partly_shipped_split_order_does_not_move_it():
    order = order_at("allocated", ("SKU-1", "SKU-7"))
    for step in ("labelled", "packed", "shipped"):
        tell(order, "O1-S1", step)
    assert order.stage == "allocated"
    ask(order)
    tell(order, "O1-R1", "out_of_stock", skus=["SKU-1"])
    assert order.stage == "allocated" and order.shipment("O1-R1").status == "exception"
    tell(order, "O1-R1", "queued")
    tell(order, "O1-R1", "allocated")
    assert order.stage == "allocated"
    for step in ("labelled", "packed", "shipped"):
        tell(order, "O1-S2", step)
    assert order.stage == "shipped"  # the replacement, still allocated, does not hold it back
    for step in ("labelled", "packed", "shipped"):
        tell(order, "O1-R1", step)
    assert order.stage == "shipped" and not order.anomalies


def test_a_replacement_after_the_return_was_received_follows_the_warehouse_quietly():
    order = order_at("delivered")
    order.on_aftersales("return.opened", {"return_id": "RT-1"}, "aftersales")
    order.on_aftersales("return.received", {"return_id": "RT-1"}, "aftersales")
    assert order.stage == "returned"
    ask(order, kind="exchange")
    for step in ("allocated", "labelled", "packed", "shipped"):
        tell(order, "O1-R1", step)
    assert not order.anomalies and order.shipment("O1-R1").status == "shipped"
    states = {(s["shipment_id"], s["state"]) for s in lines.line_states(order)}
    assert ("O1-R1", "shipped") in states and ("O1-S1", "returned") in states


def test_replacement_lines_are_answered_and_cancelled_by_their_shipment_stage():
    order = order_at("delivered")
    ask(order)
    caps = {c["shipment_id"]: c for c in lines.line_capabilities(order)}
    assert caps["O1-S1"]["cancel"]["mode"] == "return"
    assert caps["O1-R1"]["cancel"]["mode"] == "withdraw" and caps["O1-R1"]["cancel"]["allowed"]
    states = {(s["shipment_id"], s["state"]) for s in lines.line_states(order)}
    assert states == {("O1-S1", "shipped"), ("O1-R1", "active")}
    order.events.clear()
    change = lines.cancel_lines(
        order, [{"sku": "SKU-1", "qty": 1, "shipment_id": "O1-R1"}], "not needed", "cs", "L1"
    )
    assert change["lines"][0]["shipment_id"] == "O1-R1"
    [sent] = emitted(order, "order.line_removal_requested")
    assert sent["shipment_id"] == "O1-R1"
    tell(order, "O1-R1", "lines_removed", request_id="L1", lines=sent["lines"], task_withdrawn=True)
    # the replacement was free: no refund, the order's own lines and stage untouched
    assert order.shipment("O1-R1").status == "withdrawn"
    assert not emitted(order, "order.cancelled")
    assert order.stage == "delivered" and order.lines[0]["qty"] == 1
    assert lines.removed_value(order) == Decimal("0")
    assert change["outcome"] == "done"


def test_a_replacement_survives_the_order_document():
    from order_service.adapters.repository import from_document, to_document

    order = order_at("shipped")
    ask(order)
    again = from_document(to_document(order), order.version)
    assert again.shipment("O1-R1").replacement_id == "RP-1"
    assert again.replacements == order.replacements


def test_a_sku_the_order_had_is_priced_as_paid_another_at_the_catalog_price():
    order = order_at("delivered")
    ask(order, kind="exchange", lines_=[{"sku": "SKU-1", "qty": 1}, {"sku": "SKU-2", "qty": 2}])
    [created] = emitted(order, "order.replacement_created")
    prices = {ln["sku"]: Decimal(str(ln["unit_price"])) for ln in created["shipments"][0]["lines"]}
    assert prices == {"SKU-1": Decimal("59.00"), "SKU-2": CATALOG["SKU-2"].unit_price}
    assert Decimal(created["value"]) == Decimal("59.00") + 2 * CATALOG["SKU-2"].unit_price


NEW_ADDRESS = {**ADDRESS, "line1": "2 New Rd"}


def relabel_asks(order: Order) -> dict[str, bool]:
    """shipment id → guaranteed, of the address-change requests the order sent."""
    return {
        d["shipment_id"]: d["guaranteed"] for d in emitted(order, "order.address_change_requested")
    }


@pytest.mark.parametrize(
    ("steps", "guaranteed"),
    [
        ((), True),
        (("queued",), True),
        (("out_of_stock",), True),
        (("allocated", "labelled"), True),
        (("allocated", "labelled", "packed"), False),
    ],
)
def test_an_address_change_after_delivery_relabels_the_replacement_still_in_the_warehouse(
    steps, guaranteed
):
    order = order_at("delivered")
    ask(order)
    for step in steps:
        tell(order, "O1-R1", step, **({"skus": ["SKU-1"]} if step == "out_of_stock" else {}))
    cap = rules.decide(order, "address_change")
    assert (cap.allowed, cap.mode, cap.guaranteed) == (True, "relabel", guaranteed)
    assert rules.capabilities(order)["address_change"]["mode"] == "relabel"
    order.events.clear()
    assert order.edit({"address": NEW_ADDRESS}, "cs", "E1") == cap
    assert relabel_asks(order) == {"O1-R1": guaranteed}  # the delivered parcel is not asked
    voided = "T-O1-R1" if "labelled" in steps else None
    tell(order, "O1-R1", "address_changed", request_id="E1", voided_tracking_number=voided)
    assert order.address == NEW_ADDRESS and order.pending_edit is None
    assert order.last_edit["outcome"] == "applied" and order.stage == "delivered"
    assert order.line_changes[-1]["outcome"] == "done"
    if voided:
        assert order.shipment("O1-R1").tracking_number is None
    assert not order.anomalies


def test_after_delivery_with_every_replacement_gone_an_address_change_is_still_refused():
    order = order_at("delivered")
    assert rules.decide(order, "address_change").code == "already_shipped"
    ask(order)
    for step in ("allocated", "labelled", "packed", "shipped"):
        tell(order, "O1-R1", step)
    cap = rules.decide(order, "address_change")
    assert (cap.allowed, cap.code) == (False, "already_shipped")


def test_a_split_order_in_the_warehouse_relabels_its_own_parcel_and_the_replacement():
    order = order_at("allocated", ("SKU-1", "SKU-7"))
    for step in ("labelled", "packed", "shipped"):
        tell(order, "O1-S1", step)
    ask(order)
    order.events.clear()
    cap = order.edit({"address": NEW_ADDRESS}, "cs", "E1")
    assert (cap.mode, cap.guaranteed) == ("relabel", True)
    assert relabel_asks(order) == {"O1-S2": True, "O1-R1": True}
    tell(order, "O1-S2", "address_changed", request_id="E1")
    assert order.pending_edit is not None  # the replacement has not answered yet
    for step in ("allocated", "labelled", "packed", "shipped"):  # it left before the request
        tell(order, "O1-R1", step)
    tell(order, "O1-R1", "address_change_missed", request_id="E1", reason="it had left")
    assert order.address == NEW_ADDRESS and order.line_changes[-1]["outcome"] == "partly_missed"
