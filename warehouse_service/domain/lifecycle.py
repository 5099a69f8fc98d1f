"""The shipment task's state machine, declared once as data and run by the shared
lifecycle wrapper (shared/lifecycle.py: one machine, built at import)."""

from __future__ import annotations

from typing import Any

from shared.lifecycle import Lifecycle, TransitionRefused
from warehouse_service.domain.errors import WrongStep

STATES = [
    "queued",
    "allocated",
    "labelled",
    "packed",
    "shipped",
    "withdrawn",
    "intercepted",
    "exception",
]
MAIN_PATH = [
    ("allocate", "allocated"),
    ("label", "labelled"),
    ("pack", "packed"),
    ("ship", "shipped"),
]
IN_PROGRESS = ("queued", "allocated", "labelled", "packed")
TERMINAL = ("shipped", "withdrawn", "intercepted")
HOLDABLE = (*IN_PROGRESS, "exception")

TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "allocate", "source": "queued", "dest": "allocated"},
    {"trigger": "label", "source": "allocated", "dest": "labelled"},
    {"trigger": "pack", "source": "labelled", "dest": "packed"},
    {"trigger": "ship", "source": "packed", "dest": "shipped"},
    # An edit-free withdrawal is only possible before import.
    {"trigger": "withdraw", "source": ["queued", "exception"], "dest": "withdrawn"},
    # A held task cannot leave, so a guaranteed withdrawal works at any step before shipping.
    {"trigger": "withdraw_guaranteed", "source": list(HOLDABLE), "dest": "withdrawn"},
    {"trigger": "intercept", "source": list(HOLDABLE), "dest": "intercepted"},
    {"trigger": "report_out_of_stock", "source": list(IN_PROGRESS), "dest": "exception"},
]


SHIPMENT = Lifecycle(STATES, TRANSITIONS)
LIFECYCLE = SHIPMENT.machine  # the one shared machine (one cursor attached, at import)


def sources(trigger: str) -> list[str]:
    """Statuses from which `trigger` is allowed, in declaration order."""
    return SHIPMENT.sources(trigger)


def can(status: str, trigger: str) -> bool:
    return status in sources(trigger)


def fire(status: str, trigger: str) -> str:
    """The status after `trigger`, or `WrongStep` naming the step the trigger requires."""
    try:
        return SHIPMENT.fire(status, trigger)
    except TransitionRefused:
        raise _wrong_step(status, trigger) from None


def _wrong_step(status: str, trigger: str) -> WrongStep:
    required = sources(trigger)
    required_step = next((t for t, dest in MAIN_PATH if dest in required), None)
    next_step = next((t for t, _ in MAIN_PATH if can(status, t)), None)
    hint = f"; {trigger} requires {required_step} first" if required_step else ""
    if next_step:
        hint += f" (next step: {next_step})"
    return WrongStep(
        f"cannot {trigger}: shipment is {status}{hint}",
        status=status,
        trigger=trigger,
        required_status=required,
        required_step=required_step,
        next_step=next_step,
    )


def mermaid() -> str:
    """The lifecycle as a Mermaid state diagram (for docs and the API)."""
    return SHIPMENT.mermaid(label=": ")
