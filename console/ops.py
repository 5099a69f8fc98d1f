"""Operations: each service's anomalies (consumed events it could not apply) and its parked
outbox events (refused by the broker for good), which ops send again or give up. No API
lists dead letters (they are on the dead-letter topic), so neither does the console."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.client import SERVICES, ServiceError
from console.session import Person, area, back, render

router = APIRouter()
Ops = Annotated[Person, area("ops")]
OUTCOMES = {"retry": "sent again", "discard": "given up"}


async def _listing(p: Person, service: str, path: str, params: dict[str, Any]) -> Any:
    """The service's list, or its refusal (shown in that service's section)."""
    try:
        return await p.api.get(service, path, params=params)
    except ServiceError as exc:
        return exc


@router.get("/ops")
async def page(request: Request, p: Ops, kind: str = "", order_id: str = "") -> Response:
    filters = {"kind": kind.strip(), "order_id": order_id.strip()}
    found = await asyncio.gather(
        *(_listing(p, s, "/anomalies", {**filters, "limit": 200}) for s in SERVICES),
        *(_listing(p, s, "/outbox/parked", {}) for s in SERVICES),
    )
    n = len(SERVICES)
    sections = [
        {"service": s, "anomalies": found[i], "parked": found[n + i]}
        for i, s in enumerate(SERVICES)
    ]
    return render(request, "ops.html", p, sections=sections, filters=filters)


@router.post("/ops/{service}/parked/{row_id}/{action}")
async def resolve_parked(service: str, row_id: int, action: str, p: Ops) -> Response:
    if service not in SERVICES or action not in OUTCOMES:
        return back("/ops", error=f"no {action} of a parked event on {service}")
    try:
        await p.api.post(service, f"/outbox/parked/{row_id}/{action}")
    except ServiceError as exc:
        return back("/ops", error=exc)
    return back("/ops", ok=f"Parked event {row_id} of the {service} service {OUTCOMES[action]}.")
