"""The lifecycle declaration, its shared machine, guards and Mermaid rendering."""

from __future__ import annotations

import pytest

from order_service.domain import lifecycle
from order_service.domain.errors import IllegalTransition


def test_main_path_runs_on_the_shared_machine():
    stage = "synced"
    for trigger in (
        "approve",
        "submit",
        "allocate",
        "label",
        "pack",
        "ship",
        "deliver",
        "complete",
    ):
        stage = lifecycle.fire(stage, trigger).stage
    assert stage == "completed"
    assert len(lifecycle.MACHINE.models) == 1  # one cursor, attached once, for every trigger
    # The guard facts are the caller's, not left over from an earlier trigger.
    assert lifecycle.can_fire("allocated", "label", held=False)
    assert not lifecycle.can_fire("allocated", "label", held=True)
    assert lifecycle.can_fire("allocated", "label")


def test_hold_blocks_progress_with_the_rule_named():
    with pytest.raises(IllegalTransition) as err:
        lifecycle.fire("labelled", "pack", held=True)
    assert err.value.details["rule"] == "not_held"
    assert lifecycle.fire("submitted", "allocate", held=True).stage == "allocated"


def test_illegal_trigger_names_the_rule():
    with pytest.raises(IllegalTransition) as err:
        lifecycle.fire("cancelled", "pack")
    assert err.value.details["rule"] == "no_such_transition"


@pytest.mark.parametrize("stage", lifecycle.RESUMABLE)
def test_missed_interception_resumes_where_the_shipments_are(stage):
    assert lifecycle.fire("intercepting", "interception_missed", resume_stage=stage).stage == stage


def test_mermaid_is_rendered_from_the_declaration():
    text = lifecycle.mermaid()
    assert text.startswith("stateDiagram-v2")
    for row in lifecycle.transition_rows():
        assert f"{row['source']} --> {row['dest']} : {row['trigger']}" in text
    described = lifecycle.describe()
    assert set(described["states"]) == set(lifecycle.STATES)
