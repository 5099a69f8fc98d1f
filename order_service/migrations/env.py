"""Alembic environment of the order database: the shared logic, on this service's tables."""

from order_service.adapters.tables import metadata
from shared.migrations import run_env

run_env(metadata)
