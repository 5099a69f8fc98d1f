"""Settings refuse development defaults in production; keys map to roles."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from shared.auth import principal_for
from shared.errors import AppError
from shared.settings import Settings


def test_development_has_documented_defaults():
    s = Settings(service="order", _env_file=None)
    assert s.api_keys["dev-clerk"] == "clerk"
    assert s.api_keys["dev-scanner-WH-DS-1"] == "scanner:WH-DS-1"
    assert s.database_url.startswith("sqlite+aiosqlite:///")
    assert s.shop_secrets["demo-shop"]["generic"] == "dev-shop-secret"


def test_production_refuses_to_start_on_development_defaults():
    with pytest.raises(ValidationError, match="FULFIL_API_KEYS"):
        Settings(service="order", FULFIL_MODE="production")
    with pytest.raises(ValidationError, match="refuses development API keys"):
        Settings(
            service="order",
            FULFIL_MODE="production",
            FULFIL_API_KEYS=json.dumps({"dev-clerk": "clerk"}),
            FULFIL_SHOP_SECRETS="{}x",
            ORDER_DATABASE_URL="postgresql+asyncpg://x/y",
        )


def test_production_starts_with_its_own_keys():
    s = Settings(
        service="order",
        FULFIL_MODE="production",
        FULFIL_API_KEYS=json.dumps({"k-123-production-key": "clerk"}),
        FULFIL_SHOP_SECRETS=json.dumps({"s": {"generic": "x"}}),
        ORDER_DATABASE_URL="postgresql+asyncpg://x/y",
    )
    assert s.api_keys == {"k-123-production-key": "clerk"}


def test_scanner_keys_are_bound_to_their_warehouse():
    keys = Settings(service="warehouse", _env_file=None).api_keys
    p = principal_for(keys, "Bearer dev-scanner-WH-DS-1")
    assert (p.role, p.warehouse_id) == ("scanner", "WH-DS-1")


@pytest.mark.parametrize("header", [None, "dev-clerk", "Bearer nope"])
def test_missing_or_unknown_keys_are_401(header):
    with pytest.raises(AppError) as err:
        principal_for(Settings(_env_file=None).api_keys, header)
    assert (err.value.status, err.value.code) == (401, "unauthenticated")
