"""Each service's migrations make exactly the tables its code declares, upgrade a database
that has rows in it, and gate start-up (on this run's shape: SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    func,
    insert,
    select,
    text,
)

from shared.db import Database
from shared.migrations import SERVICES, SchemaBehind, Tree
from tests.support import running

NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
PRODUCTION = {
    "FULFIL_MODE": "production",
    "FULFIL_API_KEYS": '{"prod-ops-key-0123456789": "ops"}',
    "FULFIL_SHOP_SECRETS": '{"s": {"generic": "gen-secret-0123", "shopify": "shop-secret-0123"}}',
}


def drift_message(service: str, diff: list) -> str:
    return (
        f"the {service} migrations do not make the tables its code declares: {diff}; "
        f'add a revision: make revision SERVICE={service} MESSAGE="what changed"'
    )


def load_app(service: str, settings):
    from services.serve import load_app

    return load_app(service, settings)


@pytest.fixture
async def database(databases):
    """`database(service)` → a Database on a fresh database (disposed after the test)."""
    opened: list[Database] = []

    def open_(service: str, url: str | None = None) -> Database:
        opened.append(Database(url or databases.url(service)))
        return opened[-1]

    yield open_
    for db in opened:
        await db.dispose()


async def diff(tree: Tree, db: Database) -> list:
    async with db.engine.connect() as conn:
        return await conn.run_sync(tree.diff_on)


@pytest.mark.parametrize("fast", [True, False], ids=["rendered", "op-by-op"])
@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_make_exactly_the_declared_tables(service, fast, database):
    tree, db = Tree(service), database(service)
    async with db.engine.begin() as conn:
        await conn.run_sync(tree.upgrade_on, "head", fast=fast)
    found = await diff(tree, db)
    assert not found, drift_message(service, found)
    await tree.check(db)  # at head: production would serve


async def test_a_table_without_a_revision_fails_naming_the_command(database):
    """What a helper sees after adding a table to the code and no revision."""
    tree, db = Tree("order"), database("order")
    await tree.upgrade(db)
    grown = MetaData()
    for table in tree.metadata.tables.values():
        table.to_metadata(grown)
    Table("not_in_any_revision", grown, Column("sku", String(100), primary_key=True))
    async with db.engine.connect() as conn:
        found = await conn.run_sync(lambda c: _compare(c, grown))
    assert [d[0] for d in found] == ["add_table"]
    assert "make revision SERVICE=order" in drift_message("order", found)


def _compare(conn, metadata: MetaData) -> list:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    return compare_metadata(MigrationContext.configure(conn), metadata)


async def test_shipments_keep_half_full_pages_on_postgresql(database, databases):
    if not databases.postgres:
        pytest.skip("fillfactor is a PostgreSQL storage option")
    for fast in (True, False):
        db = database("warehouse")
        async with db.engine.begin() as conn:
            await conn.run_sync(Tree("warehouse").upgrade_on, "head", fast=fast)
            options = await conn.scalar(
                text("SELECT reloptions FROM pg_class WHERE relname = 'shipments'")
            )
        assert "fillfactor=50" in options


def _value(column: Column):
    """A plain value of the column's type (the generic row of the upgrade test)."""
    kind = column.type
    if isinstance(kind, JSON):
        return {"k": 1}
    if isinstance(kind, DateTime):
        return NOW
    if isinstance(kind, Date):
        return NOW.date()
    if isinstance(kind, Boolean):
        return True
    if isinstance(kind, Integer):
        return 1
    if isinstance(kind, Float | Numeric):
        return 1
    if isinstance(kind, LargeBinary):
        return b"x"
    if isinstance(kind, String):
        return "x"
    raise AssertionError(f"no sample value for {column.table.name}.{column.name} ({kind!r})")


def _fill(conn) -> dict[str, int]:
    """One row in every table of the database as it is (reflected), but Alembic's own."""
    reflected = MetaData()
    reflected.reflect(conn)
    counts = {}
    for table in reflected.sorted_tables:
        if table.name == "alembic_version":
            continue
        row = {c.name: _value(c) for c in table.columns if c.autoincrement is not True}
        conn.execute(insert(table).values(row))
        counts[table.name] = 1
    return counts


def _counts(conn, names) -> dict[str, int]:
    reflected = MetaData()
    reflected.reflect(conn, only=list(names))
    return {
        name: conn.scalar(select(func.count()).select_from(reflected.tables[name]))
        for name in names
    }


@pytest.mark.parametrize("service", SERVICES)
async def test_a_database_at_the_first_revision_with_rows_upgrades_to_head(
    service, make_settings, database
):
    settings = make_settings(service, **PRODUCTION)
    tree, db = Tree(service), database(service, settings.database_url)
    async with db.engine.begin() as conn:
        await conn.run_sync(tree.upgrade_on, tree.first)
        filled = await conn.run_sync(_fill)
    assert len(filled) >= 5, filled
    await tree.upgrade(db)
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_counts, filled) == filled
    assert not await diff(tree, db)
    # Production serves on it (it refuses a database that is not at head).
    async with running(load_app(service, settings)) as client:
        assert (await client.get("/healthz")).status_code == 200


async def test_make_migrate_adopts_a_database_made_before_migrations(database, databases):
    """`create_all` made it (0001's tables, no alembic_version), with shipments at the
    default fillfactor on PostgreSQL (the README once said to ALTER it by hand): migrating
    stamps it, sets the fillfactor and upgrades it."""
    tree, db = Tree("warehouse"), database("warehouse")
    async with db.engine.begin() as conn:
        await conn.run_sync(tree.upgrade_on, tree.first, fast=False)
        await conn.execute(text("DROP TABLE alembic_version"))
        filled = await conn.run_sync(_fill)
        if databases.postgres:
            await conn.execute(text("ALTER TABLE shipments RESET (fillfactor)"))
    await tree.upgrade(db)
    async with db.engine.connect() as conn:
        assert await conn.run_sync(tree.current) == (tree.head,)
        assert await conn.run_sync(_counts, filled) == filled
        if databases.postgres:
            options = await conn.scalar(
                text("SELECT reloptions FROM pg_class WHERE relname = 'shipments'")
            )
            assert "fillfactor=50" in options
    assert not await diff(tree, db)


@pytest.mark.parametrize("service", SERVICES)
async def test_production_refuses_a_database_without_the_schema(service, make_settings):
    app = load_app(service, make_settings(service, **PRODUCTION))
    with pytest.raises(SchemaBehind, match="run `make migrate`"):
        async with running(app):
            pass


async def test_production_refuses_a_database_migrated_by_newer_code(make_settings, database):
    settings = make_settings("aftersales", **PRODUCTION)
    tree, db = Tree("aftersales"), database("aftersales", settings.database_url)
    await tree.upgrade(db)
    async with db.engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaBehind, match="9999, which this code does not know"):
        async with running(load_app("aftersales", settings)):
            pass


async def test_two_instances_migrating_at_once_take_turns(databases):
    url = databases.url("warehouse")
    tree = Tree("warehouse")
    dbs = [Database(url) for _ in range(3)]
    try:
        await asyncio.gather(*(tree.upgrade(db) for db in dbs))
        async with dbs[0].engine.connect() as conn:
            assert await conn.run_sync(tree.current) == (tree.head,)
    finally:
        for db in dbs:
            await db.dispose()


def test_the_migrate_command_upgrades_and_checks(databases, monkeypatch, capsys):
    """`make migrate` / `make migrate-check` (python -m services.migrate)."""
    from services.migrate import main, revision

    for service in SERVICES:
        monkeypatch.setenv(f"{service.upper()}_DATABASE_URL", databases.url(service))
    assert main(["--check"]) == 1
    assert capsys.readouterr().err.count("run `make migrate`") == 3
    assert main([]) == 0
    assert capsys.readouterr().out.split("\n")[:3] == [f"{s}: at {Tree(s).head}" for s in SERVICES]
    assert main(["order", "warehouse", "aftersales", "--check"]) == 0
    assert revision("order", "nothing changed") is None  # no empty revisions
