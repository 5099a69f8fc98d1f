"""SKU mappings (SPEC §2.3, §8): a platform variant → our SKU, for lines that arrived
without one. Set by a clerk (or admin); read by everyone who reads orders."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from order_service.adapters import sku_mappings as skumap
from order_service.entrypoints import responses as r
from order_service.entrypoints.schemas import KEY_PATTERN, Body, Key40, Key64, Key100
from order_service.handlers.sku_mappings import SkuMapping, set_mapping
from shared.auth import Principal, allow
from shared.openapi import documented, errors

router = APIRouter(tags=["sku-mappings"])
Reader = Annotated[Principal, allow("clerk", "cs_agent", "cs_supervisor", "ops")]
Clerk = Annotated[Principal, allow("clerk")]


class SkuMappingBody(Body):
    platform: Key40
    variant_id: Key100
    sku: Key64


@router.get(
    "/sku-mappings",
    summary="Platform variant → SKU mappings",
    responses={**documented(r.SkuMappings), **errors(422)},
)
async def list_mappings(
    request: Request,
    _: Reader,
    platform: Annotated[str | None, Query(max_length=40, pattern=KEY_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict:
    db = request.app.state.runtime.db
    return {"mappings": await skumap.listing(db, platform, limit, offset)}


@router.put(
    "/sku-mappings",
    summary="Map a platform variant to a SKU; resolves the orders waiting for it",
    responses={**documented(r.SkuMappingWritten), **errors(422)},
)
async def put_mapping(request: Request, body: SkuMappingBody, principal: Clerk) -> dict:
    mapping = SkuMapping(body.platform, body.variant_id, body.sku)
    resolved = await set_mapping(request.app.state.deps, mapping, principal.actor)
    return {"mapping": body.model_dump(), "resolved_orders": resolved}
