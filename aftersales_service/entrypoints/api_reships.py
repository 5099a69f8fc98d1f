"""Reships (补发): replacement units without a return (SPEC §4.1)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from aftersales_service.adapters.replacements import ReplacementRepository
from aftersales_service.entrypoints import responses as r
from aftersales_service.entrypoints.deps import CSAgent, Db, Now, Uow
from aftersales_service.entrypoints.schemas import ReshipIn
from aftersales_service.entrypoints.views import reship_view
from aftersales_service.handlers import replacements
from shared.db import Database
from shared.limits import ID_MAX
from shared.openapi import documented, errors

router = APIRouter(tags=["reships"])


async def _view(db: Database, reship_id: str) -> dict:
    async with db.reader() as s:
        repo = ReplacementRepository(s)
        reship = await repo.find(reship_id, "reship")
        return reship_view(reship, await repo.liabilities(reship_id))


@router.post(
    "/reships",
    status_code=201,
    responses={**documented(r.ReshipView, 201), **errors(403, 404, 409, 422)},
)
async def request_reship(body: ReshipIn, uow: Uow, now: Now, who: CSAgent) -> dict:
    """Send missing, wrong or transit-damaged units again, without a return. Only units the
    order shipped, less those already reshipped and those refunded or in a return (409
    `reship_exceeds_shipped`; a SKU not in the order: 422 `unknown_line`). Their paid price
    must be within the caller role's approval limit (403 `approval_limit_exceeded` naming
    the limit). The loss is recorded in the liability ledger at once (`missing_item`,
    `wrong_item` → warehouse; `transit_damage` → carrier) and the order service is asked
    for the shipment (`aftersales.replacement_requested`); `GET /reships/{id}` follows it:
    requested → created (`shipment_ids`) → shipped, or refused (liability struck)."""
    reship = await replacements.request_reship(
        uow,
        replacements.RequestReship(
            body.order_id,
            tuple((ln.sku, ln.qty) for ln in body.lines),
            body.reason_code,
            who.role,
            body.note,
            who.actor,
        ),
        now,
    )
    return await _view(uow.db, reship.replacement_id)


@router.get("/reships", responses={**documented(list[r.ReshipView]), **errors(422)})
async def list_reships(
    db: Db,
    _: CSAgent,
    order_id: str = Query(min_length=1, max_length=ID_MAX),
    limit: int = Query(100, ge=1, le=1000),
) -> list[dict]:
    """An order's reships, oldest first, refused ones too (an unknown order has none)."""
    async with db.reader() as s:
        repo = ReplacementRepository(s)
        reships = await repo.of_order(order_id, "reship", limit)
        ledger = await repo.liabilities_of([x.replacement_id for x in reships])
    return [reship_view(x, ledger.get(x.replacement_id, [])) for x in reships]


@router.get("/reships/{reship_id}", responses={**documented(r.ReshipView), **errors(404)})
async def get_reship(reship_id: str, db: Db, _: CSAgent) -> dict:
    return await _view(db, reship_id)
