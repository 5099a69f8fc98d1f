"""The shipment task's state machine, declared once as data with `transitions`.

One shared `Machine(model=None)` with one tiny cursor attached at import: each use
sets the cursor to the current status and fires the trigger on it (synchronous, so
no other task can interleave), so no per-request machine is built, no model is
attached per call (that cost ~100 µs a scan), and the aggregate never carries
machine-bound methods.
"""

from __future__ import annotations

from typing import Any

from transitions import Machine, MachineError

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


class _Cursor:
    def __init__(self, state: str):
        self.state = state


LIFECYCLE = Machine(
    model=None,
    states=STATES,
    transitions=TRANSITIONS,
    initial=None,
    auto_transitions=False,
)
_CURSOR = _Cursor(STATES[0])
LIFECYCLE.add_model(_CURSOR, initial=STATES[0])


def sources(trigger: str) -> list[str]:
    """Statuses from which `trigger` is allowed, in declaration order."""
    return [s for t in TRANSITIONS if t["trigger"] == trigger for s in _as_list(t["source"])]


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def can(status: str, trigger: str) -> bool:
    return status in sources(trigger)


def fire(status: str, trigger: str) -> str:
    """The status after `trigger`, or `WrongStep` naming the step the trigger requires."""
    _CURSOR.state = status
    try:
        LIFECYCLE.events[trigger].trigger(_CURSOR)
    except MachineError:
        raise _wrong_step(status, trigger) from None
    return _CURSOR.state


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
    lines = ["stateDiagram-v2", "    [*] --> queued"]
    for t in TRANSITIONS:
        lines += [f"    {s} --> {t['dest']}: {t['trigger']}" for s in _as_list(t["source"])]
    return "\n".join(lines)
