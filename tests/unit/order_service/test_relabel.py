"""Address change once the warehouse has the order (SPEC §2.4): a relabel.

The rule (stage by held by edit kind) written out by hand, and the order aggregate's side of
the flow: the request per unshipped shipment, the change record, and the warehouse's
answers (`address_changed`, a new label, `address_change_missed`).
"""

from __future__ import annotations

import pytest

from order_service.domain.errors import NotAllowed
from order_service.domain.lifecycle import STATES
from order_service.domain.routing import DEV_WAREHOUSES, plan_shipments
from order_service.domain.rules import capability, decide, edit_action
from tests.unit.order_service.test_capabilities_property import ADDRESS, new_order

NEW = {**ADDRESS, "line1": "New Street 9"}

# stage: (allowed, mode, guaranteed not held, guaranteed held, pending, code when refused)
ADDRESS_TABLE = {
    "synced": (True, "apply", True, True, False, ""),
    "reviewed": (True, "apply", True, True, False, ""),
    "submitted": (True, "request", False, False, True, ""),
    "allocated": (True, "relabel", True, True, True, ""),
    "labelled": (True, "relabel", True, True, True, ""),
    "packed": (True, "relabel", False, True, True, ""),  # best effort unless held
    "intercepting": (False, "none", False, False, False, "cancel_in_progress"),
    "exception": (False, "none", False, False, False, "exception"),
    "shipped": (False, "none", False, False, False, "already_shipped"),
    "delivered": (False, "none", False, False, False, "already_shipped"),
    "returning": (False, "none", False, False, False, "closed"),
    "returned": (False, "none", False, False, False, "closed"),
    "completed": (False, "none", False, False, False, "closed"),
    "cancelled": (False, "none", False, False, False, "closed"),
}


def test_address_table_covers_every_state():
    assert set(ADDRESS_TABLE) == set(STATES)


@pytest.mark.parametrize("held", [False, True])
@pytest.mark.parametrize("stage", STATES)
def test_address_only_edit_rule(stage, held):
    allowed, mode, guaranteed, guaranteed_held, pending, code = ADDRESS_TABLE[stage]
    cap = capability(stage, held, "address_change")
    assert (cap.allowed, cap.mode, cap.pending_confirmation) == (allowed, mode, pending)
    assert cap.guaranteed == (guaranteed_held if held else guaranteed)
    assert cap.code == code and cap.reason


@pytest.mark.parametrize("held", [False, True])
@pytest.mark.parametrize("stage", ["allocated", "labelled", "packed", "shipped"])
def test_item_and_note_edits_in_the_warehouse_stay_refused(stage, held):
    cap = capability(stage, held, "edit")
    assert not cap.allowed and cap.mode == "none"


@pytest.mark.parametrize(
    ("changes", "action"),
    [
        ({"address": NEW}, "address_change"),
        ({"note": "x"}, "edit"),
        ({"address": NEW, "note": "x"}, "edit"),
        ({"lines": []}, "edit"),
    ],
)
def test_the_edit_kind_picks_the_rule(changes, action):
    assert edit_action(changes) == action


def at(stage: str, skus=("SKU-1",)):
    """An order whose every shipment reached `stage` (labelled with tracking T-<sid>)."""
    order = new_order(list(skus))
    order.approve("clerk")
    order.submit(plan_shipments(order.id, order.lines, DEV_WAREHOUSES), "clerk")
    for s in order.shipments:
        sid = s.shipment_id
        for step in ("queued", "allocated", "labelled", "packed", "shipped"):
            extra = {"carrier": "SF", "tracking_number": f"T-{sid}"} if step == "labelled" else {}
            order.on_shipment_event(step, {"shipment_id": sid, **extra}, "wh")
            if step == stage:
                break
    order.events.clear()
    return order


def sent(order, kind):
    return [d for k, d in order.events if k == kind]


def test_address_change_at_labelled_is_a_relabel_request_with_a_change_record():
    order = at("labelled")
    sid = order.shipments[0].shipment_id
    predicted = decide(order, "address_change")
    cap = order.edit({"address": NEW}, "cs", "E1")
    assert cap == predicted and (cap.mode, cap.guaranteed) == ("relabel", True)
    assert sent(order, "order.address_change_requested") == [
        {"shipment_id": sid, "request_id": "E1", "address": NEW, "guaranteed": True}
    ]
    assert order.pending_edit and order.pending_edit["mode"] == "relabel"
    assert order.address == ADDRESS  # applied on the warehouse's answer
    [change] = order.line_changes
    assert (change["kind"], change["outcome"], change["address"]) == (
        "address_change",
        "pending",
        NEW,
    )
    assert change["lines"] == [
        {
            "sku": "SKU-1",
            "qty": 1,
            "shipment_id": sid,
            "mode": "relabel",
            "guaranteed": True,
            "outcome": "pending",
        }
    ]
    assert sent(order, "order.lines_changed")[0]["kind"] == "address_change"
    assert order.timeline[-1]["kind"] == "address_change_requested"
    # Pending: a second edit waits for the answer, as for any pending edit.
    assert decide(order, "address_change").code == "edit_in_progress"


def test_the_warehouse_relabels_the_order_applies_the_address_and_gets_the_new_label():
    order = at("labelled")
    sid = order.shipments[0].shipment_id
    order.edit({"address": NEW}, "cs", "E1")
    order.events.clear()
    hold = {"shipment_id": sid, "hold_id": "H-R1", "reason": "address_change"}
    order.on_shipment_event("held", hold, "wh")
    order.on_shipment_event(
        "address_changed",
        {"shipment_id": sid, "request_id": "E1", "voided_tracking_number": f"T-{sid}"},
        "wh",
    )
    ship = order.shipments[0]
    assert order.address == NEW and order.pending_edit is None
    assert ship.tracking_number is None and ship.voided_tracking_numbers == [f"T-{sid}"]
    assert order.last_edit["outcome"] == "applied" and order.last_edit["mode"] == "relabel"
    assert order.line_changes[0]["outcome"] == "done"
    assert order.line_changes[0]["lines"][0]["outcome"] == "relabelled"
    assert order.held and order.stage == "labelled"
    label = {"shipment_id": sid, "carrier": "YTO", "tracking_number": "T-NEW"}
    order.on_shipment_event("labelled", label, "wh")
    order.on_shipment_event("released", {"shipment_id": sid, "hold_id": "H-R1"}, "wh")
    assert (ship.carrier, ship.tracking_number) == ("YTO", "T-NEW")
    assert not order.held and order.stage == "labelled"
    assert [e["kind"] for e in order.timeline if e["kind"].startswith("shipment_re")] == [
        "shipment_relabelled"
    ]


def test_a_missed_relabel_keeps_the_old_address_and_says_the_parcel_left_with_it():
    order = at("packed")
    sid = order.shipments[0].shipment_id
    cap = order.edit({"address": NEW}, "cs", "E1")
    assert (cap.mode, cap.guaranteed) == ("relabel", False)  # packed: best effort
    order.on_shipment_event(
        "address_change_missed",
        {"shipment_id": sid, "request_id": "E1", "reason": "already shipped"},
        "wh",
    )
    assert order.address == ADDRESS and order.pending_edit is None
    assert order.last_edit["outcome"] == "missed"
    assert order.line_changes[0]["outcome"] == "missed"
    assert order.instructions[-1]["kind"] == "left_with_old_address"
    order.on_shipment_event("address_change_missed", {"shipment_id": sid, "request_id": "E1"}, "wh")
    assert order.anomalies[-1]["kind"] == "unexpected_edit_answer"


def test_a_split_order_with_one_parcel_packed_is_best_effort_and_asks_each_shipment():
    order = at("labelled", skus=("SKU-1", "SKU-7"))  # own + dropship
    s1, s2 = (s.shipment_id for s in order.shipments)
    for step in ("packed",):
        order.on_shipment_event(step, {"shipment_id": s2}, "wh")
    order.events.clear()
    predicted = decide(order, "address_change")
    assert (predicted.mode, predicted.guaranteed) == ("relabel", False)
    order.edit({"address": NEW}, "cs", "E1")
    asked = {
        d["shipment_id"]: d["guaranteed"] for d in sent(order, "order.address_change_requested")
    }
    assert asked == {s1: True, s2: False}
    order.on_shipment_event("address_changed", {"shipment_id": s1, "request_id": "E1"}, "wh")
    assert order.pending_edit is not None  # waits for both
    order.on_shipment_event("address_change_missed", {"shipment_id": s2, "request_id": "E1"}, "wh")
    assert order.address == NEW and order.line_changes[0]["outcome"] == "partly_missed"
    assert order.last_edit["outcome"] == "partly_missed"


@pytest.mark.parametrize("changes", [{"note": "leave at door"}, {"address": NEW, "note": "x"}])
def test_note_or_mixed_edits_at_labelled_are_refused_as_before(changes):
    order = at("labelled")
    with pytest.raises(NotAllowed) as refused:
        order.edit(changes, "cs", "E1")
    assert refused.value.code == "in_warehouse_processing" and order.events == []


def test_shipped_refuses_the_address_change():
    order = at("shipped")
    assert decide(order, "address_change").code == "already_shipped"
    with pytest.raises(NotAllowed) as refused:
        order.edit({"address": NEW}, "cs", "E1")
    assert refused.value.code == "already_shipped" and order.line_changes == []


def test_a_pending_cancel_refuses_the_address_change():
    order = at("labelled")
    order.cancel("buyer asked", "cs", "C1")
    assert decide(order, "address_change").code == "cancel_in_progress"
    with pytest.raises(NotAllowed):
        order.edit({"address": NEW}, "cs", "E1")
