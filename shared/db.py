"""Async SQLAlchemy for SQLite (WAL, synchronous=FULL) and PostgreSQL.

SQLite has one writer: write sessions open with `BEGIN IMMEDIATE` so two
writers queue on the busy timeout instead of failing to upgrade a read lock;
read sessions use a separate engine with ordinary deferred transactions.

`first()` / `all()` answer one-statement reads (an order by id, a worklist page)
at the least cost each engine allows: on PostgreSQL without BEGIN/ROLLBACK
round trips (autocommit: one statement is its own snapshot); on SQLite on a
synchronous connection in the calling thread, because a primary-key lookup in
WAL mode takes microseconds and never waits for a writer, while handing it to
aiosqlite's thread costs five thread hops of ~100 µs each.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Executable, Insert, MetaData, Row, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def insert_ignoring_conflicts(table: Table, dialect: str) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING, on either database."""
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return dialect_insert(table).on_conflict_do_nothing()


def _sqlite_pragmas(engine: Engine, *, begin: str | None, busy_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - driver callback
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        # FULL: a committed outbox/inbox row survives power loss (NORMAL may not).
        for pragma in (
            "journal_mode=WAL",
            "synchronous=FULL",
            "foreign_keys=ON",
            f"busy_timeout={busy_ms}",
        ):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()

    if begin:

        @event.listens_for(engine, "begin")
        def _on_begin(conn):  # pragma: no cover - driver callback
            conn.exec_driver_sql(begin)


def _sqlite_engine(url: str, *, immediate: bool) -> AsyncEngine:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    # One writer connection per process: SQLite has one writer anyway, and queueing on the
    # pool (FIFO, no polling) beats SQLite's busy handler, which sleeps up to 100 ms a try.
    pool = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 60} if immediate else {}
    engine = create_async_engine(url, connect_args={"timeout": 30}, **pool)
    _sqlite_pragmas(
        engine.sync_engine, begin="BEGIN IMMEDIATE" if immediate else "BEGIN", busy_ms=30000
    )
    return engine


def _sqlite_point_engine(url: str) -> Engine:
    """Synchronous, autocommit (no BEGIN), no reset on return: one statement, one snapshot."""
    engine = create_engine(
        url.replace("+aiosqlite", "+pysqlite", 1),
        pool_reset_on_return=None,
        connect_args={"check_same_thread": False},
    )
    _sqlite_pragmas(engine, begin=None, busy_ms=1000)
    return engine


class Database:
    """A service's database: `session()` for writes, `reader()` for queries,
    `first()` / `all()` for one-statement reads on a hot path."""

    def __init__(self, url: str, *, pool_size: int = 16):
        self.url = url
        self._point: Engine | None = None
        if is_sqlite(url):
            self.engine = _sqlite_engine(url, immediate=True)
            self.read_engine = _sqlite_engine(url, immediate=False)
            self._point = _sqlite_point_engine(url)
            self._point_async = None
        else:
            # A fixed pool: overflow connections are closed on return, so a burst beyond the
            # pool would pay a connect + TLS handshake per request; waiting for a pooled
            # connection is cheaper. No pre-ping (a round trip per checkout): a dropped
            # connection fails one request, and SQLAlchemy then invalidates the pool.
            self.engine = create_async_engine(url, pool_size=pool_size, max_overflow=0)
            self.read_engine = self.engine
            self._point_async = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.session = async_sessionmaker(self.engine, expire_on_commit=False)
        self.reader = async_sessionmaker(self.read_engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def first(self, statement: Executable, **params: Any) -> Row[Any] | None:
        """The first row of one read statement (or None); `params` fill its bindparams."""
        if self._point is not None:
            with self._point.connect() as conn:
                return conn.execute(statement, params).first()
        async with self._point_async.connect() as conn:
            return (await conn.execute(statement, params)).first()

    async def all(self, statement: Executable, **params: Any) -> Sequence[Row[Any]]:
        """Every row of one read statement."""
        if self._point is not None:
            with self._point.connect() as conn:
                return conn.execute(statement, params).all()
        async with self._point_async.connect() as conn:
            return (await conn.execute(statement, params)).all()

    async def create_schema(self, metadata: MetaData) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def ping(self) -> bool:
        try:
            async with self.read_engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()
        if self._point is not None:
            self._point.dispose()
