"""The after-sales return policy: every field as the service holds it (CS reads), and the
exchange settings an admin changes (`exchange_ship_first`, `exchange_ship_first_reasons`):
the rest of the policy is sent back as read, refused if it changed since the page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.client import ServiceError
from console.session import Person, area, back, render

router = APIRouter()
CS = Annotated[Person, area("aftersales")]
PAGE = "/aftersales/policy"


def parse_codes(text: str) -> list[str]:
    """`wrong_item, defect` (commas or spaces) as a list of codes, in order, once each."""
    return list(dict.fromkeys(x for x in text.replace(",", " ").split() if x))


@router.get(PAGE)
async def page(request: Request, p: CS) -> Response:
    read = await p.api.get("aftersales", "/policies")
    return render(request, "policy.html", p, read=read, policy=read["policy"])


@router.post(PAGE)
async def set_exchange(request: Request, p: CS) -> Response:
    form = await request.form()
    try:
        read = await p.api.get("aftersales", "/policies")
        if str(read.get("version")) != str(form.get("version")):
            return back(PAGE, error="The policy changed since this page was read: reload it.")
        policy = read["policy"] | {
            "exchange_ship_first": form.get("exchange_ship_first") == "on",
            "exchange_ship_first_reasons": parse_codes(
                str(form.get("exchange_ship_first_reasons") or "")
            ),
        }
        written = await p.api.send("aftersales", "PUT", "/policies", policy)
    except ServiceError as exc:
        return back(PAGE, error=exc)
    return back(PAGE, ok=f"Exchange settings saved (policy version {written.get('version')}).")
