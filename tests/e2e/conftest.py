"""The whole system as separate processes, started by the runner (`python -m services`)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import Databases, _free_port, session_timeout_ms

PORTS = {"order": 8001, "warehouse": 8002, "aftersales": 8003}


@dataclass
class System:
    urls: dict[str, str]
    proc: subprocess.Popen
    log_dir: str

    def client(self, service: str, key: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.AsyncClient(base_url=self.urls[service], headers=headers, timeout=10)

    def logs(self) -> str:
        out = []
        for name in ("runner", "order", "warehouse", "aftersales"):
            path = Path(self.log_dir) / f"{name}.log"
            if path.exists():
                out.append(f"--- {name}.log (tail) ---\n" + path.read_text()[-3000:])
        return "\n".join(out)


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"runner exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} not ready after {timeout}s")


@pytest.fixture(scope="module")
def system(broker, tmp_path_factory) -> System:
    """Broker (embedded or given) + the three services as processes, ready."""
    var = tmp_path_factory.mktemp("system")
    offset = _free_port() % 1000 + 20000 - 8001
    env = dict(
        os.environ,
        FULFIL_VAR_DIR=str(var),
        KAFKA_BOOTSTRAP_SERVERS=broker,
        FULFIL_TOPIC_PREFIX=f"e2e{offset}.",
        KAFKA_SESSION_TIMEOUT_MS=str(session_timeout_ms()),
        FULFIL_RELAY_IDLE_MS="50",
    )
    dbs = Databases(var)
    if dbs.postgres:
        for name in PORTS:
            env[f"{name.upper()}_DATABASE_URL"] = dbs.url(name)
    proc = subprocess.Popen(
        [sys.executable, "-m", "services", "--port-offset", str(offset), "--var-dir", str(var)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    urls = {name: f"http://127.0.0.1:{port + offset}" for name, port in PORTS.items()}
    system = System(urls, proc, str(var / "logs"))
    try:
        for url in urls.values():
            _wait_ready(url, proc)
        yield system
    except Exception:
        print(system.logs())
        raise
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        dbs.drop_all()
