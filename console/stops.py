"""Stop-shipments: a scope form with a preview of what it would hold, the live per-warehouse
acknowledgements (the page polls a fragment, no reload), the already-shipped list, lift."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.client import ServiceError
from console.session import Person, area, back, render, templates

router = APIRouter()
Reader = Annotated[Person, area("stops")]


def _ids(text: Any) -> list[str]:
    return [v for v in re.split(r"[\s,]+", str(text or "")) if v]


def scope_of(form: Any) -> dict[str, Any]:
    """The form's scope in the API's shape (lists; `all_dropship` a flag)."""
    return {
        "skus": _ids(form.get("skus")),
        "suppliers": _ids(form.get("suppliers")),
        "campaigns": _ids(form.get("campaigns")),
        "warehouses": [str(w) for w in form.getlist("warehouses")],
        "all_dropship": form.get("all_dropship") == "on",
    }


async def _page(request: Request, p: Person, status_code: int = 200, **extra: Any) -> Response:
    found = await p.api.get("warehouse", "/stop-shipments")
    warehouses = await p.api.get("warehouse", "/warehouses")
    extra.setdefault("scope", {})
    extra.setdefault("reason", "")
    return render(
        request,
        "stops.html",
        p,
        status_code=status_code,
        stops=found,
        warehouses=warehouses,
        **extra,
    )


@router.get("/stops")
async def stops(request: Request, p: Reader) -> Response:
    return await _page(request, p)


@router.post("/stops")
async def issue_or_preview(request: Request, p: Reader) -> Response:
    form = await request.form()
    scope, reason = scope_of(form), str(form.get("reason") or "").strip()
    try:
        if form.get("do") == "preview":
            preview = await p.api.post("warehouse", "/stop-shipments/preview", {"scope": scope})
            return await _page(request, p, scope=scope, reason=reason, preview=preview)
        stop = await p.api.post("warehouse", "/stop-shipments", {"scope": scope, "reason": reason})
    except ServiceError as exc:
        error = {"code": exc.code, "message": exc.message, "details": exc.details}
        return await _page(
            request, p, status_code=exc.status, scope=scope, reason=reason, error=error
        )
    return back(f"/stops/{stop['stop_id']}", ok=f"Stop {stop['stop_id']} issued.")


def _rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per warehouse: its acknowledgement, or waiting."""
    rows = [dict(a, waiting=False) for a in report["acknowledgements"]]
    rows += [
        {"warehouse_id": w, "waiting": True, "held_count": None, "already_shipped": []}
        for w in report["unacknowledged_warehouses"]
    ]
    return sorted(rows, key=lambda r: r["warehouse_id"])


@router.get("/stops/{stop_id}")
async def stop_page(request: Request, stop_id: str, p: Reader) -> Response:
    report = await p.api.get("warehouse", f"/stop-shipments/{stop_id}")
    poll_ms = request.app.state.settings.poll_ms
    return render(request, "stop.html", p, stop=report, rows=_rows(report), poll_ms=poll_ms)


@router.get("/stops/{stop_id}/fragment")
async def acks_fragment(request: Request, stop_id: str, p: Reader) -> Response:
    """The acknowledgements table alone, for the page's poll."""
    report = await p.api.get("warehouse", f"/stop-shipments/{stop_id}")
    return templates.TemplateResponse(
        request, "_acks.html", {"stop": report, "rows": _rows(report)}
    )


@router.post("/stops/{stop_id}/lift")
async def lift(request: Request, stop_id: str, p: Reader) -> Response:
    try:
        await p.api.post("warehouse", f"/stop-shipments/{stop_id}/lift")
    except ServiceError as exc:
        return back(f"/stops/{stop_id}", error=exc)
    return back(f"/stops/{stop_id}", ok=f"Stop {stop_id} lifted: its holds are released.")
