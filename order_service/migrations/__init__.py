"""The order database's Alembic tree (see shared/migrations.py)."""
