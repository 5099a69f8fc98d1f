"""Where the services are, and how the sign-in cookie is set (env `CONSOLE_*`)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONSOLE_", extra="ignore")

    order_url: str = "http://127.0.0.1:8001"
    warehouse_url: str = "http://127.0.0.1:8002"
    aftersales_url: str = "http://127.0.0.1:8003"
    # Secure cookies need HTTPS; development serves plain HTTP on 127.0.0.1.
    cookie_secure: bool = False
    timeout_seconds: float = 10.0
    # Acknowledgements arrive within a second: the stop page asks this often.
    poll_ms: int = 500
