"""A toy service on the real plumbing, for testing the platform guarantees.

Its state change is "record step `seq` of order `order_id`"; its event is
`order.stage_changed` with `trigger = str(seq)`. The downstream consumer keeps
the last step seen per order and flags any step that arrives out of order.
"""

from __future__ import annotations

import asyncio
import sys

from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select, update

from shared import topics
from shared.bus import EventConsumer
from shared.envelope import Envelope, new_event
from shared.events.orders import OrderStageChanged
from shared.messaging import messaging_tables
from shared.service import Runtime, build_runtime
from shared.settings import Settings
from shared.unit_of_work import UnitOfWork, idempotent, idempotent_batch

metadata = MetaData()
tables = messaging_tables(metadata)
steps = Table(
    "steps",
    metadata,
    Column("order_id", String, primary_key=True),
    Column("last", Integer, nullable=False),
)
applied = Table(
    "applied",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", String, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("consumer", String, nullable=False),
    Column("in_order", Integer, nullable=False),
)


def runtime(settings: Settings) -> Runtime:
    return build_runtime(settings, tables)


def uow(rt: Runtime) -> UnitOfWork:
    return UnitOfWork(rt.db, rt.outbox, rt.inbox)


async def record_step(rt: Runtime, order_id: str, seq: int) -> None:
    """The state change and its event, in one transaction."""
    async with uow(rt) as u:
        u.emit(
            topics.ORDERS,
            new_event(
                OrderStageChanged(stage="s", previous="p", trigger=str(seq)),
                producer="toy",
                order_id=order_id,
            ),
        )
        await u.commit()


def consumer(
    rt: Runtime, name: str = "toy", group_id: str | None = None, fail_on: str | None = None
) -> EventConsumer:
    async def handle(u: UnitOfWork, env: Envelope) -> None:
        seq = int(env.typed().trigger)
        if env.order_id == fail_on:
            raise RuntimeError(f"cannot handle {env.order_id}")
        s = u.session
        last = (
            await s.execute(select(steps.c.last).where(steps.c.order_id == env.order_id))
        ).scalar()
        in_order = seq == (last or 0) + 1
        if last is None:
            await s.execute(insert(steps).values(order_id=env.order_id, last=seq))
        else:
            await s.execute(
                update(steps).where(steps.c.order_id == env.order_id).values(last=max(seq, last))
            )
        await s.execute(
            insert(applied).values(
                order_id=env.order_id, seq=seq, consumer=rt.instance_id, in_order=int(in_order)
            )
        )

    return EventConsumer(
        rt.settings,
        rt.bus,
        name=name,
        topics=[topics.ORDERS],
        handler=idempotent(name, lambda: uow(rt), handle),
        batch_handler=idempotent_batch(name, lambda: uow(rt), handle),
        group_id=group_id,
    )


async def count(rt: Runtime, *where) -> int:
    async with rt.db.reader() as s:
        return (
            await s.execute(select(func.count()).select_from(applied).where(*where))
        ).scalar_one()


async def _commit_and_die(settings_json: str, n: int) -> None:
    rt = runtime(Settings.model_validate_json(settings_json))
    await rt.db.create_schema(metadata)
    for seq in range(1, n + 1):
        await record_step(rt, "crash-order", seq)
    await rt.db.engine.dispose()


if __name__ == "__main__":
    # `python -m tests.integration.platform.toy '<settings json>' N`: commit N steps, then
    # die at once, before any relay could publish them.
    import os

    asyncio.run(_commit_and_die(sys.argv[1], int(sys.argv[2])))
    os._exit(137)
