"""Order REST API: reads, capabilities, and the clerk / CS actions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from order_service import views
from order_service.adapters.repository import to_document
from order_service.domain import lifecycle, lines
from order_service.domain.lines import capabilities
from order_service.domain.order import Order
from order_service.domain.review import ReviewPolicy
from order_service.entrypoints import responses as r
from order_service.entrypoints.schemas import (
    CancelBody,
    EditBody,
    MergeBody,
    ReviewBody,
    ReviewPolicyBody,
    SubmitBody,
)
from order_service.handlers import Deps, line_cancels
from order_service.handlers import orders as uc
from shared.auth import Principal, allow
from shared.errors import AppError
from shared.limits import CODE_MAX, ID_MAX, OFFSET_MAX
from shared.openapi import documented, errors
from shared.service import Runtime

router = APIRouter(tags=["orders"])
Reader = Annotated[Principal, allow("clerk", "cs_agent", "cs_supervisor", "ops")]
Clerk = Annotated[Principal, allow("clerk")]
CS = Annotated[Principal, allow("cs_agent", "cs_supervisor")]
Admin = Annotated[Principal, allow()]  # limits and policies: admin only
VERSION_DIGITS_MAX = 18  # an If-Match version fits a 64-bit integer
ETAG = {"ETag": {"description": "the order's version", "schema": {"type": "string"}}}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "description": "the order's version (its `ETag`); 428 without it, 412 if stale",
    "schema": {"type": "string", "pattern": '^(W/)?"?[0-9]+"?$'},
}


def view(order: Order) -> dict[str, Any]:
    """An order as the API shows it: the document plus hold, version and capabilities."""
    body = {"order_id": order.id, "version": order.version, **to_document(order)}
    body.pop("id")
    body.update(held=order.held, held_by=order.held_by, capabilities=capabilities(order))
    body["line_states"] = lines.line_states(order)
    return body


def _rt(request: Request) -> Runtime:
    return request.app.state.runtime


def _deps(request: Request) -> Deps:
    return request.app.state.deps


async def _read(request: Request, order_id: str) -> Order:
    order = await views.order(_rt(request).db, order_id)
    if order is None:
        raise AppError(404, "not_found", f"order {order_id} not found")
    return order


@router.get(
    "/lifecycle",
    summary="States, transitions and the Mermaid diagram",
    responses=documented(r.Lifecycle),
)
async def get_lifecycle() -> dict:
    return lifecycle.describe()


@router.get(
    "/orders",
    summary="List orders by stage, platform, platform order id, hold",
    responses=documented(r.OrderList),
)
async def list_orders(
    request: Request,
    _: Reader,
    stage: Annotated[str | None, Query(max_length=CODE_MAX)] = None,
    platform: Annotated[str | None, Query(max_length=CODE_MAX)] = None,
    platform_order_id: Annotated[str | None, Query(max_length=ID_MAX)] = None,
    held: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=OFFSET_MAX)] = 0,
) -> dict:
    found = await views.orders(
        _rt(request).db,
        limit=limit,
        offset=offset,
        stage=stage,
        platform=platform,
        platform_order_id=platform_order_id,
        held=held,
    )
    return {"orders": [view(order) for order in found]}


@router.get(
    "/orders/{order_id}",
    summary="One order, with anomalies and capabilities",
    responses={**documented(r.OrderView, headers=ETAG), **errors(404)},
)
async def get_order(request: Request, response: Response, order_id: str, _: Reader) -> dict:
    order = await _read(request, order_id)
    response.headers["ETag"] = str(order.version)
    return view(order)


@router.get(
    "/orders/{order_id}/capabilities",
    summary="SPEC §2.1 answered for this order, and §2.4 per line (`lines`)",
    responses={**documented(r.Capabilities), **errors(404)},
)
async def get_capabilities(request: Request, order_id: str, _: Reader) -> dict:
    return capabilities(await _read(request, order_id))


@router.get(
    "/orders/{order_id}/timeline",
    summary="Every transition and event, with its cause",
    responses={**documented(r.Timeline), **errors(404)},
)
async def get_timeline(request: Request, order_id: str, _: Reader) -> dict:
    entries = await views.timeline(_rt(request).db, order_id)
    if not entries:
        await _read(request, order_id)  # 404 for an unknown order
    return {"order_id": order_id, "entries": entries}


def _version(if_match: str | None) -> int:
    if if_match is None:
        raise AppError(428, "precondition_required", "send If-Match: <version> (see ETag)")
    raw = if_match.strip().removeprefix("W/").strip('"')
    if not (raw.isascii() and raw.isdigit() and len(raw) <= VERSION_DIGITS_MAX):
        raise AppError(412, "stale_version", "If-Match must be the order's version number")
    return int(raw)


@router.patch(
    "/orders/{order_id}",
    summary="Edit address / note / items (If-Match: version)",
    description="By the stage table (`capabilities.edit`). An address-only edit follows "
    "`capabilities.address_change`: once the warehouse has the order (allocated, labelled; packed "
    "best effort) it is a relabel, answered 202 and applied when the warehouse has voided the "
    "old label (`pending_edit.mode` = `relabel`, change record kind `address_change`); so is "
    "one after shipping while a replacement (`-R1`) is still in the warehouse.",
    responses={
        **documented(r.EditAnswer, 200, "Applied", ETAG),
        **documented(r.EditAnswer, 202, "Pending the warehouse's confirmation", ETAG),
        **errors(404, 409, 412, 422, 428),
    },
    openapi_extra={"parameters": [IF_MATCH]},
)
async def edit_order(
    request: Request,
    order_id: str,
    body: EditBody,
    principal: CS,
    # Checked by `_version` (428 when missing, the error body), so declared by hand below.
    if_match: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> JSONResponse:
    version = _version(if_match)
    order, cap = await uc.edit(_deps(request), order_id, version, body.changes(), principal.actor)
    answer = {"edit": cap.as_dict(), "order": view(order)}
    return JSONResponse(
        answer, 202 if cap.pending_confirmation else 200, headers={"ETag": str(order.version)}
    )


@router.post(
    "/orders/{order_id}/review",
    summary="Approve, or reject with a reason",
    responses={**documented(r.OrderView), **errors(404, 409)},
)
async def review_order(request: Request, order_id: str, body: ReviewBody, principal: Clerk) -> dict:
    order = await uc.review(_deps(request), order_id, body.approve, body.reason, principal.actor)
    return view(order)


@router.post(
    "/orders/{order_id}/submit",
    summary="Send to a warehouse, or route per SKU",
    responses={**documented(r.OrderView), **errors(404, 409)},
)
async def submit_order(
    request: Request, order_id: str, principal: Clerk, body: SubmitBody | None = None
) -> dict:
    warehouse_id = body.warehouse_id if body else None
    order = await uc.submit(_deps(request), order_id, warehouse_id, principal.actor)
    return view(order)


@router.post(
    "/orders/{order_id}/cancel",
    summary="Cancel by the stage table (or some lines, SPEC §2.4); answers the mode",
    responses={
        **documented(r.CancelAnswer, 200, "Done"),
        **documented(r.CancelAnswer, 202, "Pending the warehouse (withdraw, intercept, a line)"),
        **errors(404, 409, 422),
    },
)
async def cancel_order(
    request: Request, order_id: str, body: CancelBody, principal: CS
) -> JSONResponse:
    """Without `lines`: the whole order, by the SPEC §2.1 table. With `lines`
    (`[{"sku", "qty"}]`): only those units, each by its shipment's stage as
    `capabilities.lines` says (removed at once / withdrawn / a line-removal request);
    a refused line refuses the whole request (409 with the line's code). 422
    `unknown_line`, 409 `qty_exceeds_active`; naming every remaining unit cancels the order."""
    if body.lines:
        return await _cancel_lines(request, order_id, body, principal)
    order, cap = await uc.cancel(_deps(request), order_id, body.reason, principal.actor)
    answer = {"order_id": order.id, "stage": order.stage, **cap.as_dict(), "order": view(order)}
    return JSONResponse(answer, 202 if cap.pending_confirmation else 200)


async def _cancel_lines(
    request: Request, order_id: str, body: CancelBody, principal: Principal
) -> JSONResponse:
    wanted = [line.model_dump() for line in body.lines or []]
    order, change = await line_cancels.cancel_lines(
        _deps(request), order_id, wanted, body.reason, principal.actor
    )
    pending = any(line["outcome"] == "pending" for line in change["lines"])
    answer = {
        "order_id": order.id,
        "stage": order.stage,
        "allowed": True,
        "mode": "lines",
        "guaranteed": all(line["guaranteed"] for line in change["lines"]),
        "pending_confirmation": pending,
        "reason": "each line took its shipment's path (see lines)",
        "lines": change["lines"],
        "change": change["version"],
        "request_id": change["request_id"],
        "order": view(order),
    }
    return JSONResponse(answer, 202 if pending else 200)


@router.post(
    "/orders/merge-shipping",
    summary="Merge orders into one shipment (campaign rules)",
    responses={**documented(r.MergeAnswer), **errors(404, 409)},
)
async def merge_shipping(request: Request, body: MergeBody, principal: Clerk) -> dict:
    group = await uc.merge_shipping(_deps(request), body.order_ids, principal.actor)
    return {"merge_group": group, "order_ids": body.order_ids}


@router.get(
    "/review-policy",
    summary="Auto-review and campaign-limit settings",
    responses=documented(r.ReviewPolicy),
)
async def get_review_policy(request: Request, _: Reader) -> dict:
    return ReviewPolicyBody(**await views.review_policy(_rt(request).db)).model_dump()


@router.put(
    "/review-policy",
    summary="Change auto-review and campaign limits",
    responses=documented(r.ReviewPolicy),
)
async def put_review_policy(request: Request, body: ReviewPolicyBody, _: Admin) -> dict:
    await uc.set_review_policy(_deps(request), ReviewPolicy(**body.model_dump()))
    return body.model_dump()
