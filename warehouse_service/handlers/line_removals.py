"""Cancel by line: removal requests from the order service and the scanner's answer."""

from __future__ import annotations

from typing import Any

from shared.envelope import Envelope
from shared.events import orders as ev
from warehouse_service.adapters.registry import record_anomaly
from warehouse_service.adapters.uow import WarehouseUnitOfWork
from warehouse_service.domain import line_removal
from warehouse_service.domain.shipment import Shipment
from warehouse_service.handlers import Deps, publish
from warehouse_service.handlers.scanner import Scan, _scan


async def line_removal_requested(deps: Deps, uow: WarehouseUnitOfWork, env: Envelope) -> None:
    """Removed at once while queued or held (or guaranteed), else recorded on the task."""
    p: ev.LineRemovalRequested = env.typed()
    shipment = await uow.shipments.get(p.shipment_id)
    if shipment is None:
        reason = f"{env.type} for an unknown shipment"
        now = deps.clock.now()
        await record_anomaly(
            uow.session, "unknown_shipment", env, reason, now, shipment_id=p.shipment_id
        )
        return
    lines = [line.model_dump() for line in p.lines]
    line_removal.request_removal(shipment, p.request_id, lines, p.reason, guaranteed=p.guaranteed)
    await uow.shipments.save(shipment, deps.clock.now())
    publish(uow, shipment, cause=env)


async def answer_line_removal(
    deps: Deps,
    shipment_id: str,
    outcome: str,
    lines: list[dict[str, Any]] | None,
    bound_to: str | None,
) -> Shipment:
    """The warehouse's answer (`removed` | `missed`) to the task's pending requests."""
    return await _scan(
        deps,
        Scan(shipment_id, bound_to, lambda s, _ctx: line_removal.answer_removal(s, outcome, lines)),
    )
