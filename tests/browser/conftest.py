"""The console in headless Chromium against the whole system, started by the runner.

Chromium is Debian's (`apt-get install chromium`), driven by Playwright with its
executable path (no browser download). Without it the tests skip, unless
`FULFIL_REQUIRE_BROWSER` is set (CI): then they fail, so they never skip silently there.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import _free_port
from tests.support.runner import runner, tails, wait_ok
from tests.support.webhooks import generic_order, sign_generic

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVICES = {"console": 8000, "order": 8001, "warehouse": 8002, "aftersales": 8003}


def _chromium_or_skip() -> None:
    if shutil.which(CHROMIUM) or Path(CHROMIUM).exists():
        return
    if os.environ.get("FULFIL_REQUIRE_BROWSER"):
        pytest.fail(f"FULFIL_REQUIRE_BROWSER is set but {CHROMIUM} is missing (apt chromium)")
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")


@dataclass
class System:
    urls: dict[str, str]
    log_dir: Path

    def api(self, service: str, key: str = "dev-admin") -> httpx.Client:
        return httpx.Client(
            base_url=self.urls[service], headers={"Authorization": f"Bearer {key}"}, timeout=10
        )

    def logs(self) -> str:
        return tails(self.log_dir, 2000)

    def new_order(self, *skus: str, buyer: str = "buyer-1") -> str:
        headers, raw = sign_generic(generic_order(skus=skus or ("SKU-1",), buyer=buyer))
        with httpx.Client(base_url=self.urls["order"], timeout=10) as http:
            r = http.post("/webhooks/generic/orders", content=raw, headers=headers)
        assert r.status_code == 202, r.text
        return r.json()["order_id"]

    def submitted_order(self, warehouse_id: str, *skus: str) -> tuple[str, str]:
        """An order approved and submitted to `warehouse_id`, once the warehouse has its
        task: (order id, shipment id)."""
        order_id = self.new_order(*skus)
        with self.api("order") as order:
            assert order.post(f"/orders/{order_id}/review", json={"approve": True}).is_success
            r = order.post(f"/orders/{order_id}/submit", json={"warehouse_id": warehouse_id})
            assert r.is_success, r.text
        deadline = time.monotonic() + 20
        with self.api("warehouse") as wh:
            while time.monotonic() < deadline:
                tasks = wh.get(f"/warehouses/{warehouse_id}/shipments").json()
                found = [t["shipment_id"] for t in tasks if t["order_id"] == order_id]
                if found:
                    return order_id, found[0]
                time.sleep(0.1)
        raise AssertionError(f"{warehouse_id} never got the task of {order_id}")


@pytest.fixture(scope="session")
def system(broker, tmp_path_factory) -> Iterator[System]:
    """Broker + the three services + the console, as the runner starts them."""
    _chromium_or_skip()
    var = tmp_path_factory.mktemp("browser")
    offset = _free_port() % 1000 + 21000 - 8000
    with runner(broker, var, offset, f"ui{offset}.") as proc:
        urls = {name: f"http://127.0.0.1:{port + offset}" for name, port in SERVICES.items()}
        system = System(urls, var / "logs")
        try:
            for name, url in urls.items():
                wait_ok(url + ("/healthz" if name == "console" else "/readyz"), proc, timeout=90)
            yield system
        except Exception:
            print(system.logs())
            raise


@pytest.fixture(scope="module")
def chromium(system):
    """Module-scoped: Playwright's sync API runs an event loop in this thread while it is
    open, which would break the asyncio tests of later modules."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_as(chromium, system):
    """`page = open_as("dev-clerk")`: a fresh browser context signed in with that key."""
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)
    contexts = []

    def sign_in(key: str):
        context = chromium.new_context(base_url=system.urls["console"])
        contexts.append(context)
        page = context.new_page()
        page.goto("/signin")
        page.fill("input[name=key]", key)
        page.click("button[type=submit]")
        return page

    yield sign_in
    for context in contexts:
        context.close()
