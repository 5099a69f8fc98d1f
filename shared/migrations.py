"""Alembic for every service: one migration tree per service package, configured in code.

`<service>_service/migrations/` holds `env.py` (it calls `run_env` with the service's
MetaData) and `versions/`. There is no alembic.ini: `Tree(service).config()` builds the
Config. Development and the test fixtures upgrade at start-up, in-process on the
engine's own connection, in one transaction under a lock (a PostgreSQL advisory lock;
SQLite's BEGIN IMMEDIATE), so two instances starting at once migrate in turn.
Production refuses to serve on a database that is not at the code's head.
`python -m services.migrate` is the command line (upgrade, check, revision).
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import logging
from dataclasses import dataclass
from typing import Any

from alembic import command, context
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, MetaData, inspect, pool, text
from sqlalchemy.ext.asyncio import create_async_engine

from shared.db import Database
from shared.settings import Mode, Settings

log = logging.getLogger(__name__)
SERVICES = ("order", "warehouse", "aftersales")
MIGRATE = "make migrate"
# pg_advisory_xact_lock(class, key): migrations of one database run one at a time
# (advisory locks are per database; 0x0C4A is the order service's campaign class).
LOCK_CLASS = 0x0A1E
# Per (service, dialect, head): the SQL that takes an empty database to head.
_RENDERED: dict[tuple[str, str, str], list[str] | None] = {}


class _Statements:
    """An offline migration's output buffer: Alembic writes one statement a call."""

    def __init__(self) -> None:
        self.sql: list[str] = []

    def write(self, text: str) -> None:
        statement = text.strip().removesuffix(";").strip()
        if statement and not statement.startswith("--") and statement not in {"BEGIN", "COMMIT"}:
            self.sql.append(statement)

    def flush(self) -> None:
        pass


class SchemaBehind(RuntimeError):
    """The database is not at the code's head revision (production refuses to serve)."""


def _run(connection: Connection, metadata: MetaData) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite alters a table by copying it; PostgreSQL as usual
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_on_url(url: str, metadata: MetaData) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run, metadata)
    finally:
        await engine.dispose()


def run_env(metadata: MetaData) -> None:
    """The body of every env.py: the documented async pattern, sharing a connection
    when the caller passed one (`config.attributes["connection"]`)."""
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection, metadata)
    elif context.is_offline_mode():
        context.configure(
            url=config.get_main_option("sqlalchemy.url"),
            dialect_name=config.attributes.get("dialect_name"),
            target_metadata=metadata,
            literal_binds=True,
            render_as_batch=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(_run_on_url(config.get_main_option("sqlalchemy.url") or "", metadata))


@dataclass(frozen=True)
class Tree:
    """One service's migration tree (`<service>_service/migrations`)."""

    service: str

    @property
    def package(self) -> str:
        return f"{self.service}_service"

    @property
    def metadata(self) -> MetaData:
        metadata: MetaData = importlib.import_module(f"{self.package}.adapters.tables").metadata
        return metadata

    def config(
        self, *, url: str = "", connection: Connection | None = None, output: Any = None
    ) -> Config:
        cfg = Config(output_buffer=output)
        cfg.set_main_option("script_location", f"{self.package}:migrations")
        cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
        if url:
            cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        if connection is not None:
            cfg.attributes["connection"] = connection
        return cfg

    @property
    def script(self) -> ScriptDirectory:
        return _script(self.package)

    @property
    def head(self) -> str:
        return self.script.get_current_head() or ""

    @property
    def first(self) -> str:
        return next(iter(self.script.get_bases()))

    def next_id(self) -> str:
        """Revision ids are numbered: 0001, 0002, ..."""
        ids = [int(r.revision) for r in self.script.walk_revisions() if r.revision.isdigit()]
        return f"{max(ids, default=0) + 1:04d}"

    # -- on a connection (sync, inside the caller's transaction) --------------------

    def current(self, conn: Connection) -> tuple[str, ...]:
        return MigrationContext.configure(conn).get_current_heads()

    def upgrade_on(self, conn: Connection, target: str = "head", *, fast: bool = True) -> None:
        """Upgrade on `conn` (in its transaction), under the migration lock. An empty
        database gets the migrations' SQL to head as rendered once per process (what
        `alembic upgrade --sql` prints): a third less than running them op by op."""
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:c, 0)"), {"c": LOCK_CLASS})
        current = self.current(conn)
        if target == "head" and current == (self.head,):
            return
        if fast and target == "head" and not inspect(conn).get_table_names():
            sql = self.sql_from_empty(conn.dialect.name)
            if sql is not None:
                for statement in sql:
                    conn.exec_driver_sql(statement)
                return
        if not current and self._has_tables(conn):
            self._adopt(conn)
        command.upgrade(self.config(connection=conn), target)

    def sql_from_empty(self, dialect: str) -> list[str] | None:
        """The statements that take an empty database to head (None when a revision
        needs a live connection, such as a SQLite batch that copies a table)."""
        key = (self.service, dialect, self.head)
        if key not in _RENDERED:
            out = _Statements()
            cfg = self.config(output=out)
            cfg.attributes["dialect_name"] = dialect
            try:
                command.upgrade(cfg, "head", sql=True)
                _RENDERED[key] = out.sql
            except Exception as exc:
                log.info("%s migrations run op by op (%s)", self.service, exc)
                _RENDERED[key] = None
        return _RENDERED[key]

    def stamp_on(self, conn: Connection, target: str) -> None:
        command.stamp(self.config(connection=conn), target)

    def diff_on(self, conn: Connection) -> list[Any]:
        """What autogenerate would write: empty when the database matches the code."""
        mc = MigrationContext.configure(conn, opts={"compare_server_default": True})
        diff: list[Any] = compare_metadata(mc, self.metadata)
        return diff

    def check_on(self, conn: Connection) -> None:
        current = self.current(conn)
        if current == (self.head,):
            return
        name = f"the {self.service} database"
        if not current:
            raise SchemaBehind(f"{name} has no schema revision; run `{MIGRATE}`")
        if all(self._known(r) for r in current):
            raise SchemaBehind(
                f"{name} is at revision {', '.join(current)}, the code needs {self.head}; "
                f"run `{MIGRATE}`"
            )
        raise SchemaBehind(
            f"{name} is at revision {', '.join(current)}, which this code does not know "
            f"(head {self.head}): a newer release migrated it; deploy that release, "
            f"or run `{MIGRATE}` with the release that matches the database"
        )

    def _known(self, rev: str) -> bool:
        try:
            return self.script.get_revision(rev) is not None
        except CommandError:
            return False

    def _has_tables(self, conn: Connection) -> bool:
        return bool(set(inspect(conn).get_table_names()) & set(self.metadata.tables))

    def _adopt(self, conn: Connection) -> None:
        """A database made by `create_all` before migrations existed: stamp it at the
        first revision, whose optional `adopt()` brings it to that revision's shape."""
        first = self.script.get_revision(self.first)
        adopt = getattr(first.module, "adopt", None)
        if adopt is not None:
            with Operations.context(MigrationContext.configure(conn)):
                adopt()
        self.stamp_on(conn, self.first)

    # -- on a Database (async) ------------------------------------------------------

    async def upgrade(self, db: Database, target: str = "head") -> None:
        async with db.engine.begin() as conn:
            await conn.run_sync(self.upgrade_on, target)

    async def check(self, db: Database) -> None:
        async with db.engine.connect() as conn:
            await conn.run_sync(self.check_on)

    async def prepare(self, db: Database, *, production: bool) -> None:
        """Start-up: production checks the revision, development migrates to head."""
        await (self.check(db) if production else self.upgrade(db))


@functools.cache
def _script(package: str) -> ScriptDirectory:
    """A tree's revisions, read once per process."""
    return ScriptDirectory.from_config(Tree(package.removesuffix("_service")).config())


async def prepare_schema(db: Database, settings: Settings, metadata: MetaData) -> None:
    """Start-up: the service's tree by `settings.service` (production checks, development
    migrates); a MetaData that has no tree (a test's toy service) is created as declared."""
    if settings.service in SERVICES and (tree := Tree(settings.service)).metadata is metadata:
        await tree.prepare(db, production=settings.mode is Mode.production)
    else:
        await db.create_schema(metadata)
