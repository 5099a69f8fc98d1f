"""A list price on catalog items: what a replacement of a SKU the order did not have is
worth (exchanges and reships, SPEC §4.1)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("catalog", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_price", sa.Numeric(12, 2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("catalog", schema=None) as batch_op:
        batch_op.drop_column("unit_price")
