"""Complaints, out-of-stock tasks, the liability ledger, returned goods."""

from __future__ import annotations

from fastapi import APIRouter, Query

from aftersales_service.adapters import queries
from aftersales_service.entrypoints import responses as r
from aftersales_service.entrypoints.deps import CSAgent, CSOrOps, Db, Now, Supervisor, Uow
from aftersales_service.entrypoints.schemas import ComplaintIn, OverrideIn, ResolveIn, RespondIn
from aftersales_service.entrypoints.views import plain
from aftersales_service.handlers import care
from shared.limits import CODE_MAX, ID_MAX
from shared.openapi import documented, errors

router = APIRouter(tags=["complaints and exceptions"])
Limit = Query(100, ge=1, le=1000)


@router.post(
    "/complaints",
    status_code=201,
    responses={**documented(r.ComplaintView, 201), **errors(404, 409)},
)
async def file_complaint(body: ComplaintIn, uow: Uow, now: Now, _: CSAgent) -> dict:
    """SLA by tier: L1 first response 1 h, L2 specialist 4 h, L3 supervisor 2 h."""
    c = await care.file_complaint(
        uow,
        body.tier,
        body.subject,
        body.order_id,
        body.description,
        [e.model_dump() for e in body.evidence],
        now,
    )
    return plain(c) | {"id": c.complaint_id}


@router.get("/complaints", responses=documented(list[r.ComplaintRow]))
async def list_complaints(
    db: Db,
    now: Now,
    _: CSAgent,
    overdue: bool | None = None,
    status: str | None = Query(None, max_length=CODE_MAX),
    limit: int = Limit,
) -> list[dict]:
    async with db.reader() as s:
        return await queries.complaints(s, now, overdue, status, limit)


@router.post(
    "/complaints/{complaint_id}/respond",
    responses={**documented(r.ComplaintView), **errors(404, 409)},
)
async def respond(complaint_id: str, body: RespondIn, uow: Uow, now: Now, who: CSAgent) -> dict:
    c = await care.respond_complaint(uow, complaint_id, who.actor, body.message, now)
    return plain(c) | {"id": c.complaint_id}


@router.get("/tasks", responses=documented(list[r.TaskRow]))
async def list_tasks(
    db: Db,
    now: Now,
    _: CSAgent,
    status: str | None = Query(None, max_length=CODE_MAX),
    overdue: bool | None = None,
    limit: int = Limit,
) -> list[dict]:
    """Customer-notification tasks (out of stock) with their deadline and options."""
    async with db.reader() as s:
        return await queries.tasks(s, now, status, overdue, limit)


@router.post(
    "/tasks/{task_id}/resolve",
    responses={**documented(r.ResolvedTask), **errors(404, 409)},
)
async def resolve_task(task_id: str, body: ResolveIn, uow: Uow, now: Now, who: CSAgent) -> dict:
    task, refund_id = await care.resolve_task(uow, task_id, body.option, who.actor, body.note, now)
    return plain(task) | {"id": task.task_id, "refund_id": refund_id}


@router.get("/liabilities", responses=documented(list[r.LiabilityRow]))
async def list_liabilities(
    db: Db,
    _: CSOrOps,
    order_id: str | None = Query(None, max_length=ID_MAX),
    party: str | None = Query(None, max_length=CODE_MAX),
    return_id: str | None = Query(None, max_length=ID_MAX),
    limit: int = Limit,
) -> list[dict]:
    async with db.reader() as s:
        return await queries.liabilities(s, order_id, party, return_id, limit)


@router.post(
    "/liabilities/{liability_id}/override",
    responses={**documented(r.LiabilityRow), **errors(404, 409)},
)
async def override_liability(
    liability_id: str,
    body: OverrideIn,
    uow: Uow,
    now: Now,
    who: Supervisor,
) -> dict:
    """A supervisor reassigns a loss with a reason (the original is kept)."""
    await care.override_liability(
        uow, liability_id, body.party, body.amount, who.actor, body.reason, now
    )
    async with uow.db.reader() as s:
        return (await queries.liabilities(s, liability_id=liability_id))[0]


@router.get("/returned-inventory", responses=documented(list[r.ReturnedGood]))
async def returned_inventory(
    db: Db,
    _: CSOrOps,
    disposition: str | None = Query(None, max_length=CODE_MAX),
    sku: str | None = Query(None, max_length=ID_MAX),
    limit: int = Limit,
) -> list[dict]:
    """Returned goods, kept apart from normal stock, with grade and disposition."""
    async with db.reader() as s:
        return await queries.returned_goods(s, disposition, sku, limit)
