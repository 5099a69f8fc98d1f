"""Analytics (the after-sales service's figures and SVG charts) and the lifecycle diagram."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from console.client import ServiceError
from console.lifecycle_svg import lifecycle_svg
from console.session import Person, area, render

router = APIRouter()
Analyst = Annotated[Person, area("analytics")]
Anyone = Annotated[Person, area("lifecycle")]
CHARTS = {
    "reasons": "Returns by reason",
    "sku-return-rate": "Return rate by SKU",
    "returns-timeline": "Returns over time",
}


@router.get("/analytics")
async def page(request: Request, p: Analyst, by: str = "reason") -> Response:
    get = p.api.get
    returns, warehouses, complaints, delisting = await asyncio.gather(
        get("aftersales", "/analytics/returns", params={"by": by}),
        get("aftersales", "/analytics/warehouses"),
        get("aftersales", "/analytics/complaints"),
        get("aftersales", "/analytics/delisting"),
    )
    return render(
        request,
        "analytics.html",
        p,
        by=by,
        returns=returns,
        warehouses=warehouses,
        complaints=complaints,
        delisting=delisting,
        charts=CHARTS,
    )


@router.get("/analytics/charts/{name}.svg")
async def chart(name: str, p: Analyst) -> Response:
    """The service's chart, fetched with the person's key (an `<img>` cannot send it)."""
    if name not in CHARTS:
        raise ServiceError(404, "not_found", f"no chart {name}")
    r = await p.api.get("aftersales", f"/analytics/charts/{name}.svg", raw=True)
    return Response(r.content, media_type="image/svg+xml")


@router.get("/lifecycle")
async def lifecycle(request: Request, p: Anyone) -> Response:
    order, warehouse = await asyncio.gather(
        p.api.get("order", "/lifecycle"), p.api.get("warehouse", "/lifecycle")
    )
    shipment = dict(warehouse, main_stages=["queued", "allocated", "labelled", "packed", "shipped"])
    return render(
        request,
        "lifecycle.html",
        p,
        order_svg=Markup(lifecycle_svg(order)),
        shipment_svg=Markup(lifecycle_svg(shipment)),
        order=order,
    )
