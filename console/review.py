"""The review queue (orders in `synced`, with their flags), approve / reject with a reason,
and the auto-review settings (changed by admins only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.client import ServiceError
from console.session import Person, area, back, render

router = APIRouter()
Clerk = Annotated[Person, area("review")]


@router.get("/review")
async def queue(request: Request, p: Clerk) -> Response:
    found = (await p.api.get("order", "/orders", params={"stage": "synced", "limit": 500}))[
        "orders"
    ]
    policy = await p.api.get("order", "/review-policy")
    return render(request, "review.html", p, orders=found, policy=policy)


def _safe_next(value: Any, default: str) -> str:
    target = str(value or "")
    return target if target.startswith("/") and not target.startswith("//") else default


@router.post("/review/{order_id}")
async def decide(request: Request, order_id: str, p: Clerk) -> Response:
    form = await request.form()
    approve = form.get("approve") == "true"
    body: dict[str, Any] = {"approve": approve}
    if not approve:
        body["reason"] = str(form.get("reason") or "").strip()
    target = _safe_next(form.get("next"), "/review")
    try:
        answer = await p.api.post("order", f"/orders/{order_id}/review", body)
    except ServiceError as exc:
        return back(target, error=exc)
    verdict = "approved" if approve else f"rejected ({body['reason']})"
    return back(target, ok=f"{order_id} {verdict}: stage {answer.get('stage', '')}.")


@router.post("/review-policy")
async def set_policy(request: Request, p: Clerk) -> Response:
    form = await request.form()
    limits: dict[str, int] = {}
    for pair in str(form.get("campaign_limits") or "").split(","):
        if "=" in pair:
            campaign, _, n = pair.partition("=")
            if n.strip().isdigit():
                limits[campaign.strip()] = int(n.strip())
    body = {
        "auto_review": form.get("auto_review") == "on",
        "default_campaign_limit": int(str(form.get("default_campaign_limit") or "1") or 1),
        "campaign_limits": limits,
    }
    try:
        await p.api.send("order", "PUT", "/review-policy", body)
    except (ServiceError, ValueError) as exc:
        return back("/review", error=exc)
    return back("/review", ok="Review settings saved.")
