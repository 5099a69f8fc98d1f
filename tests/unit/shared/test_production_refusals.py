"""Production mode refuses development secrets, weak keys, unknown roles; keys in constant time."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from shared import auth
from shared.auth import principal_for
from shared.errors import AppError
from shared.settings import Settings

GOOD_KEYS = {"k" * 24: "clerk", "s" * 24: "scanner:WH-OWN-1"}
GOOD_SECRETS = {"shop": {"generic": "g" * 32, "shopify": "h" * 32}}


def _production(keys=GOOD_KEYS, secrets=GOOD_SECRETS) -> Settings:
    return Settings(
        service="order",
        FULFIL_MODE="production",
        FULFIL_API_KEYS=json.dumps(keys),
        FULFIL_SHOP_SECRETS=json.dumps(secrets),
        ORDER_DATABASE_URL="postgresql+asyncpg://x/y",
    )


def test_production_starts_with_strong_keys_and_known_roles():
    assert _production().api_keys == GOOD_KEYS


@pytest.mark.parametrize(
    "secrets",
    [
        {"demo-shop": {"generic": "dev-shop-secret", "shopify": "h" * 32}},
        {"my-shop": {"generic": "g" * 32, "shopify": "dev-shopify-secret"}},
    ],
)
def test_production_refuses_the_development_shop_secrets(secrets):
    with pytest.raises(ValidationError, match="development shop secret"):
        _production(secrets=secrets)


@pytest.mark.parametrize(
    ("keys", "match"),
    [
        ({"a": "clerk"}, "at least 16"),
        ({"short-key-15-ch": "admin"}, "at least 16"),
        ({"k" * 24: "superuser"}, "unknown role 'superuser'"),
        ({"k" * 24: "scanner:"}, "scanner:<warehouse_id>"),
        ({"k" * 24: "scanner"}, "unknown role 'scanner'"),
        ({"dev-cs_supervisor": "cs_supervisor"}, "development API keys"),
        ({"dev-scanner-WH-OWN-1xx": "scanner:WH-OWN-1"}, "development API keys"),
    ],
)
def test_production_refuses_weak_keys_and_unknown_roles(keys, match):
    with pytest.raises(ValidationError, match=match):
        _production(keys={**GOOD_KEYS, **keys})


def test_production_refuses_unreadable_key_json():
    with pytest.raises(ValidationError, match="FULFIL_API_KEYS"):
        Settings(
            service="order",
            FULFIL_MODE="production",
            FULFIL_API_KEYS="{not json",
            FULFIL_SHOP_SECRETS=json.dumps(GOOD_SECRETS),
            ORDER_DATABASE_URL="postgresql+asyncpg://x/y",
        )


def test_keys_are_compared_in_constant_time(monkeypatch):
    """Every configured key is compared with hmac.compare_digest, not a dict lookup."""
    seen: list[bytes] = []
    real = auth.hmac.compare_digest

    def spy(a, b):
        seen.append(a)
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    keys = {"x" * 20: "clerk", "y" * 20: "ops", "z" * 20: "admin"}
    assert principal_for(keys, "Bearer " + "y" * 20).role == "ops"
    assert len(seen) == len(keys)
    seen.clear()
    with pytest.raises(AppError):
        principal_for(keys, "Bearer " + "w" * 20)
    assert len(seen) == len(keys)
