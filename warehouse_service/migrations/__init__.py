"""The warehouse database's Alembic tree (see shared/migrations.py)."""
