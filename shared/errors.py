"""The JSON error format: `{"error": {"code", "message", "details"}}`, never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)
# What FastAPI raises (400) when a body cannot be decoded at all.
UNPARSABLE = "There was an error parsing the body"


class AppError(Exception):
    """An error an entrypoint answers with: HTTP status, stable code, actionable message."""

    def __init__(self, status: int, code: str, message: str, **details: Any):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _field_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc if p not in ("body",)) or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.details), exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field_path(tuple(e["loc"])), "problem": e["msg"]} for e in exc.errors()
        ]
        first = errors[0] if errors else {"field": "body", "problem": "invalid"}
        return JSONResponse(
            error_body(
                "validation_error", f"{first['field']}: {first['problem']}", {"errors": errors}
            ),
            422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == UNPARSABLE:
            # A body that is not UTF-8 JSON is malformed like any other: 422, naming the body.
            problem = {"field": "body", "problem": "not valid JSON (UTF-8)"}
            return JSONResponse(
                error_body("validation_error", "body: not valid JSON", {"errors": [problem]}), 422
            )
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return JSONResponse(
            error_body("internal_error", "internal error; see the service log"), 500
        )
