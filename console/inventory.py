"""Inventory (SPEC §3.2): stock per warehouse and SKU, its alerts and ledger; ops record
receipts, count corrections and transfers."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.client import ServiceError
from console.session import Person, area, back, render

router = APIRouter()
Reader = Annotated[Person, area("inventory")]


@router.get("/inventory")
async def page(request: Request, p: Reader, sku: str = "", warehouse_id: str = "") -> Response:
    params = {"sku": sku.strip(), "warehouse_id": warehouse_id}
    get = p.api.get
    stock, alerts, movements, warehouses = await asyncio.gather(
        get("warehouse", "/inventory", params={**params, "limit": 500}),
        get("warehouse", "/inventory/alerts", params=params),
        get("warehouse", "/inventory/movements", params={**params, "limit": 50}),
        get("warehouse", "/warehouses"),
    )
    return render(
        request,
        "inventory.html",
        p,
        stock=stock,
        alerts=alerts,
        movements=movements,
        warehouses=warehouses,
        filters=params,
    )


def _int(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.lstrip("-").isdigit() else None


@router.post("/inventory/adjustments")
async def adjust(request: Request, p: Reader) -> Response:
    form = await request.form()
    kind = str(form.get("kind") or "receipt")
    body: dict[str, Any] = {
        "warehouse_id": str(form.get("warehouse_id") or ""),
        "sku": str(form.get("sku") or "").strip(),
        "kind": kind,
        "pool": str(form.get("pool") or "sellable"),
        "reason": str(form.get("reason") or "").strip(),
    }
    body["qty" if kind == "receipt" else "counted"] = _int(form.get("amount"))
    try:
        answer = await p.api.post("warehouse", "/inventory/adjustments", body)
    except ServiceError as exc:
        return back("/inventory", error=exc)
    s = answer["stock"]
    done = f"{s['sku']} at {s['warehouse_id']}: {s['on_hand']} on hand, {s['available']} available."
    return back("/inventory", ok=done)


@router.post("/inventory/transfers")
async def transfer(request: Request, p: Reader) -> Response:
    form = await request.form()
    body = {
        "sku": str(form.get("sku") or "").strip(),
        "from_warehouse_id": str(form.get("from_warehouse_id") or ""),
        "to_warehouse_id": str(form.get("to_warehouse_id") or ""),
        "qty": _int(form.get("qty")),
        "reason": str(form.get("reason") or "").strip(),
    }
    try:
        answer = await p.api.post("warehouse", "/inventory/transfers", body)
    except ServiceError as exc:
        return back("/inventory", error=exc)
    return back("/inventory", ok=f"Transfer {answer.get('transfer_id')} recorded.")
