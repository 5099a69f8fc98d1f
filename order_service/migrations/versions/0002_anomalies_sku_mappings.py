"""Anomalies (events a consumer could not apply); SKU mappings and the orders awaiting them."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "anomalies",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=100), nullable=True),
        sa.Column("shipment_id", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("anomalies", schema=None) as batch_op:
        batch_op.create_index("ix_anomalies_kind", ["kind", "id"], unique=False)
        batch_op.create_index("ix_anomalies_order", ["order_id", "id"], unique=False)

    op.create_table(
        "sku_mappings",
        sa.Column("platform", sa.String(length=40), nullable=False),
        sa.Column("variant_id", sa.String(length=100), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "variant_id"),
    )
    op.create_table(
        "sku_waiting",
        sa.Column("platform", sa.String(length=40), nullable=False),
        sa.Column("variant_id", sa.String(length=100), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("platform", "variant_id", "order_id"),
    )


def downgrade() -> None:
    op.drop_table("sku_waiting")
    op.drop_table("sku_mappings")
    with op.batch_alter_table("anomalies", schema=None) as batch_op:
        batch_op.drop_index("ix_anomalies_order")
        batch_op.drop_index("ix_anomalies_kind")

    op.drop_table("anomalies")
