"""The console's clerk, supervisor and ops pages on fake services: SKU mappings, liabilities
and returned goods, anomalies and parked outbox events, a refund's decision."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable

import httpx

from console.app import create_app
from console.settings import ConsoleSettings

Answer = Callable[[httpx.Request], httpx.Response | None]


class Fake:
    """The three services, faked: `answers[(method, path)]` → (status, body); every call
    other than whoami is recorded as (service host, method, path, body)."""

    def __init__(self, role: str, answers: dict[tuple[str, str], tuple[int, object]]):
        self.role, self.answers, self.calls = role, answers, []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/whoami":
            return httpx.Response(200, json={"role": self.role, "warehouse_id": None})
        body = json.loads(request.content) if request.content else None
        self.calls.append((request.url.host, request.method, path, body))
        status, answer = self.answers.get(
            (request.method, path),
            (404, {"error": {"code": "not_found", "message": f"no {path}", "details": {}}}),
        )
        return httpx.Response(status, json=answer)


def _console(fake: Fake) -> httpx.AsyncClient:
    settings = ConsoleSettings(
        order_url="http://order", warehouse_url="http://warehouse", aftersales_url="http://after"
    )
    app = create_app(settings, transport=httpx.MockTransport(fake))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console")


@contextlib.asynccontextmanager
async def _signed_in(fake: Fake) -> AsyncIterator[httpx.AsyncClient]:
    async with _console(fake) as console:
        assert (await console.post("/signin", data={"key": "k", "next": "/"})).status_code == 303
        yield console


def _error(status: int, code: str, message: str) -> tuple[int, object]:
    return status, {"error": {"code": code, "message": message, "details": {}}}


WAITING = {
    "order_id": "O-7", "platform_order_id": "TB-7", "platform": "taobao", "buyer": {},
    "lines": [{"sku": "", "qty": 1, "variant_id": "V-9"}], "note": "", "review": {},
    "flags": [{"code": "unknown_sku", "lines": [{"line": 0, "variant_id": "V-9", "title": "red"}]}],
}  # fmt: skip
POLICY = {"auto_review": False, "default_campaign_limit": 1, "campaign_limits": {}}


async def test_an_unknown_sku_in_the_review_queue_links_to_its_mapping_and_mapping_resolves():
    mapping = {"platform": "taobao", "variant_id": "V-9", "sku": "SKU-1"}
    fake = Fake(
        "clerk",
        {
            ("GET", "/orders"): (200, {"orders": [WAITING]}),
            ("GET", "/review-policy"): (200, POLICY),
            ("GET", "/sku-mappings"): (200, {"mappings": []}),
            ("PUT", "/sku-mappings"): (200, {"mapping": mapping, "resolved_orders": ["O-7"]}),
        },
    )
    async with _signed_in(fake) as console:
        queue = (await console.get("/review")).text
        link = "/sku-mappings?platform=taobao&amp;variant_id=V-9&amp;order_id=O-7"
        assert f'href="{link}"' in queue
        page = await console.get("/sku-mappings?platform=taobao&variant_id=V-9&order_id=O-7")
        assert 'id="sku-form"' in page.text and 'value="V-9"' in page.text
        r = await console.post("/sku-mappings", data=mapping)
        assert r.status_code == 303 and r.headers["location"] == "/sku-mappings"
        assert "resolved O-7" in (await console.get("/sku-mappings")).text
    assert ("order", "PUT", "/sku-mappings", mapping) in fake.calls


async def test_a_refused_mapping_shows_the_services_message_and_only_clerks_get_the_form():
    fake = Fake(
        "clerk",
        {
            ("GET", "/sku-mappings"): (200, {"mappings": []}),
            ("PUT", "/sku-mappings"): _error(422, "unknown_sku", "unknown SKU 'X': map to a "
                                                               "catalog SKU"),
        },
    )  # fmt: skip
    async with _signed_in(fake) as console:
        data = {"platform": "taobao", "variant_id": "V-9", "sku": "X"}
        await console.post("/sku-mappings", data=data)
        page = (await console.get("/sku-mappings")).text
        assert "map to a catalog SKU" in page and "unknown_sku" in page
    cs = Fake("cs_agent", {("GET", "/sku-mappings"): (200, {"mappings": []})})
    async with _signed_in(cs) as console:
        page = await console.get("/sku-mappings")
        assert page.status_code == 200 and 'id="sku-form"' not in page.text
