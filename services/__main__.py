"""`python -m services`: the whole system on one machine.

Starts the embedded broker (Tansu) unless `KAFKA_BOOTSTRAP_SERVERS` is set,
creates the topics, starts each service as its own process (SQLite files under
`var/` unless `*_DATABASE_URL` are set), then the operations console (port 8000)
pointed at them, prints URLs and development keys, and stops everything on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from services import CONSOLE_PORT, SERVICES
from services.broker import port_in_use, start_tansu
from shared.bus import ensure_topics
from shared.settings import Settings, dev_api_keys


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m services",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--only", default=",".join(SERVICES), help="comma list of services to start (default: all)"
    )
    p.add_argument(
        "--broker-port", type=int, default=9092, help="port of the embedded broker (default 9092)"
    )
    p.add_argument(
        "--port-offset", type=int, default=0, help="added to every service port (8001/8002/8003)"
    )
    p.add_argument("--no-console", action="store_true", help="do not start the console (port 8000)")
    p.add_argument(
        "--var-dir",
        default=os.environ.get("FULFIL_VAR_DIR", "var"),
        help="folder for SQLite files and logs (default var/)",
    )
    return p.parse_args()


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{url}: process exited with {proc.returncode}; see its log")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not become healthy in {timeout}s")


def main() -> None:
    args = parse_args()
    var = Path(args.var_dir)
    (var / "logs").mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, FULFIL_VAR_DIR=str(var))
    names = args.only.split(",")
    busy = [
        SERVICES[n][1] + args.port_offset
        for n in names
        if port_in_use(SERVICES[n][1] + args.port_offset)
    ]
    console = not args.no_console and set(names) == set(SERVICES)
    if console and port_in_use(CONSOLE_PORT + args.port_offset):
        busy.append(CONSOLE_PORT + args.port_offset)
    if busy:
        raise SystemExit(f"ports {busy} are in use (another runner?); stop it or use --port-offset")
    children: list[subprocess.Popen] = []
    if "KAFKA_BOOTSTRAP_SERVERS" not in os.environ:
        children.append(start_tansu(args.broker_port, var / "logs" / "broker.log"))
        env["KAFKA_BOOTSTRAP_SERVERS"] = f"127.0.0.1:{args.broker_port}"
        env.setdefault("KAFKA_IDEMPOTENCE", "false")
        env.setdefault("KAFKA_SESSION_TIMEOUT_MS", "3000")
    try:
        asyncio.run(ensure_topics(Settings(_env_file=None, **_settings_env(env))))
        urls, procs = {}, {}
        for name in names:  # start all, then wait for all: they boot in parallel
            port = SERVICES[name][1] + args.port_offset
            log = (var / "logs" / f"{name}.log").open("ab")
            procs[name] = subprocess.Popen(
                [sys.executable, "-m", "services.serve", name, "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            children.append(procs[name])
            urls[name] = f"http://127.0.0.1:{port}"
        for name, proc in procs.items():
            wait_healthy(urls[name] + "/healthz", proc)
        if console:
            port = CONSOLE_PORT + args.port_offset
            children.append(start_console(port, urls, env, var))
            wait_healthy(f"http://127.0.0.1:{port}/healthz", children[-1])
            urls = {"console": f"http://127.0.0.1:{port}", **urls}
        print_banner(urls, env["KAFKA_BOOTSTRAP_SERVERS"], var)
        wait_for_signal(children)
    finally:
        stop(children)


def start_console(
    port: int, urls: dict[str, str], env: dict[str, str], var: Path
) -> subprocess.Popen:
    """The console process, calling the services at `urls` (their public APIs only)."""
    log = (var / "logs" / "console.log").open("ab")
    console_env = dict(env, **{f"CONSOLE_{name.upper()}_URL": url for name, url in urls.items()})
    return subprocess.Popen(
        [sys.executable, "-m", "console", "--port", str(port)],
        env=console_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _settings_env(env: dict[str, str]) -> dict:
    return {
        "KAFKA_BOOTSTRAP_SERVERS": env["KAFKA_BOOTSTRAP_SERVERS"],
        "FULFIL_TOPIC_PREFIX": env.get("FULFIL_TOPIC_PREFIX", ""),
    }


def print_banner(urls: dict[str, str], broker: str, var: Path) -> None:
    print(f"broker   {broker}")
    for name, url in urls.items():
        docs = "  (sign in with a key below)" if name == "console" else f"  (docs: {url}/docs)"
        print(f"{name:<11}{url}{docs}")
    print(f"logs     {var / 'logs'}")
    print("development API keys (Authorization: Bearer <key>):")
    for key, role in dev_api_keys().items():
        print(f"  {key:<26}{role}")
    print("webhook secrets for shop demo-shop: generic dev-shop-secret, shopify dev-shopify-secret")
    print("Ctrl-C stops everything.", flush=True)


def wait_for_signal(children: list[subprocess.Popen]) -> None:
    stopping = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.append(True))
    while not stopping:
        for proc in children:
            if proc.poll() is not None:
                print(f"process {proc.args!s} exited with {proc.returncode}", file=sys.stderr)
                return
        time.sleep(0.2)


def stop(children: list[subprocess.Popen]) -> None:
    for proc in reversed(children):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in reversed(children):
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
