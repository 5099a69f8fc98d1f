"""SQLAlchemy Core tables of the warehouse service (its own MetaData)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
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
    Column("relabels", JSON),  # address changes after import (domain/relabel.py)
    Column("carrier", String(64)),
    Column("tracking_number", String(100), unique=True),
    Column("weight_grams", Integer),
    Column("scanned", JSON),
    Column("submitted_at", _TS, nullable=False),
    Column("shipped_at", _TS),
    Column("shipped_epoch", BigInteger),
    Column("replacement_id", String(100)),  # a replacement shipment's after-sales request
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

# Stock per warehouse, SKU and pool (SPEC §3.2). The checks are the last line of defence
# for `available = on_hand - reserved >= 0`; the intake's conditional UPDATE keeps it.
stock = Table(
    "stock",
    metadata,
    Column("warehouse_id", String(64), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("pool", String(16), nullable=False),
    Column("on_hand", Integer, nullable=False),
    Column("reserved", Integer, nullable=False),
    Column("updated_at", _TS, nullable=False),
    PrimaryKeyConstraint("warehouse_id", "sku", "pool"),
    CheckConstraint("reserved >= 0 AND on_hand >= reserved", name="ck_stock_available"),
    Index("ix_stock_sku", "sku"),
)

# The ledger: every change of on_hand / reserved, with who, why and its cause.
stock_movements = Table(
    "stock_movements",
    metadata,
    Column("movement_id", _ID, primary_key=True, autoincrement=True),
    Column("warehouse_id", String(64), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("pool", String(16), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("on_hand_delta", Integer, nullable=False),
    Column("reserved_delta", Integer, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reason", String(2000), nullable=False),
    Column("cause_event_id", String(64)),
    Column("shipment_id", String(100)),
    Column("reference", String(64)),
    Column("at", _TS, nullable=False),
    Index("ix_stock_movements_key", "warehouse_id", "sku", "movement_id"),
)

# A task's hold on sellable stock, one row per SKU; `reserved` is the sum of live ones.
reservations = Table(
    "reservations",
    metadata,
    Column("shipment_id", String(100), nullable=False),
    Column("warehouse_id", String(64), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("qty", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # live | released | picked
    Column("created_at", _TS, nullable=False),
    Column("settled_at", _TS),
    PrimaryKeyConstraint("shipment_id", "sku"),
    Index("ix_reservations_stock", "warehouse_id", "sku", "status"),
)

# What the shop listing was last told per SKU (adapters/listing.py).
listing_state = Table(
    "listing_state",
    metadata,
    Column("sku", String(64), primary_key=True),
    Column("available", Integer, nullable=False),
    Column("pushed_at", _TS, nullable=False),
)

# Per-SKU alert settings (domain/alerts.py); a SKU without a row uses the defaults.
alert_rules = Table(
    "alert_rules",
    metadata,
    Column("sku", String(64), primary_key=True),
    Column("daily_sales", Integer),  # expected units a day; unset: measured from picks
    Column("reorder_days", Integer, nullable=False),
    Column("slow_moving_days", Integer, nullable=False),
    Column("updated_by", String(200), nullable=False),
    Column("updated_at", _TS, nullable=False),
)

# Consumed events that could not be applied (unknown shipment, stop, ...): SPEC §5.
anomalies = anomalies_table(metadata)
