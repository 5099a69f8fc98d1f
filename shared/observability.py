"""`/healthz`, `/readyz`, `/metrics`, and a light request-latency middleware."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from shared import metrics

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz(request: Request) -> dict:
    """Alive: the process answers."""
    return {"status": "ok", "service": request.app.state.settings.service}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Ready: the database and the broker are reachable, every consumer has joined, and
    the relay publishes (its producer is not recovering, no rows wait without progress)."""
    runtime = request.app.state.runtime
    db_ok = await runtime.db.ping()
    broker_ok = await runtime.bus.ping()
    consumers_ok = all(c.assigned for c in runtime.consumers)
    relay = runtime.relay.health()
    ready = db_ok and broker_ok and consumers_ok and relay["ok"]
    body = {
        "ready": ready,
        "database": db_ok,
        "broker": broker_ok,
        "consumers": consumers_ok,
        "relay": relay,
    }
    return JSONResponse(body, 200 if ready else 503)


@router.get("/metrics")
async def prometheus_metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


class LatencyMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware overhead): observes every HTTP request."""

    def __init__(self, app, service: str):
        self.app, self.service = app, service

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start, status = time.perf_counter(), [500]

        async def capture(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            metrics.HTTP_REQUESTS.labels(self.service, scope["method"], str(status[0])).observe(
                time.perf_counter() - start
            )
