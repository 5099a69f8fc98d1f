"""Orders: search, one order's page (lines, shipments, holds, timeline, what CS may do now),
and the actions it offers: cancel (whole or by line), edit with its version, refund, and for
clerks review and submit."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console import replacements
from console.client import ServiceError
from console.session import Person, area, back, render

router = APIRouter()
Reader = Annotated[Person, area("orders")]

STAGES = [
    "synced", "reviewed", "submitted", "allocated", "labelled", "packed", "shipped",
    "delivered", "completed", "cancelled", "intercepting", "exception", "returning", "returned",
]  # fmt: skip
ADDRESS_FIELDS = ("name", "phone", "province", "city", "district", "line1", "postcode")


def buyer_matches(order: dict[str, Any], needle: str) -> bool:
    """The order service lists by stage/platform/id/hold; the buyer is matched here, on the
    page it returned (id, name or phone, case-insensitive)."""
    buyer = order.get("buyer") or {}
    return any(needle.lower() in str(buyer.get(k) or "").lower() for k in ("id", "name", "phone"))


@router.get("/orders")
async def order_list(
    request: Request,
    p: Reader,
    platform_order_id: str = "",
    buyer: str = "",
    stage: str = "",
    held: str = "",
) -> Response:
    params = {
        "platform_order_id": platform_order_id.strip(),
        "stage": stage,
        "held": held,
        "limit": 500 if buyer else 100,
    }
    found = (await p.api.get("order", "/orders", params=params))["orders"]
    if buyer.strip():
        found = [o for o in found if buyer_matches(o, buyer.strip())]
    filters = {"platform_order_id": platform_order_id, "buyer": buyer, "stage": stage, "held": held}
    return render(request, "orders.html", p, orders=found, filters=filters, stages=STAGES)


def actions(capabilities: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every capability entry the service answered (edit, cancel, refund, and whatever it
    adds), in its order: `(name, answer)` for each that has an `allowed`."""
    return [(k, v) for k, v in capabilities.items() if isinstance(v, dict) and "allowed" in v]


@router.get("/orders/{order_id}")
async def order_page(request: Request, order_id: str, p: Reader) -> Response:
    order, capabilities, timeline = await asyncio.gather(
        p.api.get("order", f"/orders/{order_id}"),
        p.api.get("order", f"/orders/{order_id}/capabilities"),
        p.api.get("order", f"/orders/{order_id}/timeline"),
    )
    warehouses = await p.api.get("warehouse", "/warehouses") if p.may("submit") else []
    aftersales = await replacements.of_order(p, order_id) if p.may("refund") else None
    return render(
        request,
        "order.html",
        p,
        order=order,
        capabilities=capabilities,
        actions=actions(capabilities),
        line_caps=capabilities.get("lines") or [],
        timeline=timeline["entries"],
        warehouses=warehouses,
        address_fields=ADDRESS_FIELDS,
        items=items_text(order.get("lines") or []),
        aftersales=aftersales,
        reship_reasons=replacements.RESHIP_REASONS,
        price_difference=replacements.price_difference,
    )


def _mode_sentence(answer: dict[str, Any]) -> str:
    mode = answer.get("mode", "")
    guarantee = "guaranteed" if answer.get("guaranteed") else "best effort"
    per_line = answer.get("lines")
    if per_line:
        modes = ", ".join(f"{ln.get('sku')}: {ln.get('mode')}" for ln in per_line)
        return f"Cancel requested by line ({modes})."
    return f"Cancel taken: {mode} ({guarantee}). {answer.get('reason', '')}".strip()


@router.post("/orders/{order_id}/cancel")
async def cancel(request: Request, order_id: str, p: Reader) -> Response:
    form = await request.form()
    body: dict[str, Any] = {"reason": str(form.get("reason") or "").strip()}
    lines = [
        {"sku": str(k).removeprefix("line:"), "qty": int(str(v))}
        for k, v in form.items()
        if str(k).startswith("line:") and str(v).strip().isdigit() and int(str(v)) > 0
    ]
    if form.get("by_line") and not lines:
        return back(f"/orders/{order_id}", error="Name at least one line and quantity to cancel.")
    if lines:
        body["lines"] = lines
    try:
        answer = await p.api.post("order", f"/orders/{order_id}/cancel", body)
    except ServiceError as exc:
        return back(f"/orders/{order_id}", error=exc)
    return back(f"/orders/{order_id}", ok=_mode_sentence(answer))


def items_text(lines: list[dict[str, Any]]) -> str:
    """The order's lines as the edit form shows them: `SKU qty unit_price`, one a line."""
    return "\n".join(f"{ln['sku']} {ln['qty']} {ln['unit_price']}" for ln in lines)


def parse_items(text: str) -> list[dict[str, Any]]:
    """`SKU qty unit_price` lines back into the API's lines; a bad line names itself."""
    lines = []
    for n, row in enumerate(text.splitlines(), 1):
        parts = row.split()
        if not parts:
            continue
        if len(parts) != 3 or not parts[1].isdigit():
            raise ValueError(f"items line {n}: write 'SKU quantity unit_price', got {row!r}")
        lines.append({"sku": parts[0], "qty": int(parts[1]), "unit_price": parts[2]})
    return lines


@router.post("/orders/{order_id}/edit")
async def edit(request: Request, order_id: str, p: Reader) -> Response:
    form = await request.form()
    body: dict[str, Any] = {}
    note = str(form.get("note") or "")
    if form.get("note_before") != note:
        body["note"] = note
    try:
        items = parse_items(str(form.get("items") or ""))
        if items != parse_items(str(form.get("items_before") or "")):
            body["lines"] = items
    except ValueError as exc:
        return back(f"/orders/{order_id}", error=exc)
    address = {f: str(form.get(f"address.{f}") or "").strip() for f in ADDRESS_FIELDS}
    if any(form.get(f"address.{f}") != form.get(f"before.{f}") for f in ADDRESS_FIELDS):
        body["address"] = address
    if not body:
        return back(f"/orders/{order_id}", error="Nothing was changed.")
    headers = {"If-Match": str(form.get("version") or "")}
    try:
        answer = await p.api.send("order", "PATCH", f"/orders/{order_id}", body, headers=headers)
    except ServiceError as exc:
        return back(f"/orders/{order_id}", error=exc)
    return back(f"/orders/{order_id}", ok=edit_sentence(answer.get("edit") or {}))


def edit_sentence(answer: dict[str, Any]) -> str:
    """An accepted edit in words, whatever its mode (apply, request, relabel, …)."""
    mode, how = answer.get("mode"), ""
    if mode and mode != "none":
        how = f": {mode} ({'guaranteed' if answer.get('guaranteed') else 'best effort'})"
    pending = " pending warehouse confirmation" if answer.get("pending_confirmation") else ""
    return f"Edit accepted{how}{pending}. {answer.get('reason', '')}".strip()


@router.post("/orders/{order_id}/refund")
async def refund(request: Request, order_id: str, p: Reader) -> Response:
    form = await request.form()
    body: dict[str, Any] = {
        "order_id": order_id,
        "reason": str(form.get("reason") or ""),
        "reason_code": str(form.get("reason_code") or "changed_mind"),
        "kind": "goodwill" if form.get("kind") == "goodwill" else "order",
    }
    if amount := str(form.get("amount") or "").strip():
        body["amount"] = amount
    try:
        answer = await p.api.post("aftersales", "/refunds", body)
    except ServiceError as exc:
        return back(f"/orders/{order_id}", error=exc)
    return back(
        f"/refunds/{answer.get('refund_id')}",
        ok=f"Refund {answer.get('refund_id')} of {answer.get('amount')} "
        f"{answer.get('currency', '')}: {answer.get('status')}.",
    )


@router.post("/orders/{order_id}/submit")
async def submit(request: Request, order_id: str, p: Reader) -> Response:
    form = await request.form()
    body = {"warehouse_id": str(form.get("warehouse_id") or "") or None}
    try:
        answer = await p.api.post("order", f"/orders/{order_id}/submit", body)
    except ServiceError as exc:
        return back(f"/orders/{order_id}", error=exc)
    return back(f"/orders/{order_id}", ok=f"Submitted: stage {answer.get('stage', 'submitted')}.")
