"""Route dependencies and the domain-error → HTTP mapping."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from aftersales_service.adapters.uow import AftersalesUnitOfWork
from aftersales_service.domain.errors import (
    Conflict,
    DomainError,
    InvalidRequest,
    LimitExceeded,
    NotFound,
    Refused,
)
from aftersales_service.handlers import Deps
from shared.auth import Principal, allow
from shared.db import Database
from shared.errors import error_body

CS = ("cs_agent", "cs_supervisor")
SUPERVISOR = ("cs_supervisor",)
ANALYSTS = ("ops", "cs_supervisor")

# The caller's principal, if its role may do this (admin always may).
CSAgent = Annotated[Principal, allow(*CS)]
CSOrOps = Annotated[Principal, allow(*CS, "ops")]
Supervisor = Annotated[Principal, allow(*SUPERVISOR)]
Analyst = Annotated[Principal, allow(*ANALYSTS)]
OpsOnly = Annotated[Principal, allow("ops")]
AdminOnly = Annotated[Principal, allow()]


async def get_uow(request: Request) -> AftersalesUnitOfWork:
    deps: Deps = request.app.state.deps
    return deps.uow()


async def get_now(request: Request) -> datetime:
    deps: Deps = request.app.state.deps
    return deps.clock.now()


async def get_db(request: Request) -> Database:
    return request.app.state.runtime.db


Uow = Annotated[AftersalesUnitOfWork, Depends(get_uow)]
Now = Annotated[datetime, Depends(get_now)]
Db = Annotated[Database, Depends(get_db)]

_STATUS = (
    (NotFound, 404),
    (LimitExceeded, 403),
    (InvalidRequest, 422),
    (Conflict, 409),
    (Refused, 409),
)


def install_domain_errors(app: FastAPI) -> None:
    """Every domain error answers with its stable code and details."""

    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        status = next((s for cls, s in _STATUS if isinstance(exc, cls)), 409)
        return JSONResponse(error_body(exc.code, exc.message, exc.details), status)
