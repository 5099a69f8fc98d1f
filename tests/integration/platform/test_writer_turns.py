"""Write sessions take the writer connections in arrival order.

A writer that opens its next session as soon as the last one closed (the webhook
group commit while webhooks keep coming) must not take the connection ahead of one
already waiting for it (the relay's mark or lease): on SQLite there is one writer
connection, and the relay once waited 4-13 s behind the intake batcher this way.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from shared.db import Database


async def test_a_waiting_writer_is_not_overtaken_by_a_busy_one(databases):
    db = Database(databases.url("turns"), pool_size=1)
    try:
        async with db.session() as session, session.begin():
            await session.execute(text("CREATE TABLE t (n INTEGER)"))
        turns: list[str] = []
        hog_started = asyncio.Event()

        async def hog() -> None:  # back-to-back write transactions, 200 of them
            for i in range(200):  # as the unit of work does: begin, write, commit, close
                session = db.session()
                await session.begin()
                await session.execute(text("INSERT INTO t VALUES (:n)"), {"n": i})
                turns.append("hog")
                hog_started.set()
                await session.commit()
                await session.close()

        async def waiter() -> None:
            await hog_started.wait()
            async with db.session() as session, session.begin():
                await session.execute(text("INSERT INTO t VALUES (-1)"))
                turns.append("waiter")

        await asyncio.gather(hog(), waiter())
        # the waiter asked while the hog's first transaction was open: it goes next or
        # the one after (the hog may have queued for its second already), not last
        assert turns.index("waiter") <= 3, f"waiter got turn {turns.index('waiter')} of 201"
    finally:
        await db.dispose()
