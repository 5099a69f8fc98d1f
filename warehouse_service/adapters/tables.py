"""SQLAlchemy Core tables of the warehouse service (its own MetaData)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from shared.anomalies import anomalies_table
from shared.messaging import messaging_tables

metadata = MetaData()
messaging = messaging_tables(metadata)
_ID = BigInteger().with_variant(Integer(), "sqlite")
_TS = DateTime(timezone=True)

warehouses = Table(
    "warehouses",
    metadata,
    Column("warehouse_id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("supplier_id", String(64)),
    Column("name", String(200), nullable=False, default=""),
    Column("created_at", _TS, nullable=False),
)

shipments = Table(
    "shipments",
    metadata,
    Column("shipment_id", String(100), primary_key=True),
    Column("order_id", String(100), nullable=False, index=True),
    Column("warehouse_id", String(64), nullable=False),
    Column("warehouse_kind", String(16)),
    Column("warehouse_supplier", String(64)),
    Column("status", String(16), nullable=False),
    Column("lines", JSON, nullable=False),
    Column("address", JSON, nullable=False),
    Column("note", Text),
    Column("interception", JSON),
    Column("line_removals", JSON),
    Column("carrier", String(64)),
    Column("tracking_number", String(100), unique=True),
    Column("weight_grams", Integer),
    Column("scanned", JSON),
    Column("submitted_at", _TS, nullable=False),
    Column("shipped_at", _TS),
    Column("shipped_epoch", BigInteger),
    Column("version", Integer, nullable=False),
    Column("updated_at", _TS, nullable=False),
    Index("ix_shipments_wh_status", "warehouse_id", "status"),
    # Half-full pages on PostgreSQL: a stop (or its lift) bumps `version` on 10,000 rows
    # at once, and with room on the page those updates are HOT (no index entries written):
    # hold_matching measured ~230 ms against ~560 ms at the default fillfactor of 100.
    postgresql_with={"fillfactor": 50},
)

# The match keys of each task's lines (sku / supplier / campaign), one row per distinct
# value, so a stop finds its tasks in SQL. Written with the task, rewritten when lines change.
shipment_keys = Table(
    "shipment_keys",
    metadata,
    Column("shipment_id", String(100), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("shipment_id", "kind", "value"),
    Index("ix_shipment_keys_value", "kind", "value"),
)

holds = Table(
    "holds",
    metadata,
    Column("hold_id", String(64), primary_key=True),
    Column("shipment_id", String(100), nullable=False, index=True),
    Column("warehouse_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("owner", String(200), nullable=False),
    Column("stop_id", String(64)),
    Column("created_at", _TS, nullable=False),
    Column("until", _TS),
    Column("released_at", _TS),
    Column("released_by", String(200)),
    Index("ix_holds_stop", "stop_id", "released_at"),
    Index("ix_holds_until", "released_at", "until"),
)

stops = Table(
    "stops",
    metadata,
    Column("stop_id", String(64), primary_key=True),
    Column("scope", JSON, nullable=False),
    Column("reason", String(500), nullable=False),
    Column("issued_by", String(200), nullable=False),
    Column("issued_at", _TS, nullable=False),
    Column("epoch", BigInteger, nullable=False),
    Column("lifted_at", _TS),
    Column("lifted_by", String(200)),
)

stop_acks = Table(
    "stop_acks",
    metadata,
    Column("stop_id", String(64), nullable=False),
    Column("warehouse_id", String(64), nullable=False),
    Column("instance_id", String(200), nullable=False),
    Column("held_count", Integer, nullable=False),
    Column("already_shipped", JSON, nullable=False),
    Column("acknowledged_at", _TS, nullable=False),
    PrimaryKeyConstraint("stop_id", "warehouse_id", "instance_id"),
)

# One row. Ship transactions lock it shared, stop-recording transactions exclusively and
# bump `epoch`: a ship either commits before the stop is recorded (epoch below the stop's)
# or waits and then sees the stop. SQLite gets the same order from BEGIN IMMEDIATE.
stop_guard = Table(
    "stop_guard",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("epoch", BigInteger, nullable=False),
)

# Consumed events that could not be applied (unknown shipment, stop, ...): SPEC §5.
anomalies = anomalies_table(metadata)
