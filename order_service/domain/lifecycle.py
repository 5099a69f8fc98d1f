"""The order lifecycle (SPEC §2), declared once as data and run by one shared `transitions` machine.

States, triggers and guards live in `STATES` / `TRANSITIONS` / `GUARDS`; `LIFECYCLE`
(shared/lifecycle.py) runs them on one machine built at import. The Mermaid diagram is
rendered from the same declaration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from order_service.domain.errors import IllegalTransition
from shared.lifecycle import NO_SUCH_TRANSITION, Guard, Lifecycle, TransitionRefused

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


def _resumes_to(stage: str) -> Guard:
    return lambda facts: facts.get("resume_stage") == stage


# Guards read the facts `fire()` is given: `held`, and `resume_stage` after a missed interception.
GUARDS: dict[str, Guard] = {
    "not_held": lambda facts: not facts.get("held"),
    **{f"resumes_to_{stage}": _resumes_to(stage) for stage in RESUMABLE},
}
LIFECYCLE = Lifecycle(STATES, TRANSITIONS, initial="synced", guards=GUARDS)
MACHINE = LIFECYCLE.machine  # the one shared machine (one cursor attached, at import)


@dataclass(frozen=True)
class Step:
    trigger: str
    previous: str
    stage: str


def allowed_triggers(stage: str) -> list[str]:
    """Triggers declared from `stage` (guards not evaluated)."""
    return LIFECYCLE.triggers_from(stage)


def fire(stage: str, trigger: str, *, held: bool = False, resume_stage: str | None = None) -> Step:
    """Run `trigger` from `stage` on the shared machine; raise IllegalTransition if refused."""
    try:
        return Step(
            trigger, stage, LIFECYCLE.fire(stage, trigger, held=held, resume_stage=resume_stage)
        )
    except TransitionRefused as refused:
        raise _illegal(refused) from None


def _illegal(refused: TransitionRefused) -> IllegalTransition:
    stage, trigger, rule = refused.state, refused.trigger, refused.rule
    if rule == NO_SUCH_TRANSITION:
        return IllegalTransition(
            f"'{trigger}' is not possible from stage '{stage}'",
            trigger=trigger,
            stage=stage,
            rule=rule,
            allowed=allowed_triggers(stage),
        )
    return IllegalTransition(
        f"'{trigger}' from '{stage}' refused: {GUARD_TEXT.get(rule, rule)}",
        trigger=trigger,
        stage=stage,
        rule=rule,
    )


def can_fire(stage: str, trigger: str, **facts: Any) -> bool:
    return LIFECYCLE.can_fire(stage, trigger, **facts)


def transition_rows() -> list[dict[str, Any]]:
    """The declaration flattened: one row per (trigger, source, dest, guards)."""
    return LIFECYCLE.rows()


def mermaid() -> str:
    """A Mermaid `stateDiagram-v2` of the declaration (same source the machine runs)."""
    return LIFECYCLE.mermaid(
        terminal=TERMINAL,
        notes=["note right of submitted : held (stop-shipment) is a flag, not a stage"],
    )


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
