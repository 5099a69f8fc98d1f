"""Return-rate analytics, warehouse figures, delisting flags, and SVG charts."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from aftersales_service.adapters import analytics
from aftersales_service.adapters.repositories import PolicyRepository
from aftersales_service.domain.analytics import delisting_flags
from aftersales_service.entrypoints import charts
from aftersales_service.entrypoints import responses as r
from aftersales_service.entrypoints.deps import Analyst, Db, OpsOnly, Uow
from aftersales_service.entrypoints.schemas import ReviewsIn
from aftersales_service.entrypoints.views import plain
from aftersales_service.handlers import care
from shared.limits import ID_MAX
from shared.openapi import documented

router = APIRouter(prefix="/analytics", tags=["analytics"])
SVG = "image/svg+xml"
SVG_BODY: dict[int | str, dict[str, Any]] = {
    200: {"content": {SVG: {"schema": {"type": "string"}}}}
}


@router.get("/returns", responses=documented(r.ReturnsBy))
async def returns_by(
    db: Db,
    _: Analyst,
    by: Literal["sku", "category", "reason", "warehouse", "supplier"] = Query("sku"),
) -> dict:
    """Return rate by sku/category/warehouse/supplier (units returned / sold), or the
    reason breakdown; sku rows carry the delisting flag."""
    async with db.reader() as s:
        if by == "reason":
            return {"by": by, "rows": plain(await analytics.reasons(s))}
        rows = await analytics.return_rates(s, by)
        if by == "sku":
            policy = await PolicyRepository(s).get()
            flags = delisting_flags(rows, await analytics.reviews(s), policy)
            for row in rows:
                row["delist"] = row["sku"] in flags
                row["delist_reasons"] = flags.get(row["sku"], [])
        return {"by": by, "rows": plain(rows)}


@router.get("/return-times", responses=documented(r.ReturnTimes))
async def return_times(db: Db, _: Analyst) -> dict:
    """Delivery → return opened, bucketed in days."""
    async with db.reader() as s:
        return {"buckets": plain(await analytics.return_times(s))}


@router.get("/complaints", responses=documented(r.ComplaintRate))
async def complaints(db: Db, _: Analyst) -> dict:
    async with db.reader() as s:
        return plain(await analytics.complaints_per_10k(s))


@router.get("/warehouses", responses=documented(r.WarehouseFigures))
async def warehouses(db: Db, _: Analyst) -> dict:
    """Per warehouse (dropship especially): submit-to-ship time, loss rate from the
    liability ledger, returns and return handling time."""
    async with db.reader() as s:
        return {
            "warehouses": plain(await analytics.warehouses(s)),
            "supplier_losses": plain(await analytics.supplier_losses(s)),
        }


@router.get("/delisting", responses=documented(r.Delisting))
async def delisting(db: Db, _: Analyst) -> dict:
    """SKUs over the return-rate (or bad-review-rate) threshold."""
    async with db.reader() as s:
        rows = await analytics.return_rates(s, "sku")
        policy = await PolicyRepository(s).get()
        flags = delisting_flags(rows, await analytics.reviews(s), policy)
    return {"flagged": [{"sku": k, "reasons": v} for k, v in sorted(flags.items())]}


@router.put("/reviews/{sku}", responses=documented(r.Reviews))
async def put_reviews(
    body: ReviewsIn,
    uow: Uow,
    _: OpsOnly,
    sku: str = Path(max_length=ID_MAX),
) -> dict:
    """Import review counts for a SKU (feeds the bad-review delisting rule)."""
    await care.put_reviews(uow, sku, body.reviews, body.bad_reviews)
    return {"sku": sku, "reviews": body.reviews, "bad_reviews": body.bad_reviews}


@router.get("/charts/reasons.svg", response_class=Response, responses=SVG_BODY)
async def reasons_chart(db: Db, _: Analyst) -> Response:
    async with db.reader() as s:
        rows = await analytics.reasons(s)
    svg = charts.pie("Return reasons", [(r["reason"], float(r["returns"])) for r in rows])
    return Response(svg, media_type=SVG)


@router.get("/charts/sku-return-rate.svg", response_class=Response, responses=SVG_BODY)
async def sku_chart(db: Db, _: Analyst, top: int = Query(20, ge=1, le=100)) -> Response:
    async with db.reader() as s:
        rows = (await analytics.return_rates(s, "sku"))[:top]
        policy = await PolicyRepository(s).get()
    svg = charts.bars(
        "Return rate by SKU",
        [(r["sku"], float(r["return_rate"])) for r in rows],
        float(policy.delist_return_rate),
    )
    return Response(svg, media_type=SVG)


@router.get("/charts/returns-timeline.svg", response_class=Response, responses=SVG_BODY)
async def timeline_chart(db: Db, _: Analyst) -> Response:
    async with db.reader() as s:
        points = await analytics.timeline(s)
    svg = charts.timeline("Returns opened per day", [(p["day"], p["returns"]) for p in points])
    return Response(svg, media_type=SVG)
