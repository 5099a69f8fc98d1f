"""SPEC §2.4, every line stage by held/not held by action, against the table written by hand."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from order_service.domain.lifecycle import STATES
from order_service.domain.rules import LINE_STAGES, decide_line, line_capability, line_stage

# line's shipment stage: (cancel (allowed, mode, guaranteed, code), refund (allowed, mode, timing))
NOT_HELD = {
    "unsubmitted": ((True, "remove", True, ""), (True, "remove", "at_once")),
    "submitted": ((True, "withdraw", False, ""), (True, "withdraw", "on_confirmation")),
    "exception": ((True, "withdraw", False, ""), (True, "withdraw", "on_confirmation")),
    "allocated": (
        (True, "removal_request", False, ""),
        (True, "removal_request", "after_removal"),
    ),
    "labelled": (
        (True, "removal_request", False, ""),
        (True, "removal_request", "after_removal"),
    ),
    "packed": (
        (False, "refuse_delivery", False, "packed"),
        (True, "refuse_delivery", "after_return"),
    ),
    "shipped": (
        (False, "refuse_delivery", False, "shipped"),
        (True, "refuse_delivery", "after_return"),
    ),
    "delivered": ((False, "return", False, "delivered"), (True, "return", "after_return")),
    "closed": ((False, "none", False, "closed"), (False, "none", "complaint_only")),
}
# "held shipment: removed, guaranteed; refund at once" wherever a task exists and has not left.
HELD = {
    stage: ((True, "withdraw", True, ""), (True, "withdraw", "at_once"))
    for stage in ("submitted", "exception", "allocated", "labelled", "packed")
}


def test_table_covers_every_line_stage():
    assert set(NOT_HELD) == set(LINE_STAGES)


@pytest.mark.parametrize("held", [False, True])
@pytest.mark.parametrize("stage", LINE_STAGES)
@pytest.mark.parametrize("action", ["cancel", "refund"])
def test_line_table(stage, held, action):
    cancel, refund = HELD.get(stage, NOT_HELD[stage]) if held else NOT_HELD[stage]
    cap = line_capability(stage, held, action)
    assert cap.reason
    if action == "cancel":
        assert (cap.allowed, cap.mode, cap.guaranteed, cap.code) == cancel
        assert cap.pending_confirmation == (cap.allowed and cap.mode != "remove")
    else:
        assert (cap.allowed, cap.mode, cap.timing) == refund
    if not cap.allowed:
        assert cap.code and not cap.guaranteed


def test_unknown_action_or_stage_is_an_error():
    with pytest.raises(ValueError):
        line_capability("submitted", False, "edit")
    with pytest.raises(ValueError):
        line_capability("queued", False, "cancel")


STATUSES = [None, "submitted", "queued", "allocated", "labelled", "packed", "shipped"]
STATUSES += ["exception", "withdrawn", "intercepted"]


def expected_stage(order_stage: str, status: str | None) -> str:
    if order_stage in ("cancelled", "completed"):
        return "closed"
    if status is None:
        return "unsubmitted" if order_stage in ("synced", "reviewed") else "closed"
    if status in ("withdrawn", "intercepted"):
        return "closed"
    if status == "queued":
        return "submitted"
    if status == "shipped" and order_stage in ("delivered", "returning", "returned"):
        return "delivered"
    return status


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("order_stage", STATES)
def test_line_stage_of_every_order_stage_and_shipment_status(order_stage, status):
    assert line_stage(order_stage, status) == expected_stage(order_stage, status)


@dataclass
class FakeOrder:
    stage: str = "submitted"
    held: bool = False
    fully_held: bool = False
    pending_cancel: dict[str, Any] | None = None
    pending_edit: dict[str, Any] | None = None


@dataclass
class FakeLine:
    sku: str = "SKU-1"
    shipment_status: str | None = "submitted"
    shipment_held: bool = False
    active_qty: int = 1


def test_decide_line_reads_the_table_for_the_lines_own_shipment():
    order = FakeOrder(stage="allocated")
    # A split order at `allocated`: the line on the still-queued shipment is withdrawn.
    assert decide_line(order, FakeLine(shipment_status="queued"), "cancel").mode == "withdraw"
    assert decide_line(order, FakeLine(shipment_status="labelled"), "cancel").mode == (
        "removal_request"
    )
    held = decide_line(order, FakeLine(shipment_status="labelled", shipment_held=True), "cancel")
    assert (held.mode, held.guaranteed) == ("withdraw", True)


@pytest.mark.parametrize(
    ("order", "line", "code"),
    [
        (FakeOrder(pending_cancel={"mode": "withdraw"}), FakeLine(), "cancel_in_progress"),
        (FakeOrder(pending_edit={"request_id": "E1"}), FakeLine(), "edit_in_progress"),
        (FakeOrder(), FakeLine(active_qty=0), "line_not_active"),
    ],
)
def test_decide_line_refuses_what_is_pending(order, line, code):
    cap = decide_line(order, line, "cancel")
    assert (cap.allowed, cap.code) == (False, code)
    # The refund column still answers the path the money would take.
    assert decide_line(order, line, "refund").allowed
