"""The order's shipping and discount as `order.synced` carries them (SPEC §2.4: refunds by
line). Existing rows stay NULL: their events did not carry them, so they are inferred."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shipping", sa.Numeric(precision=12, scale=2), nullable=True))
        batch_op.add_column(sa.Column("discount", sa.Numeric(precision=12, scale=2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("discount")
        batch_op.drop_column("shipping")
