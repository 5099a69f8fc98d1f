"""The whole system as the runner (`python -m services`) starts it, for e2e and browser tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import Databases, session_timeout_ms

SERVICES = ("order", "warehouse", "aftersales")


@contextlib.contextmanager
def runner(broker: str, var: Path, offset: int, prefix: str) -> Iterator[subprocess.Popen]:
    """Start the runner with its ports moved by `offset`, on this test run's databases;
    its output goes to `var/logs/runner.log` (a pipe nobody reads would stall it)."""
    env = dict(
        os.environ,
        FULFIL_VAR_DIR=str(var),
        KAFKA_BOOTSTRAP_SERVERS=broker,
        FULFIL_TOPIC_PREFIX=prefix,
        KAFKA_SESSION_TIMEOUT_MS=str(session_timeout_ms()),
        FULFIL_RELAY_IDLE_MS="50",
    )
    dbs = Databases(var)
    if dbs.postgres:
        for name in SERVICES:
            env[f"{name.upper()}_DATABASE_URL"] = dbs.url(name)
    (var / "logs").mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "services", "--port-offset", str(offset), "--var-dir", str(var)],
        env=env,
        stdout=(var / "logs" / "runner.log").open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        dbs.drop_all()


def wait_ok(url: str, proc: subprocess.Popen, timeout: float) -> None:
    """Until `url` answers 200; fails at once if the runner exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"runner exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} not ready after {timeout}s")


def tails(log_dir: Path, chars: int = 3000) -> str:
    """The end of every log the runner and its services wrote, for a failing test."""
    return "\n".join(
        f"--- {path.name} (tail) ---\n{path.read_text()[-chars:]}"
        for path in sorted(log_dir.glob("*.log"))
    )
