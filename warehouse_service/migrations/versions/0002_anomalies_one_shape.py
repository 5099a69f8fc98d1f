"""Anomalies in the shape every service shares: kind, event id, reason (was detail)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


NEW = {"kind": sa.String(length=60), "event_id": sa.String(length=64), "reason": sa.Text()}


def upgrade() -> None:
    with op.batch_alter_table("anomalies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", NEW["kind"], nullable=False, server_default="legacy"))
        batch_op.add_column(
            sa.Column("event_id", NEW["event_id"], nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("reason", NEW["reason"], nullable=False, server_default=""))
    op.execute("UPDATE anomalies SET reason = detail")
    with op.batch_alter_table("anomalies", schema=None) as batch_op:
        for name, type_ in NEW.items():  # the defaults only filled the rows already there
            batch_op.alter_column(name, existing_type=type_, server_default=None)
        batch_op.create_index("ix_anomalies_kind", ["kind", "id"], unique=False)
        batch_op.create_index("ix_anomalies_order", ["order_id", "id"], unique=False)
        batch_op.drop_column("detail")


def downgrade() -> None:
    with op.batch_alter_table("anomalies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("detail", sa.Text(), nullable=False, server_default=""))
    op.execute("UPDATE anomalies SET detail = reason")
    with op.batch_alter_table("anomalies", schema=None) as batch_op:
        batch_op.alter_column("detail", existing_type=sa.Text(), server_default=None)
        batch_op.drop_index("ix_anomalies_order")
        batch_op.drop_index("ix_anomalies_kind")
        batch_op.drop_column("reason")
        batch_op.drop_column("event_id")
        batch_op.drop_column("kind")
