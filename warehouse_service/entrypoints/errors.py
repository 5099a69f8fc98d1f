"""Domain error → HTTP status; installed as an exception handler on the app."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from shared.errors import AppError, error_body
from warehouse_service.domain import errors as e

STATUS: dict[type[e.DomainError], int] = {
    e.NotFound: 404,
    e.InvalidRequest: 422,
    e.WrongStep: 409,
    e.Held: 423,
    e.ScanMismatch: 409,
    e.DuplicateTracking: 409,
    e.NoInterceptionPending: 409,
    e.AlreadyExists: 409,
    e.Conflict: 409,
    e.StopHoldRelease: 409,
    e.WrongWarehouse: 403,
}


def to_app_error(exc: e.DomainError) -> AppError:
    err = AppError(STATUS.get(type(exc), 409), exc.code, exc.message)
    err.details = dict(exc.details)  # may hold keys such as "status"
    return err


def install(app: FastAPI) -> None:
    @app.exception_handler(e.DomainError)
    async def _domain_error(_: Request, exc: e.DomainError) -> JSONResponse:
        err = to_app_error(exc)
        return JSONResponse(error_body(err.code, err.message, err.details), err.status)
