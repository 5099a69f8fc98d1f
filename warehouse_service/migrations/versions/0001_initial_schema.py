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
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("order_id", sa.String(length=100), nullable=True),
        sa.Column("shipment_id", sa.String(length=100), nullable=True),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "holds",
        sa.Column("hold_id", sa.String(length=64), nullable=False),
        sa.Column("shipment_id", sa.String(length=100), nullable=False),
        sa.Column("warehouse_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("stop_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("hold_id"),
    )
    op.create_index("ix_holds_shipment_id", "holds", ["shipment_id"])
    op.create_index("ix_holds_stop", "holds", ["stop_id", "released_at"])
    op.create_index("ix_holds_until", "holds", ["released_at", "until"])
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id"),
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
        "relay_lease",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "shipment_keys",
        sa.Column("shipment_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("shipment_id", "kind", "value"),
    )
    op.create_index("ix_shipment_keys_value", "shipment_keys", ["kind", "value"])
    op.create_table(
        "shipments",
        sa.Column("shipment_id", sa.String(length=100), nullable=False),
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("warehouse_id", sa.String(length=64), nullable=False),
        sa.Column("warehouse_kind", sa.String(length=16), nullable=True),
        sa.Column("warehouse_supplier", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("address", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("interception", sa.JSON(), nullable=True),
        sa.Column("carrier", sa.String(length=64), nullable=True),
        sa.Column("tracking_number", sa.String(length=100), nullable=True),
        sa.Column("weight_grams", sa.Integer(), nullable=True),
        sa.Column("scanned", sa.JSON(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shipped_epoch", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("shipment_id"),
        sa.UniqueConstraint("tracking_number"),
        # Half-full pages on PostgreSQL: a stop's 10,000-row version bump is a HOT update.
        # Half-full pages on PostgreSQL: a stop's 10,000-row version bump is a HOT update.
        postgresql_with={"fillfactor": 50},
    )
    op.create_index("ix_shipments_order_id", "shipments", ["order_id"])
    op.create_index("ix_shipments_wh_status", "shipments", ["warehouse_id", "status"])
    op.create_table(
        "stop_acks",
        sa.Column("stop_id", sa.String(length=64), nullable=False),
        sa.Column("warehouse_id", sa.String(length=64), nullable=False),
        sa.Column("instance_id", sa.String(length=200), nullable=False),
        sa.Column("held_count", sa.Integer(), nullable=False),
        sa.Column("already_shipped", sa.JSON(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("stop_id", "warehouse_id", "instance_id"),
    )
    op.create_table(
        "stop_guard",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "stops",
        sa.Column("stop_id", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("issued_by", sa.String(length=200), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lifted_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("stop_id"),
    )
    op.create_table(
        "warehouses",
        sa.Column("warehouse_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("supplier_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("warehouse_id"),
    )


def adopt() -> None:
    """A database made by `create_all` before migrations: on PostgreSQL, give `shipments`
    its fillfactor if it was created before that setting, rewriting the table (CLUSTER,
    which runs in the migration's transaction, unlike VACUUM FULL) so old pages get room."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    options = bind.exec_driver_sql(
        "SELECT reloptions FROM pg_class WHERE oid = 'shipments'::regclass"
    ).scalar()
    if "fillfactor=50" not in (options or []):
        op.execute("ALTER TABLE shipments SET (fillfactor = 50)")
        op.execute("CLUSTER shipments USING shipments_pkey")


def downgrade() -> None:
    op.drop_table("warehouses")
    op.drop_table("stops")
    op.drop_table("stop_guard")
    op.drop_table("stop_acks")
    op.drop_index("ix_shipments_wh_status", "shipments")
    op.drop_index("ix_shipments_order_id", "shipments")
    op.drop_table("shipments")
    op.drop_index("ix_shipment_keys_value", "shipment_keys")
    op.drop_table("shipment_keys")
    op.drop_table("relay_lease")
    op.drop_index("ix_outbox_unpublished", "outbox")
    op.drop_table("outbox")
    op.drop_table("inbox")
    op.drop_index("ix_holds_until", "holds")
    op.drop_index("ix_holds_stop", "holds")
    op.drop_index("ix_holds_shipment_id", "holds")
    op.drop_table("holds")
    op.drop_table("anomalies")
