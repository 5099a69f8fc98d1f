"""Typed settings, read from the environment.

Development mode has fixed, documented defaults (SPEC §8.1); production mode
refuses to start with any of them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import StrEnum
from functools import cached_property
from typing import Literal, TypeVar, get_args

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.limits import API_BODY_MAX_BYTES

T = TypeVar("T")

DEV_WAREHOUSES = ("WH-OWN-1", "WH-DS-1", "WH-DS-2")
Role = Literal["clerk", "cs_agent", "cs_supervisor", "ops", "admin"]
DEV_ROLES: tuple[Role, ...] = get_args(Role)
ROLES = DEV_ROLES  # plus `scanner:<warehouse_id>`
SCANNER_PREFIX = "scanner:"
API_KEY_MIN_LENGTH = 16  # production keys


class Mode(StrEnum):
    development = "development"
    production = "production"


def dev_api_keys() -> dict[str, str]:
    """The development keys: `dev-<role>` and `dev-scanner-<warehouse>`."""
    keys: dict[str, str] = {f"dev-{role}": role for role in DEV_ROLES}
    keys.update({f"dev-scanner-{wh}": f"scanner:{wh}" for wh in DEV_WAREHOUSES})
    return keys


DEV_SHOP_SECRETS = {"demo-shop": {"generic": "dev-shop-secret", "shopify": "dev-shopify-secret"}}


class Settings(BaseSettings):
    """Settings common to every service; `service` selects the database URL."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    mode: Mode = Field(Mode.development, alias="FULFIL_MODE")
    service: str = "order"
    instance_id: str = Field("", alias="FULFIL_INSTANCE_ID")
    var_dir: str = Field("var", alias="FULFIL_VAR_DIR")
    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", alias="KAFKA_BOOTSTRAP_SERVERS")
    # Tansu (the embedded broker) has no idempotent producer; Apache Kafka does.
    kafka_idempotence: bool = Field(False, alias="KAFKA_IDEMPOTENCE")
    # Tansu answers a fetch only after about half of max-wait, and a JoinGroup after
    # half the session timeout; Apache Kafka answers as soon as it can but refuses
    # sessions under 6 s. The runner and tests use 3 s sessions on Tansu.
    kafka_fetch_max_wait_ms: int = Field(50, alias="KAFKA_FETCH_MAX_WAIT_MS")
    kafka_session_timeout_ms: int = Field(10000, alias="KAFKA_SESSION_TIMEOUT_MS")
    kafka_topic_partitions: int = Field(3, alias="KAFKA_TOPIC_PARTITIONS")
    # Unset: the cluster's own default.replication.factor (min(3, brokers) if the broker
    # does not say). min.insync.replicas: unset gives 2 when the replication is >= 3.
    kafka_replication: int | None = Field(None, ge=1, alias="KAFKA_REPLICATION")
    kafka_min_insync_replicas: int | None = Field(None, ge=1, alias="KAFKA_MIN_INSYNC_REPLICAS")
    # Apache Kafka's message.max.bytes default is 1 MiB + 12: larger events are refused
    # by the client before they reach the broker, and parked by the relay.
    kafka_max_request_bytes: int = Field(1024 * 1024, ge=1024, alias="KAFKA_MAX_REQUEST_BYTES")
    kafka_request_timeout_ms: int = Field(10000, ge=100, alias="KAFKA_REQUEST_TIMEOUT_MS")
    topic_prefix: str = Field("", alias="FULFIL_TOPIC_PREFIX")
    order_database_url: str = Field("", alias="ORDER_DATABASE_URL")
    warehouse_database_url: str = Field("", alias="WAREHOUSE_DATABASE_URL")
    aftersales_database_url: str = Field("", alias="AFTERSALES_DATABASE_URL")
    api_keys_json: str = Field("", alias="FULFIL_API_KEYS")
    shop_secrets_json: str = Field("", alias="FULFIL_SHOP_SECRETS")
    # Warehouses this instance serves for stop-shipment acknowledgements (comma list).
    warehouses: str = Field("", alias="FULFIL_WAREHOUSES")
    relay_batch: int = Field(1000, alias="FULFIL_RELAY_BATCH")
    relay_idle_ms: int = Field(200, alias="FULFIL_RELAY_IDLE_MS")
    # An event not acknowledged in this time counts as a producer failure (fresh producer).
    relay_send_timeout_ms: int = Field(15000, ge=100, alias="FULFIL_RELAY_SEND_TIMEOUT_MS")
    # /readyz reports a relay with rows waiting and nothing published for this long.
    relay_stale_seconds: float = Field(30.0, gt=0, alias="FULFIL_RELAY_STALE_SECONDS")
    webhook_max_bytes: int = Field(256 * 1024, alias="FULFIL_WEBHOOK_MAX_BYTES")
    api_max_bytes: int = Field(API_BODY_MAX_BYTES, alias="FULFIL_API_MAX_BYTES")

    @model_validator(mode="after")
    def _refuse_dev_defaults_in_production(self) -> Settings:
        if self.mode is not Mode.production:
            return self
        missing = [
            name
            for name, value in (
                ("FULFIL_API_KEYS", self.api_keys_json),
                ("FULFIL_SHOP_SECRETS", self.shop_secrets_json),
                (f"{self.service.upper()}_DATABASE_URL", self.database_url_or_empty),
            )
            if not value
        ]
        if missing:
            raise ValueError(f"production mode needs {', '.join(missing)}")
        for key, role in _parsed("FULFIL_API_KEYS", _api_keys, self).items():
            _check_production_key(key, role)
        dev_secrets = {v for kinds in DEV_SHOP_SECRETS.values() for v in kinds.values()}
        for shop, kinds in _parsed("FULFIL_SHOP_SECRETS", _secrets, self).items():
            for kind, secret in kinds.items():
                if secret in dev_secrets:
                    raise ValueError(
                        f"production mode refuses the development shop secret "
                        f"(FULFIL_SHOP_SECRETS {shop}.{kind})"
                    )
        return self

    @property
    def database_url_or_empty(self) -> str:
        return getattr(self, f"{self.service}_database_url", "")

    @property
    def database_url(self) -> str:
        """The service's database; SQLite under `var/` in development."""
        return self.database_url_or_empty or (
            f"sqlite+aiosqlite:///{self.var_dir}/{self.service}.db"
        )

    @cached_property
    def api_keys(self) -> dict[str, str]:
        """API key → role (`scanner:<warehouse_id>` for scanner keys)."""
        return _api_keys(self)

    @cached_property
    def shop_secrets(self) -> dict[str, dict[str, str]]:
        """Shop id → {"generic": secret, "shopify": secret}."""
        return _secrets(self)

    @property
    def served_warehouses(self) -> list[str]:
        return [w for w in self.warehouses.split(",") if w] or list(DEV_WAREHOUSES)

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"


def _parsed(name: str, parse: Callable[[Settings], T], settings: Settings) -> T:
    try:
        return parse(settings)
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"{name} is not valid JSON of the documented shape: {exc}") from None


def _api_keys(settings: Settings) -> dict[str, str]:
    if not settings.api_keys_json:
        return dev_api_keys()
    keys: dict[str, str] = json.loads(settings.api_keys_json)
    if not all(isinstance(k, str) and isinstance(r, str) for k, r in keys.items()):
        raise ValueError("keys and roles must be strings")
    return keys


def _secrets(settings: Settings) -> dict[str, dict[str, str]]:
    if not settings.shop_secrets_json:
        return DEV_SHOP_SECRETS
    secrets: dict[str, dict[str, str]] = json.loads(settings.shop_secrets_json)
    if not all(isinstance(v, str) for kinds in secrets.values() for v in kinds.values()):
        raise ValueError("secrets must be strings")
    return secrets


def _check_production_key(key: str, role: str) -> None:
    """Refuse development keys, short keys, unknown roles and unbound scanner keys."""
    hint = f"{key[:4]}…" if len(key) >= API_KEY_MIN_LENGTH else "a short key"
    if key.startswith("dev-") or key in dev_api_keys():
        raise ValueError("production mode refuses development API keys (dev-*)")
    if len(key) < API_KEY_MIN_LENGTH:
        raise ValueError(
            f"production API keys must be at least {API_KEY_MIN_LENGTH} characters "
            f"({hint}, role {role!r})"
        )
    if role.startswith(SCANNER_PREFIX):
        if not role.removeprefix(SCANNER_PREFIX).strip():
            raise ValueError(f"scanner keys need a warehouse: scanner:<warehouse_id> ({hint})")
    elif role not in ROLES:
        raise ValueError(
            f"unknown role {role!r} for {hint}; roles are {', '.join(ROLES)} "
            "and scanner:<warehouse_id>"
        )
