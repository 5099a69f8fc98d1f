"""Refunds, returns and the return policy."""

from __future__ import annotations

from fastapi import APIRouter, Query

from aftersales_service.adapters import queries
from aftersales_service.adapters.replacements import ReplacementRepository
from aftersales_service.adapters.repositories import (
    PolicyRepository,
    RefundRepository,
    ReturnRepository,
)
from aftersales_service.entrypoints import responses as r
from aftersales_service.entrypoints.deps import AdminOnly, CSAgent, CSOrOps, Db, Now, Uow
from aftersales_service.entrypoints.schemas import (
    DecisionIn,
    InspectIn,
    PolicyIn,
    RefundIn,
    ReturnIn,
)
from aftersales_service.entrypoints.views import plain, refund_view, return_view
from aftersales_service.handlers import care, refunds, returns
from shared.db import Database
from shared.limits import CODE_MAX, ID_MAX
from shared.openapi import documented, errors

router = APIRouter(tags=["refunds and returns"])


async def _return_out(db: Database, case) -> dict:
    """The return's view with its exchange, if it is one."""
    if case.replacement_id is None:
        return return_view(case)
    async with db.reader() as s:
        return return_view(case, await ReplacementRepository(s).get(case.replacement_id))


@router.post(
    "/refunds",
    status_code=202,
    responses={
        **documented(
            r.RefundView,
            202,
            "Accepted. Whole-order and line refunds: `status: requested`, `mode: null` until "
            "the order service has answered (then see `GET /refunds/{id}`); goodwill: "
            "`status: issued` at once.",
        ),
        **errors(403, 404, 409, 422),
    },
)
async def request_refund(body: RefundIn, uow: Uow, now: Now, who: CSAgent) -> dict:
    """Asynchronous: answers 202 with `status: requested` and `mode: null`. After-sales
    holds no stage rule: it asks the order service (event `aftersales.refund_requested`),
    which answers with its own refund rule, the one `GET /orders/{id}/capabilities` shows,
    and takes the cancel that path needs (void, withdraw, intercept). `GET /refunds/{id}`
    then shows that `mode` and `decision`, and the status moves to `awaiting_cancel` and
    `issued` when `order.cancelled` arrives, or to `refused` (`refused_code`, e.g.
    `refund_requires_refusal_or_return` once shipped, `refund_requires_return` once
    delivered) when money can only come back with the goods.

    `kind: goodwill` with an `amount` cancels nothing, is allowed at any stage, and is
    issued at once (`status: issued`, no order-service round trip). `lines` (kind `lines`)
    refund those units: price less their share of the order's discount, shipping with the
    last unit of a shipment; a unit is refunded once (409 `already_refunded`).
    Every kind: never more than paid (409 `refund_exceeds_paid`); over the caller role's
    approval limit: 403 `approval_limit_exceeded` naming the limit."""
    refund = await refunds.request_refund(
        uow,
        refunds.RequestRefund(
            body.order_id,
            body.reason,
            body.reason_code,
            body.amount,
            who.actor,
            "cs",
            role=who.role,
            kind=body.kind or "order",
            lines=tuple((ln.sku, ln.qty) for ln in body.lines),
        ),
        now,
    )
    return refund_view(refund)


@router.get("/refunds/{refund_id}", responses={**documented(r.RefundView), **errors(404)})
async def get_refund(refund_id: str, db: Db, _: CSAgent) -> dict:
    """The refund as it stands: `mode` and `decision` are the order service's answer on the
    refund path once it has given it (null before, and for goodwill refunds)."""
    async with db.reader() as s:
        return refund_view(await RefundRepository(s).get(refund_id))


@router.get("/refunds", responses=documented(list[r.RefundView]))
async def list_refunds(db: Db, _: CSAgent, order_id: str = Query(max_length=ID_MAX)) -> list[dict]:
    async with db.reader() as s:
        return [refund_view(r) for r in await RefundRepository(s).for_order(order_id)]


@router.post(
    "/returns",
    status_code=201,
    responses={**documented(r.ReturnView, 201), **errors(404, 409, 422)},
)
async def open_return(body: ReturnIn, uow: Uow, now: Now, who: CSAgent) -> dict:
    """Open a return under the policy; the return address is issued at once.

    `resolution: exchange` with `replacement_lines`: the returned units are exchanged, not
    refunded. The replacement ships when the return is received, or on approval where the
    policy says ship first (`exchange_ship_first`, `exchange_ship_first_reasons`); the
    order service routes it as a new shipment (`<order>-R1`). `exchange.price_difference`
    (replacement at catalog price - what was paid for the returned units): negative is
    refunded (a `price_difference` refund), positive shown as `due_from_customer`. If the
    order service refuses it (`exchange.refused_code`), the return refunds instead."""
    case = await returns.open_return(
        uow,
        returns.OpenReturn(
            body.order_id,
            [(ln.sku, ln.qty) for ln in body.lines],
            body.reason_code,
            body.evidence.model_dump(exclude_none=True),
            body.opened,
            body.method,
            who.actor,
            body.resolution,
            tuple((ln.sku, ln.qty) for ln in body.replacement_lines),
        ),
        now,
    )
    return await _return_out(uow.db, case)


@router.get("/returns", responses=documented(list[r.ReturnView]))
async def list_returns(
    db: Db,
    _: CSAgent,
    status: str | None = Query(None, max_length=CODE_MAX),
    order_id: str | None = Query(None, max_length=ID_MAX),
    limit: int = Query(100, ge=1, le=1000),
) -> list[dict]:
    """`?status=pending_review` is the review queue."""
    async with db.reader() as s:
        cases = await ReturnRepository(s).list(status, order_id, limit)
    return [await _return_out(db, c) for c in cases]


@router.get("/returns/{return_id}", responses={**documented(r.ReturnView), **errors(404)})
async def get_return(return_id: str, db: Db, _: CSAgent) -> dict:
    async with db.reader() as s:
        case = await ReturnRepository(s).get(return_id)
    return await _return_out(db, case)


@router.post(
    "/returns/{return_id}/approve",
    responses={**documented(r.ReturnView), **errors(404, 409)},
)
async def decide_return(return_id: str, body: DecisionIn, uow: Uow, now: Now, who: CSAgent) -> dict:
    """Approve (within the caller role's limit, else 403 `approval_limit_exceeded`) or
    reject with a note."""
    case = await returns.decide_return(
        uow, return_id, body.approve, who.role, who.actor, body.note, now
    )
    return await _return_out(uow.db, case)


@router.post(
    "/returns/{return_id}/receive",
    responses={**documented(r.ReturnView), **errors(404, 409)},
)
async def receive_return(return_id: str, uow: Uow, now: Now, _: CSAgent) -> dict:
    return await _return_out(uow.db, await returns.receive_return(uow, return_id, now))


@router.post(
    "/returns/{return_id}/inspect",
    responses={**documented(r.InspectedReturn), **errors(404, 409)},
)
async def inspect_return(return_id: str, body: InspectIn, uow: Uow, now: Now, _: CSAgent) -> dict:
    """Grade each returned unit; answers with dispositions and liabilities."""
    case, gradings, _owed = await returns.inspect_return(
        uow, return_id, [ln.model_dump(exclude_none=True) for ln in body.lines], now
    )
    view = await _return_out(uow.db, case)
    view["gradings"] = [plain(g) | {"loss": str(g.loss)} for g in gradings]
    async with uow.db.reader() as s:
        view["liabilities"] = await queries.liabilities(s, return_id=return_id)
    return view


@router.get("/policies", responses=documented(r.PolicyRead))
async def get_policy(db: Db, _: CSOrOps) -> dict:
    async with db.reader() as s:
        repo = PolicyRepository(s)
        return {"policy": (await repo.get()).to_dict(), **plain(await repo.meta())}


@router.put("/policies", responses=documented(r.PolicyWritten))
async def put_policy(body: PolicyIn, uow: Uow, now: Now, who: AdminOnly) -> dict:
    """Replace the policy, approval limits included: admin only (no role raises its own)."""
    policy, version = await care.put_policy(uow, body.model_dump(mode="json"), who.actor, now)
    return {"policy": policy.to_dict(), "version": version}
