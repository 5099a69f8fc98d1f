"""The console in headless Chromium against the whole system, started by the runner.

Chromium is Debian's (`apt-get install chromium`), driven by Playwright with its
executable path (no browser download). Without it the tests skip, unless
`FULFIL_REQUIRE_BROWSER` is set (CI): then they fail, so they never skip silently there.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
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

    def new_order(self, *skus: str, buyer: str = "buyer-1", qty: int = 1) -> str:
        headers, raw = sign_generic(generic_order(skus=skus or ("SKU-1",), buyer=buyer, qty=qty))
        with httpx.Client(base_url=self.urls["order"], timeout=10) as http:
            r = http.post("/webhooks/generic/orders", content=raw, headers=headers)
        assert r.status_code == 202, r.text
        return r.json()["order_id"]

    def submitted_order(self, warehouse_id: str, *skus: str, qty: int = 1) -> tuple[str, str]:
        """An order approved and submitted to `warehouse_id`, once the warehouse has its
        task: (order id, shipment id)."""
        order_id = self.new_order(*skus, qty=qty)
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

    def shipped_order(self, sku: str = "SKU-1", qty: int = 1) -> str:
        """An order of `qty` x `sku` shipped from WH-OWN-1 (SKU-1 is not dropshipped), once
        after-sales counts its units shipped."""
        order_id, shipment_id = self.submitted_order("WH-OWN-1", sku, qty=qty)
        steps = [
            ("/warehouses/WH-OWN-1/imports", {"shipment_ids": [shipment_id]}),
            (f"/shipments/{shipment_id}/label", {"carrier": "SF"}),
            (f"/shipments/{shipment_id}/pack", {"scanned": [sku] * qty, "weight_grams": 480}),
            (f"/shipments/{shipment_id}/ship", {}),
        ]
        with self.api("warehouse", "dev-scanner-WH-OWN-1") as wh:
            for path, body in steps:
                r = wh.post(path, json=body)
                assert r.is_success, r.text
        # Asking for one unit more than shipped is refused (storing nothing) with the count.
        probe = {"order_id": order_id, "lines": [{"sku": sku, "qty": qty + 1}],
                 "reason_code": "missing_item"}  # fmt: skip
        with self.api("aftersales", "dev-cs_agent") as aftersales:
            self._until(
                lambda: aftersales.post("/reships", json=probe).json()["error"]
                .get("details", {}).get("shipped") == qty,
                f"after-sales counts {order_id} shipped",
            )  # fmt: skip
        return order_id

    def delivered(self, order_id: str, sku: str = "SKU-1") -> None:
        """The platform reports the parcel delivered, once after-sales knows it (a return of
        more units than the order has is then refused for the units, storing nothing)."""
        with self.api("order") as order:
            platform_order_id = order.get(f"/orders/{order_id}").json()["platform_order_id"]
        delivery = {"event_id": str(uuid.uuid4()), "platform": "taobao",
                    "platform_order_id": platform_order_id,
                    "delivered_at": datetime.now(UTC).isoformat()}  # fmt: skip
        headers, raw = sign_generic(delivery)
        with httpx.Client(base_url=self.urls["order"], timeout=10) as http:
            r = http.post("/webhooks/generic/deliveries", content=raw, headers=headers)
        assert r.status_code in (200, 202), r.text
        probe = {"order_id": order_id, "lines": [{"sku": sku, "qty": 99}],
                 "reason_code": "changed_mind"}  # fmt: skip
        with self.api("aftersales", "dev-cs_agent") as aftersales:
            self._until(
                lambda: (
                    aftersales.post("/returns", json=probe).json()["error"]["code"]
                    == "already_refunded"
                ),
                f"after-sales knows {order_id} delivered",
            )

    @staticmethod
    def _until(condition, message: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.2)
        raise AssertionError(message)


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
