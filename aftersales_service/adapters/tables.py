"""After-sales tables (own MetaData). Analytics columns are denormalised on purpose:
return rates and losses are single-table GROUP BYs over covering indexes."""

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

metadata = MetaData()
messaging = messaging_tables(metadata)

Money = Numeric(12, 2)
TS = DateTime(timezone=True)

orders = Table(
    "orders",
    metadata,
    Column("order_id", String(64), primary_key=True),
    Column("synced", Boolean, nullable=False, default=False),
    Column("shop_id", String(64)),
    Column("platform", String(32)),
    Column("buyer_id", String(64)),
    Column("currency", String(3), nullable=False, default="CNY"),
    Column("total", Money, nullable=False, default=0),
    Column("shipping", Money),  # as order.synced carried it; NULL: not carried
    Column("discount", Money),
    Column("stage", String(20)),
    Column("held", Boolean, nullable=False, default=False),
    Column("paid_at", TS),
    Column("delivered_at", TS),
    Column("cancelled_at", TS),
    Column("shipped", Boolean, nullable=False, default=False),
    Column("version", Integer, nullable=False, default=0),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("order_id", String(64), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("sku", String(64), nullable=False),
    Column("qty", Integer, nullable=False),
    Column("unit_price", Money, nullable=False),
    Column("category", String(64)),
    Column("supplier_id", String(64)),
    Column("warehouse_id", String(64)),
    PrimaryKeyConstraint("order_id", "line_no"),
    # Covering indexes: units sold per sku/category/supplier/warehouse without the table.
    Index("ix_order_lines_sku_qty", "sku", "qty"),
    Index("ix_order_lines_category_qty", "category", "qty"),
    Index("ix_order_lines_supplier_qty", "supplier_id", "qty"),
    Index("ix_order_lines_warehouse_qty", "warehouse_id", "qty", "unit_price"),
)

shipments = Table(
    "shipments",
    metadata,
    Column("shipment_id", String(64), primary_key=True),
    Column("order_id", String(64), nullable=False, index=True),
    Column("warehouse_id", String(64)),
    Column("skus", JSON, nullable=False, default=list),
    Column("status", String(20), nullable=False, default="submitted"),
    Column("submitted_at", TS),
    Column("shipped_at", TS),
    Column("submit_to_ship_seconds", Integer),
    Index("ix_shipments_warehouse", "warehouse_id", "submit_to_ship_seconds", "shipped_at"),
)

# Per-warehouse rollup of the projection's shipments and order lines, kept by the
# projection in the same inbox transaction as the rows it sums (adapters/rollup.py).
warehouse_rollup = Table(
    "warehouse_rollup",
    metadata,
    Column("warehouse_id", String(64), primary_key=True),
    Column("shipments", BigInteger, nullable=False, default=0),
    Column("shipped", BigInteger, nullable=False, default=0),
    Column("ship_seconds_sum", BigInteger, nullable=False, default=0),
    Column("ship_seconds_n", BigInteger, nullable=False, default=0),
    Column("value_cents", BigInteger, nullable=False, default=0),  # sum(qty * unit_price)
)

warehouses = Table(
    "warehouses",
    metadata,
    Column("warehouse_id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("supplier_id", String(64)),
    Column("name", String(200), nullable=False, default=""),
)

# Consumed events that could not be applied (unknown order, impossible stage): SPEC §5.
anomalies = anomalies_table(metadata)

refunds = Table(
    "refunds",
    metadata,
    Column("refund_id", String(40), primary_key=True),
    Column("order_id", String(64), nullable=False, index=True),
    Column("amount", Money, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(20), nullable=False),
    Column("mode", String(20), nullable=False, default=""),
    Column("source", String(20), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("reason_code", String(32), nullable=False),
    Column("return_id", String(40)),
    Column("platform_refund_id", String(100)),
    Column("requested_by", String(100), nullable=False, default=""),
    Column("refused_code", String(64)),
    Column("claims", JSON, nullable=False, default=list),
    Column("created_at", TS, nullable=False),
    Column("issued_at", TS),
    Column("version", Integer, nullable=False, default=0),
    # order | lines | goodwill | partial; the lines of a `lines` refund; the order service's
    # answer to the refund request (None: not asked, or not answered yet).
    Column("kind", String(16), nullable=False, default="order", server_default="order"),
    Column("lines", JSON, default=list),
    Column("decision", JSON),
    UniqueConstraint("order_id", "platform_refund_id", name="uq_refunds_platform_refund"),
)

# Never twice for the same money: one row per refunded unit (or whole order), unique.
refund_claims = Table(
    "refund_claims",
    metadata,
    Column("order_id", String(64), nullable=False),
    Column("claim_key", String(40), nullable=False),
    Column("refund_id", String(40), nullable=False, index=True),
    PrimaryKeyConstraint("order_id", "claim_key"),
)

returns = Table(
    "returns",
    metadata,
    Column("return_id", String(40), primary_key=True),
    Column("order_id", String(64), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("reason_code", String(32), nullable=False),
    Column("reason_category", String(16), nullable=False),
    Column("method", String(16), nullable=False),
    Column("opened", Boolean, nullable=False, default=False),
    Column("evidence", JSON, nullable=False, default=dict),
    Column("status", String(20), nullable=False),
    Column("shipping_payer", String(10), nullable=False),
    Column("return_address", Text, nullable=False, default=""),
    Column("refund_id", String(40)),
    Column("amount", Money, nullable=False),
    Column("warehouse_id", String(64)),
    Column("delivered_at", TS),
    Column("opened_at", TS, nullable=False),
    Column("days_after_delivery", Integer),
    Column("approved_by", String(100)),
    Column("decision_note", Text, nullable=False, default=""),
    Column("received_at", TS),
    Column("inspected_at", TS),
    Column("handling_seconds", Integer),
    Column("version", Integer, nullable=False, default=0),
    # refund | exchange; an exchange's replacement (table `replacements`)
    Column("resolution", String(16), nullable=False, default="refund", server_default="refund"),
    Column("replacement_id", String(40)),
    Index("ix_returns_status", "status", "opened_at"),
    Index("ix_returns_reason", "reason_code", "reason_category", "status", "amount"),
    Index("ix_returns_days", "days_after_delivery", "kind", "status"),
    Index("ix_returns_opened_at", "opened_at"),
    Index("ix_returns_warehouse", "warehouse_id", "status", "handling_seconds"),
)

return_lines = Table(
    "return_lines",
    metadata,
    Column("return_id", String(40), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("order_id", String(64), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("qty", Integer, nullable=False),
    Column("unit_price", Money, nullable=False),
    Column("category", String(64)),
    Column("supplier_id", String(64)),
    Column("warehouse_id", String(64)),
    Column("active", Boolean, nullable=False, default=True),  # false once rejected
    PrimaryKeyConstraint("return_id", "line_no"),
    Index("ix_return_lines_sku", "sku", "active", "qty"),
    Index("ix_return_lines_category", "category", "active", "qty"),
    Index("ix_return_lines_supplier", "supplier_id", "active", "qty"),
    Index("ix_return_lines_warehouse", "warehouse_id", "active", "qty"),
)

returned_inventory = Table(
    "returned_inventory",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("return_id", String(40), nullable=False, index=True),
    Column("order_id", String(64), nullable=False),
    Column("sku", String(64), nullable=False, index=True),
    Column("qty", Integer, nullable=False),
    Column("grade", String(16), nullable=False),
    Column("disposition", String(20), nullable=False, index=True),
    Column("value", Money, nullable=False),
    Column("recovered_value", Money, nullable=False),
    Column("repair_cost", Money),
    Column("flaw_note", Text, nullable=False, default=""),
    Column("warehouse_id", String(64)),
    Column("created_at", TS, nullable=False),
)

liabilities = Table(
    "liabilities",
    metadata,
    Column("liability_id", String(40), primary_key=True),
    Column("return_id", String(40), index=True),
    Column("order_id", String(64), nullable=False),
    Column("party", String(16), nullable=False),
    Column("amount", Money, nullable=False),
    Column("basis", Text, nullable=False),
    Column("sku", String(64)),
    Column("supplier_id", String(64)),
    Column("warehouse_id", String(64)),
    Column("created_at", TS, nullable=False),
    Column("original_party", String(16)),
    Column("original_amount", Money),
    Column("overridden_by", String(100)),
    Column("override_reason", Text),
    Column("replacement_id", String(40), index=True),  # a reship's loss
    Index("ix_liabilities_warehouse", "party", "warehouse_id", "amount"),
    Index("ix_liabilities_supplier", "party", "supplier_id", "amount"),
)

# Exchanges' replacement units and reships (SPEC §4.1); the order service routes them.
replacements = Table(
    "replacements",
    metadata,
    Column("replacement_id", String(40), primary_key=True),
    Column("order_id", String(64), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("lines", JSON, nullable=False, default=list),
    Column("reason_code", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("return_id", String(40), index=True),
    Column("note", Text, nullable=False, default=""),
    Column("requested_by", String(100), nullable=False, default=""),
    Column("paid_value", Money, nullable=False),
    Column("value", Money),
    Column("currency", String(3), nullable=False, default="CNY"),
    Column("price_difference", Money),
    Column("refund_id", String(40)),
    Column("shipments", JSON, nullable=False, default=list),
    Column("shipped", JSON, nullable=False, default=list),
    Column("claims", JSON, nullable=False, default=list),
    Column("liable_party", String(16)),
    Column("refused_code", String(64)),
    Column("refused_reason", Text, nullable=False, default=""),
    Column("created_at", TS, nullable=False),
    Column("requested_at", TS),
    Column("shipped_at", TS),
    Column("version", Integer, nullable=False, default=0),
)

# Which replacement a shipment carries (from `order.submitted` or the order service's
# answer, whichever comes first), so `shipment.shipped` finds it.
replacement_shipments = Table(
    "replacement_shipments",
    metadata,
    Column("shipment_id", String(64), primary_key=True),
    Column("replacement_id", String(40), nullable=False, index=True),
    Column("order_id", String(64), nullable=False),
)

complaints = Table(
    "complaints",
    metadata,
    Column("complaint_id", String(40), primary_key=True),
    Column("order_id", String(64), index=True),
    Column("tier", String(4), nullable=False),
    Column("subject", Text, nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("evidence", JSON, nullable=False, default=list),
    Column("status", String(16), nullable=False),
    Column("escalations", Integer, nullable=False, default=0),
    Column("owner", String(32), nullable=False),
    Column("opened_at", TS, nullable=False),
    Column("due_at", TS, nullable=False),
    Column("breached_at", TS),
    Column("first_response_at", TS),
    Column("responses", JSON, nullable=False, default=list),
    Column("version", Integer, nullable=False, default=0),
    Index("ix_complaints_due", "status", "due_at"),
)

tasks = Table(
    "tasks",
    metadata,
    Column("task_id", String(40), primary_key=True),
    Column("order_id", String(64), nullable=False, index=True),
    Column("shipment_id", String(64), nullable=False),
    Column("skus", JSON, nullable=False, default=list),
    Column("created_at", TS, nullable=False),
    Column("deadline", TS, nullable=False),
    Column("status", String(16), nullable=False),
    Column("option", String(20)),
    Column("note", Text, nullable=False, default=""),
    Column("resolved_by", String(100)),
    Column("resolved_at", TS),
    Column("version", Integer, nullable=False, default=0),
    Index("ix_tasks_status", "status", "deadline"),
)

policies = Table(
    "policies",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("data", JSON, nullable=False),
    Column("version", Integer, nullable=False, default=0),
    Column("updated_at", TS),
    Column("updated_by", String(100)),
)

# Optional review data per SKU (imported by ops) for the bad-review delisting rule.
sku_reviews = Table(
    "sku_reviews",
    metadata,
    Column("sku", String(64), primary_key=True),
    Column("reviews", Integer, nullable=False),
    Column("bad_reviews", Integer, nullable=False),
)
