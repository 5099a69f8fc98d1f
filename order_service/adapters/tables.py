"""order_service's own tables (its own MetaData), plus outbox/inbox/lease."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from shared.anomalies import anomalies_table
from shared.messaging import messaging_tables

_ID = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()
messaging = messaging_tables(metadata)
# Consumed events that could not be applied (unknown order, impossible stage): SPEC §5.
anomalies = anomalies_table(metadata)

orders = Table(
    "orders",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("shop_id", String(100), nullable=False),
    Column("platform", String(40), nullable=False),
    Column("platform_order_id", String(100), nullable=False),
    Column("stage", String(20), nullable=False),
    Column("held", Boolean, nullable=False, default=False),
    Column("version", Integer, nullable=False),
    Column("data", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("platform", "platform_order_id", name="uq_orders_platform_order"),
    Index("ix_orders_stage", "stage"),
)

timeline = Table(
    "order_timeline",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("order_id", String(40), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(60), nullable=False),
    Column("actor", String(120), nullable=False),
    Column("cause", String(120)),
    Column("detail", JSON, nullable=False),
    Index("ix_timeline_order", "order_id", "id"),
)

webhook_receipts = Table(
    "webhook_receipts",
    metadata,
    Column("source", String(120), nullable=False),
    Column("webhook_id", String(200), nullable=False),
    Column("order_id", String(40)),
    Column("received_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("source", "webhook_id"),
)

parked = Table(
    "parked_webhooks",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),  # refund | delivery | cancellation
    Column("platform", String(40), nullable=False),
    Column("platform_order_id", String(100), nullable=False),
    Column("external_id", String(200), nullable=False),
    Column("body", JSON, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("applied_at", DateTime(timezone=True)),
    Column("order_id", String(40)),
    UniqueConstraint("kind", "platform", "external_id", name="uq_parked_external"),
    Index("ix_parked_order", "platform", "platform_order_id"),
)

campaign_purchases = Table(
    "campaign_purchases",
    metadata,
    Column("campaign_id", String(100), nullable=False),
    Column("key_kind", String(20), nullable=False),
    Column("key_value", String(300), nullable=False),
    Column("order_id", String(40), nullable=False),
    Column("qty", Integer, nullable=False),
    PrimaryKeyConstraint("campaign_id", "key_kind", "key_value", "order_id"),
)

catalog = Table(
    "catalog",
    metadata,
    Column("sku", String(100), primary_key=True),
    Column("category", String(60), nullable=False),
    Column("supplier_id", String(100)),
    Column("unit_price", Numeric(12, 2)),  # list price (replacements are valued at it)
)

warehouses = Table(
    "warehouse_routing",
    metadata,
    Column("warehouse_id", String(100), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("supplier_id", String(100)),
    Column("name", String(200), nullable=False, default=""),
)

# Sellable stock available per SKU over all warehouses, from `stock.levels` (auto-review).
sku_stock = Table(
    "sku_stock",
    metadata,
    Column("sku", String(100), primary_key=True),
    Column("available", Integer, nullable=False),
    Column("as_of", DateTime(timezone=True), nullable=False),
)

platform_calls = Table(
    "platform_calls",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("order_id", String(40), nullable=False),
    Column("shop_id", String(100), nullable=False),
    Column("platform", String(40), nullable=False),
    Column("platform_order_id", String(100), nullable=False),
    Column("call", String(40), nullable=False),
    Column("body", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text),
    Index("ix_platform_calls_unsent", "sent_at", "id"),
)

config = Table(
    "order_config",
    metadata,
    Column("key", String(60), primary_key=True),
    Column("value", JSON, nullable=False),
)

# SPEC §2.3: a platform variant → our SKU, set by a clerk for lines that arrived without one.
sku_mappings = Table(
    "sku_mappings",
    metadata,
    Column("platform", String(40), nullable=False),
    Column("variant_id", String(100), nullable=False),
    Column("sku", String(100), nullable=False),
    Column("updated_by", String(120), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("platform", "variant_id"),
)

# Orders waiting for a mapping: one row per (order, variant) of a line without a SKU, so that
# setting a mapping finds its orders without scanning order documents.
sku_waiting = Table(
    "sku_waiting",
    metadata,
    Column("platform", String(40), nullable=False),
    Column("variant_id", String(100), nullable=False),
    Column("order_id", String(40), nullable=False),
    PrimaryKeyConstraint("platform", "variant_id", "order_id"),
)
