"""Named bounds on request input that every service shares, and the API body-size limit.

Over a bound a request is refused before anything is stored: a body over its
size limit with 413 `payload_too_large`, any other bound with 422 naming the
field. Service-specific bounds live beside each service's request models.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import error_body

MONEY_MAX = Decimal("1000000000")  # 10^9 in the currency's major unit, 2 decimal places
QTY_MAX = 10_000  # units of one SKU on one line
ID_MAX = 128  # ids, platform ids, warehouse and supplier ids
SKU_MAX = 64  # SKUs: what every service stores for a line
CODE_MAX = 64  # reason codes, carriers, filters
NAME_MAX = 200  # names, subjects, addresses' parts
TEXT_MAX = 2_000  # notes, reasons, messages: and any other string in a request body
LINES_MAX = 500  # lines of an order edit, a return, an inspection
IDS_MAX = 1_000  # ids in one batch request or one stop-shipment scope field
OFFSET_MAX = 1_000_000  # how far a list can be paged
API_BODY_MAX_BYTES = 1024 * 1024  # non-webhook request bodies (webhooks have their own)
INSTANT_MIN = datetime(2000, 1, 1, tzinfo=UTC)  # timestamps in a request body
INSTANT_MAX = datetime(2100, 1, 1, tzinfo=UTC)


def _instant(value: datetime) -> datetime:
    if not INSTANT_MIN <= value <= INSTANT_MAX:
        raise ValueError(f"must be between {INSTANT_MIN:%Y-%m-%d} and {INSTANT_MAX:%Y-%m-%d}")
    return value


Money = Annotated[Decimal, Field(ge=0, le=MONEY_MAX, decimal_places=2)]
PositiveMoney = Annotated[Decimal, Field(gt=0, le=MONEY_MAX, decimal_places=2)]
Qty = Annotated[int, Field(ge=1, le=QTY_MAX)]
Id = Annotated[str, Field(min_length=1, max_length=ID_MAX)]
Sku = Annotated[str, Field(min_length=1, max_length=SKU_MAX)]
Code = Annotated[str, Field(min_length=1, max_length=CODE_MAX)]
Name = Annotated[str, Field(max_length=NAME_MAX)]
Text = Annotated[str, Field(max_length=TEXT_MAX)]
Offset = Annotated[int, Field(ge=0, le=OFFSET_MAX)]
Instant = Annotated[AwareDatetime, AfterValidator(_instant)]


# NUL and lone surrogates: no database stores them (PostgreSQL refuses NUL in text).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable_at(value: object, path: str = "") -> str | None:
    """The path of the first string (key or value) no database can store, if any."""
    if isinstance(value, str):
        return (path or "body") if UNSTORABLE.search(value) else None
    items: Iterable[tuple[object, object]]
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        here = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and UNSTORABLE.search(key):
            return here
        if (found := unstorable_at(item, here)) is not None:
            return found
    return None


class BoundedBody(BaseModel):
    """A request body: unknown fields refused, no string longer than TEXT_MAX, no string
    a database cannot store (NUL, lone surrogates)."""

    model_config = ConfigDict(extra="forbid", str_max_length=TEXT_MAX)

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: object) -> object:
        if (path := unstorable_at(data)) is not None:
            raise ValueError(f"{path}: NUL characters and lone surrogates are not allowed")
        return data


class RequestLimits:
    """Pure ASGI, before any route: a NUL in the path or query is 422; a body over
    `max_bytes` is 413. Paths under `skip` (the webhooks, which enforce their own body
    limit) have only the NUL check."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, skip: tuple[str, ...] = ("/webhooks/",)
    ) -> None:
        self.app, self.max_bytes, self.skip = app, max_bytes, skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            return await _answer(send, 422, "validation_error", "NUL in the path or query")
        if scope["path"].startswith(self.skip):
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and (len(declared) > 15 or int(declared) > self.max_bytes):
            return await self._refuse(send)
        if declared:
            return await self.app(scope, receive, send)
        # No declared length (chunked): read up to the limit, then replay what was read.
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                return await self._refuse(send)
            if message["type"] != "http.request" or not message.get("more_body"):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        return await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        message = f"request bodies are limited to {self.max_bytes} bytes"
        await _answer(send, 413, "payload_too_large", message, max_bytes=self.max_bytes)


async def _answer(send: Send, status: int, code: str, message: str, **details: Any) -> None:
    body = json.dumps(error_body(code, message, details)).encode()
    headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
