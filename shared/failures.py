"""Why a consumer's handler failed: transient (retry until it passes) or deterministic.

Transient means the event itself is fine and trying again later will work: the
database or the broker is unreachable, a connection was lost, a pool timed out,
PostgreSQL refused the transaction for concurrency (serialization failure,
deadlock, lock timeout) or is starting or shutting down, SQLite is locked.
Anything else is deterministic: the same event fails the same way every time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import asyncpg
from sqlalchemy import exc as sa

# SQLSTATEs that say "try again": class 08 (connection exception) is matched by prefix.
TRANSIENT_SQLSTATES = frozenset(
    {
        "40001",  # serialization_failure
        "40P01",  # deadlock_detected
        "55P03",  # lock_not_available
        "53300",  # too_many_connections
        "57P01",  # admin_shutdown (also pg_terminate_backend)
        "57P02",  # crash_shutdown
        "57P03",  # cannot_connect_now (starting up)
    }
)
SQLITE_TRANSIENT = ("database is locked", "database table is locked", "disk i/o error")
_TRANSIENT_TYPES = (
    OSError,  # ConnectionError, ConnectionRefusedError, TimeoutError, socket errors
    sa.InterfaceError,
    sa.DisconnectionError,
    sa.TimeoutError,  # the connection pool timed out
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,  # e.g. "connection is closed"
)


def is_transient(exc: BaseException) -> bool:
    """True if `exc`, or anything it was raised from, is a transient cause."""
    return any(_transient(e) for e in _causes(exc))


def _transient(e: BaseException) -> bool:
    if isinstance(e, sqlite3.OperationalError):
        return any(s in str(e).lower() for s in SQLITE_TRANSIENT)
    if isinstance(e, sa.DBAPIError) and e.connection_invalidated:
        return True
    if isinstance(e, _TRANSIENT_TYPES):
        return True
    state = getattr(e, "sqlstate", None) or getattr(e, "pgcode", None)
    if isinstance(state, str) and (state in TRANSIENT_SQLSTATES or state.startswith("08")):
        return True
    # SQLAlchemy's OperationalError on PostgreSQL is a connection-level failure; on SQLite
    # it also covers "no such table", so SQLite's own error (above) decides there.
    return isinstance(e, sa.OperationalError) and not isinstance(e.orig, sqlite3.Error)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo += [e.__cause__, e.__context__, getattr(e, "orig", None)]
