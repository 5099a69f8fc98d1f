"""Event consumers and the SLA scheduler loop."""

from __future__ import annotations

import asyncio
import logging

from aftersales_service.adapters.uow import AftersalesUnitOfWork
from aftersales_service.handlers import Deps
from aftersales_service.handlers.care import escalate_overdue
from aftersales_service.handlers.projection import apply_event
from shared import topics
from shared.bus import EventConsumer
from shared.envelope import Envelope
from shared.service import Runtime
from shared.unit_of_work import idempotent, idempotent_batch

log = logging.getLogger(__name__)
PROJECTION = "aftersales-projection"


def consumers(deps: Deps, rt: Runtime) -> list[EventConsumer]:
    """One consumer group over orders + warehouse events; effect and inbox row commit
    together, so a redelivery changes nothing. A fetched batch commits as one
    transaction (one event at a time if it fails)."""

    async def handle(uow: AftersalesUnitOfWork, envelope: Envelope) -> None:
        await apply_event(uow, envelope, deps.clock.now())

    return [
        EventConsumer(
            rt.settings,
            rt.bus,
            name=PROJECTION,
            topics=[topics.ORDERS, topics.WAREHOUSE],
            handler=idempotent(PROJECTION, deps.uow, handle),
            batch_handler=idempotent_batch(PROJECTION, deps.uow, handle),
        )
    ]


async def sla_scheduler(deps: Deps) -> None:
    """Background loop: detect SLA breaches on the injected clock and escalate them."""
    while True:
        try:
            escalated = await escalate_overdue(deps.uow(), deps.clock.now())
            if escalated:
                log.info("escalated %d overdue complaints", len(escalated))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # keep the scheduler alive; the next tick retries
            log.warning("SLA scheduler tick failed: %r", exc)
        await asyncio.sleep(deps.sla_interval_seconds)
