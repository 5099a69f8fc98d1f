"""The whole system as separate processes, started by the runner (`python -m services`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import _free_port
from tests.support.runner import runner, tails, wait_ok

PORTS = {"order": 8001, "warehouse": 8002, "aftersales": 8003}


@dataclass
class System:
    urls: dict[str, str]
    log_dir: Path

    def client(self, service: str, key: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.AsyncClient(base_url=self.urls[service], headers=headers, timeout=10)

    def logs(self) -> str:
        return tails(self.log_dir)


@pytest.fixture(scope="module")
def system(broker, tmp_path_factory) -> Iterator[System]:
    """Broker (embedded or given) + the three services as processes, ready."""
    var = tmp_path_factory.mktemp("system")
    offset = _free_port() % 1000 + 20000 - 8001
    with runner(broker, var, offset, f"e2e{offset}.") as proc:
        urls = {name: f"http://127.0.0.1:{port + offset}" for name, port in PORTS.items()}
        system = System(urls, var / "logs")
        try:
            for url in urls.values():
                wait_ok(url + "/readyz", proc, timeout=60)
            yield system
        except Exception:
            print(system.logs())
            raise
