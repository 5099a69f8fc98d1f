"""The three services as separate processes (`python -m services.serve`), killable with -9."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.common import free_port

NAMES = ("order", "warehouse", "aftersales")
# Lines in a service log that name the failures issue 13 describes (counted per scenario).
SIGNS = {
    "out_of_order_seq": "OutOfOrderSequenceNumber",
    "too_large": "MessageSizeTooLarge",
    "gave_up": "failed (attempt 3)",
}


@dataclass
class Service:
    name: str
    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        args = [sys.executable, "-m", "services.serve", self.name, "--port", str(self.port)]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [*args, "--log-level", "warning"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        """`kill -9`: no shutdown hook runs."""
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    async def ready(self, timeout: float = 90) -> bool:
        """Wait for `/readyz` 200 (database and broker reachable); False after `timeout`."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=3) as http:
            while time.monotonic() < deadline:
                if self.proc and self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.proc.returncode}")
                try:
                    if (await http.get(self.url + "/readyz")).status_code == 200:
                        return True
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        return False


class System:
    """order, warehouse and after-sales on one broker, each with a fresh database."""

    def __init__(self, bootstrap: str, urls: dict[str, str], prefix: str, logs: Path):
        logs.mkdir(parents=True, exist_ok=True)
        env = dict(
            os.environ,
            KAFKA_BOOTSTRAP_SERVERS=bootstrap,
            KAFKA_IDEMPOTENCE="true",
            KAFKA_SESSION_TIMEOUT_MS="6000",
            FULFIL_TOPIC_PREFIX=prefix,
            FULFIL_VAR_DIR=str(logs),
            **{f"{n.upper()}_DATABASE_URL": u for n, u in urls.items()},
        )
        self.prefix, self.logs = prefix, logs
        self.services = {
            n: Service(n, dict(env, FULFIL_INSTANCE_ID=f"faults-{n}"), logs / f"{n}.log")
            for n in NAMES
        }

    def __getitem__(self, name: str) -> Service:
        return self.services[name]

    async def start(self) -> None:
        for s in self.services.values():
            s.start()
        for s in self.services.values():
            if not await s.ready():
                raise RuntimeError(f"{s.name} not ready; see {s.log}")

    def kill(self) -> None:
        for s in self.services.values():
            s.kill()

    def signs(self) -> dict[str, int]:
        """How often each known failure was logged, over every service."""
        text = "".join(s.log.read_text(errors="replace") for s in self.services.values())
        return {k: text.count(v) for k, v in SIGNS.items()}
