"""The order lifecycle (SPEC §2), declared once as data and run by one shared `transitions` machine.

States, triggers and guards live in `STATES` / `TRANSITIONS`; `MACHINE` is built
once at import with `model=None` and drives one cursor, attached once: `fire()` sets
the cursor's stage and guard facts and triggers (synchronous, so no other task can
interleave), so no request builds a machine or attaches a model (that cost ~200 µs
a transition).
The Mermaid diagram is rendered from the same declaration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from transitions import Machine, MachineError

from order_service.domain.errors import IllegalTransition

MAIN_STAGES = (
    "synced",
    "reviewed",
    "submitted",
    "allocated",
    "labelled",
    "packed",
    "shipped",
    "delivered",
    "completed",
)
SIDE_STATES = ("cancelled", "intercepting", "exception", "returning", "returned")
STATES = MAIN_STAGES + SIDE_STATES
TERMINAL = ("cancelled", "completed", "returned")

# Warehouse progress, in order: the stage an order takes from its shipments.
WAREHOUSE_STAGES = ("submitted", "allocated", "labelled", "packed", "shipped")
IN_WAREHOUSE = ("allocated", "labelled", "packed")
RESUMABLE = WAREHOUSE_STAGES  # where an order whose interception was missed resumes
# A shipment's warehouse status by progress, and the order trigger that follows each stage.
SHIPMENT_RANK = {
    "submitted": 0,
    "queued": 0,
    "allocated": 1,
    "labelled": 2,
    "packed": 3,
    "shipped": 4,
}
NEXT_TRIGGER = {"submitted": "allocate", "allocated": "label", "labelled": "pack", "packed": "ship"}

GUARD_TEXT = {
    "not_held": "a stop-shipment or other hold blocks progress until it is lifted",
}


def _t(trigger: str, source: str | list[str], dest: str, **extra: Any) -> dict[str, Any]:
    return {"trigger": trigger, "source": source, "dest": dest, **extra}


TRANSITIONS: list[dict[str, Any]] = [
    _t("approve", "synced", "reviewed"),
    _t("back_to_review", "reviewed", "synced"),
    _t("submit", "reviewed", "submitted"),
    _t("allocate", "submitted", "allocated"),
    _t("label", "allocated", "labelled", conditions=["not_held"]),
    _t("pack", "labelled", "packed", conditions=["not_held"]),
    _t("ship", "packed", "shipped", conditions=["not_held"]),
    _t("deliver", "shipped", "delivered"),
    _t("complete", "delivered", "completed"),
    _t("void", ["synced", "reviewed"], "cancelled"),
    _t("withdrawn", ["submitted", "allocated", "labelled", "packed", "exception"], "cancelled"),
    _t("intercept", ["submitted", "allocated", "labelled", "packed", "exception"], "intercepting"),
    _t("intercepted", "intercepting", "cancelled"),
    _t("withdrawn", "intercepting", "cancelled"),
    *[
        _t("interception_missed", "intercepting", stage, conditions=[f"resumes_to_{stage}"])
        for stage in RESUMABLE
    ],
    _t("out_of_stock", ["submitted", "allocated", "labelled", "packed"], "exception"),
    _t("requeue", "exception", "submitted"),
    _t("open_return", ["shipped", "delivered", "completed", "intercepting"], "returning"),
    _t("receive_return", "returning", "returned"),
]


class _Cursor:
    """What the shared machine drives for one trigger: a stage plus the guards' facts."""

    def __init__(self) -> None:
        self.state = "synced"
        self._held = False
        self._resume: str | None = None

    def at(self, stage: str, held: bool, resume_stage: str | None) -> _Cursor:
        self.state, self._held, self._resume = stage, held, resume_stage
        return self

    def not_held(self) -> bool:
        return not self._held

    def __getattr__(self, name: str) -> Any:
        if name.startswith("resumes_to_"):
            target = name.removeprefix("resumes_to_")
            return lambda *a, **k: self._resume == target
        raise AttributeError(name)


MACHINE = Machine(
    model=None,
    states=list(STATES),
    transitions=TRANSITIONS,
    initial="synced",
    auto_transitions=False,
    send_event=False,
)
_CURSOR = _Cursor()
MACHINE.add_model(_CURSOR, initial="synced")


@dataclass(frozen=True)
class Step:
    trigger: str
    previous: str
    stage: str


def allowed_triggers(stage: str) -> list[str]:
    """Triggers declared from `stage` (guards not evaluated)."""
    return sorted({t["trigger"] for t in TRANSITIONS if stage in _sources(t)})


def fire(stage: str, trigger: str, *, held: bool = False, resume_stage: str | None = None) -> Step:
    """Run `trigger` from `stage` on the shared machine; raise IllegalTransition if refused."""
    cursor = _CURSOR.at(stage, held, resume_stage)
    try:
        ok = cursor.trigger(trigger)
    except (MachineError, AttributeError):
        raise IllegalTransition(
            f"'{trigger}' is not possible from stage '{stage}'",
            trigger=trigger,
            stage=stage,
            rule="no_such_transition",
            allowed=allowed_triggers(stage),
        ) from None
    if not ok:
        guards = _guards(stage, trigger)
        rule = "not_held" if held and "not_held" in guards else (guards[0] if guards else "guard")
        raise IllegalTransition(
            f"'{trigger}' from '{stage}' refused: {GUARD_TEXT.get(rule, rule)}",
            trigger=trigger,
            stage=stage,
            rule=rule,
        )
    return Step(trigger, stage, cursor.state)


def can_fire(stage: str, trigger: str, **facts: Any) -> bool:
    try:
        fire(stage, trigger, **facts)
    except IllegalTransition:
        return False
    return True


def _sources(t: dict[str, Any]) -> list[str]:
    return [t["source"]] if isinstance(t["source"], str) else list(t["source"])


def _guards(stage: str, trigger: str) -> list[str]:
    return [
        c
        for t in TRANSITIONS
        if t["trigger"] == trigger and stage in _sources(t)
        for c in t.get("conditions", [])
    ]


def transition_rows() -> list[dict[str, Any]]:
    """The declaration flattened: one row per (trigger, source, dest, guards)."""
    return [
        {"trigger": t["trigger"], "source": s, "dest": t["dest"], "guards": t.get("conditions", [])}
        for t in TRANSITIONS
        for s in _sources(t)
    ]


def mermaid() -> str:
    """A Mermaid `stateDiagram-v2` of the declaration (same source the machine runs)."""
    lines = ["stateDiagram-v2", "    [*] --> synced"]
    for row in transition_rows():
        guard = f" [{', '.join(row['guards'])}]" if row["guards"] else ""
        lines.append(f"    {row['source']} --> {row['dest']} : {row['trigger']}{guard}")
    lines += [f"    {s} --> [*]" for s in TERMINAL]
    lines.append("    note right of submitted : held (stop-shipment) is a flag, not a stage")
    return "\n".join(lines)


def describe() -> dict[str, Any]:
    """States, transitions and diagram, as `GET /lifecycle` serves them."""
    return {
        "states": list(STATES),
        "main_stages": list(MAIN_STAGES),
        "side_states": list(SIDE_STATES),
        "terminal": list(TERMINAL),
        "hold": "a flag (held_by: [stop or hold ids]) on top of the stage; blocks label/pack/ship",
        "transitions": transition_rows(),
        "guards": GUARD_TEXT,
        "mermaid": mermaid(),
    }
