"""The relay's read of the outbox visits the unsent rows, not the whole table (issue 14).

The outbox keeps published rows for an hour. SQLite answered the relay's read
(`published_at IS NULL AND parked_at IS NULL`, keys with a parked row left out) through
the index on `parked_at`, where every row is NULL: each read walked all the rows kept,
and at webhook rates the reads took half the order service's time (6 ms a read with
13,400 rows kept; 1.6 ms on an index of the unsent rows). The plan is checked on each
service's migrated schema, so a migration that forgets the index fails too.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from shared.db import Database
from shared.messaging import messaging_tables
from shared.migrations import SERVICES, Tree
from shared.outbox import unsent_rows


@pytest.mark.parametrize("service", SERVICES)
async def test_the_relay_reads_the_unsent_rows_by_their_own_index(service, databases):
    if databases.postgres:
        pytest.skip("the plan named is SQLite's; PostgreSQL's planner reads its statistics")
    db = Database(databases.url(service))
    try:
        await Tree(service).upgrade(db)
        outbox = Tree(service).metadata.tables["outbox"]
        query = unsent_rows(outbox, busy={"order-1", "order-2"}, skip={1, 2}, limit=500)
        compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
        async with db.engine.connect() as conn:
            plan = [row[-1] for row in await conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))]
    finally:
        await db.dispose()
    outer, parked = plan[0], plan[-1]
    assert "ix_outbox_unsent" in outer, plan
    assert "ix_outbox_parked_rows" in parked, plan


def test_the_indexes_are_declared_for_both_databases():
    from sqlalchemy import MetaData

    outbox = messaging_tables(MetaData()).outbox
    indexes = {index.name: index for index in outbox.indexes}
    for name in ("ix_outbox_unsent", "ix_outbox_parked_rows", "ix_outbox_published"):
        options = indexes[name].dialect_options
        assert options["sqlite"]["where"] is not None
        assert options["postgresql"]["where"] is not None
