"""`/healthz`, `/readyz`, `/metrics`, `/whoami`, and a light request-latency middleware."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import metrics
from shared.auth import Principal, allow
from shared.openapi import documented

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str
    service: str


class Identity(BaseModel):
    role: str
    warehouse_id: str | None
    service: str


class RelayHealth(BaseModel):
    ok: bool
    recovering: bool
    waiting: int
    seconds_since_progress: float


class Readiness(BaseModel):
    ready: bool
    database: bool
    broker: bool
    consumers: bool
    relay: RelayHealth
    retrying: list[str] | None = None


@router.get("/healthz", responses=documented(Health))
async def healthz(request: Request) -> dict[str, Any]:
    """Alive: the process answers."""
    return {"status": "ok", "service": request.app.state.settings.service}


@router.get("/whoami", responses=documented(Identity))
async def whoami(
    request: Request,
    principal: Annotated[Principal, allow("clerk", "cs_agent", "cs_supervisor", "ops", "scanner")],
) -> dict[str, Any]:
    """The role of the caller's key (and a scanner key's warehouse), so a client such as
    the console can offer what that role may do; any valid key may ask."""
    return {
        "role": principal.role,
        "warehouse_id": principal.warehouse_id,
        "service": request.app.state.settings.service,
    }


@router.get(
    "/readyz",
    responses={
        **documented(Readiness, 200, "Ready"),
        **documented(Readiness, 503, "Not ready: which of the three is missing"),
    },
)
async def readyz(request: Request) -> JSONResponse:
    """Ready: the database and the broker are reachable, every consumer has joined and
    none is stuck retrying an event (`retrying` then names each and why), and the relay
    publishes (its producer is not recovering, no rows wait without progress)."""
    runtime = request.app.state.runtime
    db_ok = await runtime.db.ping()
    broker_ok = await runtime.bus.ping()
    consumers_ok = all(c.assigned for c in runtime.consumers)
    retrying = consumers_retrying(runtime)
    relay = runtime.relay.health()
    ready = db_ok and broker_ok and consumers_ok and relay["ok"] and not retrying
    body = {
        "ready": ready,
        "database": db_ok,
        "broker": broker_ok,
        "consumers": consumers_ok,
        "relay": relay,
    }
    if retrying:
        body["retrying"] = retrying
    return JSONResponse(body, 200 if ready else 503)


def consumers_retrying(runtime: Any) -> list[str]:
    """One reason per consumer holding a partition on an event that fails transiently."""
    return [f"consumer {c.name}: {c.retrying}" for c in runtime.consumers if c.retrying]


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
async def prometheus_metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


class LatencyMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware overhead): observes every HTTP request."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app, self.service = app, service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start, status = time.perf_counter(), [500]

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            metrics.HTTP_REQUESTS.labels(self.service, scope["method"], str(status[0])).observe(
                time.perf_counter() - start
            )
