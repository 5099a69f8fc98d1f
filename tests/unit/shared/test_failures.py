"""Which handler failures are transient (retried until they pass) and which are poison."""

from __future__ import annotations

import sqlite3

import asyncpg
import pytest
from sqlalchemy import exc as sa

from shared.failures import is_transient


def wrapped(cls, orig: BaseException, **kw) -> sa.DBAPIError:
    return cls("SELECT 1", {}, orig, **kw)


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "Connect call failed"),
        ConnectionResetError(),
        TimeoutError(),
        OSError("Network is unreachable"),
        wrapped(sa.OperationalError, sqlite3.OperationalError("database is locked")),
        wrapped(sa.OperationalError, Exception("server closed the connection")),
        wrapped(sa.InterfaceError, Exception("connection is closed")),
        wrapped(sa.DBAPIError, Exception("gone"), connection_invalidated=True),
        sa.TimeoutError("QueuePool limit reached"),
        asyncpg.exceptions.SerializationError("could not serialize access"),
        asyncpg.exceptions.DeadlockDetectedError("deadlock detected"),
        asyncpg.exceptions.AdminShutdownError("terminating connection"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"),
    ],
    ids=repr,
)
def test_transient(exc):
    assert is_transient(exc)


def test_transient_when_raised_from_a_transient_cause():
    try:
        try:
            raise ConnectionRefusedError(111, "refused")
        except OSError as inner:
            raise RuntimeError("could not load the order") from inner
    except RuntimeError as exc:
        assert is_transient(exc)


@pytest.mark.parametrize(
    "exc",
    [
        RuntimeError("cannot handle"),
        ValueError("bad amount"),
        KeyError("sku"),
        wrapped(sa.IntegrityError, Exception("duplicate key")),
        wrapped(sa.OperationalError, sqlite3.OperationalError("no such table: orders")),
        wrapped(sa.ProgrammingError, Exception("syntax error")),
        asyncpg.exceptions.UniqueViolationError("duplicate key"),
    ],
    ids=repr,
)
def test_deterministic(exc):
    assert not is_transient(exc)
