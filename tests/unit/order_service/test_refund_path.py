"""After-sales refund requests: the order answers with `decide(order, "refund")`, the rule
capabilities shows, and takes the cancel that path needs (SPEC §4.1)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from order_service.domain.errors import DomainError
from order_service.domain.order import Order
from order_service.domain.refund_path import answer_refund_request
from order_service.domain.routing import DEV_WAREHOUSES, plan_shipments
from order_service.domain.rules import decide
from tests.unit.order_service.test_capabilities_property import Warehouse, new_order

REQUEST = {"refund_id": "RF-1", "amount": "20.00", "reason": "buyer asks", "lines": []}


def tell(order: Order, kind: str, sid: str, **data) -> None:
    order.on_shipment_event(kind, {"shipment_id": sid, "warehouse_id": "W", **data}, "warehouse")


def at(situation: str) -> Order:
    """SKU-1 (own warehouse) and SKU-7 (dropship): a split order in `situation`."""
    order = new_order(["SKU-1", "SKU-7"])
    if situation == "synced":
        return _fresh(order)
    order.approve("clerk")
    if situation == "reviewed":
        return _fresh(order)
    order.submit(plan_shipments(order.id, order.lines, DEV_WAREHOUSES), "clerk")
    s1, s2 = (s.shipment_id for s in order.shipments)
    steps = {
        "submitted": [],
        "exception": [("out_of_stock", s1, {"skus": ["SKU-1"]})],
        "allocated": [("allocated", s1, {}), ("allocated", s2, {})],
        "partly_held": [
            ("allocated", s1, {}),
            ("held", s1, {"hold_id": "H1", "reason": "other"}),
            ("allocated", s2, {}),
        ],
        "fully_held": [
            ("allocated", s1, {}),
            ("allocated", s2, {}),
            ("held", s1, {"hold_id": "H1", "reason": "other"}),
            ("held", s2, {"hold_id": "H2", "reason": "other"}),
        ],
        "shipped": [
            (kind, sid, data)
            for sid in (s1, s2)
            for kind, data in (
                ("allocated", {}),
                ("labelled", {"carrier": "SF", "tracking_number": f"T{sid}"}),
                ("packed", {"weight_grams": 100}),
                ("shipped", {"carrier": "SF", "tracking_number": f"T{sid}"}),
            )
        ],
    }
    for kind, sid, data in steps[situation]:
        tell(order, kind, sid, **data)
    return _fresh(order)


def _fresh(order: Order) -> Order:
    order.events.clear()
    order.timeline.clear()
    return order


def emitted(order: Order, kind: str) -> list[dict]:
    return [data for k, data in order.events if k == kind]


SITUATIONS = [
    "synced",
    "reviewed",
    "submitted",
    "exception",
    "allocated",
    "partly_held",
    "fully_held",
    "shipped",
]


@pytest.mark.parametrize("situation", SITUATIONS)
def test_the_decision_is_what_capabilities_says(situation):
    order = at(situation)
    predicted = decide(order, "refund")
    answer_refund_request(order, REQUEST, "aftersales")
    decided = emitted(order, "order.refund_decided")
    assert len(decided) == 1
    d = decided[0]
    assert (d["allowed"], d["mode"], d["guaranteed"], d["timing"]) == (
        predicted.allowed,
        predicted.mode,
        predicted.guaranteed,
        predicted.timing,
    )
    assert order.events[0][0] == "order.refund_decided"  # before what the cancel emits


def test_exception_stage_withdraws_as_capabilities_says():
    order = at("exception")
    answer_refund_request(order, REQUEST, "aftersales")
    assert emitted(order, "order.refund_decided")[0]["mode"] == "withdraw"
    assert len(emitted(order, "order.withdraw_requested")) == 2
    assert order.pending_cancel["request_id"] == "RF-1"


def test_partly_held_split_order_is_intercepted_not_guaranteed():
    order = at("partly_held")
    assert order.held and not order.fully_held
    answer_refund_request(order, REQUEST, "aftersales")
    d = emitted(order, "order.refund_decided")[0]
    assert (d["mode"], d["guaranteed"], d["cancel"]) == ("intercept", False, "requested")
    assert order.stage == "intercepting"


def test_fully_held_is_a_guaranteed_withdrawal():
    order = at("fully_held")
    answer_refund_request(order, REQUEST, "aftersales")
    d = emitted(order, "order.refund_decided")[0]
    assert (d["mode"], d["guaranteed"]) == ("withdraw", True)
    assert all(x["guaranteed"] for x in emitted(order, "order.withdraw_requested"))


def test_before_the_warehouse_a_void_cancels_at_once():
    order = at("reviewed")
    answer_refund_request(order, REQUEST, "aftersales")
    kinds = [k for k, _ in order.events]
    assert kinds.index("order.refund_decided") < kinds.index("order.cancelled")
    assert order.stage == "cancelled"


def test_shipped_decides_refuse_delivery_and_cancels_nothing():
    order = at("shipped")
    answer_refund_request(order, REQUEST, "aftersales")
    d = emitted(order, "order.refund_decided")[0]
    assert (d["allowed"], d["mode"], d["cancel"]) == (True, "refuse_delivery", "none")
    assert [k for k, _ in order.events] == ["order.refund_decided"]


def test_a_cancel_already_pending_answers_the_refund():
    order = at("allocated")
    order.cancel("cs", "cs", "C-1")
    _fresh(order)
    answer_refund_request(order, REQUEST, "aftersales")
    d = emitted(order, "order.refund_decided")[0]
    assert (d["allowed"], d["mode"], d["cancel"]) == (True, "intercept", "pending")
    assert [k for k, _ in order.events] == ["order.refund_decided"]


def test_cancelled_order_refuses_with_the_tables_code():
    order = at("reviewed")
    order.cancel("cs", "cs", "C-1")
    _fresh(order)
    answer_refund_request(order, REQUEST, "aftersales")
    d = emitted(order, "order.refund_decided")[0]
    assert (d["allowed"], d["mode"], d["code"]) == (False, "none", "closed")


def test_a_line_refund_cancels_its_lines_by_their_own_rule():
    order = at("reviewed")
    answer_refund_request(order, {**REQUEST, "lines": [{"sku": "SKU-1", "qty": 1}]}, "aftersales")
    d = emitted(order, "order.refund_decided")[0]
    assert (d["mode"], d["cancel"], d["lines"]) == (
        "void",
        "requested",
        [{"sku": "SKU-1", "qty": 1}],
    )
    cancelled = emitted(order, "order.cancelled")
    assert [c["lines"] for c in cancelled] == [[{"sku": "SKU-1", "qty": 1}]]
    assert [ln["sku"] for ln in order.lines] == ["SKU-7"]
    assert order.stage == "synced"  # its items changed: back to review


def test_a_line_refund_of_a_packed_line_is_refused_with_the_lines_code():
    order = at("reviewed")
    order.submit(plan_shipments(order.id, order.lines, DEV_WAREHOUSES), "clerk")
    s1 = next(s.shipment_id for s in order.shipments if "SKU-1" in str(s.lines))
    for kind in ("allocated", "labelled", "packed"):
        tell(order, kind, s1)
    _fresh(order)
    answer_refund_request(order, {**REQUEST, "lines": [{"sku": "SKU-1", "qty": 1}]}, "aftersales")
    d = emitted(order, "order.refund_decided")[0]
    assert (d["cancel"], d["code"]) == ("refused", "packed")
    assert emitted(order, "order.cancelled") == []


def check_refund(order: Order, wh, n: int) -> bool:
    """One after-sales refund request: the decision is `decide`'s, and the order did what
    it said. → True if the refund's path was a guaranteed cancel."""
    predicted = decide(order, "refund")
    pending = order.pending_cancel is not None
    before = len(order.events)
    answer_refund_request(order, {**REQUEST, "refund_id": f"RF-{n}"}, "aftersales")
    new = order.events[before:]
    assert new[0][0] == "order.refund_decided"
    d = new[0][1]
    event(f"refund: {d['mode']} cancel={d['cancel']} guaranteed={d['guaranteed']}")
    assert (d["allowed"], d["guaranteed"], d["timing"]) == (
        predicted.allowed,
        predicted.guaranteed,
        predicted.timing,
    )
    kinds = [k for k, _ in new[1:]]
    if not (predicted.allowed and predicted.mode in ("void", "withdraw", "intercept")):
        assert (d["mode"], d["cancel"], kinds) == (predicted.mode, "none", [])
    elif pending:
        assert (d["mode"], d["cancel"], kinds) == (predicted.mode, "pending", [])
    else:
        assert (d["mode"], d["cancel"]) == (predicted.mode, "requested")
        expected = {
            "void": "order.cancelled",
            "withdraw": "order.withdraw_requested",
            "intercept": "order.intercept_requested",
        }[predicted.mode]
        assert expected in kinds, kinds
    wh.take_requests()
    return d["cancel"] == "requested" and predicted.guaranteed


REFUND_OPS = st.sampled_from(
    [
        *("progress", "progress", "progress", "hold", "release", "out_of_stock", "restock"),
        *("answer", "refund", "cancel"),
    ]
)
SKUS = st.lists(st.sampled_from(["SKU-1", "SKU-4", "SKU-7"]), min_size=1, max_size=3, unique=True)


@settings(max_examples=300, deadline=None)
@given(
    skus=SKUS,
    start=st.sampled_from([("approve",), ("approve", "submit"), ("approve", "submit") * 2]),
    steps=st.lists(st.tuples(REFUND_OPS, st.integers(0, 3), st.booleans()), max_size=30),
)
def test_a_refund_request_does_what_capabilities_predicts(skus, start, steps):
    order = new_order(skus)
    wh = Warehouse(order)
    order.events.clear()
    guaranteed = False
    for n, (op, index, flag) in enumerate([(op, 0, True) for op in start] + steps):
        if op == "refund":
            guaranteed |= check_refund(order, wh, n)
        elif op == "cancel":
            with contextlib.suppress(DomainError):
                order.cancel("cs", "cs", f"C{n}")
            wh.take_requests()
        elif op == "approve":
            with contextlib.suppress(DomainError):
                order.approve("clerk")
        elif op == "submit":
            with contextlib.suppress(DomainError):
                order.submit(plan_shipments(order.id, order.lines, DEV_WAREHOUSES), "clerk")
            wh.take_requests()
        elif op == "answer":
            wh.answer_all(flag)
        else:
            wh.act(op, index, flag)
    wh.answer_all(True)
    if guaranteed:
        assert order.stage == "cancelled", order.timeline
