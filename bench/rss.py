"""Idle resident memory of each service process, started by the runner.

.venv/bin/python -m bench.rss
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from bench.common import command, free_port

IDLE_SECONDS = float(os.environ.get("BENCH_IDLE_SECONDS", "10"))


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(url)


def main() -> None:
    var = tempfile.mkdtemp()
    offset = free_port() % 1000 + 21000 - 8001
    env = dict(os.environ, FULFIL_VAR_DIR=var)
    args = [
        sys.executable,
        "-m",
        "services",
        "--port-offset",
        str(offset),
        "--var-dir",
        var,
        "--broker-port",
        str(free_port()),
    ]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        for port in (8001, 8002, 8003):
            wait_ready(f"http://127.0.0.1:{port + offset}")
        time.sleep(IDLE_SECONDS)  # a benchmark, not a test: let the services settle idle
        print(f"# idle RSS after {IDLE_SECONDS:.0f}s, {datetime.now(UTC):%Y-%m-%d}")
        for pid in children(proc.pid):
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            name = cmd[3].decode() if b"services.serve" in cmd else "broker (tansu)"
            print(f"{name:<16}{rss_mb(pid):7.1f} MB")
        print(f"command: {command()}")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


if __name__ == "__main__":
    main()
