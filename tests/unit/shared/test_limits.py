"""The shared bounds: money, quantities, instants, storable strings, the body-size limit."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import TypeAdapter, ValidationError

from shared.limits import (
    MONEY_MAX,
    QTY_MAX,
    BoundedBody,
    Instant,
    Money,
    Qty,
    RequestLimits,
    unstorable_at,
)


@pytest.mark.parametrize("value", ["0", "0.01", "59.00", str(MONEY_MAX)])
def test_money_in_range(value):
    assert TypeAdapter(Money).validate_python(value) == Decimal(value)


@pytest.mark.parametrize("value", ["-0.01", "1000000000.01", "1e100", "0.001", "NaN", "Infinity"])
def test_money_out_of_range(value):
    with pytest.raises(ValidationError):
        TypeAdapter(Money).validate_python(value)


def test_qty_and_instant_bounds():
    assert TypeAdapter(Qty).validate_python(QTY_MAX) == QTY_MAX
    for bad in (0, QTY_MAX + 1, 10**30):
        with pytest.raises(ValidationError):
            TypeAdapter(Qty).validate_python(bad)
    ok = datetime(2026, 1, 1, tzinfo=UTC)
    assert TypeAdapter(Instant).validate_python(ok) == ok
    with pytest.raises(ValidationError, match="between 2000-01-01 and 2100-01-01"):
        TypeAdapter(Instant).validate_python("9999-12-31T23:59:00-14:00")


def test_unstorable_strings_are_found_with_their_path():
    assert unstorable_at({"a": ["ok", {"b": "x\x00"}]}) == "a.1.b"
    assert unstorable_at({"k\ud800": 1}) == "k\ud800"
    assert unstorable_at({"a": ["ok"], "n": 1}) is None

    class M(BoundedBody):
        note: str = ""

    with pytest.raises(ValidationError, match="note: NUL"):
        M.model_validate({"note": "a\x00"})
    with pytest.raises(ValidationError, match="at most 2000"):
        M.model_validate({"note": "a" * 2001})
    with pytest.raises(ValidationError, match="Extra inputs"):
        M.model_validate({"other": 1})


def _app(max_bytes: int) -> FastAPI:
    app = FastAPI()

    @app.post("/api")
    @app.post("/webhooks/x")
    async def echo(request: Request) -> dict:
        return {"size": len(await request.body())}

    @app.get("/api")
    async def get() -> dict:
        return {}

    app.add_middleware(RequestLimits, max_bytes=max_bytes)
    return app


async def test_request_limits_refuse_large_bodies_and_nul_queries():
    transport = httpx.ASGITransport(app=_app(100))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        assert (await c.post("/api", content=b"x" * 100)).json() == {"size": 100}
        r = await c.post("/api", content=b"x" * 101)
        assert r.status_code == 413 and r.json()["error"]["details"]["max_bytes"] == 100

        async def chunks(n):
            for _ in range(n):
                yield b"x" * 30

        assert (await c.post("/api", content=chunks(3))).json() == {"size": 90}
        assert (await c.post("/api", content=chunks(4))).status_code == 413
        r = await c.post("/api", content=b"x", headers={"content-length": "9" * 5000})
        assert r.status_code == 413
        # webhooks enforce their own limit
        assert (await c.post("/webhooks/x", content=b"x" * 500)).json() == {"size": 500}
        r = await c.get("/api", params={"q": "a\x00"})
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"
