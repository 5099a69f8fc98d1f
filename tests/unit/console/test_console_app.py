"""The console without a browser: the sign-in cookie, role gating, and how refusals show."""

from __future__ import annotations

import httpx
import pytest

from console.app import create_app
from console.settings import ConsoleSettings

KEYS = {"k-clerk": "clerk", "k-cs": "cs_agent", "k-scan": "scanner:WH-DS-1"}


def _services(request: httpx.Request) -> httpx.Response:
    """The services, faked: whoami by key, and a few answers the pages need."""
    key = request.headers.get("authorization", "").removeprefix("Bearer ")
    if key not in KEYS:
        body = {"error": {"code": "unauthenticated", "message": "unknown API key", "details": {}}}
        return httpx.Response(401, json=body)
    role, _, wh = KEYS[key].partition(":")
    path = request.url.path
    if path == "/whoami":
        return httpx.Response(200, json={"role": role, "warehouse_id": wh or None})
    if path == "/orders/O-GONE":
        msg = "no order O-GONE; check the id"
        return httpx.Response(404, json={"error": {"code": "not_found", "message": msg}})
    if path == "/orders/O-1/cancel":
        msg = "cancel is not possible: already shipped; the path is refuse_delivery"
        body = {"error": {"code": "refuse_delivery", "message": msg, "details": {}}}
        return httpx.Response(409, json=body)
    if path == "/orders":
        return httpx.Response(200, json={"orders": []})
    if path == "/review-policy":
        return httpx.Response(
            200, json={"auto_review": False, "default_campaign_limit": 1, "campaign_limits": {}}
        )
    if path.endswith("/shipments"):
        return httpx.Response(500, text="Traceback (most recent call last): boom")
    return httpx.Response(404, json={"error": {"code": "not_found", "message": "nothing here"}})


@pytest.fixture
def console(request):
    settings = ConsoleSettings(cookie_secure=getattr(request, "param", False))
    app = create_app(settings, transport=httpx.MockTransport(_services))
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://console")


async def _signed_in(console: httpx.AsyncClient, key: str) -> httpx.AsyncClient:
    r = await console.post("/signin", data={"key": key, "next": "/"})
    assert r.status_code == 303, r.text
    return console


async def test_sign_in_sets_an_httponly_samesite_strict_cookie_and_lands_on_the_roles_home(
    console,
):
    r = await console.post("/signin", data={"key": "k-clerk", "next": "/"})
    assert r.status_code == 303
    assert r.headers["location"] == "/review"
    cookie = r.headers["set-cookie"].lower()
    assert "fulfil_key=k-clerk" in cookie
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "secure" not in cookie.replace("samesite", "")


@pytest.mark.parametrize("console", [True], indirect=True)
async def test_the_cookie_is_secure_when_configured(console):
    r = await console.post("/signin", data={"key": "k-cs", "next": "/"})
    assert "; secure" in r.headers["set-cookie"].lower()


async def test_an_unknown_key_is_refused_with_the_services_message_and_no_cookie(console):
    r = await console.post("/signin", data={"key": "nope", "next": "/"})
    assert r.status_code == 401
    assert "unknown API key" in r.text
    assert "set-cookie" not in r.headers


async def test_without_a_cookie_a_page_sends_to_sign_in(console):
    r = await console.get("/orders")
    assert r.status_code == 303
    assert r.headers["location"] == "/signin?next=/orders"


async def test_a_sign_in_never_redirects_off_the_console(console):
    r = await console.post("/signin", data={"key": "k-cs", "next": "//evil.example/x"})
    assert r.headers["location"] == "/orders"


async def test_pages_follow_the_role(console):
    await _signed_in(console, "k-clerk")
    assert (await console.get("/review")).status_code == 200
    r = await console.get("/aftersales")
    assert r.status_code == 403
    assert "The role clerk cannot use the aftersales pages" in r.text
    page = (await console.get("/review")).text
    assert 'href="/aftersales"' not in page
    assert 'href="/review"' in page


async def test_a_scanner_only_opens_its_own_warehouse(console):
    await _signed_in(console, "k-scan")
    r = await console.get("/warehouses")
    assert r.headers["location"] == "/warehouses/WH-DS-1"
    assert (await console.get("/warehouses/WH-OWN-1")).status_code == 403
    assert (await console.get("/orders")).status_code == 403


async def test_a_refusal_shows_the_services_message_never_a_trace(console):
    await _signed_in(console, "k-cs")
    r = await console.get("/orders/O-GONE")
    assert r.status_code == 404
    assert "no order O-GONE; check the id" in r.text

    r = await console.post("/orders/O-1/cancel", data={"reason": "asked"})
    assert r.status_code == 303  # back to the order page, carrying the message
    follow = await console.get("/orders")
    assert "already shipped; the path is refuse_delivery" in follow.text
    assert "refuse_delivery" in follow.text


async def test_a_service_that_answers_without_an_error_body_shows_its_status_only(console):
    await _signed_in(console, "k-clerk")
    r = await console.get("/warehouses/WH-OWN-1")
    assert r.status_code == 500
    assert "the service answered 500" in r.text
    assert "Traceback" not in r.text


async def test_sign_out_clears_the_cookie(console):
    await _signed_in(console, "k-cs")
    r = await console.post("/signout")
    assert r.status_code == 303
    assert (
        'fulfil_key=""' in r.headers["set-cookie"] or "max-age=0" in r.headers["set-cookie"].lower()
    )


CAP = {"allowed": True, "mode": "void", "guaranteed": True, "pending_confirmation": False,
       "reason": "cancelled at once", "code": None, "timing": None}  # fmt: skip
ORDER = {
    "order_id": "O-2", "version": 3, "shop_id": "s", "platform": "taobao",
    "platform_order_id": "TB-2", "stage": "submitted", "buyer": {"id": "b"}, "address": {},
    "lines": [{"sku": "SKU-1", "qty": 2, "unit_price": "5"}], "total": "10", "currency": "CNY",
    "note": "", "review": {}, "flags": [], "shipments": [], "held": False, "held_by": [],
}  # fmt: skip
sent: list[dict] = []


def _order_service(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == "/whoami":
        return httpx.Response(200, json={"role": "cs_agent", "warehouse_id": None})
    if path == "/orders/O-2":
        return httpx.Response(200, json=ORDER)
    if path == "/orders/O-2/timeline":
        return httpx.Response(200, json={"order_id": "O-2", "entries": []})
    if path == "/orders/O-2/capabilities":
        line = {"sku": "SKU-1", "qty": 2, "shipment_id": "S-1", "cancel": CAP, "refund": CAP}
        relabel = dict(CAP, mode="relabel", allowed=False, reason="already packed")
        return httpx.Response(200, json={"stage": "submitted", "held": False, "edit": CAP,
                                         "cancel": CAP, "refund": CAP, "address_change": relabel,
                                         "lines": [line]})  # fmt: skip
    if path == "/orders/O-2/cancel":
        sent.append(__import__("json").loads(request.content))
        return httpx.Response(200, json={**CAP, "mode": "lines", "lines": [{"sku": "SKU-1",
                                         "mode": "void"}]})  # fmt: skip
    return httpx.Response(404, json={"error": {"code": "not_found", "message": "no"}})


async def test_every_capability_entry_is_drawn_and_lines_offer_a_cancel_by_line():
    app = create_app(ConsoleSettings(), transport=httpx.MockTransport(_order_service))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console") as console:
        await console.post("/signin", data={"key": "k", "next": "/"})
        page = (await console.get("/orders/O-2")).text
        assert 'data-action="address_change" data-allowed="false"' in page
        assert "already packed" in page
        assert 'id="line-cancel-form"' in page
        assert 'name="line:SKU-1"' in page
        assert 'id="line-refund-form"' in page and 'name="refund:SKU-1"' in page
        r = await console.post(
            "/orders/O-2/cancel", data={"by_line": "1", "line:SKU-1": "1", "reason": "one less"}
        )
        assert r.status_code == 303
    assert sent == [{"reason": "one less", "lines": [{"sku": "SKU-1", "qty": 1}]}]


async def test_a_return_from_the_order_page_sends_the_units_reason_and_evidence():
    returns: list[dict] = []

    def services(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/whoami":
            return httpx.Response(200, json={"role": "cs_agent", "warehouse_id": None})
        returns.append(__import__("json").loads(request.content))
        return httpx.Response(
            201, json={"return_id": "R-1", "status": "approved", "shipping_payer": "customer"}
        )

    app = create_app(ConsoleSettings(), transport=httpx.MockTransport(services))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console") as console:
        await console.post("/signin", data={"key": "k", "next": "/"})
        form = {"return:SKU-1": "1", "return:SKU-2": "0", "reason_code": "defect",
                "method": "self_send", "photos": "p1.jpg, p2.jpg"}  # fmt: skip
        r = await console.post("/orders/O-3/returns", data=form)
        assert r.status_code == 303
        assert "R-1" in (await console.get("/signin")).text
    assert returns == [
        {
            "order_id": "O-3",
            "lines": [{"sku": "SKU-1", "qty": 1}],
            "reason_code": "defect",
            "opened": False,
            "method": "self_send",
            "evidence": {
                "photos": ["p1.jpg", "p2.jpg"],
                "order_number": "O-3",
                "chat_record": None,
            },
        }
    ]


async def test_a_goodwill_refund_from_the_order_page_sends_its_kind_and_amount():
    refunds: list[dict] = []

    def services(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/whoami":
            return httpx.Response(200, json={"role": "cs_agent", "warehouse_id": None})
        refunds.append(__import__("json").loads(request.content))
        return httpx.Response(202, json={"refund_id": "F-1", "status": "issued", "amount": "5"})

    app = create_app(ConsoleSettings(), transport=httpx.MockTransport(services))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console") as console:
        await console.post("/signin", data={"key": "k", "next": "/"})
        form = {"kind": "goodwill", "amount": "5.00", "reason": "late parcel"}
        assert (await console.post("/orders/O-4/refund", data=form)).status_code == 303
    assert refunds == [
        {"order_id": "O-4", "reason": "late parcel", "reason_code": "changed_mind",
         "kind": "goodwill", "amount": "5.00"}
    ]  # fmt: skip


async def test_an_order_in_the_warehouse_offers_an_address_change_as_a_relabel():
    patched: list[dict] = []
    relabel = dict(
        CAP, mode="relabel", pending_confirmation=True, reason="relabel: voids the label"
    )
    refused = dict(CAP, allowed=False, mode="none", reason="refused: in warehouse processing")
    order = dict(ORDER, stage="labelled", address={"city": "Hangzhou"}, note="ring")

    def services(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/whoami":
            return httpx.Response(200, json={"role": "cs_agent", "warehouse_id": None})
        if path == "/orders/O-2" and request.method == "GET":
            return httpx.Response(200, json=order)
        if path == "/orders/O-2" and request.method == "PATCH":
            patched.append(__import__("json").loads(request.content))
            return httpx.Response(202, json={"edit": relabel, "order": order})
        if path == "/orders/O-2/timeline":
            return httpx.Response(200, json={"order_id": "O-2", "entries": []})
        if path == "/orders/O-2/capabilities":
            return httpx.Response(200, json={"stage": "labelled", "held": False, "edit": refused,
                                             "cancel": CAP, "refund": CAP,
                                             "address_change": relabel, "lines": []})  # fmt: skip
        return httpx.Response(404, json={"error": {"code": "not_found", "message": "no"}})

    app = create_app(ConsoleSettings(), transport=httpx.MockTransport(services))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console") as console:
        await console.post("/signin", data={"key": "k", "next": "/"})
        page = (await console.get("/orders/O-2")).text
        assert 'id="address-change-form"' in page and 'id="edit-form"' not in page
        assert "relabel: voids the label" in page
        form = {"version": "3", "note_before": "ring", "note": "ring", "items_before": "",
                "items": "", "before.city": "Hangzhou", "address.city": "Ningbo"}  # fmt: skip
        r = await console.post("/orders/O-2/edit", data=form)
        assert r.status_code == 303
    assert len(patched) == 1 and set(patched[0]) == {"address"}
    assert patched[0]["address"]["city"] == "Ningbo"
