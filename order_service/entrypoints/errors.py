"""Domain error → HTTP status; installed as exception handlers on the app."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from order_service.adapters.repository import VersionConflict
from order_service.domain.errors import (
    CampaignLimit,
    DomainError,
    IllegalTransition,
    InvalidRequest,
    NotAllowed,
)
from order_service.handlers.common import OrderNotFound
from order_service.handlers.orders import StaleVersion
from shared.errors import error_body

STATUS = {
    OrderNotFound: 404,
    StaleVersion: 412,
    InvalidRequest: 422,
    CampaignLimit: 409,
    NotAllowed: 409,
    IllegalTransition: 409,
}


def status_of(exc: DomainError) -> int:
    return next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 409)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.details), status_of(exc))

    @app.exception_handler(VersionConflict)
    async def _conflict(request: Request, exc: VersionConflict) -> JSONResponse:
        status, code = (412, "stale_version") if request.method == "PATCH" else (409, "conflict")
        return JSONResponse(error_body(code, f"{exc}; reload and retry"), status)
