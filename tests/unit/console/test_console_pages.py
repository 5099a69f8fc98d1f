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
        order_url="http://order",
        warehouse_url="http://warehouse",
        aftersales_url="http://aftersales",
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


LIABILITY = {
    "liability_id": "L-1", "return_id": "R-1", "order_id": "O-1", "party": "warehouse",
    "amount": "12.00", "basis": "damaged in the warehouse", "created_at": "2026-01-01T00:00:00",
}  # fmt: skip


async def test_a_supervisor_overrides_a_liability_with_a_reason_and_an_agent_only_reads():
    moved = dict(LIABILITY, party="carrier", original_party="warehouse", overridden_by="sup")
    fake = Fake(
        "cs_supervisor",
        {
            ("GET", "/liabilities"): (200, [moved]),
            ("POST", "/liabilities/L-1/override"): (200, moved),
        },
    )
    async with _signed_in(fake) as console:
        data = {"party": "carrier", "amount": "", "reason": "the parcel arrived crushed"}
        r = await console.post("/liabilities/L-1/override", data=data)
        assert r.status_code == 303
        page = (await console.get("/liabilities?party=carrier")).text
        assert "L-1 now borne by carrier" in page and "(was warehouse)" in page
        assert "/liabilities/L-1/override" in page
    body = {"party": "carrier", "reason": "the parcel arrived crushed"}
    assert ("aftersales", "POST", "/liabilities/L-1/override", body) in fake.calls
    assert ("aftersales", "GET", "/liabilities", None) in fake.calls
    agent = Fake("cs_agent", {("GET", "/liabilities"): (200, [LIABILITY])})
    async with _signed_in(agent) as console:
        page = (await console.get("/liabilities")).text
        assert "damaged in the warehouse" in page and "/override" not in page


async def test_a_refused_override_shows_why_and_returned_goods_list_grade_and_disposition():
    good = {"return_id": "R-1", "order_id": "O-1", "sku": "SKU-1", "qty": 1, "grade": "damaged",
            "disposition": "scrap", "value": "10.00", "recovered_value": "0.00"}  # fmt: skip
    fake = Fake(
        "cs_supervisor",
        {
            ("GET", "/liabilities"): (200, [LIABILITY]),
            ("POST", "/liabilities/L-1/override"): _error(422, "reason_required", "an override "
                                                          "needs a reason"),
            ("GET", "/returned-inventory"): (200, [good]),
        },
    )  # fmt: skip
    async with _signed_in(fake) as console:
        await console.post("/liabilities/L-1/override", data={"party": "carrier", "reason": " "})
        page = (await console.get("/liabilities")).text
        assert "an override needs a reason" in page and "reason_required" in page
        goods = (await console.get("/returned-goods?disposition=scrap")).text
        assert "<td>damaged</td><td>scrap</td>" in goods
    paths = [(c[2], c[3]) for c in fake.calls if c[1] == "GET"]
    assert ("/returned-inventory", None) in paths


async def test_ops_sees_each_services_anomalies_and_parked_events_and_sends_one_again():
    parked = {
        "id": 3,
        "event_id": "E-3",
        "topic": "order.events",
        "key": "O-1",
        "error": "MessageSizeTooLarge",
        "parked_at": "2026-01-01T00:00:00Z",
        "held_back": 2,
    }
    anomaly = {"id": 1, "kind": "unknown_shipment", "event_type": "shipment.packed",
               "event_id": "E-1", "order_id": "O-1", "shipment_id": "S-9",
               "reason": "no shipment S-9", "recorded_at": "2026-01-01T00:00:00Z"}  # fmt: skip
    fake = Fake(
        "ops",
        {
            ("GET", "/anomalies"): (200, [anomaly]),
            ("GET", "/outbox/parked"): (200, [parked]),
            ("POST", "/outbox/parked/3/retry"): (200, {"id": 3, "outcome": "retrying"}),
            ("POST", "/outbox/parked/3/discard"): _error(404, "not_parked", "no parked event 3"),
        },
    )
    async with _signed_in(fake) as console:
        page = (await console.get("/ops")).text
        for service in ("order", "warehouse", "aftersales"):
            assert f'data-service="{service}"' in page
            assert f'action="/ops/{service}/parked/3/retry"' in page
        assert "MessageSizeTooLarge" in page and "no shipment S-9" in page
        r = await console.post("/ops/warehouse/parked/3/retry")
        assert r.status_code == 303
        assert (
            "Parked event 3 of the warehouse service sent again" in (await console.get("/ops")).text
        )
        await console.post("/ops/aftersales/parked/3/discard")
        assert "no parked event 3" in (await console.get("/ops")).text
    assert ("warehouse", "POST", "/outbox/parked/3/retry", None) in fake.calls
    hosts = {c[0] for c in fake.calls if c[2] == "/anomalies"}
    assert hosts == {"order", "warehouse", "aftersales"}


async def test_a_service_refusing_its_list_shows_its_message_in_its_section_only():
    fake = Fake("ops", {("GET", "/outbox/parked"): (200, [])})
    async with _signed_in(fake) as console:
        page = await console.get("/ops")
        assert page.status_code == 200
        assert "no /anomalies" in page.text and "Nothing parked." in page.text
    clerk = Fake("clerk", {})
    async with _signed_in(clerk) as console:
        assert (await console.get("/ops")).status_code == 403


REQUESTED = {
    "id": "F-1", "refund_id": "F-1", "order_id": "O-2", "kind": "lines",
    "lines": [{"sku": "SKU-1", "qty": 1}], "amount": "5.00", "currency": "CNY", "source": "cs",
    "reason": "", "reason_code": "defect", "mode": None, "decision": None, "status": "requested",
    "return_id": None, "platform_refund_id": None, "requested_by": "cs-1", "refused_code": None,
}  # fmt: skip
DECIDED = dict(
    REQUESTED,
    mode="intercept",
    status="awaiting_cancel",
    decision={"allowed": True, "mode": "intercept", "guaranteed": False, "timing": "on_return",
              "code": "", "reason": "shipped: intercepted in transit", "cancel": "intercept"},
)  # fmt: skip


async def test_a_refund_by_line_is_sent_with_its_units_and_its_page_polls_for_the_decision():
    fake = Fake(
        "cs_agent",
        {
            ("POST", "/refunds"): (202, REQUESTED),
            ("GET", "/refunds/F-1"): (200, REQUESTED),
        },
    )
    async with _signed_in(fake) as console:
        form = {"refund:SKU-1": "1", "refund:SKU-2": "0", "reason_code": "defect"}
        r = await console.post("/orders/O-2/refund-lines", data=form)
        assert r.status_code == 303 and r.headers["location"] == "/refunds/F-1"
        page = (await console.get("/refunds/F-1")).text
        assert "Refund F-1 of 5.00 CNY: requested." in page
        assert 'data-poll="/refunds/F-1/fragment"' in page and "Waiting for the order" in page
        assert "<td>SKU-1</td><td>1</td>" in page
        fake.answers[("GET", "/refunds/F-1")] = (200, DECIDED)
        fragment = (await console.get("/refunds/F-1/fragment")).text
        assert "shipped: intercepted in transit" in fragment and "best effort" in fragment
        assert "data-final" not in fragment  # awaiting the cancel: still changes
        fake.answers[("GET", "/refunds/F-1")] = (200, dict(DECIDED, status="issued"))
        assert "data-final" in (await console.get("/refunds/F-1/fragment")).text
        assert "data-poll" not in (await console.get("/refunds/F-1")).text
    sent = {"order_id": "O-2", "reason": "", "reason_code": "defect", "kind": "lines",
            "lines": [{"sku": "SKU-1", "qty": 1}]}  # fmt: skip
    assert ("aftersales", "POST", "/refunds", sent) in fake.calls


async def test_a_line_refund_without_units_or_refused_stays_on_the_order_with_the_reason():
    fake = Fake(
        "cs_agent",
        {("POST", "/refunds"): _error(409, "already_refunded", "SKU-1 is already refunded")},
    )
    async with _signed_in(fake) as console:
        r = await console.post("/orders/O-2/refund-lines", data={"refund:SKU-1": "0"})
        assert r.headers["location"] == "/orders/O-2"
        assert "Name at least one line" in (await console.get("/signin")).text
        r = await console.post("/orders/O-2/refund-lines", data={"refund:SKU-1": "1"})
        assert r.headers["location"] == "/orders/O-2"
        assert "SKU-1 is already refunded" in (await console.get("/signin")).text
    assert [c[1] for c in fake.calls] == ["POST"]


async def test_the_new_pages_are_in_the_navigation_of_the_roles_that_do_those_jobs():
    nav = {
        "clerk": ({"/sku-mappings"}, {"/ops", "/liabilities"}),
        "cs_supervisor": ({"/sku-mappings", "/liabilities"}, {"/ops"}),
        "ops": ({"/ops", "/liabilities", "/sku-mappings"}, set()),
        "scanner": (set(), {"/ops", "/liabilities", "/sku-mappings"}),
    }
    for role, (has, lacks) in nav.items():
        async with _signed_in(Fake(role, {})) as console:
            page = (await console.get("/lifecycle")).text
            header = page.split("</nav>")[0]
            for href in has:
                assert f'href="{href}"' in header, (role, href)
            for href in lacks:
                assert f'href="{href}"' not in header, (role, href)
                assert (await console.get(href)).status_code == 403, (role, href)
