"""The services' public HTTP APIs, called with the signed-in person's key.

A refusal becomes `ServiceError` carrying the error body's `code` and `message` (what
the person can act on); a service that cannot be reached becomes one too, never a trace.
"""

from __future__ import annotations

from typing import Any

import httpx

from console.settings import ConsoleSettings

SERVICES = ("order", "warehouse", "aftersales")


class ServiceError(Exception):
    def __init__(self, status: int, code: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details or {}


def error_of(response: httpx.Response) -> ServiceError:
    """The service's error body as a `ServiceError` (a body that is not one: its status)."""
    try:
        info = response.json()["error"]
        return ServiceError(
            response.status_code, info["code"], info["message"], info.get("details") or {}
        )
    except (ValueError, KeyError, TypeError):
        return ServiceError(
            response.status_code, "http_error", f"the service answered {response.status_code}"
        )


class Services:
    """One pooled `httpx.AsyncClient` per service, shared by every request."""

    def __init__(
        self, settings: ConsoleSettings, transport: httpx.AsyncBaseTransport | None = None
    ):
        urls = {
            "order": settings.order_url,
            "warehouse": settings.warehouse_url,
            "aftersales": settings.aftersales_url,
        }
        self.clients = {
            name: httpx.AsyncClient(
                base_url=url, timeout=settings.timeout_seconds, transport=transport
            )
            for name, url in urls.items()
        }

    async def close(self) -> None:
        for c in self.clients.values():
            await c.aclose()

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        key: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        raw: bool = False,
    ) -> Any:
        """The JSON answer (or the response itself with `raw`); `ServiceError` otherwise."""
        sent = {"Authorization": f"Bearer {key}", **(headers or {})}
        query = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        try:
            r = await self.clients[service].request(
                method, path, json=json, params=query, headers=sent
            )
        except httpx.HTTPError as exc:
            raise ServiceError(
                503, "unreachable", f"{service} service is not reachable ({type(exc).__name__})"
            ) from exc
        if r.status_code >= 400:
            raise error_of(r)
        return r if raw else r.json()


class Api:
    """`Services` bound to one person's key: `await api.get("order", "/orders")`."""

    def __init__(self, services: Services, key: str):
        self.services, self.key = services, key

    async def get(self, service: str, path: str, **kw: Any) -> Any:
        return await self.services.call(service, "GET", path, self.key, **kw)

    async def post(self, service: str, path: str, body: Any = None, **kw: Any) -> Any:
        return await self.services.call(service, "POST", path, self.key, json=body, **kw)

    async def send(self, service: str, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        return await self.services.call(service, method, path, self.key, json=body, **kw)
