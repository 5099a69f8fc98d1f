"""One declared state machine per case type, run by the shared lifecycle wrapper
(shared/lifecycle.py: one machine each, built at import, no I/O in callbacks)."""

from __future__ import annotations

from typing import Any, Protocol

from aftersales_service.domain.errors import Refused
from shared.lifecycle import Lifecycle, TransitionRefused


class Case(Protocol):
    """Anything with a status a table moves (refunds, returns, complaints, ...)."""

    status: str


class StateTable:
    """A declared state machine: `fire(case, trigger)` moves `case.status` or refuses."""

    def __init__(self, name: str, states: list[str], transitions: list[dict[str, Any]]) -> None:
        self.name = name
        self.lifecycle = Lifecycle(states, transitions)

    def can(self, status: str, trigger: str) -> bool:
        return status in self.lifecycle.sources(trigger)

    def fire(self, case: Case, trigger: str) -> None:
        try:
            case.status = self.lifecycle.fire(case.status, trigger)
        except TransitionRefused:
            raise Refused(
                f"{self.name} in status {case.status!r} cannot {trigger}",
                code="illegal_transition",
                status=case.status,
                trigger=trigger,
            ) from None


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

REPLACEMENTS = StateTable(
    "replacement",
    ["waiting", "requested", "created", "shipped", "refused", "cancelled"],
    [
        {"trigger": "request", "source": "waiting", "dest": "requested"},
        {"trigger": "create", "source": "requested", "dest": "created"},
        {"trigger": "ship", "source": "created", "dest": "shipped"},
        {"trigger": "refuse", "source": "requested", "dest": "refused"},
        {"trigger": "cancel", "source": "waiting", "dest": "cancelled"},
    ],
)
