"""Replacements (SPEC §4.1) from the order page: a reship (补发) of shipped units, its page
following it (requested → created → shipped, or refused) with its liabilities; an
exchange's replacement lines and the words for its price difference; and the order's
returns and reships as the order page lists them."""

from __future__ import annotations

import asyncio
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.client import ServiceError
from console.session import Person, area, back, render, templates

router = APIRouter()
CS = Annotated[Person, area("aftersales")]
RESHIP_REASONS = ("missing_item", "wrong_item", "transit_damage")
WAITING = frozenset({"requested"})  # the order service's answer arrives by event
RESHIPS_SHOWN = 20  # reships of one order shown on its page


def units(form: Any, prefix: str) -> list[dict[str, Any]]:
    """`prefix:SKU` quantity fields with a positive whole number, as API lines."""
    return [
        {"sku": str(k).removeprefix(prefix), "qty": int(str(v))}
        for k, v in form.items()
        if str(k).startswith(prefix) and str(v).strip().isdigit() and int(str(v)) > 0
    ]


def parse_replacement(text: str) -> list[dict[str, Any]]:
    """`SKU [qty]` lines (qty 1 when left out) into replacement lines; a bad line names itself."""
    lines = []
    for n, row in enumerate(text.splitlines(), 1):
        parts = row.replace(",", " ").split()
        if not parts:
            continue
        if len(parts) > 2 or (len(parts) == 2 and not (parts[1].isdigit() and int(parts[1]))):
            raise ValueError(f"replacement line {n}: write 'SKU quantity', got {row!r}")
        lines.append({"sku": parts[0], "qty": int(parts[1]) if len(parts) == 2 else 1})
    return lines


def price_difference(exchange: dict[str, Any]) -> str:
    """An exchange's price difference in words: refunded to the customer, due from them."""
    try:
        diff = Decimal(str(exchange.get("price_difference")))
    except InvalidOperation:
        return "not known until the order service prices the replacement"
    if diff < 0:
        refund = f" (refund {exchange['refund_id']})" if exchange.get("refund_id") else ""
        return f"{-diff} refunded to the customer{refund}"
    if diff > 0:
        return f"{exchange.get('due_from_customer') or diff} due from the customer"
    return "none"


def exchange_sentence(exchange: dict[str, Any] | None) -> str:
    """What the flash says of an exchange just opened."""
    if not exchange:
        return ""
    return (
        f" Exchange {exchange.get('replacement_id')}: {exchange.get('status')}, "
        f"returned value {exchange.get('returned_value')}; "
        f"price difference {price_difference(exchange)}."
    )


async def of_order(p: Person, order_id: str) -> dict[str, Any]:
    """The order's returns (with their exchanges) and reships, for its page; after-sales
    refusing or down is told in that section, never the whole page."""
    try:
        returns, reships = await asyncio.gather(
            p.api.get("aftersales", "/returns", params={"order_id": order_id}),
            p.api.get(
                "aftersales", "/reships", params={"order_id": order_id, "limit": RESHIPS_SHOWN}
            ),
        )
    except ServiceError as exc:
        return {"returns": [], "reships": [], "error": exc}
    return {"returns": returns, "reships": reships, "error": None}


@router.post("/orders/{order_id}/reships")
async def request_reship(request: Request, order_id: str, p: CS) -> Response:
    form = await request.form()
    lines = units(form, "reship:")
    if not lines:
        return back(f"/orders/{order_id}", error="Name at least one line and quantity to reship.")
    body = {
        "order_id": order_id,
        "lines": lines,
        "reason_code": str(form.get("reason_code") or ""),
        "note": str(form.get("note") or "").strip(),
    }
    try:
        reship = await p.api.post("aftersales", "/reships", body)
    except ServiceError as exc:
        return back(f"/orders/{order_id}", error=exc)
    return back(
        f"/reships/{reship.get('id')}",
        ok=f"Reship {reship.get('id')}: {reship.get('status')} "
        f"({reship.get('liable_party')} bears {reship.get('value')}).",
    )


def _settled(reship: dict[str, Any]) -> bool:
    return reship.get("status") not in WAITING


@router.get("/reships/{reship_id}")
async def reship_page(request: Request, reship_id: str, p: CS) -> Response:
    reship = await p.api.get("aftersales", f"/reships/{reship_id}")
    poll_ms = request.app.state.settings.poll_ms
    return render(
        request, "reship.html", p, reship=reship, settled=_settled(reship), poll_ms=poll_ms
    )


@router.get("/reships/{reship_id}/fragment")
async def reship_fragment(request: Request, reship_id: str, p: CS) -> Response:
    """The status, shipments and liabilities alone, for the page's poll."""
    reship = await p.api.get("aftersales", f"/reships/{reship_id}")
    return templates.TemplateResponse(
        request, "_reship_state.html", {"reship": reship, "settled": _settled(reship)}
    )
