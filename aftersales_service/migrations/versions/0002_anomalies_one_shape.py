"""Anomalies in the shape every service shares: kind, shipment id, reason (was note)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("anomalies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=60), nullable=False, server_default="legacy")
        )
        batch_op.add_column(sa.Column("shipment_id", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=False, server_default=""))
    op.execute("UPDATE anomalies SET reason = note")
    with op.batch_alter_table("anomalies", schema=None) as batch_op:
        # the defaults only filled the rows already there
        batch_op.alter_column("kind", existing_type=sa.String(length=60), server_default=None)
        batch_op.alter_column("reason", existing_type=sa.Text(), server_default=None)
        batch_op.alter_column(
            "id",
            existing_type=sa.Integer(),
            type_=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            existing_nullable=False,
        )
        batch_op.alter_column(
            "event_type",
            existing_type=sa.VARCHAR(length=64),
            type_=sa.String(length=100),
            existing_nullable=False,
        )
        batch_op.alter_column(
            "event_id",
            existing_type=sa.VARCHAR(length=36),
            type_=sa.String(length=64),
            existing_nullable=False,
        )
        batch_op.alter_column(
            "order_id",
            existing_type=sa.VARCHAR(length=64),
            type_=sa.String(length=100),
            existing_nullable=True,
        )
        batch_op.create_index("ix_anomalies_kind", ["kind", "id"], unique=False)
        batch_op.create_index("ix_anomalies_order", ["order_id", "id"], unique=False)
        batch_op.drop_column("note")


def downgrade() -> None:
    with op.batch_alter_table("anomalies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=False, server_default=""))
    op.execute("UPDATE anomalies SET note = reason")
    with op.batch_alter_table("anomalies", schema=None) as batch_op:
        batch_op.alter_column("note", existing_type=sa.Text(), server_default=None)
        batch_op.drop_index("ix_anomalies_order")
        batch_op.drop_index("ix_anomalies_kind")
        batch_op.alter_column(
            "order_id", existing_type=sa.String(length=100), type_=sa.VARCHAR(length=64)
        )
        batch_op.alter_column(
            "event_id", existing_type=sa.String(length=64), type_=sa.VARCHAR(length=36)
        )
        batch_op.alter_column(
            "event_type", existing_type=sa.String(length=100), type_=sa.VARCHAR(length=64)
        )
        batch_op.alter_column("id", existing_type=sa.BigInteger(), type_=sa.Integer())
        batch_op.drop_column("reason")
        batch_op.drop_column("shipment_id")
        batch_op.drop_column("kind")
