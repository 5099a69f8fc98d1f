"""Use cases: load through the unit of work, call the domain, emit to the outbox, commit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import uuid4

from aftersales_service.adapters.uow import AftersalesUnitOfWork
from shared import topics
from shared.clock import Clock
from shared.envelope import Envelope, Payload, new_event
from shared.unit_of_work import UnitOfWork

PRODUCER = "aftersales"


@dataclass
class Deps:
    """What routes, consumers and loops are wired with (built once by the composition root)."""

    uow: Callable[[], AftersalesUnitOfWork]
    clock: Clock
    sla_interval_seconds: float = 0.5  # the SLA scheduler's tick


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid4().hex[:16]}"


def emit(
    uow: UnitOfWork, payload: Payload, order_id: str | None, cause: Envelope | None = None
) -> None:
    """Stage an after-sales event in the outbox (published after commit by the relay)."""
    uow.emit(
        topics.AFTERSALES,
        new_event(payload, producer=PRODUCER, order_id=order_id, cause=cause),
    )
