"""`GET /whoami`: the role (and warehouse) of the caller's key, for clients like the console."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from shared.errors import install_error_handlers
from shared.observability import router
from shared.settings import Settings


def _app() -> FastAPI:
    app = FastAPI()
    app.state.settings = Settings(service="order", _env_file=None)
    install_error_handlers(app)
    app.include_router(router)
    return app


async def _get(key: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        return await http.get("/whoami", headers=headers)


async def test_whoami_names_the_role_and_the_scanner_warehouse():
    r = await _get("dev-cs_agent")
    assert r.status_code == 200
    assert r.json() == {"role": "cs_agent", "warehouse_id": None, "service": "order"}
    r = await _get("dev-scanner-WH-DS-1")
    assert r.json() == {"role": "scanner", "warehouse_id": "WH-DS-1", "service": "order"}


async def test_whoami_refuses_a_missing_or_unknown_key():
    for key in (None, "nope"):
        r = await _get(key)
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "unauthenticated"
