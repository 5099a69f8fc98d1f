"""Parked outbox events (SPEC §5): events the broker refuses for good (too large), set
aside by the relay with their error so that nothing else waits behind them. Operators
list them and, once the cause is fixed, send one again or give it up; the order's later
events wait until then, so they never overtake it."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel

from shared.auth import Principal, allow
from shared.errors import AppError
from shared.openapi import documented, errors

Ops = Annotated[Principal, allow("ops")]
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class ParkedEvent(BaseModel):
    id: int
    event_id: str
    topic: str
    key: str
    error: str | None
    parked_at: datetime
    held_back: int


class Resolved(BaseModel):
    id: int
    outcome: str


router = APIRouter(tags=["operations"])


@router.get("/outbox/parked", responses=documented(list[ParkedEvent]))
async def list_parked(request: Request, _: Ops) -> list[dict[str, Any]]:
    """Events the broker refused for good, each with how many of its order's events wait."""
    parked: list[dict[str, Any]] = await request.app.state.runtime.relay.parked()
    return parked


@router.post("/outbox/parked/{row_id}/retry", responses={**documented(Resolved), **errors(404)})
async def retry_parked(request: Request, row_id: RowId, _: Ops) -> dict[str, Any]:
    """Send a parked event again (e.g. after raising the broker's message size limit)."""
    if not await request.app.state.runtime.relay.retry_parked(row_id):
        raise AppError(404, "not_parked", f"no parked event {row_id}")
    return {"id": row_id, "outcome": "retrying"}


@router.post("/outbox/parked/{row_id}/discard", responses={**documented(Resolved), **errors(404)})
async def discard_parked(request: Request, row_id: RowId, _: Ops) -> dict[str, Any]:
    """Give a parked event up (kept with its error); its order's later events carry on."""
    if not await request.app.state.runtime.relay.discard_parked(row_id):
        raise AppError(404, "not_parked", f"no parked event {row_id}")
    return {"id": row_id, "outcome": "discarded"}
