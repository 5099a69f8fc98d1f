"""The outbox's readers by partial indexes: the relay's (unsent rows), the parked rows and
pruning (SQLite walked every kept row for the relay through the index on parked_at)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

PARTIAL = {
    "ix_outbox_unsent": (["id", "key"], "published_at IS NULL AND parked_at IS NULL"),
    "ix_outbox_parked_rows": (["id", "key"], "parked_at IS NOT NULL AND published_at IS NULL"),
    "ix_outbox_published": (["published_at"], "published_at IS NOT NULL"),
}


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_parked")
        batch_op.drop_index("ix_outbox_unpublished")
        for name, (columns, where) in PARTIAL.items():
            condition = sa.text(where)
            batch_op.create_index(name, columns, sqlite_where=condition, postgresql_where=condition)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        for name in PARTIAL:
            batch_op.drop_index(name)
        batch_op.create_index("ix_outbox_unpublished", ["published_at", "id"], unique=False)
        batch_op.create_index("ix_outbox_parked", ["parked_at"], unique=False)
