"""The liability ledger (who bears each loss, SPEC §6) with the supervisor's override, and
the returned-goods inventory (graded returns, kept apart from normal stock)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.client import ServiceError
from console.session import Person, area, back, render

router = APIRouter()
Reader = Annotated[Person, area("liabilities")]
PARTIES = ["supplier", "warehouse", "carrier", "customer", "seller"]
DISPOSITIONS = ["restock", "discounted_resale", "repair", "scrap"]


@router.get("/liabilities")
async def ledger(
    request: Request, p: Reader, order_id: str = "", party: str = "", return_id: str = ""
) -> Response:
    filters = {"order_id": order_id.strip(), "party": party, "return_id": return_id.strip()}
    rows = await p.api.get("aftersales", "/liabilities", params={**filters, "limit": 500})
    return render(request, "liabilities.html", p, rows=rows, filters=filters, parties=PARTIES)


@router.post("/liabilities/{liability_id}/override")
async def override(request: Request, liability_id: str, p: Reader) -> Response:
    form = await request.form()
    body: dict[str, Any] = {
        "party": str(form.get("party") or ""),
        "reason": str(form.get("reason") or "").strip(),
    }
    if amount := str(form.get("amount") or "").strip():
        body["amount"] = amount
    try:
        row = await p.api.post("aftersales", f"/liabilities/{liability_id}/override", body)
    except ServiceError as exc:
        return back("/liabilities", error=exc)
    return back(
        "/liabilities",
        ok=f"{liability_id} now borne by {row.get('party')}: {row.get('amount')}.",
    )


@router.get("/returned-goods")
async def returned_goods(
    request: Request, p: Reader, disposition: str = "", sku: str = ""
) -> Response:
    filters = {"disposition": disposition, "sku": sku.strip()}
    goods = await p.api.get("aftersales", "/returned-inventory", params={**filters, "limit": 500})
    return render(
        request,
        "returned_goods.html",
        p,
        goods=goods,
        filters=filters,
        dispositions=DISPOSITIONS,
    )
