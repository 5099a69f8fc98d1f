"""One wrapper over `transitions` for every state machine: states, transitions and guards
declared as data, run by one shared `Machine(model=None)` per declaration.

The machine drives one cursor attached at construction: `fire()` sets the cursor's state
and guard facts, then triggers (synchronous, so no other task can interleave). No request
builds a machine or attaches a model (that cost ~100-200 µs a transition), callbacks do
no I/O, and the aggregates never carry machine-bound methods. A refusal names its rule:
`no_such_transition`, or the first guard that failed; each service turns it into its own
domain error. The Mermaid diagram is rendered from the same declaration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from transitions import Machine, MachineError

Guard = Callable[[Mapping[str, Any]], bool]  # facts → allowed
NO_SUCH_TRANSITION = "no_such_transition"


class TransitionRefused(Exception):
    """`trigger` cannot fire from `state`: `rule` is `no_such_transition` or a guard name."""

    def __init__(self, state: str, trigger: str, rule: str):
        super().__init__(f"{trigger!r} from {state!r} refused by {rule}")
        self.state, self.trigger, self.rule = state, trigger, rule


class _Cursor:
    """What the shared machine drives: a state, plus the facts the guards read."""

    def __init__(self, state: str, guards: Mapping[str, Guard]):
        self.state = state
        self.facts: Mapping[str, Any] = {}
        for name, guard in guards.items():  # `conditions` name cursor methods
            setattr(self, name, lambda *_a, _g=guard, **_k: _g(self.facts))


def sources_of(transition: Mapping[str, Any]) -> list[str]:
    source = transition["source"]
    return [source] if isinstance(source, str) else list(source)


class Lifecycle:
    """A declared state machine: `can_fire` / `fire` by state and trigger, `mermaid()`."""

    def __init__(
        self,
        states: Iterable[str],
        transitions: list[dict[str, Any]],
        *,
        initial: str | None = None,
        guards: Mapping[str, Guard] | None = None,
    ) -> None:
        self.states = list(states)
        self.transitions = transitions
        self.initial = initial or self.states[0]
        self.guards = dict(guards or {})
        self.machine = Machine(
            model=None,
            states=self.states,
            transitions=transitions,
            initial=self.initial,
            auto_transitions=False,
            send_event=False,
        )
        self._cursor = _Cursor(self.initial, self.guards)
        self.machine.add_model(self._cursor, initial=self.initial)

    def sources(self, trigger: str) -> list[str]:
        """States from which `trigger` is declared, in declaration order."""
        return [s for t in self.transitions if t["trigger"] == trigger for s in sources_of(t)]

    def triggers_from(self, state: str) -> list[str]:
        """Triggers declared from `state` (guards not evaluated), sorted."""
        return sorted({t["trigger"] for t in self.transitions if state in sources_of(t)})

    def fire(self, state: str, trigger: str, **facts: Any) -> str:
        """The state after `trigger` from `state`; TransitionRefused if not declared there
        or if its guards refuse on `facts`."""
        cursor = self._cursor
        cursor.state, cursor.facts = state, facts
        event = self.machine.events.get(trigger)
        try:
            ok = event is not None and event.trigger(cursor)
        except MachineError:
            ok = None
        if ok is None or event is None:
            raise TransitionRefused(state, trigger, NO_SUCH_TRANSITION)
        if not ok:
            raise TransitionRefused(state, trigger, self._failed_guard(state, trigger, facts))
        return str(cursor.state)

    def can_fire(self, state: str, trigger: str, **facts: Any) -> bool:
        try:
            self.fire(state, trigger, **facts)
        except TransitionRefused:
            return False
        return True

    def guards_of(self, state: str, trigger: str) -> list[str]:
        """Guard names of the transitions `trigger` declares from `state`."""
        return [
            c
            for t in self.transitions
            if t["trigger"] == trigger and state in sources_of(t)
            for c in t.get("conditions", [])
        ]

    def _failed_guard(self, state: str, trigger: str, facts: Mapping[str, Any]) -> str:
        names = self.guards_of(state, trigger)
        return next((n for n in names if not self.guards[n](facts)), names[0] if names else "guard")

    def rows(self) -> list[dict[str, Any]]:
        """The declaration flattened: one row per (trigger, source, dest, guards)."""
        return [
            {
                "trigger": t["trigger"],
                "source": s,
                "dest": t["dest"],
                "guards": t.get("conditions", []),
            }
            for t in self.transitions
            for s in sources_of(t)
        ]

    def mermaid(
        self, *, terminal: Iterable[str] = (), notes: Iterable[str] = (), label: str = " : "
    ) -> str:
        """A Mermaid `stateDiagram-v2` of the declaration (guards in brackets)."""
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial}"]
        for row in self.rows():
            guard = f" [{', '.join(row['guards'])}]" if row["guards"] else ""
            lines.append(f"    {row['source']} --> {row['dest']}{label}{row['trigger']}{guard}")
        lines += [f"    {s} --> [*]" for s in terminal]
        lines += [f"    {note}" for note in notes]
        return "\n".join(lines)
