"""Composition root of aftersales_service (default port 8003)."""

from __future__ import annotations

from fastapi import FastAPI

from aftersales_service.adapters import rollup
from aftersales_service.adapters.tables import anomalies, messaging, metadata
from aftersales_service.adapters.uow import AftersalesUnitOfWork
from aftersales_service.entrypoints import api_analytics, api_care, api_cases, api_reships
from aftersales_service.entrypoints.consumers import consumers, sla_scheduler
from aftersales_service.entrypoints.deps import install_domain_errors
from aftersales_service.handlers import Deps
from aftersales_service.handlers.care import seed_policy
from aftersales_service.handlers.seed import seed_warehouses
from shared.anomalies import anomalies_router
from shared.clock import Clock
from shared.service import Runtime, build_runtime, create_service_app
from shared.settings import Mode, Settings

DESCRIPTION = """Refunds by stage, returns with grading and liability, complaint SLAs and
return-rate analytics. Cooperates with the order and warehouse services only through events."""


async def _seed(deps: Deps) -> None:
    """Development mode (SPEC §8.1): the default policy and the dev warehouses."""
    await seed_policy(deps.uow(), deps.clock.now())
    await seed_warehouses(deps.uow())


async def _build_rollup(rt: Runtime) -> None:
    """A database whose facts predate the warehouse rollup gets it built once."""
    async with rt.db.session() as s, s.begin():
        await rollup.rebuild_if_missing(s)


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings(service="aftersales")
    runtime = build_runtime(settings, messaging, clock)
    deps = Deps(
        uow=lambda: AftersalesUnitOfWork(runtime.db, runtime.outbox, runtime.inbox),
        clock=runtime.clock,
    )

    async def seed(rt: Runtime) -> None:
        if settings.mode is Mode.development:
            await _seed(deps)

    app = create_service_app(
        title="aftersales_service",
        description=DESCRIPTION,
        runtime=runtime,
        metadata=metadata,
        routers=[
            api_cases.router,
            api_reships.router,
            api_care.router,
            api_analytics.router,
            anomalies_router(anomalies, "cs_agent", "cs_supervisor", "ops"),
        ],
        consumers=lambda rt: consumers(deps, rt),
        on_startup=[_build_rollup, seed],
        background=[lambda _rt: sla_scheduler(deps)],
    )
    app.state.deps = deps
    install_domain_errors(app)
    return app
