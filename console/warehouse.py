"""Warehouse worklists per warehouse and the desk scans (import, label, pack with the SKU
check, ship, out-of-stock, interception outcome), plus manual holds for clerks and ops.

A scanner key sees only its own warehouse. A held task's scan answers 423 naming the stop
and its reason; a pack whose barcodes differ from the lines answers 409 naming what is
missing or extra: both are shown as the service said them."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from console.client import ServiceError
from console.session import Forbidden, Person, area, back, render

router = APIRouter()
Desk = Annotated[Person, area("warehouse")]
STATUSES = ["queued", "allocated", "labelled", "packed", "shipped", "withdrawn", "intercepted",
            "exception"]  # fmt: skip
HOLD_REASONS = ["address_check", "fraud_review", "awaiting_stock", "other"]


def _own(p: Person, warehouse_id: str) -> None:
    if p.role == "scanner" and p.warehouse_id != warehouse_id:
        raise Forbidden(p.role, f"{warehouse_id} warehouse")


@router.get("/warehouses")
async def warehouses(request: Request, p: Desk) -> Response:
    if p.role == "scanner":
        return RedirectResponse(f"/warehouses/{p.warehouse_id}", status_code=303)
    found = await p.api.get("warehouse", "/warehouses")
    return render(request, "warehouses.html", p, warehouses=found)


@router.get("/warehouses/{warehouse_id}")
async def worklist(request: Request, warehouse_id: str, p: Desk, status: str = "") -> Response:
    _own(p, warehouse_id)
    tasks = await p.api.get(
        "warehouse",
        f"/warehouses/{warehouse_id}/shipments",
        params={"status": status, "limit": 200},
    )
    return render(
        request,
        "worklist.html",
        p,
        warehouse_id=warehouse_id,
        tasks=tasks,
        status=status,
        statuses=STATUSES,
        hold_reasons=HOLD_REASONS,
    )


def barcodes(text: str) -> list[str]:
    """Scanned barcodes, one per scan: separated by new lines, spaces or commas."""
    return [b for b in re.split(r"[\s,]+", text) if b]


async def _scan(p: Person, form: Any, path: str, body: Any, done: str) -> Response:
    wh = str(form.get("warehouse_id") or "")
    _own(p, wh)
    try:
        await p.api.post("warehouse", path, body)
    except ServiceError as exc:
        return back(f"/warehouses/{wh}", error=exc)
    return back(f"/warehouses/{wh}", ok=done)


@router.post("/warehouses/{warehouse_id}/imports")
async def import_tasks(request: Request, warehouse_id: str, p: Desk) -> Response:
    form = await request.form()
    _own(p, warehouse_id)
    sid = str(form.get("shipment_id") or "")
    body = {"shipment_id": sid} if sid else {"all_queued": True}
    try:
        answer = await p.api.post("warehouse", f"/warehouses/{warehouse_id}/imports", body)
    except ServiceError as exc:
        return back(f"/warehouses/{warehouse_id}", error=exc)
    refused = answer.get("refused") or []
    if refused:
        first = refused[0]
        error = ServiceError(
            409, first.get("code", ""), first.get("message", ""), first.get("details")
        )
        return back(f"/warehouses/{warehouse_id}", error=error)
    return back(f"/warehouses/{warehouse_id}", ok=f"Imported {len(answer.get('allocated') or [])}.")


@router.post("/shipments/{shipment_id}/label")
async def label(request: Request, shipment_id: str, p: Desk) -> Response:
    form = await request.form()
    body: dict[str, Any] = {"carrier": str(form.get("carrier") or "")}
    if tracking := str(form.get("tracking_number") or "").strip():
        body["tracking_number"] = tracking
    return await _scan(p, form, f"/shipments/{shipment_id}/label", body, f"{shipment_id} labelled.")


@router.post("/shipments/{shipment_id}/pack")
async def pack(request: Request, shipment_id: str, p: Desk) -> Response:
    form = await request.form()
    weight = str(form.get("weight_grams") or "0").strip()
    body = {
        "scanned": barcodes(str(form.get("scanned") or "")),
        "weight_grams": int(weight) if weight.isdigit() else 0,
    }
    return await _scan(p, form, f"/shipments/{shipment_id}/pack", body, f"{shipment_id} packed.")


@router.post("/shipments/{shipment_id}/ship")
async def ship(request: Request, shipment_id: str, p: Desk) -> Response:
    form = await request.form()
    return await _scan(p, form, f"/shipments/{shipment_id}/ship", None, f"{shipment_id} shipped.")


@router.post("/shipments/{shipment_id}/out-of-stock")
async def out_of_stock(request: Request, shipment_id: str, p: Desk) -> Response:
    form = await request.form()
    body = {"skus": barcodes(str(form.get("skus") or "")), "note": str(form.get("note") or "")}
    done = f"{shipment_id} reported out of stock."
    return await _scan(p, form, f"/shipments/{shipment_id}/out-of-stock", body, done)


@router.post("/shipments/{shipment_id}/interception")
async def interception(request: Request, shipment_id: str, p: Desk) -> Response:
    form = await request.form()
    outcome = str(form.get("outcome") or "")
    path = f"/shipments/{shipment_id}/interception"
    return await _scan(p, form, path, {"outcome": outcome}, f"{shipment_id}: {outcome}.")


@router.post("/shipments/{shipment_id}/holds")
async def hold(request: Request, shipment_id: str, p: Desk) -> Response:
    form = await request.form()
    body = {"reason": str(form.get("reason") or "other"), "until": form.get("until") or None}
    return await _scan(p, form, f"/shipments/{shipment_id}/holds", body, f"{shipment_id} held.")


@router.post("/shipments/{shipment_id}/holds/{hold_id}/release")
async def release(request: Request, shipment_id: str, hold_id: str, p: Desk) -> Response:
    form = await request.form()
    wh = str(form.get("warehouse_id") or "")
    try:
        await p.api.send("warehouse", "DELETE", f"/shipments/{shipment_id}/holds/{hold_id}")
    except ServiceError as exc:
        return back(f"/warehouses/{wh}", error=exc)
    return back(f"/warehouses/{wh}", ok=f"Hold {hold_id} released.")
