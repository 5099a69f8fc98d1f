"""Async SQLAlchemy for SQLite (WAL, synchronous=FULL) and PostgreSQL.

SQLite has one writer: write sessions open with `BEGIN IMMEDIATE` so two
writers queue on the busy timeout instead of failing to upgrade a read lock;
read sessions use a separate engine with ordinary deferred transactions.

`first()` / `all()` answer one-statement reads (an order by id, a worklist page)
at the least cost each engine allows. On PostgreSQL the statement is compiled
once and run by asyncpg on a small pool of its own, outside a transaction (one
statement is its own snapshot): SQLAlchemy's per-statement machinery and its
pool checkout/return (events, reset, greenlet hops) cost three times the query
itself, and a read never queues behind the writers holding the main pool. On
SQLite they run on a synchronous connection in the calling thread, because a
primary-key lookup in WAL mode takes microseconds and never waits for a writer,
while handing it to aiosqlite's thread costs five thread hops of ~100 µs each.

Pooled connections go to their waiters in arrival order (`ArrivalOrderQueue`): with
SQLAlchemy's own queue a caller that begins its next transaction right after
committing takes the connection back ahead of one already waiting for it.
"""

from __future__ import annotations

import asyncio
import json
import time
import weakref
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

import asyncpg
from sqlalchemy import Engine, Executable, Insert, MetaData, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import await_
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty

_T = TypeVar("_T")


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def insert_ignoring_conflicts(table: Table, dialect: str) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING, on either database."""
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return dialect_insert(table).on_conflict_do_nothing()


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE matched (`session.execute` is typed `Result`; for DML it is
    a `CursorResult`)."""
    return cast(CursorResult[Any], result).rowcount


_WAKE: Any = object()  # a waiter's wake-up without a connection: try the idle queue


class ArrivalOrderQueue(AsyncAdaptedQueue[_T]):
    """A pool's idle connections, with a bound on how long anyone waits behind newcomers.

    SQLAlchemy's queue lets any caller take an idle connection at once, and a waiter
    woken for it that finds it gone waits again at the back. A connection returned at
    commit sits idle until the woken waiter runs, so whoever begins a transaction right
    after committing (the webhook group commit, a scan batch, as long as work keeps
    coming) takes it back first: on SQLite's one writer connection the relay's mark and
    lease waited 4-13 s so, and with them every event. Handing every returned connection
    to the longest waiter fixed that but cost throughput: the connection then idles for
    an event-loop turn at every commit (scans 0.6x on SQLite). So: a newcomer may take an
    idle connection while the longest waiter has waited less than `overtake_s`; a
    connection returned after that goes straight to the longest waiter, and a waiter
    woken for a connection taken meanwhile keeps its place at the front.
    """

    overtake_s = 0.02

    def __init__(self, maxsize: int = 0, use_lifo: bool = False):
        super().__init__(maxsize, use_lifo)
        self._waiters: deque[tuple[float, asyncio.Future[_T]]] = deque()

    def _oldest(self) -> tuple[float, asyncio.Future[_T]] | None:
        while self._waiters and self._waiters[0][1].done():  # gave up (timeout, cancel)
            self._waiters.popleft()
        return self._waiters[0] if self._waiters else None

    def _overdue(self) -> bool:
        oldest = self._oldest()
        return oldest is not None and time.monotonic() - oldest[0] >= self.overtake_s

    def put_nowait(self, item: _T) -> None:
        oldest = self._oldest()
        if oldest is None:
            super().put_nowait(item)
        elif self._overdue():
            self._waiters.popleft()[1].set_result(item)
        else:  # idle for whoever comes first; the waiter is told to look
            super().put_nowait(item)
            self._waiters.popleft()[1].set_result(_WAKE)

    def put(self, item: _T, block: bool = True, timeout: float | None = None) -> None:
        self.put_nowait(item)  # never full: it holds at most the pool's own connections

    def get(self, block: bool = True, timeout: float | None = None) -> _T:
        if not self._overdue():
            try:
                return self.get_nowait()
            except Empty:
                if not block:
                    raise
        elif not block:
            raise Empty()
        return await_(self._wait(timeout))

    async def _wait(self, timeout: float | None) -> _T:
        arrived, front = time.monotonic(), False
        try:
            async with asyncio.timeout(timeout):
                while True:
                    got = await self._turn(arrived, front)
                    if got is not _WAKE:
                        return cast(_T, got)
                    try:
                        return self.get_nowait()
                    except Empty:  # taken by a newcomer meanwhile: wait again, first in line
                        front = True
        except TimeoutError:
            raise Empty() from None  # the pool turns it into its own TimeoutError

    async def _turn(self, arrived: float, front: bool) -> Any:
        waiter: asyncio.Future[_T] = asyncio.get_running_loop().create_future()
        entry = (arrived, waiter)
        self._waiters.appendleft(entry) if front else self._waiters.append(entry)
        try:
            return await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                if waiter.result() is not _WAKE:
                    self.put_nowait(waiter.result())  # handed over as it gave up: the next
                elif self._oldest() is not None:  # pass the wake-up on
                    self._waiters.popleft()[1].set_result(_WAKE)
            else:
                waiter.cancel()
            raise


class ArrivalOrderPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's async queue pool with `ArrivalOrderQueue`."""

    _queue_class = ArrivalOrderQueue[ConnectionPoolEntry]


def _wal(cur: Any, tries: int = 100) -> None:
    """Switch the file to WAL. Two connections opening a new file at once can both need the
    lock this takes, and SQLite answers "database is locked" without its busy handler then:
    try again for up to ~5 s (the file stays in WAL once one of them has switched it)."""
    for attempt in range(tries):
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except Exception as exc:  # sqlite3.OperationalError, as the driver adapter raises it
            if "locked" not in str(exc) or attempt == tries - 1:
                raise
            time.sleep(0.05)


def _sqlite_pragmas(engine: Engine, *, begin: str | None, busy_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:  # pragma: no cover - driver callback
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")
        _wal(cur)
        # FULL: a committed outbox/inbox row survives power loss (NORMAL may not).
        for pragma in ("synchronous=FULL", "foreign_keys=ON"):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()

    if begin:

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:  # pragma: no cover - driver callback
            conn.exec_driver_sql(begin)


def _sqlite_engine(url: str, *, immediate: bool) -> AsyncEngine:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    # One writer connection per process: SQLite has one writer anyway, and queueing on the
    # pool (FIFO, no polling) beats SQLite's busy handler, which sleeps up to 100 ms a try.
    pool = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 60} if immediate else {}
    engine = create_async_engine(
        url, connect_args={"timeout": 30}, poolclass=ArrivalOrderPool, **pool
    )
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


async def _json_codecs(conn: asyncpg.Connection) -> None:
    """JSON columns come back decoded, as they do through SQLAlchemy."""
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _nothing_to_reset(_: asyncpg.Connection) -> None:
    """The read pool runs lone SELECTs, which leave no session state (no transaction,
    setting, LISTEN or lock), so returning a connection skips asyncpg's server-side reset
    query: a round trip per read, and a third of a read's CPU."""


READ_POOL = 8  # connections for first() / all() on PostgreSQL


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
        else:
            # A fixed pool: overflow connections are closed on return, so a burst beyond the
            # pool would pay a connect + TLS handshake per request; waiting for a pooled
            # connection is cheaper. No pre-ping (a round trip per checkout): a dropped
            # connection fails one request, and SQLAlchemy then invalidates the pool.
            self.engine = create_async_engine(
                url, pool_size=pool_size, max_overflow=0, poolclass=ArrivalOrderPool
            )
            self.read_engine = self.engine
        # Compiled SQL per statement object (meant for module-level statements; one built
        # per call is compiled per call and dropped with it).
        self._compiled: weakref.WeakKeyDictionary[Executable, tuple[str, tuple[str, ...]]]
        self._compiled = weakref.WeakKeyDictionary()
        self._reads: asyncpg.Pool | None = None
        self._reads_lock = asyncio.Lock()
        # Readers wait their turn here, first come first served, so the pool itself never
        # has waiters: asyncpg's pool queue lets a newcomer take a connection released to
        # a woken waiter, which then queues again at the back. 32 clients on 8 connections
        # had a capabilities p99 of 100-150 ms at a p50 of 15-18 ms; in turns, 31-38 ms.
        self._read_turns = asyncio.Semaphore(READ_POOL)
        self.session = async_sessionmaker(self.engine, expire_on_commit=False)
        self.reader = async_sessionmaker(self.read_engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def first(self, statement: Executable, **params: Any) -> Sequence[Any] | None:
        """The first row of one read statement (or None), as a tuple-like row (unpack or
        index it); `params` fill its bindparams and must be plain values (str, int,
        datetime) that need no SQLAlchemy type processing, and so must its columns
        (JSON is decoded); no expanding IN parameters."""
        if self._point is not None:
            with self._point.connect() as conn:
                return conn.execute(statement, params).first()
        row: Sequence[Any] | None = await self._on_driver("fetchrow", statement, params)
        return row

    async def all(self, statement: Executable, **params: Any) -> Sequence[Sequence[Any]]:
        """Every row of one read statement (tuple-like rows, as `first`)."""
        if self._point is not None:
            with self._point.connect() as conn:
                return conn.execute(statement, params).all()
        rows: Sequence[Sequence[Any]] = await self._on_driver("fetch", statement, params)
        return rows

    async def _on_driver(self, method: str, statement: Executable, params: dict[str, Any]) -> Any:
        """Run `statement` with asyncpg's `method` ("fetchrow" | "fetch") on the read pool."""
        if statement not in self._compiled:
            # A read statement (a Select: Executable and ClauseElement) compiles to SQL.
            compiled = cast(
                SQLCompiler, cast(ClauseElement, statement).compile(dialect=self.engine.dialect)
            )
            self._compiled[statement] = (str(compiled), tuple(compiled.positiontup or ()))
        sql, names = self._compiled[statement]
        pool = self._reads or await self._read_pool()
        async with self._read_turns, pool.acquire() as conn:
            return await getattr(conn, method)(sql, *[params[n] for n in names])

    async def _read_pool(self) -> asyncpg.Pool:
        async with self._reads_lock:
            if self._reads is None:
                _, connect = self.engine.dialect.create_connect_args(self.engine.url)
                connect.pop("prepared_statement_cache_size", None)
                self._reads = await asyncpg.create_pool(
                    **connect,
                    min_size=1,
                    max_size=READ_POOL,
                    init=_json_codecs,
                    reset=_nothing_to_reset,
                )
        return self._reads

    async def create_schema(self, metadata: MetaData) -> None:
        """Create `metadata`'s tables as declared: for toy services in tests. A service's
        own schema comes from its migrations (shared/migrations.py)."""
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
        if self._reads is not None:
            await self._reads.close()
            self._reads = None
