"""Sign-in, the person behind a request, what their role may open, and page rendering.

The API key lives in an HttpOnly, SameSite=Strict cookie (Secure when
`CONSOLE_COOKIE_SECURE`): scripts cannot read it and no other site's page can make the
browser send it. That is the console's CSRF defence: every form POSTs to the console
itself, and a cross-site POST arrives without the cookie, so it is treated as signed out.
The role comes from the services (`GET /whoami`), never from the cookie; the services
still check every call, so the role here only decides what a page offers.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, unquote

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from console.client import Api, ServiceError

KEY_COOKIE = "fulfil_key"
FLASH_COOKIE = "fulfil_flash"
IDENTITY_TTL = 60.0  # seconds a key's role is remembered before asking the service again

EVERYONE = frozenset({"clerk", "cs_agent", "cs_supervisor", "ops", "admin", "scanner"})
CS = frozenset({"cs_agent", "cs_supervisor", "admin"})
# Page areas and the roles that may open them (the services enforce the same per call).
AREAS: dict[str, frozenset[str]] = {
    "orders": frozenset({"clerk", "cs_agent", "cs_supervisor", "ops", "admin"}),
    "review": frozenset({"clerk", "admin"}),
    "warehouse": frozenset({"clerk", "ops", "admin", "scanner"}),
    "stops": EVERYONE,
    "aftersales": CS,
    "analytics": frozenset({"cs_supervisor", "ops", "admin"}),
    "inventory": frozenset({"clerk", "cs_agent", "cs_supervisor", "ops", "admin"}),
    "lifecycle": EVERYONE,
    "liabilities": CS | {"ops"},
    "ops": frozenset({"ops", "admin"}),
    "skus": frozenset({"clerk", "cs_agent", "cs_supervisor", "ops", "admin"}),
}
# Actions a page offers, by role.
ACTIONS: dict[str, frozenset[str]] = {
    "edit": CS,
    "cancel": CS,
    "refund": CS,
    "review": frozenset({"clerk", "admin"}),
    "submit": frozenset({"clerk", "admin"}),
    "scan": frozenset({"clerk", "ops", "admin", "scanner"}),
    "hold": frozenset({"clerk", "ops", "admin"}),
    "stop": frozenset({"ops", "admin"}),
    "stock": frozenset({"ops", "admin"}),
    "review_policy": frozenset({"admin"}),
    "override": frozenset({"cs_supervisor", "admin"}),
    "map_sku": frozenset({"clerk", "admin"}),
    "return_policy": frozenset({"admin"}),
}
NAV = [
    ("orders", "/orders", "Orders"),
    ("review", "/review", "Review queue"),
    ("skus", "/sku-mappings", "SKU mappings"),
    ("warehouse", "/warehouses", "Warehouses"),
    ("stops", "/stops", "Stop-shipments"),
    ("aftersales", "/aftersales", "After-sales"),
    ("inventory", "/inventory", "Inventory"),
    ("liabilities", "/liabilities", "Liabilities"),
    ("analytics", "/analytics", "Analytics"),
    ("ops", "/ops", "Operations"),
    ("lifecycle", "/lifecycle", "Lifecycle"),
]

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


@dataclass(frozen=True)
class Person:
    role: str
    warehouse_id: str | None
    api: Api

    def may(self, action: str) -> bool:
        return self.role in ACTIONS[action]

    def opens(self, area: str) -> bool:
        return self.role in AREAS[area]

    @property
    def label(self) -> str:
        return f"scanner · {self.warehouse_id}" if self.role == "scanner" else self.role

    @property
    def home(self) -> str:
        if self.role == "scanner":
            return f"/warehouses/{self.warehouse_id}"
        return {"clerk": "/review", "ops": "/stops"}.get(self.role, "/orders")


class SignInRequired(Exception):
    """Raised by `person`: the request has no valid key; answered with the sign-in page."""


class Forbidden(Exception):
    def __init__(self, role: str, area: str):
        self.role, self.area = role, area


class IdentityCache:
    """Key digest → (role, warehouse), for `IDENTITY_TTL` seconds."""

    def __init__(self) -> None:
        self.known: dict[str, tuple[float, dict[str, Any]]] = {}

    async def identify(self, api: Api) -> dict[str, Any]:
        digest = hashlib.sha256(api.key.encode()).hexdigest()
        hit = self.known.get(digest)
        if hit and time.monotonic() - hit[0] < IDENTITY_TTL:
            return hit[1]
        found = await api.get("order", "/whoami")
        self.known[digest] = (time.monotonic(), found)
        return found

    def forget(self, key: str) -> None:
        self.known.pop(hashlib.sha256(key.encode()).hexdigest(), None)


async def person(request: Request) -> Person:
    key = request.cookies.get(KEY_COOKIE)
    if not key:
        raise SignInRequired
    api = Api(request.app.state.services, key)
    try:
        who = await request.app.state.identities.identify(api)
    except ServiceError as exc:
        if exc.status == 401:
            raise SignInRequired from exc
        raise
    return Person(who["role"], who.get("warehouse_id"), api)


Who = Annotated[Person, Depends(person)]


def area(name: str) -> Any:
    """Dependency: the signed-in person, if their role may open `name`."""

    async def dependency(p: Who) -> Person:
        if not p.opens(name):
            raise Forbidden(p.role, name)
        return p

    return Depends(dependency)


def set_key(response: Response, key: str, secure: bool) -> None:
    response.set_cookie(KEY_COOKIE, key, httponly=True, samesite="strict", secure=secure)


def back(url: str, *, ok: str | None = None, error: Any = None) -> RedirectResponse:
    """303 to `url` (the page the form was on) carrying a one-shot message for it."""
    response = RedirectResponse(url, status_code=303)
    flash: dict[str, Any] = {}
    if ok:
        flash["ok"] = ok
    if isinstance(error, ServiceError):
        flash["error"] = {"code": error.code, "message": error.message, "details": error.details}
    elif error:
        flash["error"] = {"code": "", "message": str(error), "details": {}}
    if flash:
        response.set_cookie(
            FLASH_COOKIE, quote(json.dumps(flash)), httponly=True, samesite="strict", max_age=60
        )
    return response


def render(
    request: Request, template: str, p: Person | None = None, status_code: int = 200, **context: Any
) -> Response:
    """A page, with the navigation of the person's role and any one-shot message."""
    flash: dict[str, Any] = {}
    if raw := request.cookies.get(FLASH_COOKIE):
        try:
            flash = json.loads(unquote(raw))
        except ValueError:
            flash = {}
    nav = [(href, title) for name, href, title in NAV if p and p.opens(name)]
    response = templates.TemplateResponse(
        request,
        template,
        {"person": p, "nav": nav, "flash": flash, "path": request.url.path, **context},
        status_code=status_code,
    )
    if raw:
        response.delete_cookie(FLASH_COOKIE)
    return response
