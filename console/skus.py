"""SKU mappings (SPEC §2.3): a platform variant → our SKU, for lines that arrived without
one (flagged `unknown_sku` in the review queue). Setting one resolves the waiting orders."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.client import ServiceError
from console.session import Person, area, back, render

router = APIRouter()
Reader = Annotated[Person, area("skus")]


@router.get("/sku-mappings")
async def mappings(
    request: Request, p: Reader, platform: str = "", variant_id: str = "", order_id: str = ""
) -> Response:
    found = (await p.api.get("order", "/sku-mappings", params={"platform": platform}))["mappings"]
    wanted = {"platform": platform, "variant_id": variant_id, "order_id": order_id}
    return render(request, "sku_mappings.html", p, mappings=found, wanted=wanted)


@router.post("/sku-mappings")
async def put_mapping(request: Request, p: Reader) -> Response:
    form = await request.form()
    body = {k: str(form.get(k) or "").strip() for k in ("platform", "variant_id", "sku")}
    try:
        answer = await p.api.send("order", "PUT", "/sku-mappings", body)
    except ServiceError as exc:
        return back("/sku-mappings", error=exc)
    resolved = answer.get("resolved_orders") or []
    waiting = f"resolved {', '.join(resolved)}" if resolved else "no order was waiting for it"
    return back(
        "/sku-mappings",
        ok=f"{body['platform']} variant {body['variant_id']} → {body['sku']}: {waiting}.",
    )
