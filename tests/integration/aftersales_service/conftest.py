"""Fixtures: the after-sales app on this test's database and broker, under a ManualClock."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from aftersales_service.adapters.tables import messaging
from aftersales_service.app import create_app
from aftersales_service.entrypoints.consumers import PROJECTION
from aftersales_service.handlers.projection import apply_event
from shared.clock import ManualClock
from shared.envelope import Envelope, decode
from shared.unit_of_work import idempotent
from tests.integration.aftersales_service.events import T0
from tests.support import bearer, running

AGENT, SUPERVISOR, OPS = bearer("dev-cs_agent"), bearer("dev-cs_supervisor"), bearer("dev-ops")


class Harness:
    """The running app plus ways to feed it events and read what it emitted."""

    def __init__(self, app, client, clock: ManualClock):
        self.app, self.client, self.clock = app, client, clock
        self.rt = app.state.runtime

    async def feed(self, *envelopes: Envelope) -> None:
        """Apply events through the consumer's idempotent handler (no broker hop)."""

        async def handle(uow, env):
            await apply_event(uow, env, self.clock.now())

        run = idempotent(PROJECTION, self.app.state.deps.uow, handle)
        for env in envelopes:
            await run(env)

    async def emitted(self, type_name: str | None = None) -> list[Envelope]:
        """Events this service staged in its outbox, in order."""
        t = messaging.outbox
        async with self.rt.db.reader() as s:
            rows = (await s.execute(select(t.c.value).order_by(t.c.id))).scalars().all()
        events = [decode(v) for v in rows]
        return [e for e in events if type_name is None or e.type == type_name]


@pytest.fixture
async def harness(make_settings):
    clock = ManualClock(T0)
    app = create_app(make_settings("aftersales"), clock=clock)
    async with running(app) as client:
        yield Harness(app, client, clock)
