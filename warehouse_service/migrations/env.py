"""Alembic environment of the warehouse database: the shared logic, on this service's tables."""

from shared.migrations import run_env
from warehouse_service.adapters.tables import metadata

run_env(metadata)
