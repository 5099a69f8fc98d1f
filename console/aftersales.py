"""After-sales: refunds of an order, returns (refund or exchange) from the order page, the
return review queue, receiving and inspection (grading), complaints with their SLA
countdowns and breaches, out-of-stock tasks."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.client import ServiceError
from console.replacements import exchange_sentence, parse_replacement
from console.session import Person, area, back, render

router = APIRouter()
CS = Annotated[Person, area("aftersales")]
GRADES = ["new", "minor_flaw", "severe_flaw", "damaged"]
TASK_OPTIONS = ["wait", "substitute", "cancel_and_refund"]


@router.get("/aftersales")
async def page(request: Request, p: CS, order_id: str = "") -> Response:
    get = p.api.get
    pending, approved, received, complaints, tasks = await asyncio.gather(
        get("aftersales", "/returns", params={"status": "pending_review"}),
        get("aftersales", "/returns", params={"status": "approved"}),
        get("aftersales", "/returns", params={"status": "received"}),
        get("aftersales", "/complaints", params={"limit": 200}),
        get("aftersales", "/tasks", params={"status": "open"}),
    )
    refunds = await get("aftersales", "/refunds", params={"order_id": order_id}) if order_id else []
    return render(
        request,
        "aftersales.html",
        p,
        order_id=order_id,
        refunds=refunds,
        pending=pending,
        approved=approved,
        received=received,
        complaints=[c for c in complaints if c.get("status") != "closed"],
        tasks=tasks,
        grades=GRADES,
        task_options=TASK_OPTIONS,
    )


async def _do(p: Person, path: str, body: Any, done: str) -> Response:
    try:
        await p.api.post("aftersales", path, body)
    except ServiceError as exc:
        return back("/aftersales", error=exc)
    return back("/aftersales", ok=done)


@router.post("/aftersales/returns/{return_id}/decide")
async def decide(request: Request, return_id: str, p: CS) -> Response:
    form = await request.form()
    approve = form.get("approve") == "true"
    body = {"approve": approve, "note": str(form.get("note") or "")}
    verdict = "approved" if approve else "rejected"
    return await _do(p, f"/returns/{return_id}/approve", body, f"Return {return_id} {verdict}.")


@router.post("/aftersales/returns/{return_id}/receive")
async def receive(return_id: str, p: CS) -> Response:
    return await _do(p, f"/returns/{return_id}/receive", None, f"Return {return_id} received.")


@router.post("/aftersales/returns/{return_id}/inspect")
async def inspect(request: Request, return_id: str, p: CS) -> Response:
    form = await request.form()
    lines = [
        {"sku": str(k).removeprefix("grade:"), "grade": str(v), "flaw_note": ""}
        for k, v in form.items()
        if str(k).startswith("grade:")
    ]
    body = {"lines": lines}
    return await _do(p, f"/returns/{return_id}/inspect", body, f"Return {return_id} inspected.")


@router.post("/orders/{order_id}/returns")
async def open_return(request: Request, order_id: str, p: CS) -> Response:
    """A return of the named units, from the order page: refunded, or exchanged for the
    replacement lines (`SKU qty`, e.g. another size); the service answers which window and
    evidence its reason needs, and for an exchange its status and returned value."""
    form = await request.form()
    lines = [
        {"sku": str(k).removeprefix("return:"), "qty": int(str(v))}
        for k, v in form.items()
        if str(k).startswith("return:") and str(v).strip().isdigit() and int(str(v)) > 0
    ]
    photos = [x for x in str(form.get("photos") or "").replace(",", " ").split() if x]
    body = {
        "order_id": order_id,
        "lines": lines,
        "reason_code": str(form.get("reason_code") or "").strip(),
        "opened": form.get("opened") == "on",
        "method": str(form.get("method") or "pickup"),
        "evidence": {
            "photos": photos,
            "order_number": order_id,
            "chat_record": str(form.get("chat_record") or "") or None,
        },
    }
    if form.get("resolution") == "exchange":
        try:
            replacement = parse_replacement(str(form.get("replacement") or ""))
        except ValueError as exc:
            return back(f"/orders/{order_id}", error=exc)
        if not replacement:
            return back(f"/orders/{order_id}", error="Name the replacement: SKU and quantity.")
        body |= {"resolution": "exchange", "replacement_lines": replacement}
    try:
        answer = await p.api.post("aftersales", "/returns", body)
    except ServiceError as exc:
        return back(f"/orders/{order_id}", error=exc)
    return back(
        f"/orders/{order_id}",
        ok=f"Return {answer.get('return_id')}: {answer.get('status')} "
        f"({answer.get('shipping_payer')} pays the return shipping)."
        + exchange_sentence(answer.get("exchange")),
    )


@router.post("/aftersales/complaints")
async def file_complaint(request: Request, p: CS) -> Response:
    form = await request.form()
    body = {
        "tier": str(form.get("tier") or "L1"),
        "subject": str(form.get("subject") or ""),
        "order_id": str(form.get("order_id") or "") or None,
        "description": str(form.get("description") or ""),
    }
    return await _do(p, "/complaints", body, "Complaint filed.")


@router.post("/aftersales/complaints/{complaint_id}/respond")
async def respond(request: Request, complaint_id: str, p: CS) -> Response:
    form = await request.form()
    body = {"message": str(form.get("message") or "")}
    path = f"/complaints/{complaint_id}/respond"
    return await _do(p, path, body, f"Responded to {complaint_id}.")


@router.post("/aftersales/tasks/{task_id}/resolve")
async def resolve(request: Request, task_id: str, p: CS) -> Response:
    form = await request.form()
    body = {"option": str(form.get("option") or ""), "note": str(form.get("note") or "")}
    return await _do(p, f"/tasks/{task_id}/resolve", body, f"Task {task_id} resolved.")
