"""Exchanges, reships and the exchange policy from the console, on fake services (SPEC
§4.1, §9): the bodies sent, the refusals shown with their codes and details, the order
page's returns, reships and replacement shipments, an edit answered in any mode."""

from __future__ import annotations

import pytest

from console.orders import edit_sentence
from console.policy import parse_codes
from console.replacements import parse_replacement, price_difference, units
from tests.unit.console.test_console_pages import Fake, _error, _signed_in

ORDER = {
    "order_id": "O-9", "version": 4, "shop_id": "s", "platform": "taobao",
    "platform_order_id": "TB-9", "stage": "shipped", "buyer": {"id": "b"}, "address": {},
    "lines": [{"sku": "SKU-1", "qty": 2, "unit_price": "59.00"}], "total": "118.00",
    "currency": "CNY", "note": "", "review": {}, "flags": [], "held": False, "held_by": [],
    "shipments": [
        {"shipment_id": "O-9-S1", "warehouse_id": "WH-OWN-1", "status": "shipped", "holds": []},
        {"shipment_id": "O-9-R1", "warehouse_id": "WH-OWN-1", "status": "submitted",
         "holds": [], "replacement_id": "RS-1"},
    ],
}  # fmt: skip
NO = {"allowed": False, "mode": "none", "guaranteed": False, "pending_confirmation": False,
      "reason": "shipped"}  # fmt: skip
CAPS = {"stage": "shipped", "held": False, "edit": NO, "cancel": NO, "refund": NO}
EXCHANGE = {
    "replacement_id": "EX-1", "status": "shipped", "lines": [{"sku": "SKU-1-L", "qty": 1}],
    "shipments": [], "shipment_ids": ["O-9-R2"], "shipped": ["O-9-R2"],
    "returned_value": "59.00", "value": "69.00", "price_difference": "10.00",
    "due_from_customer": "10.00", "refund_id": None, "refused_code": None,
    "refused_reason": "", "requested_at": None, "shipped_at": None,
}  # fmt: skip
RETURN = {
    "id": "RT-1", "return_id": "RT-1", "order_id": "O-9", "reason_code": "wrong_item",
    "lines": [{"sku": "SKU-1", "qty": 1}], "status": "approved", "amount": "59.00",
    "resolution": "exchange", "replacement_id": "EX-1", "exchange": EXCHANGE,
    "shipping_payer": "seller", "refund_id": None,
}  # fmt: skip
RESHIP = {
    "id": "RS-1", "reship_id": "RS-1", "order_id": "O-9", "status": "requested",
    "lines": [{"sku": "SKU-1", "qty": 1}], "reason_code": "missing_item",
    "liable_party": "warehouse", "note": "box short", "value": "59.00", "catalog_value": None,
    "shipments": [], "shipment_ids": [], "shipped": [], "refused_code": None,
    "refused_reason": "", "requested_by": "cs_agent", "created_at": "2026-12-01T00:00:00",
    "shipped_at": None,
    "liabilities": [{"liability_id": "LB-1-000", "party": "warehouse", "amount": "59.00",
                     "basis": "missing_item: reshipped 1 x SKU-1", "sku": "SKU-1",
                     "warehouse_id": "WH-OWN-1"}],
}  # fmt: skip


def _order_page(more: dict | None = None) -> dict:
    return {
        ("GET", "/orders/O-9"): (200, ORDER),
        ("GET", "/orders/O-9/capabilities"): (200, CAPS),
        ("GET", "/orders/O-9/timeline"): (200, {"order_id": "O-9", "entries": []}),
        ("GET", "/returns"): (200, [RETURN]),
        ("GET", "/reships"): (200, [RESHIP]),
        ("GET", "/reships/RS-1"): (200, RESHIP),
        **(more or {}),
    }


def test_replacement_lines_are_sku_and_quantity_one_a_line_and_a_bad_line_names_itself():
    text = "SKU-1-L 2\n\n  SKU-2-M\nSKU-3, 1\n"
    assert parse_replacement(text) == [
        {"sku": "SKU-1-L", "qty": 2},
        {"sku": "SKU-2-M", "qty": 1},
        {"sku": "SKU-3", "qty": 1},
    ]
    for bad in ("SKU-1 two", "SKU-1 0", "SKU-1 1 extra"):
        with pytest.raises(ValueError, match="replacement line 1"):
            parse_replacement(bad)
    assert units({"reship:A": "2", "reship:B": "0", "reship:C": "x", "note": "3"}, "reship:") == [
        {"sku": "A", "qty": 2}
    ]
    assert parse_codes("wrong_item, defect  wrong_item") == ["wrong_item", "defect"]


def test_a_price_difference_is_refunded_to_or_due_from_the_customer():
    assert price_difference(EXCHANGE) == "10.00 due from the customer"
    cheaper = dict(EXCHANGE, price_difference="-6.00", due_from_customer="0.00", refund_id="RF-2")
    assert price_difference(cheaper) == "6.00 refunded to the customer (refund RF-2)"
    assert price_difference(dict(EXCHANGE, price_difference="0.00")) == "none"
    assert price_difference(dict(EXCHANGE, price_difference=None)).startswith("not known")


def test_an_edit_is_told_in_whatever_mode_the_service_answers():
    relabel = {"mode": "relabel", "guaranteed": False, "reason": "new label before packing"}
    said = "Edit accepted: relabel (best effort). new label before packing"
    assert edit_sentence(relabel) == said
    applied = {"mode": "apply", "guaranteed": True, "reason": ""}
    assert edit_sentence(applied) == "Edit accepted: apply (guaranteed)."
    assert edit_sentence({"pending_confirmation": True, "mode": "request"}).startswith(
        "Edit accepted: request (best effort) pending warehouse confirmation"
    )


async def test_the_order_page_shows_returns_with_their_exchange_reships_and_replacement_shipments():
    fake = Fake("cs_agent", _order_page())
    async with _signed_in(fake) as console:
        page = (await console.get("/orders/O-9")).text
    assert 'id="reship-form"' in page and 'name="reship:SKU-1"' in page
    for reason in ("missing_item", "wrong_item", "transit_damage"):
        assert f"<option>{reason}</option>" in page
    assert 'data-exchange="EX-1"' in page and "10.00 due from the customer" in page
    assert "returned value 59.00" in page and "O-9-R2" in page
    assert 'data-reship="RS-1"' in page and 'href="/reships/RS-1"' in page
    assert "replacement for RS-1" in page
    assert ("aftersales", "GET", "/returns", None) in fake.calls


async def test_a_refused_reship_is_on_the_order_page_though_it_cost_nothing():
    refused = dict(RESHIP, status="refused", refused_code="no_warehouse", liabilities=[])
    fake = Fake("cs_agent", _order_page({("GET", "/reships"): (200, [refused])}))
    async with _signed_in(fake) as console:
        page = (await console.get("/orders/O-9")).text
    assert 'data-reship="RS-1"' in page and "refused" in page


async def test_after_sales_down_is_told_in_its_section_and_the_order_still_shows():
    answers = _order_page()
    answers[("GET", "/reships")] = _error(503, "unreachable", "after-sales is not reachable")
    async with _signed_in(Fake("cs_agent", answers)) as console:
        r = await console.get("/orders/O-9")
    assert r.status_code == 200
    assert 'id="aftersales-error"' in r.text and "after-sales is not reachable" in r.text
    assert 'id="order-returns"' in r.text and "O-9-S1" in r.text


async def test_a_clerk_sees_no_after_sales_section_nor_reship_form():
    async with _signed_in(Fake("clerk", _order_page())) as console:
        page = (await console.get("/orders/O-9")).text
    assert 'id="reship-form"' not in page and 'id="order-returns"' not in page


async def test_an_edit_form_shows_the_mode_capabilities_answer_whatever_it_is():
    relabel = {"allowed": True, "mode": "relabel", "guaranteed": False,
               "pending_confirmation": False, "reason": "address only: a new label"}  # fmt: skip
    answers = _order_page()
    answers[("GET", "/orders/O-9/capabilities")] = (200, dict(CAPS, edit=relabel))
    async with _signed_in(Fake("cs_agent", answers)) as console:
        page = (await console.get("/orders/O-9")).text
    assert 'id="edit-form"' in page
    assert "mode relabel · best effort" in page and "address only: a new label" in page


async def test_a_reship_is_sent_with_its_lines_reason_and_note_and_its_page_follows_it():
    fake = Fake("cs_agent", _order_page({("POST", "/reships"): (201, RESHIP)}))
    async with _signed_in(fake) as console:
        form = {"reship:SKU-1": "1", "reason_code": "missing_item", "note": " box short "}
        r = await console.post("/orders/O-9/reships", data=form)
        assert (r.status_code, r.headers["location"]) == (303, "/reships/RS-1")
        page = (await console.get("/reships/RS-1")).text
        assert "warehouse bears 59.00" in page
        assert 'id="reship-status">requested' in page and "LB-1-000" in page
        assert 'data-poll="/reships/RS-1/fragment"' in page
        fake.answers[("GET", "/reships/RS-1")] = (
            200,
            dict(RESHIP, status="shipped", shipment_ids=["O-9-R1"], shipped=["O-9-R1"]),
        )
        fragment = (await console.get("/reships/RS-1/fragment")).text
        assert "data-final" in fragment and "O-9-R1" in fragment
    assert (
        "aftersales",
        "POST",
        "/reships",
        {"order_id": "O-9", "lines": [{"sku": "SKU-1", "qty": 1}],
         "reason_code": "missing_item", "note": "box short"},
    ) in fake.calls  # fmt: skip


@pytest.mark.parametrize(
    ("status", "code", "details", "shown"),
    [
        (403, "approval_limit_exceeded", {"limit": "200.00", "amount": "236.00"}, "200.00"),
        (409, "reship_exceeds_shipped", {"sku": "SKU-1", "available": 0}, "available"),
    ],
)
async def test_a_refused_reship_stays_on_the_order_with_the_code_and_details(
    status, code, details, shown
):
    refusal = {"error": {"code": code, "message": "not this time", "details": details}}
    fake = Fake("cs_agent", _order_page({("POST", "/reships"): (status, refusal)}))
    async with _signed_in(fake) as console:
        r = await console.post("/orders/O-9/reships", data={"reship:SKU-1": "4"})
        assert (r.status_code, r.headers["location"]) == (303, "/orders/O-9")
        page = (await console.get("/orders/O-9")).text
    assert "not this time" in page and code in page and shown in page
    none = Fake("cs_agent", _order_page())
    async with _signed_in(none) as console:
        await console.post("/orders/O-9/reships", data={"reship:SKU-1": "0"})
        assert "Name at least one line" in (await console.get("/orders/O-9")).text
    assert not [c for c in none.calls if c[1] == "POST"]


async def test_an_exchange_return_sends_its_replacement_lines_and_shows_the_exchange():
    opened = dict(RETURN, exchange=dict(EXCHANGE, status="waiting", value=None,
                                        price_difference=None))  # fmt: skip
    fake = Fake("cs_agent", _order_page({("POST", "/returns"): (201, opened)}))
    async with _signed_in(fake) as console:
        form = {"return:SKU-1": "1", "reason_code": "changed_mind", "method": "self_send",
                "resolution": "exchange", "replacement": "SKU-1-L 1"}  # fmt: skip
        r = await console.post("/orders/O-9/returns", data=form)
        assert r.status_code == 303
        page = (await console.get("/orders/O-9")).text
        assert "Exchange EX-1: waiting, returned value 59.00" in page
        await console.post("/orders/O-9/returns", data=form | {"replacement": ""})
        assert "Name the replacement" in (await console.get("/orders/O-9")).text
        await console.post("/orders/O-9/returns", data=form | {"replacement": "SKU-1-L lots"})
        assert "replacement line 1" in (await console.get("/orders/O-9")).text
    (sent,) = [c[3] for c in fake.calls if c[:3] == ("aftersales", "POST", "/returns")]
    assert (sent["resolution"], sent["replacement_lines"]) == (
        "exchange",
        [{"sku": "SKU-1-L", "qty": 1}],
    )


POLICY = {"no_reason_days": 7, "approval_limits": {"cs_agent": "200.00"},
          "exchange_ship_first": False, "exchange_ship_first_reasons": ["wrong_item"]}  # fmt: skip
READ = {"policy": POLICY, "version": 3, "updated_at": None, "updated_by": "seed"}


async def test_an_admin_sets_the_exchange_policy_and_the_rest_is_sent_back_as_read():
    written = dict(POLICY, exchange_ship_first=True, exchange_ship_first_reasons=["wrong_item",
                   "defect"])  # fmt: skip
    fake = Fake(
        "admin",
        {("GET", "/policies"): (200, READ), ("PUT", "/policies"): (200, {"policy": written,
                                                                         "version": 4})},
    )  # fmt: skip
    async with _signed_in(fake) as console:
        page = (await console.get("/aftersales/policy")).text
        assert 'id="exchange-policy-form"' in page and 'data-setting="approval_limits"' in page
        assert "cs_agent: 200.00" in page
        form = {"version": "3", "exchange_ship_first": "on",
                "exchange_ship_first_reasons": "wrong_item, defect"}  # fmt: skip
        r = await console.post("/aftersales/policy", data=form)
        assert (r.status_code, r.headers["location"]) == (303, "/aftersales/policy")
        assert "policy version 4" in (await console.get("/aftersales/policy")).text
        await console.post("/aftersales/policy", data=form | {"version": "2"})
        assert "changed since" in (await console.get("/aftersales/policy")).text
    puts = [c[3] for c in fake.calls if c[1] == "PUT"]
    assert puts == [written]


async def test_an_agent_reads_the_policy_without_the_form():
    async with _signed_in(Fake("cs_agent", {("GET", "/policies"): (200, READ)})) as console:
        page = (await console.get("/aftersales/policy")).text
    assert "Only an admin changes the policy" in page and 'id="exchange-policy-form"' not in page
    assert "or first (on approval) for <strong>wrong_item</strong>" in page


async def test_the_review_queue_marks_an_exchange_and_the_policy_is_linked():
    pending = dict(RETURN, status="pending_review", evidence={}, reason_category="customer")
    answers = {
        ("GET", "/returns"): (200, [pending]),
        ("GET", "/complaints"): (200, []),
        ("GET", "/tasks"): (200, []),
    }
    async with _signed_in(Fake("cs_agent", answers)) as console:
        page = (await console.get("/aftersales")).text
    assert "exchange for SKU-1-L\u00d71" in page and "exchange shipped" in page
    assert 'href="/aftersales/policy"' in page
