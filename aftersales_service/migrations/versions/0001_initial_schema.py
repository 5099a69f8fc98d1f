"""Initial schema."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "anomalies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "complaints",
        sa.Column("complaint_id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("tier", sa.String(length=4), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("escalations", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=32), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("responses", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("complaint_id"),
    )
    op.create_index("ix_complaints_due", "complaints", ["status", "due_at"])
    op.create_index("ix_complaints_order_id", "complaints", ["order_id"])
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id"),
    )
    op.create_table(
        "liabilities",
        sa.Column("liability_id", sa.String(length=40), nullable=False),
        sa.Column("return_id", sa.String(length=40), nullable=True),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("party", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=True),
        sa.Column("supplier_id", sa.String(length=64), nullable=True),
        sa.Column("warehouse_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("original_party", sa.String(length=16), nullable=True),
        sa.Column("original_amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("overridden_by", sa.String(length=100), nullable=True),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("liability_id"),
    )
    op.create_index("ix_liabilities_return_id", "liabilities", ["return_id"])
    op.create_index("ix_liabilities_supplier", "liabilities", ["party", "supplier_id", "amount"])
    op.create_index("ix_liabilities_warehouse", "liabilities", ["party", "warehouse_id", "amount"])
    op.create_table(
        "order_lines",
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("supplier_id", sa.String(length=64), nullable=True),
        sa.Column("warehouse_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("order_id", "line_no"),
    )
    op.create_index("ix_order_lines_category_qty", "order_lines", ["category", "qty"])
    op.create_index("ix_order_lines_sku_qty", "order_lines", ["sku", "qty"])
    op.create_index("ix_order_lines_supplier_qty", "order_lines", ["supplier_id", "qty"])
    op.create_index(
        "ix_order_lines_warehouse_qty", "order_lines", ["warehouse_id", "qty", "unit_price"]
    )
    op.create_table(
        "orders",
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("synced", sa.Boolean(), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=True),
        sa.Column("platform", sa.String(length=32), nullable=True),
        sa.Column("buyer_id", sa.String(length=64), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=True),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shipped", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("order_id"),
    )
    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index("ix_outbox_unpublished", "outbox", ["published_at", "id"])
    op.create_table(
        "policies",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "refund_claims",
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("claim_key", sa.String(length=40), nullable=False),
        sa.Column("refund_id", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "claim_key"),
    )
    op.create_index("ix_refund_claims_refund_id", "refund_claims", ["refund_id"])
    op.create_table(
        "refunds",
        sa.Column("refund_id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reason_code", sa.String(length=32), nullable=False),
        sa.Column("return_id", sa.String(length=40), nullable=True),
        sa.Column("platform_refund_id", sa.String(length=100), nullable=True),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("refused_code", sa.String(length=64), nullable=True),
        sa.Column("claims", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("refund_id"),
        sa.UniqueConstraint("order_id", "platform_refund_id", name="uq_refunds_platform_refund"),
    )
    op.create_index("ix_refunds_order_id", "refunds", ["order_id"])
    op.create_table(
        "relay_lease",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "return_lines",
        sa.Column("return_id", sa.String(length=40), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("supplier_id", sa.String(length=64), nullable=True),
        sa.Column("warehouse_id", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("return_id", "line_no"),
    )
    op.create_index("ix_return_lines_category", "return_lines", ["category", "active", "qty"])
    op.create_index("ix_return_lines_sku", "return_lines", ["sku", "active", "qty"])
    op.create_index("ix_return_lines_supplier", "return_lines", ["supplier_id", "active", "qty"])
    op.create_index("ix_return_lines_warehouse", "return_lines", ["warehouse_id", "active", "qty"])
    op.create_table(
        "returned_inventory",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("return_id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(length=16), nullable=False),
        sa.Column("disposition", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("recovered_value", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("repair_cost", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("flaw_note", sa.Text(), nullable=False),
        sa.Column("warehouse_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_returned_inventory_disposition", "returned_inventory", ["disposition"])
    op.create_index("ix_returned_inventory_return_id", "returned_inventory", ["return_id"])
    op.create_index("ix_returned_inventory_sku", "returned_inventory", ["sku"])
    op.create_table(
        "returns",
        sa.Column("return_id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("reason_code", sa.String(length=32), nullable=False),
        sa.Column("reason_category", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("opened", sa.Boolean(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("shipping_payer", sa.String(length=10), nullable=False),
        sa.Column("return_address", sa.Text(), nullable=False),
        sa.Column("refund_id", sa.String(length=40), nullable=True),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("warehouse_id", sa.String(length=64), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("days_after_delivery", sa.Integer(), nullable=True),
        sa.Column("approved_by", sa.String(length=100), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("inspected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handling_seconds", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("return_id"),
    )
    op.create_index("ix_returns_days", "returns", ["days_after_delivery", "kind", "status"])
    op.create_index("ix_returns_opened_at", "returns", ["opened_at"])
    op.create_index("ix_returns_order_id", "returns", ["order_id"])
    op.create_index(
        "ix_returns_reason", "returns", ["reason_code", "reason_category", "status", "amount"]
    )
    op.create_index("ix_returns_status", "returns", ["status", "opened_at"])
    op.create_index(
        "ix_returns_warehouse", "returns", ["warehouse_id", "status", "handling_seconds"]
    )
    op.create_table(
        "shipments",
        sa.Column("shipment_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("warehouse_id", sa.String(length=64), nullable=True),
        sa.Column("skus", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submit_to_ship_seconds", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("shipment_id"),
    )
    op.create_index("ix_shipments_order_id", "shipments", ["order_id"])
    op.create_index(
        "ix_shipments_warehouse",
        "shipments",
        ["warehouse_id", "submit_to_ship_seconds", "shipped_at"],
    )
    op.create_table(
        "sku_reviews",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("reviews", sa.Integer(), nullable=False),
        sa.Column("bad_reviews", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("sku"),
    )
    op.create_table(
        "tasks",
        sa.Column("task_id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("shipment_id", sa.String(length=64), nullable=False),
        sa.Column("skus", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("option", sa.String(length=20), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("task_id"),
    )
    op.create_index("ix_tasks_order_id", "tasks", ["order_id"])
    op.create_index("ix_tasks_status", "tasks", ["status", "deadline"])
    op.create_table(
        "warehouse_rollup",
        sa.Column("warehouse_id", sa.String(length=64), nullable=False),
        sa.Column("shipments", sa.BigInteger(), nullable=False),
        sa.Column("shipped", sa.BigInteger(), nullable=False),
        sa.Column("ship_seconds_sum", sa.BigInteger(), nullable=False),
        sa.Column("ship_seconds_n", sa.BigInteger(), nullable=False),
        sa.Column("value_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("warehouse_id"),
    )
    op.create_table(
        "warehouses",
        sa.Column("warehouse_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("supplier_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("warehouse_id"),
    )


def downgrade() -> None:
    op.drop_table("warehouses")
    op.drop_table("warehouse_rollup")
    op.drop_index("ix_tasks_status", "tasks")
    op.drop_index("ix_tasks_order_id", "tasks")
    op.drop_table("tasks")
    op.drop_table("sku_reviews")
    op.drop_index("ix_shipments_warehouse", "shipments")
    op.drop_index("ix_shipments_order_id", "shipments")
    op.drop_table("shipments")
    op.drop_index("ix_returns_warehouse", "returns")
    op.drop_index("ix_returns_status", "returns")
    op.drop_index("ix_returns_reason", "returns")
    op.drop_index("ix_returns_order_id", "returns")
    op.drop_index("ix_returns_opened_at", "returns")
    op.drop_index("ix_returns_days", "returns")
    op.drop_table("returns")
    op.drop_index("ix_returned_inventory_sku", "returned_inventory")
    op.drop_index("ix_returned_inventory_return_id", "returned_inventory")
    op.drop_index("ix_returned_inventory_disposition", "returned_inventory")
    op.drop_table("returned_inventory")
    op.drop_index("ix_return_lines_warehouse", "return_lines")
    op.drop_index("ix_return_lines_supplier", "return_lines")
    op.drop_index("ix_return_lines_sku", "return_lines")
    op.drop_index("ix_return_lines_category", "return_lines")
    op.drop_table("return_lines")
    op.drop_table("relay_lease")
    op.drop_index("ix_refunds_order_id", "refunds")
    op.drop_table("refunds")
    op.drop_index("ix_refund_claims_refund_id", "refund_claims")
    op.drop_table("refund_claims")
    op.drop_table("policies")
    op.drop_index("ix_outbox_unpublished", "outbox")
    op.drop_table("outbox")
    op.drop_table("orders")
    op.drop_index("ix_order_lines_warehouse_qty", "order_lines")
    op.drop_index("ix_order_lines_supplier_qty", "order_lines")
    op.drop_index("ix_order_lines_sku_qty", "order_lines")
    op.drop_index("ix_order_lines_category_qty", "order_lines")
    op.drop_table("order_lines")
    op.drop_index("ix_liabilities_warehouse", "liabilities")
    op.drop_index("ix_liabilities_supplier", "liabilities")
    op.drop_index("ix_liabilities_return_id", "liabilities")
    op.drop_table("liabilities")
    op.drop_table("inbox")
    op.drop_index("ix_complaints_order_id", "complaints")
    op.drop_index("ix_complaints_due", "complaints")
    op.drop_table("complaints")
    op.drop_table("anomalies")
