"""Signed platform webhooks: generic JSON (SPEC §2.3) and Shopify.

Order of checks: body size (413) → signature and replay window (401, nothing
stored) → body shape (422 naming the field) → idempotent ingest (202 new, 200
duplicate). Cancellations (generic, Shopify `orders/cancelled`) answer 202 with the
mode the cancel took, or `refused` with the rule's reason.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TypeGuard, TypeVar

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from order_service.entrypoints.responses import WebhookAnswer
from order_service.entrypoints.schemas import (
    GenericCancellation,
    GenericDelivery,
    GenericOrder,
    GenericRefund,
)
from order_service.entrypoints.shopify import ShopifyCancelledOrder, ShopifyOrder, shop_from_domain
from order_service.handlers import Deps
from order_service.handlers.notices import (
    PlatformNotice,
    WebhookResult,
    cancellation_notice,
    ingest_notice,
)
from order_service.handlers.webhooks import IncomingOrder
from shared.errors import AppError
from shared.openapi import documented, errors, inline_schema

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
REPLAY_WINDOW_SECONDS = 300
# A Shopify line item is 2-3 KB with its price sets: its bodies may be 4x the generic limit.
SHOPIFY_BODY_FACTOR = 4
ORDER_TOPICS = ("orders/create", "orders/updated", "orders/paid")
M = TypeVar("M", bound=BaseModel)


def _header(name: str, description: str, pattern: str | None = None) -> dict:
    schema = {"type": "string", "minLength": 1} | ({"pattern": pattern} if pattern else {})
    return {
        "name": name,
        "in": "header",
        "required": True,
        "description": description,
        "schema": schema,
    }


GENERIC_HEADERS = [
    _header("X-Shop-Id", "the shop whose secret signs the body"),
    _header("X-Timestamp", "Unix seconds; refused outside a 5-minute window", "^[0-9]+$"),
    _header(
        "X-Signature",
        'sha256=<hex HMAC-SHA256 of "<X-Timestamp>." + raw body under the shop\'s secret>',
        "^sha256=[0-9a-f]{64}$",
    ),
]
SHOPIFY_HEADERS = [
    _header("X-Shopify-Hmac-Sha256", "base64 HMAC-SHA256 of the raw body under the secret"),
    _header("X-Shopify-Shop-Domain", "e.g. demo-shop.myshopify.com"),
    _header("X-Shopify-Webhook-Id", "de-duplicates deliveries"),
    {
        "name": "X-Shopify-Topic",
        "in": "header",
        "required": False,
        "description": "orders/create (default), orders/updated, orders/paid, orders/cancelled",
        "schema": {"type": "string"},
    },
]


def _signed(headers: list[dict], body: type[BaseModel]) -> dict:
    """Decorator arguments of a signed webhook: headers, body schema, every answer.

    The body is read raw (the signature covers its bytes), so it is declared here.
    """
    return {
        "status_code": 202,
        "response_model": None,
        "responses": {
            **documented(WebhookAnswer, 202, "Stored (new)"),
            **documented(WebhookAnswer, 200, "Duplicate delivery, or ignored (`outcome`)"),
            **errors(401, 413, 422),
        },
        "openapi_extra": {
            "parameters": headers,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": inline_schema(body)}},
            },
        },
    }


def _digits(text: str | None, most: int = 18) -> TypeGuard[str]:
    """Plain ASCII digits that fit an integer (`"²".isdigit()` is true, `int("²")` fails)."""
    return text is not None and text.isascii() and text.isdigit() and 0 < len(text) <= most


async def _body(request: Request, factor: int = 1) -> bytes:
    limit = request.app.state.settings.webhook_max_bytes * factor
    declared = request.headers.get("content-length")
    if _digits(declared) and int(declared) > limit:
        raise AppError(413, "payload_too_large", f"webhook bodies are limited to {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise AppError(413, "payload_too_large", f"webhook bodies are limited to {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _secret(request: Request, shop_id: str, kind: str) -> str:
    secret = request.app.state.settings.shop_secrets.get(shop_id, {}).get(kind)
    if not secret:
        raise AppError(401, "bad_signature", f"unknown shop {shop_id!r}")
    return secret


async def _verified_generic(request: Request) -> tuple[str, bytes]:
    """Check `X-Shop-Id`, `X-Timestamp` (±5 min) and `X-Signature: sha256=<hex>`."""
    body = await _body(request)
    shop_id = request.headers.get("x-shop-id", "")
    stamp = request.headers.get("x-timestamp", "")
    signature = request.headers.get("x-signature", "")
    if not (shop_id and stamp and signature):
        raise AppError(401, "bad_signature", "send X-Shop-Id, X-Timestamp and X-Signature")
    if not _digits(stamp, 12):
        raise AppError(401, "bad_signature", "X-Timestamp must be Unix seconds")
    now = request.app.state.runtime.clock.now().timestamp()
    if abs(now - int(stamp)) > REPLAY_WINDOW_SECONDS:
        raise AppError(401, "stale_timestamp", "X-Timestamp is outside the 5-minute window")
    key = _secret(request, shop_id, "generic").encode()
    expected = "sha256=" + hmac.new(key, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise AppError(401, "bad_signature", "signature does not match the body")
    return shop_id, body


def _parse(model: type[M], body: bytes) -> M:
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None


def _answer(result: WebhookResult) -> JSONResponse:
    body = {
        "order_id": result.order_id,
        "stage": result.stage,
        "duplicate": result.duplicate,
        "outcome": result.outcome,
        **result.extra,
    }
    return JSONResponse(body, 200 if result.duplicate else 202)


async def _intake(request: Request, cmd: IncomingOrder) -> WebhookResult:
    """Orders go through the intake batcher: concurrent webhooks share one transaction."""
    deps: Deps = request.app.state.deps
    assert deps.intake is not None  # wired by create_app
    return await deps.intake.submit(cmd)


@router.post(
    "/generic/orders",
    summary="Canonical signed order webhook (202 new, 200 duplicate)",
    **_signed(GENERIC_HEADERS, GenericOrder),
)
async def generic_order(request: Request) -> JSONResponse:
    shop_id, body = await _verified_generic(request)
    o = _parse(GenericOrder, body)
    cmd = IncomingOrder(
        source=f"generic:{shop_id}",
        webhook_id=o.event_id,
        shop_id=shop_id,
        platform=o.platform,
        platform_order_id=o.platform_order_id,
        buyer=o.buyer.model_dump(),
        address=o.address.model_dump(),
        lines=[ln.as_line() for ln in o.lines],
        total=o.total,
        shipping=o.shipping,
        discount=o.discount,
        currency=o.currency,
        paid_at=o.paid_at,
        note=o.note,
        updated_at=o.updated_at,
    )
    return _answer(await _intake(request, cmd))


@router.post(
    "/generic/refunds",
    summary="Refund request from the platform (parked if early)",
    **_signed(GENERIC_HEADERS, GenericRefund),
)
async def generic_refund(request: Request) -> JSONResponse:
    _, body = await _verified_generic(request)
    r = _parse(GenericRefund, body)
    notice = PlatformNotice(
        "refund",
        r.platform,
        r.platform_order_id,
        r.platform_refund_id,
        {
            "platform_refund_id": r.platform_refund_id,
            "amount": str(r.amount),
            "reason": r.reason,
            "skus": r.skus,
        },
    )
    return _answer(await ingest_notice(request.app.state.deps, notice))


@router.post(
    "/generic/deliveries",
    summary="Delivery confirmation (parked if early)",
    **_signed(GENERIC_HEADERS, GenericDelivery),
)
async def generic_delivery(request: Request) -> JSONResponse:
    _, body = await _verified_generic(request)
    d = _parse(GenericDelivery, body)
    notice = PlatformNotice(
        "delivery",
        d.platform,
        d.platform_order_id,
        d.platform_order_id,
        {"delivered_at": d.delivered_at.isoformat(), "source": d.source},
    )
    return _answer(await ingest_notice(request.app.state.deps, notice))


@router.post(
    "/generic/cancellations",
    summary="Order cancelled on the platform: the CS cancel's stage path (parked if early)",
    **_signed(GENERIC_HEADERS, GenericCancellation),
)
async def generic_cancellation(request: Request) -> JSONResponse:
    _, body = await _verified_generic(request)
    c = _parse(GenericCancellation, body)
    notice = cancellation_notice(
        c.platform,
        c.platform_order_id,
        webhook_id=c.event_id,
        reason=c.reason or f"cancelled on {c.platform}",
        cancelled_at=c.cancelled_at,
    )
    return _answer(await ingest_notice(request.app.state.deps, notice))


async def _verified_shopify(request: Request) -> tuple[str, str, str, bytes]:
    """Check `X-Shopify-Hmac-Sha256` (base64 HMAC of the raw body); → shop, topic, id, body."""
    body = await _body(request, SHOPIFY_BODY_FACTOR)
    domain = request.headers.get("x-shopify-shop-domain", "")
    given = request.headers.get("x-shopify-hmac-sha256", "")
    webhook_id = request.headers.get("x-shopify-webhook-id", "")
    topic = request.headers.get("x-shopify-topic", "orders/create")
    if not (domain and given and webhook_id):
        raise AppError(401, "bad_signature", "send the X-Shopify-* headers")
    shop_id = shop_from_domain(domain)
    key = _secret(request, shop_id, "shopify").encode()
    expected = base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(expected, given):
        raise AppError(401, "bad_signature", "X-Shopify-Hmac-Sha256 does not match the body")
    return shop_id, topic, webhook_id, body


@router.post(
    "/shopify/orders",
    summary="Shopify orders/create, orders/updated, orders/paid and orders/cancelled",
    **_signed(SHOPIFY_HEADERS, ShopifyOrder),
)
async def shopify_order(request: Request) -> JSONResponse:
    shop_id, topic, webhook_id, body = await _verified_shopify(request)
    if topic == "orders/cancelled":
        c = _parse(ShopifyCancelledOrder, body)
        notice = cancellation_notice(
            "shopify",
            str(c.id),
            webhook_id=webhook_id,
            reason=c.cancel_reason or "cancelled on shopify",
            cancelled_at=c.cancelled_at,
        )
        return _answer(await ingest_notice(request.app.state.deps, notice))
    if topic not in ORDER_TOPICS:
        raise AppError(
            422,
            "unsupported_topic",
            f"topic {topic!r} is not handled here",
            field="X-Shopify-Topic",
        )
    o = _parse(ShopifyOrder, body)
    if not o.paid:
        return JSONResponse(
            {"order_id": None, "stage": None, "duplicate": False, "outcome": "ignored_unpaid"}, 200
        )
    cmd = IncomingOrder(
        source=f"shopify:{shop_id}",
        webhook_id=webhook_id,
        shop_id=shop_id,
        platform="shopify",
        platform_order_id=str(o.id),
        buyer=o.buyer(),
        address=o.address(),
        lines=o.lines(),
        total=o.total_price,
        shipping=o.shipping(),
        discount=o.discount(),
        currency=o.currency,
        paid_at=o.paid_at(),
        note=o.note or "",
        updated_at=o.updated_at,
    )
    return _answer(await _intake(request, cmd))
