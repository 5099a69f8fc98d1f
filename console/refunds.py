"""One refund: its kind, lines, amount, status and the order service's decision on its path
(which arrives asynchronously: the page polls a fragment until the refund settles), and the
refund by line from the order page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.client import ServiceError
from console.session import Person, area, back, render, templates

router = APIRouter()
CS = Annotated[Person, area("aftersales")]
WAITING = frozenset({"requested", "awaiting_cancel"})  # statuses that still change by events


def settled(refund: dict[str, Any]) -> bool:
    """Nothing more will arrive for it without a person acting (the poll stops)."""
    return refund.get("status") not in WAITING


@router.get("/refunds/{refund_id}")
async def refund_page(request: Request, refund_id: str, p: CS) -> Response:
    refund = await p.api.get("aftersales", f"/refunds/{refund_id}")
    poll_ms = request.app.state.settings.poll_ms
    return render(
        request, "refund.html", p, refund=refund, settled=settled(refund), poll_ms=poll_ms
    )


@router.get("/refunds/{refund_id}/fragment")
async def refund_fragment(request: Request, refund_id: str, p: CS) -> Response:
    """The status and decision alone, for the page's poll."""
    refund = await p.api.get("aftersales", f"/refunds/{refund_id}")
    return templates.TemplateResponse(
        request, "_refund_state.html", {"refund": refund, "settled": settled(refund)}
    )


@router.post("/orders/{order_id}/refund-lines")
async def refund_lines(request: Request, order_id: str, p: CS) -> Response:
    """A refund of the named units (`kind: lines`; the service computes the amount)."""
    form = await request.form()
    lines = [
        {"sku": str(k).removeprefix("refund:"), "qty": int(str(v))}
        for k, v in form.items()
        if str(k).startswith("refund:") and str(v).strip().isdigit() and int(str(v)) > 0
    ]
    if not lines:
        return back(f"/orders/{order_id}", error="Name at least one line and quantity to refund.")
    body = {
        "order_id": order_id,
        "reason": str(form.get("reason") or ""),
        "reason_code": str(form.get("reason_code") or "changed_mind"),
        "kind": "lines",
        "lines": lines,
    }
    try:
        answer = await p.api.post("aftersales", "/refunds", body)
    except ServiceError as exc:
        return back(f"/orders/{order_id}", error=exc)
    return back(
        f"/refunds/{answer.get('refund_id')}",
        ok=f"Refund {answer.get('refund_id')} of {answer.get('amount')} "
        f"{answer.get('currency', '')}: {answer.get('status')}.",
    )
