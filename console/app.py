"""The console's composition root: settings, the services' clients, pages, static files."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from fastapi import FastAPI, Form, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from console import (
    aftersales,
    analytics,
    inventory,
    liabilities,
    ops,
    orders,
    policy,
    refunds,
    replacements,
    review,
    skus,
    stops,
    warehouse,
)
from console.client import Api, ServiceError, Services
from console.session import (
    KEY_COOKIE,
    Forbidden,
    IdentityCache,
    Person,
    SignInRequired,
    Who,
    person,
    render,
    set_key,
)
from console.settings import ConsoleSettings


def create_app(
    settings: ConsoleSettings | None = None, transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """The console app; `transport` lets tests answer for the services in-process."""
    settings = settings or ConsoleSettings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await app.state.services.close()

    app = FastAPI(title="fulfil console", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.services = Services(settings, transport)
    app.state.identities = IdentityCache()
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    _install_errors(app)
    _install_signin(app)
    pages = (
        orders,
        review,
        skus,
        warehouse,
        stops,
        aftersales,
        policy,
        refunds,
        replacements,
        inventory,
        liabilities,
        analytics,
        ops,
    )
    for module in pages:
        app.include_router(module.router)
    return app


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def _signin(request: Request, _: SignInRequired) -> Response:
        if request.method == "GET" and "fragment" not in request.url.path:
            return RedirectResponse(f"/signin?next={request.url.path}", status_code=303)
        return render(request, "signin.html", None, status_code=401, next="/")

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        message = f"The role {exc.role} cannot use the {exc.area} pages."
        return render(request, "error.html", None, status_code=403, message=message)

    @app.exception_handler(ServiceError)
    async def _service(request: Request, exc: ServiceError) -> Response:
        """A page whose service refused or is down: its message, never a trace."""
        try:
            p = await person(request)
        except (SignInRequired, ServiceError):
            p = None
        return render(
            request, "error.html", p, status_code=exc.status, message=exc.message, code=exc.code
        )


def _install_signin(app: FastAPI) -> None:
    @app.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok", "service": "console"}

    @app.get("/signin")
    async def signin_page(request: Request, next: str = "/") -> Response:
        return render(request, "signin.html", None, next=next)

    @app.post("/signin")
    async def signin(request: Request, key: str = Form(""), next: str = Form("/")) -> Response:
        api = Api(request.app.state.services, key.strip())
        try:
            who = await request.app.state.identities.identify(api)
        except ServiceError as exc:
            return render(
                request, "signin.html", None, status_code=401, next=next, error=exc.message
            )
        home = Person(who["role"], who.get("warehouse_id"), api).home
        target = (
            next if next.startswith("/") and not next.startswith("//") and next != "/" else home
        )
        response = RedirectResponse(target, status_code=303)
        set_key(response, key.strip(), request.app.state.settings.cookie_secure)
        return response

    @app.post("/signout")
    async def signout(request: Request) -> Response:
        if key := request.cookies.get(KEY_COOKIE):
            request.app.state.identities.forget(key)
        response = RedirectResponse("/signin", status_code=303)
        response.delete_cookie(KEY_COOKIE)
        return response

    @app.get("/")
    async def home(p: Who) -> Response:
        return RedirectResponse(p.home, status_code=303)
