"""Cancel by line on the order aggregate: refunds never overlap a later whole cancel."""

from __future__ import annotations

import pytest

from order_service.domain import lines
from order_service.domain.errors import InvalidRequest, NotAllowed
from order_service.domain.routing import DEV_WAREHOUSES, plan_shipments
from tests.unit.order_service.test_capabilities_property import new_order


def refunds(order) -> list[tuple[str, list]]:
    return [
        (d["refund_due"], d.get("lines", [])) for k, d in order.events if k == "order.cancelled"
    ]


def test_removed_before_submission_then_the_rest_cancelled_refunds_each_unit_once():
    order = new_order(["SKU-1", "SKU-4"])  # 10.00 each, total 20.00
    order.approve("clerk")
    order.events.clear()
    change = lines.cancel_lines(order, [{"sku": "SKU-1", "qty": 1}], "r", "cs", "L1")
    assert change["outcome"] == "done" and change["version"] == 1
    assert order.stage == "synced" and order.review["status"] == "pending"
    assert [ln["sku"] for ln in order.lines] == ["SKU-4"]
    order.approve("clerk")
    order.cancel("r", "cs", "C1")
    assert refunds(order) == [("10.00", [{"sku": "SKU-1", "qty": 1}]), ("10.00", [])]


def test_warehouse_path_the_answer_refunds_and_the_split_order_advances():
    order = new_order(["SKU-1", "SKU-7"])  # own + dropship
    order.approve("clerk")
    order.submit(plan_shipments(order.id, order.lines, DEV_WAREHOUSES), "clerk")
    s1, s2 = (s.shipment_id for s in order.shipments)
    order.on_shipment_event("allocated", {"shipment_id": s1}, "wh")
    order.events.clear()
    change = lines.cancel_lines(order, [{"sku": "SKU-7", "qty": 1}], "r", "cs", "L1")
    assert change["lines"][0]["mode"] == "withdraw"
    assert [k for k, _ in order.events] == ["order.line_removal_requested", "order.lines_changed"]
    order.events.clear()
    removed = {"shipment_id": s2, "request_id": "L1", "lines": [{"sku": "SKU-7", "qty": 1}]}
    order.on_shipment_event("lines_removed", removed | {"task_withdrawn": True}, "wh")
    # The dropship shipment is gone; the order follows its only live shipment.
    assert order.shipment(s2).status == "withdrawn" and order.stage == "allocated"
    assert refunds(order) == [("10.00", [{"sku": "SKU-7", "qty": 1}])]
    assert order.line_changes[0]["outcome"] == "done"
    order.on_shipment_event("lines_removed", removed, "wh")  # answered twice: an anomaly
    assert order.anomalies[-1]["kind"] == "unexpected_line_removal_answer"


def test_refusals_change_nothing():
    order = new_order(["SKU-1"])
    with pytest.raises(InvalidRequest) as err:
        lines.cancel_lines(order, [{"sku": "SKU-9", "qty": 1}], "r", "cs", "L1")
    assert err.value.code == "unknown_line"
    with pytest.raises(NotAllowed) as refused:
        lines.cancel_lines(order, [{"sku": "SKU-1", "qty": 2}], "r", "cs", "L1")
    assert refused.value.code == "qty_exceeds_active"
    assert order.line_changes == [] and order.line_removals == []


def test_removing_every_unit_voids_the_order():
    order = new_order(["SKU-1"])
    order.events.clear()
    lines.cancel_lines(order, [{"sku": "SKU-1", "qty": 1}], "r", "cs", "L1")
    assert order.stage == "cancelled"
    assert refunds(order) == [("10.00", [{"sku": "SKU-1", "qty": 1}]), ("0.00", [])]


def test_an_emptied_exception_shipment_requeues_the_order():
    order = new_order(["SKU-1", "SKU-7"])
    order.approve("clerk")
    order.submit(plan_shipments(order.id, order.lines, DEV_WAREHOUSES), "clerk")
    s1, s2 = (s.shipment_id for s in order.shipments)
    order.on_shipment_event("allocated", {"shipment_id": s1}, "wh")
    order.on_shipment_event("out_of_stock", {"shipment_id": s2, "skus": ["SKU-7"]}, "wh")
    assert order.stage == "exception"
    lines.cancel_lines(order, [{"sku": "SKU-7", "qty": 1}], "out of stock", "cs", "L1")
    removed = {"shipment_id": s2, "request_id": "L1", "lines": [{"sku": "SKU-7", "qty": 1}]}
    order.on_shipment_event("lines_removed", removed | {"task_withdrawn": True}, "wh")
    assert order.stage == "allocated"  # the stock-out went with its only line


def test_items_edit_waits_for_a_pending_line_removal():
    order = new_order(["SKU-1", "SKU-4"])  # one own-warehouse shipment
    order.approve("clerk")
    order.submit(plan_shipments(order.id, order.lines, DEV_WAREHOUSES), "clerk")
    lines.cancel_lines(order, [{"sku": "SKU-4", "qty": 1}], "r", "cs", "L1")
    with pytest.raises(NotAllowed) as err:
        order.edit({"lines": order.lines[:1]}, "cs", "E1")
    assert err.value.code == "line_removal_in_progress"
    order.edit({"note": "ring twice"}, "cs", "E2")  # other edits go on


def _partly_shipped_split_order():
    """Own shipment (SKU-1) shipped, dropship shipment (SKU-7) allocated."""
    order = new_order(["SKU-1", "SKU-7"])
    order.approve("clerk")
    order.submit(plan_shipments(order.id, order.lines, DEV_WAREHOUSES), "clerk")
    s1, s2 = (s.shipment_id for s in order.shipments)
    for step in ("allocated", "labelled", "packed", "shipped"):
        order.on_shipment_event(step, {"shipment_id": s1, "tracking_number": "T1"}, "wh")
    order.on_shipment_event("allocated", {"shipment_id": s2}, "wh")
    assert order.stage == "allocated"
    return order, s2


def test_a_shipment_emptied_by_line_removal_answers_the_order_cancel_waiting_for_it():
    # The warehouse (warehouse_service/domain/line_removal.py) withdraws a task whose last
    # line is removed and drops the interception pending on it: `lines_removed` with
    # `task_withdrawn` is the only answer the order gets for that shipment.
    order, s2 = _partly_shipped_split_order()
    lines.cancel_lines(order, [{"sku": "SKU-7", "qty": 1}], "r", "cs", "L1")
    order.on_shipment_event("line_removal_pending", {"shipment_id": s2, "request_id": "L1"}, "wh")
    cap = order.cancel("buyer asked", "cs", "C1")
    assert cap.mode == "intercept" and order.pending_cancel["waiting"] == [s2]
    order.on_shipment_event("interception_pending", {"shipment_id": s2, "request_id": "C1"}, "wh")
    order.events.clear()
    removed = {"shipment_id": s2, "request_id": "L1", "lines": [{"sku": "SKU-7", "qty": 1}]}
    order.on_shipment_event("lines_removed", removed | {"task_withdrawn": True}, "wh")
    # Nothing waits: the dropship part is gone (refunded by line), the shipped parcel is the
    # refusal path, and the order is back at its shipped stage.
    assert order.pending_cancel is None
    assert order.last_cancel == {
        "request_id": "C1",
        "outcome": "missed",
        "mode": "intercept",
        "instruction": "refuse_delivery",
    }
    assert order.shipment(s2).status == "withdrawn" and order.stage == "shipped"
    assert refunds(order) == [("10.00", [{"sku": "SKU-7", "qty": 1}])]
    assert order.anomalies == []
    # And capabilities says what a cancel now does: refused, the path is refusal.
    cap = lines.capabilities(order)["cancel"]
    assert (cap["allowed"], cap["mode"]) == (False, "refuse_delivery")
    with pytest.raises(NotAllowed) as err:
        order.cancel("again", "cs", "C2")
    assert err.value.code == cap["code"]


@pytest.mark.parametrize("answer", ["withdrawn", "intercepted"])
def test_the_warehouse_reanswering_a_request_to_an_emptied_task_changes_nothing(answer):
    # Requests the order sent before it learned the task was emptied: the warehouse answers
    # them for the gone task (`withdrawn` / `intercepted`); the order already settled.
    order, s2 = _partly_shipped_split_order()
    order.on_shipment_event("held", {"shipment_id": s2, "hold_id": "H1", "reason": "x"}, "wh")
    change = lines.cancel_lines(order, [{"sku": "SKU-7", "qty": 1}], "r", "cs", "L1")
    assert change["lines"][0]["guaranteed"] is True
    order.cancel("buyer asked", "cs", "C1")
    removed = {"shipment_id": s2, "request_id": "L1", "lines": [{"sku": "SKU-7", "qty": 1}]}
    order.on_shipment_event("lines_removed", removed | {"task_withdrawn": True}, "wh")
    assert order.pending_cancel is None and order.stage == "shipped"
    order.on_shipment_event(answer, {"shipment_id": s2, "request_id": "C1"}, "wh")
    assert order.shipment(s2).status == "withdrawn" and order.stage == "shipped"
    assert order.anomalies == [] and order.last_cancel["outcome"] == "missed"
