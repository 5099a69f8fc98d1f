"""The aftersales database's Alembic tree (see shared/migrations.py)."""
