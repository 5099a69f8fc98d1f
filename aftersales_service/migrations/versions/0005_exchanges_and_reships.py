"""Exchanges and reships (SPEC §4.1): replacements and their shipments, a return's
resolution, and the reship a liability comes from."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "replacement_shipments",
        sa.Column("shipment_id", sa.String(length=64), nullable=False),
        sa.Column("replacement_id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("shipment_id"),
    )
    with op.batch_alter_table("replacement_shipments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_replacement_shipments_replacement_id"), ["replacement_id"], unique=False
        )

    op.create_table(
        "replacements",
        sa.Column("replacement_id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("reason_code", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("return_id", sa.String(length=40), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("paid_value", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("value", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("price_difference", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("refund_id", sa.String(length=40), nullable=True),
        sa.Column("shipments", sa.JSON(), nullable=False),
        sa.Column("shipped", sa.JSON(), nullable=False),
        sa.Column("claims", sa.JSON(), nullable=False),
        sa.Column("liable_party", sa.String(length=16), nullable=True),
        sa.Column("refused_code", sa.String(length=64), nullable=True),
        sa.Column("refused_reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("replacement_id"),
    )
    with op.batch_alter_table("replacements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_replacements_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_replacements_return_id"), ["return_id"], unique=False)

    with op.batch_alter_table("liabilities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("replacement_id", sa.String(length=40), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_liabilities_replacement_id"), ["replacement_id"], unique=False
        )

    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("resolution", sa.String(length=16), server_default="refund", nullable=False)
        )
        batch_op.add_column(sa.Column("replacement_id", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_column("replacement_id")
        batch_op.drop_column("resolution")

    with op.batch_alter_table("liabilities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_liabilities_replacement_id"))
        batch_op.drop_column("replacement_id")

    with op.batch_alter_table("replacements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_replacements_return_id"))
        batch_op.drop_index(batch_op.f("ix_replacements_order_id"))

    op.drop_table("replacements")
    with op.batch_alter_table("replacement_shipments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_replacement_shipments_replacement_id"))

    op.drop_table("replacement_shipments")
