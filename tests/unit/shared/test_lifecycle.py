"""The one lifecycle wrapper over `transitions`: declared data in, refusals with their rule out."""

from __future__ import annotations

import pytest

from shared.lifecycle import NO_SUCH_TRANSITION, Lifecycle, TransitionRefused

DOOR = Lifecycle(
    ["closed", "open", "locked"],
    [
        {"trigger": "open", "source": "closed", "dest": "open", "conditions": ["unlocked"]},
        {"trigger": "close", "source": "open", "dest": "closed"},
        {"trigger": "lock", "source": ["closed", "open"], "dest": "locked"},
    ],
    guards={"unlocked": lambda facts: not facts.get("jammed")},
)


def test_fire_follows_the_declaration_on_one_shared_machine():
    assert DOOR.fire("closed", "open") == "open"
    assert DOOR.fire("open", "lock") == "locked"
    assert len(DOOR.machine.models) == 1  # one cursor, attached once
    assert DOOR.sources("lock") == ["closed", "open"]
    assert DOOR.triggers_from("closed") == ["lock", "open"]


@pytest.mark.parametrize(
    ("state", "trigger", "facts", "rule"),
    [
        ("closed", "open", {"jammed": True}, "unlocked"),
        ("locked", "open", {}, NO_SUCH_TRANSITION),
        ("open", "fly", {}, NO_SUCH_TRANSITION),
    ],
)
def test_a_refusal_names_its_rule(state, trigger, facts, rule):
    with pytest.raises(TransitionRefused) as info:
        DOOR.fire(state, trigger, **facts)
    assert (info.value.state, info.value.trigger, info.value.rule) == (state, trigger, rule)
    assert not DOOR.can_fire(state, trigger, **facts)


def test_mermaid_is_rendered_from_the_declaration():
    text = DOOR.mermaid(terminal=["locked"], notes=["note right of open : ajar"])
    assert text.splitlines() == [
        "stateDiagram-v2",
        "    [*] --> closed",
        "    closed --> open : open [unlocked]",
        "    open --> closed : close",
        "    closed --> locked : lock",
        "    open --> locked : lock",
        "    locked --> [*]",
        "    note right of open : ajar",
    ]
