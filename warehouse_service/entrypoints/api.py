"""HTTP routes: parse, call one handler, answer. Domain errors map to HTTP in `errors`."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from shared.auth import Principal, allow
from shared.limits import CODE_MAX
from shared.openapi import documented, errors
from warehouse_service import views
from warehouse_service.domain.errors import NotFound
from warehouse_service.domain.lifecycle import HOLDABLE, STATES, TRANSITIONS, mermaid
from warehouse_service.domain.stops import Scope, validate_scope
from warehouse_service.domain.warehouse import Warehouse, check_access
from warehouse_service.entrypoints import responses as r
from warehouse_service.entrypoints import schemas as s
from warehouse_service.entrypoints.errors import to_app_error
from warehouse_service.handlers import Deps, line_removals, scanner, stops, warehouses
from warehouse_service.handlers import holds as hold_handlers
from warehouse_service.handlers.stops import RECALL_WINDOW

router = APIRouter()

Scanner = Annotated[Principal, allow("scanner", "clerk", "ops")]
Reader = Annotated[Principal, allow("scanner", "clerk", "ops", "cs_agent", "cs_supervisor")]
Holder = Annotated[Principal, allow("clerk", "ops")]
Ops = Annotated[Principal, allow("ops")]
Remover = Annotated[Principal, allow("scanner", "ops")]


async def _deps(request: Request) -> Deps:
    return request.app.state.deps


D = Annotated[Deps, Depends(_deps)]
# A scanner step answers the task, or: unknown (404), out of step or mismatch (409), held (423).
SCAN_STEP = {**documented(r.ShipmentView), **errors(404, 409, 423)}


@router.get("/warehouses", tags=["warehouses"], responses=documented(list[r.WarehouseView]))
async def list_warehouses(deps: D, request: Request, _: Reader) -> list[dict]:
    return await views.warehouses(request.app.state.runtime.db)


@router.post(
    "/warehouses",
    status_code=201,
    tags=["warehouses"],
    responses={**documented(r.WarehouseView, 201), **errors(409)},
)
async def create_warehouse(body: s.NewWarehouse, deps: D, _: Ops) -> dict:
    wh = Warehouse(body.warehouse_id, body.kind, body.supplier_id, body.name)
    return views.warehouse_dict(await warehouses.register_warehouse(deps, wh))


@router.get(
    "/warehouses/{warehouse_id}/shipments",
    tags=["scanner"],
    responses=documented(list[r.ShipmentView]),
)
async def worklist(
    warehouse_id: str,
    request: Request,
    principal: Reader,
    status: str | None = Query(None, max_length=CODE_MAX),
    held: bool | None = None,
    limit: int = Query(500, ge=1, le=5000),
) -> list[dict]:
    """The worklist: status, held flag, holds and pending interception requests."""
    check_access(principal.warehouse_id, warehouse_id)
    return await views.worklist(request.app.state.runtime.db, warehouse_id, status, held, limit)


@router.post(
    "/warehouses/{warehouse_id}/imports",
    tags=["scanner"],
    responses={**documented(r.ImportResult), **errors(404, 409, 423)},
)
async def import_shipments(
    warehouse_id: str, body: s.ImportRequest, deps: D, principal: Scanner
) -> dict:
    check_access(principal.warehouse_id, warehouse_id)
    ids = body.shipment_ids or ([body.shipment_id] if body.shipment_id else [])
    result = await scanner.import_shipments(deps, warehouse_id, ids, body.all_queued)
    if body.shipment_id and not body.shipment_ids:  # one task: its refusal is the answer
        if result.missing:
            raise NotFound(f"no shipment {result.missing[0]}")
        if result.refused:
            raise result.refused[0][1]
    missing = [
        {"shipment_id": sid, "code": "not_found", "message": f"no shipment {sid}"}
        for sid in result.missing
    ]
    refused = [
        {"shipment_id": sid, "code": e.code, "message": e.message, "details": e.details}
        for sid, e in result.refused
    ]
    return {"allocated": result.allocated, "refused": missing + refused}


@router.get(
    "/shipments/{shipment_id}",
    tags=["scanner"],
    responses={**documented(r.ShipmentView), **errors(404)},
)
async def get_shipment(shipment_id: str, request: Request, principal: Reader) -> dict:
    found = await views.get_shipment(request.app.state.runtime.db, shipment_id)
    if found is None:
        raise NotFound(f"no shipment {shipment_id}")
    check_access(principal.warehouse_id, found.warehouse_id)
    return views.shipment_dict(found)


@router.post("/shipments/{shipment_id}/label", tags=["scanner"], responses=SCAN_STEP)
async def label(shipment_id: str, body: s.LabelRequest, deps: D, principal: Scanner) -> dict:
    done = await scanner.label(
        deps, shipment_id, body.carrier, body.tracking_number, principal.warehouse_id
    )
    return views.shipment_dict(done)


@router.post("/shipments/{shipment_id}/pack", tags=["scanner"], responses=SCAN_STEP)
async def pack(shipment_id: str, body: s.PackRequest, deps: D, principal: Scanner) -> dict:
    done = await scanner.pack(
        deps, shipment_id, body.scanned, body.weight_grams, principal.warehouse_id
    )
    return views.shipment_dict(done)


@router.post("/shipments/{shipment_id}/ship", tags=["scanner"], responses=SCAN_STEP)
async def ship(shipment_id: str, deps: D, principal: Scanner) -> dict:
    done = await scanner.ship(deps, shipment_id, principal.warehouse_id)
    return views.shipment_dict(done)


@router.post("/shipments/{shipment_id}/out-of-stock", tags=["scanner"], responses=SCAN_STEP)
async def out_of_stock(
    shipment_id: str, body: s.OutOfStockRequest, deps: D, principal: Scanner
) -> dict:
    done = await scanner.report_out_of_stock(
        deps, shipment_id, body.skus, body.note, principal.warehouse_id
    )
    return views.shipment_dict(done)


@router.post("/shipments/{shipment_id}/interception", tags=["scanner"], responses=SCAN_STEP)
async def interception(
    shipment_id: str, body: s.InterceptionRequest, deps: D, principal: Scanner
) -> dict:
    done = await scanner.report_interception(
        deps, shipment_id, body.outcome, principal.warehouse_id
    )
    return views.shipment_dict(done)


@router.post("/shipments/{shipment_id}/line-removal", tags=["scanner"], responses=SCAN_STEP)
async def line_removal(
    shipment_id: str, body: s.LineRemovalAnswer, deps: D, principal: Remover
) -> dict:
    """Answer the task's pending line-removal requests (cancel by line, SPEC §2.4):
    `removed` takes the units off the task (a task left empty is withdrawn), `missed`
    lets them ship. 409 `no_line_removal_pending` / `line_removal_mismatch`."""
    lines = [line.model_dump() for line in body.lines] if body.lines else None
    done = await line_removals.answer_line_removal(
        deps, shipment_id, body.outcome, lines, principal.warehouse_id
    )
    return views.shipment_dict(done)


@router.post(
    "/shipments/{shipment_id}/holds",
    status_code=201,
    tags=["holds"],
    responses={**documented(r.PlacedHold, 201), **errors(404, 409)},
)
async def place_hold(shipment_id: str, body: s.HoldRequest, deps: D, principal: Holder) -> dict:
    until = body.until.astimezone(UTC) if body.until else None
    shipment, hold = await hold_handlers.place_hold(
        deps, shipment_id, body.reason, until, principal.actor, principal.warehouse_id
    )
    return {"hold": views.hold_dict(hold), "shipment": views.shipment_dict(shipment)}


@router.delete(
    "/shipments/{shipment_id}/holds/{hold_id}",
    tags=["holds"],
    responses={**documented(r.ShipmentView), **errors(404, 409)},
)
async def release_hold(shipment_id: str, hold_id: str, deps: D, principal: Holder) -> dict:
    shipment = await hold_handlers.release_hold(
        deps, shipment_id, hold_id, principal.actor, principal.warehouse_id
    )
    return views.shipment_dict(shipment)


@router.post(
    "/stop-shipments",
    status_code=201,
    tags=["stop-shipments"],
    responses=documented(r.StopReport, 201),
)
async def issue_stop(body: s.StopRequest, deps: D, request: Request, principal: Ops) -> dict:
    """Record the stop (blocking ships here at once) and broadcast it to every instance."""
    scope = Scope.from_dict(body.scope.model_dump())
    stop = await stops.issue_stop(deps, scope, body.reason, principal.actor)
    return await _stop_report(request, stop.stop_id)


@router.post(
    "/stop-shipments/preview",
    tags=["stop-shipments"],
    responses={**documented(r.StopPreview), **errors(422)},
)
async def preview_stop(body: s.PreviewRequest, deps: D, request: Request, _: Ops) -> dict:
    """How many tasks and orders the scope would hold now, and which matching orders have
    already shipped (last 30 days); records and broadcasts nothing."""
    scope = Scope.from_dict(body.scope.model_dump())
    validate_scope(scope)
    since = deps.clock.now() - RECALL_WINDOW
    return await views.stop_preview(request.app.state.runtime.db, scope, HOLDABLE, since)


@router.get("/stop-shipments", tags=["stop-shipments"], responses=documented(list[r.StopSummary]))
async def list_stops(request: Request, _: Reader, active: bool | None = None) -> list[dict]:
    return await views.stops(request.app.state.runtime.db, active)


@router.get(
    "/stop-shipments/{stop_id}",
    tags=["stop-shipments"],
    responses={**documented(r.StopReport), **errors(404)},
)
async def get_stop(stop_id: str, request: Request, _: Reader) -> dict:
    """Per-warehouse acknowledgements, held counts and already-shipped orders."""
    return await _stop_report(request, stop_id)


@router.post(
    "/stop-shipments/{stop_id}/lift",
    tags=["stop-shipments"],
    responses={**documented(r.StopReport), **errors(404, 409)},
)
async def lift_stop(stop_id: str, deps: D, request: Request, principal: Ops) -> dict:
    await stops.lift_stop(deps, stop_id, principal.actor)
    return await _stop_report(request, stop_id)


async def _stop_report(request: Request, stop_id: str) -> dict[str, Any]:
    report = await views.stop_report(request.app.state.runtime.db, stop_id)
    if report is None:
        raise to_app_error(NotFound(f"no stop-shipment {stop_id}"))
    return report


@router.get("/lifecycle", tags=["ops"], responses=documented(r.Lifecycle))
async def lifecycle() -> dict:
    """The shipment task's state machine and its Mermaid diagram."""
    return {"states": STATES, "transitions": TRANSITIONS, "mermaid": mermaid()}
