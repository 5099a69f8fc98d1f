"""One shared `transitions` machine per case type, evaluated as a declared table.

The machines are built once at import with `model=None`; a trigger is checked
against the declared transitions for the case's current state, so no Machine
(or model binding) is created per request and callbacks never do I/O.
"""

from __future__ import annotations

from typing import Any, Protocol

from transitions import Machine

from aftersales_service.domain.errors import Refused


class Case(Protocol):
    """Anything with a status a table moves (refunds, returns, complaints, ...)."""

    status: str


class StateTable:
    """A declared state machine: `fire(case, trigger)` moves `case.status` or refuses."""

    def __init__(self, name: str, states: list[str], transitions: list[dict[str, Any]]) -> None:
        self.name = name
        self.machine = Machine(
            model=None,
            states=states,
            transitions=transitions,
            initial=states[0],
            auto_transitions=False,
        )

    def can(self, status: str, trigger: str) -> bool:
        return bool(self.machine.get_transitions(trigger=trigger, source=status))

    def fire(self, case: Case, trigger: str) -> None:
        found = self.machine.get_transitions(trigger=trigger, source=case.status)
        dest = found[0].dest if found else None  # every declared transition has a dest
        if dest is None:
            raise Refused(
                f"{self.name} in status {case.status!r} cannot {trigger}",
                code="illegal_transition",
                status=case.status,
                trigger=trigger,
            )
        case.status = dest


REFUNDS = StateTable(
    "refund",
    ["requested", "awaiting_cancel", "awaiting_return", "issued", "refused"],
    [
        {"trigger": "request_cancel", "source": "requested", "dest": "awaiting_cancel"},
        {
            "trigger": "await_return",
            "source": ["requested", "awaiting_cancel"],
            "dest": "awaiting_return",
        },
        {
            "trigger": "issue",
            "source": ["requested", "awaiting_cancel", "awaiting_return"],
            "dest": "issued",
        },
        {
            "trigger": "refuse",
            "source": ["requested", "awaiting_cancel", "awaiting_return"],
            "dest": "refused",
        },
    ],
)

RETURNS = StateTable(
    "return",
    ["pending_review", "approved", "rejected", "received", "inspected", "closed"],
    [
        {"trigger": "approve", "source": "pending_review", "dest": "approved"},
        {"trigger": "reject", "source": "pending_review", "dest": "rejected"},
        {"trigger": "receive", "source": "approved", "dest": "received"},
        {"trigger": "inspect", "source": "received", "dest": "inspected"},
        {"trigger": "close", "source": ["approved", "received", "inspected"], "dest": "closed"},
    ],
)

COMPLAINTS = StateTable(
    "complaint",
    ["open", "responded", "closed"],
    [
        {"trigger": "respond", "source": ["open", "responded"], "dest": "responded"},
        {"trigger": "close", "source": ["open", "responded"], "dest": "closed"},
    ],
)

TASKS = StateTable(
    "task",
    ["open", "resolved"],
    [{"trigger": "resolve", "source": "open", "dest": "resolved"}],
)
