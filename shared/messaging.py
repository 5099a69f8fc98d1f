"""Outbox, inbox and relay-lease tables, added to each service's own metadata."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    text,
)

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets BIGINT.
_ID = BigInteger().with_variant(Integer(), "sqlite")


def _partial(name: str, columns: list[str], where: str) -> Index:
    """An index of the rows matching `where`, on both databases."""
    return Index(name, *columns, sqlite_where=text(where), postgresql_where=text(where))


@dataclass(frozen=True)
class MessagingTables:
    outbox: Table
    inbox: Table
    lease: Table


def messaging_tables(metadata: MetaData) -> MessagingTables:
    outbox = Table(
        "outbox",
        metadata,
        Column("id", _ID, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("topic", String(100), nullable=False),
        Column("key", String(200), nullable=False),
        Column("value", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("published_at", DateTime(timezone=True)),
        # Set when the broker refused the event for good (too large, invalid); `error`
        # says why. The key's later rows wait until it is retried or discarded.
        Column("parked_at", DateTime(timezone=True)),
        Column("error", String(500)),
        # Each of the outbox's readers by an index of just its rows: the relay's read
        # (`outbox.unsent_rows`), parked rows and their keys, pruning the published.
        # SQLite, given a plain index on `published_at` or `parked_at`, walked every kept
        # row for the relay (6 ms a read with 13,400 kept).
        _partial("ix_outbox_unsent", ["id", "key"], "published_at IS NULL AND parked_at IS NULL"),
        _partial(
            "ix_outbox_parked_rows", ["id", "key"], "parked_at IS NOT NULL AND published_at IS NULL"
        ),
        _partial("ix_outbox_published", ["published_at"], "published_at IS NOT NULL"),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("consumer", String(100), nullable=False),
        Column("event_id", String(36), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False),
        PrimaryKeyConstraint("consumer", "event_id"),
    )
    lease = Table(
        "relay_lease",
        metadata,
        Column("name", String(100), primary_key=True),
        Column("owner", String(100), nullable=False),
        Column("expires_at", DateTime(timezone=True), nullable=False),
    )
    return MessagingTables(outbox, inbox, lease)
