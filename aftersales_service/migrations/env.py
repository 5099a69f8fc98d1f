"""Alembic environment of the aftersales database: the shared logic, on this service's tables."""

from aftersales_service.adapters.tables import metadata
from shared.migrations import run_env

run_env(metadata)
