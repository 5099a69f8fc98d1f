"""The shipment state machine, exhaustively against its declared table."""

from __future__ import annotations

import pytest

from warehouse_service.domain import lifecycle
from warehouse_service.domain.errors import WrongStep

TRIGGERS = sorted({t["trigger"] for t in lifecycle.TRANSITIONS})
EXPECTED = {
    ("queued", "allocate"): "allocated",
    ("allocated", "label"): "labelled",
    ("labelled", "pack"): "packed",
    ("packed", "ship"): "shipped",
    ("queued", "withdraw"): "withdrawn",
    ("exception", "withdraw"): "withdrawn",
    **{(s, "withdraw_guaranteed"): "withdrawn" for s in lifecycle.HOLDABLE},
    **{(s, "intercept"): "intercepted" for s in lifecycle.HOLDABLE},
    **{(s, "report_out_of_stock"): "exception" for s in lifecycle.IN_PROGRESS},
}


@pytest.mark.parametrize("status", lifecycle.STATES)
@pytest.mark.parametrize("trigger", TRIGGERS)
def test_every_status_and_trigger(status: str, trigger: str):
    expected = EXPECTED.get((status, trigger))
    if expected:
        assert lifecycle.fire(status, trigger) == expected
        assert lifecycle.can(status, trigger)
    else:
        with pytest.raises(WrongStep):
            lifecycle.fire(status, trigger)
        assert not lifecycle.can(status, trigger)


def test_terminal_states_accept_nothing():
    for status in lifecycle.TERMINAL:
        assert not any(lifecycle.can(status, t) for t in TRIGGERS)


@pytest.mark.parametrize(
    ("status", "trigger", "required", "next_step"),
    [
        ("allocated", "ship", "pack", "label"),
        ("labelled", "ship", "pack", "pack"),
        ("queued", "ship", "pack", "allocate"),
        ("queued", "label", "allocate", "allocate"),
        ("queued", "pack", "label", "allocate"),
        ("shipped", "ship", "pack", None),
    ],
)
def test_out_of_order_names_the_required_step(status, trigger, required, next_step):
    with pytest.raises(WrongStep) as info:
        lifecycle.fire(status, trigger)
    err = info.value
    assert err.details["required_step"] == required
    assert err.details["next_step"] == next_step
    assert f"requires {required} first" in err.message


def test_one_shared_machine_with_one_cursor():
    lifecycle.fire("queued", "allocate")
    with pytest.raises(WrongStep):
        lifecycle.fire("queued", "ship")
    assert lifecycle.fire("labelled", "pack") == "packed"  # whatever the cursor held before
    assert len(lifecycle.LIFECYCLE.models) == 1


def test_mermaid_lists_every_transition():
    diagram = lifecycle.mermaid()
    assert diagram.startswith("stateDiagram-v2")
    assert "packed --> shipped: ship" in diagram
    assert "queued --> withdrawn: withdraw" in diagram
