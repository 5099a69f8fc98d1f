"""SPEC §2.1, every stage by action by held/not held, against the table written out by hand."""

from __future__ import annotations

import pytest

from order_service.domain.lifecycle import STATES
from order_service.domain.rules import ACTIONS, capability

# stage: (edit (allowed, pending), cancel (allowed, mode, guaranteed), refund (allowed, timing))
NOT_HELD = {
    "synced": ((True, False), (True, "void", True), (True, "at_once")),
    "reviewed": ((True, False), (True, "void", True), (True, "at_once")),
    "submitted": ((True, True), (True, "withdraw", False), (True, "on_confirmation")),
    "allocated": ((False, False), (True, "intercept", False), (True, "after_interception")),
    "labelled": ((False, False), (True, "intercept", False), (True, "after_interception")),
    "packed": ((False, False), (True, "intercept", False), (True, "after_interception")),
    "intercepting": ((False, False), (False, "none", False), (True, "after_interception")),
    "exception": ((False, False), (True, "withdraw", False), (True, "on_confirmation")),
    "shipped": ((False, False), (False, "refuse_delivery", False), (True, "after_return")),
    "delivered": ((False, False), (False, "return", False), (True, "return_policy")),
    "returning": ((False, False), (False, "return", False), (True, "after_return")),
    "returned": ((False, False), (False, "return", False), (True, "after_return")),
    "completed": ((False, False), (False, "none", False), (False, "complaint_only")),
    "cancelled": ((False, False), (False, "none", False), (False, "complaint_only")),
}
# "any stage while held": edit as the stage says; cancel guaranteed; refund at once —
# for stages where a task exists and has not left (a shipped parcel cannot be held).
HELD_OVERRIDE = {
    stage: (NOT_HELD[stage][0], (True, "withdraw", True), (True, "at_once"))
    for stage in ("submitted", "allocated", "labelled", "packed")
}


def expected(stage: str, held: bool):
    return HELD_OVERRIDE.get(stage, NOT_HELD[stage]) if held else NOT_HELD[stage]


def test_table_covers_every_state():
    assert set(NOT_HELD) == set(STATES)


@pytest.mark.parametrize("held", [False, True])
@pytest.mark.parametrize("stage", STATES)
@pytest.mark.parametrize("action", ACTIONS)
def test_rule_table(stage, held, action):
    edit, cancel, refund = expected(stage, held)
    cap = capability(stage, held, action)
    assert cap.reason
    if action == "edit":
        assert (cap.allowed, cap.pending_confirmation) == edit
        assert cap.mode == ("request" if edit[1] else "apply" if edit[0] else "none")
        if stage in ("allocated", "labelled", "packed"):
            assert cap.code == "in_warehouse_processing"
    elif action == "cancel":
        assert (cap.allowed, cap.mode, cap.guaranteed) == cancel
        assert cap.pending_confirmation == (cancel[0] and cancel[1] != "void")
    else:
        assert (cap.allowed, cap.timing) == refund
    if not cap.allowed:
        assert cap.code and not cap.guaranteed
