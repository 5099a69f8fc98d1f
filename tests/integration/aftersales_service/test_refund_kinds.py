"""Goodwill refunds, refunds by line and their claims (SPEC §2.4, §4, §4.1): the money rules
are after-sales' own; the stage path of a line refund is the order service's decision."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from tests.integration.aftersales_service import events as ev
from tests.integration.aftersales_service.conftest import AGENT, SUPERVISOR

D = Decimal
# 2 x 30 + 1 x 40 = 100 of goods, paid 90: a discount of 10 shared by value
DISCOUNTED = [ev.line("SKU-1", 2, "30.00"), ev.line("SKU-2", 1, "40.00")]


async def post(h, who=AGENT, **body):
    return await h.client.post("/refunds", json=body, headers=who)


async def refund(h, refund_id: str) -> dict:
    return (await h.client.get(f"/refunds/{refund_id}", headers=AGENT)).json()


async def amounts(h, type_name: str = "refund.issued") -> list[str]:
    return [e.payload["amount"] for e in await h.emitted(type_name)]


@pytest.mark.parametrize("stage", ["synced", "packed", "shipped", "delivered", "completed"])
async def test_goodwill_is_issued_at_once_at_any_stage_and_cancels_nothing(harness, stage):
    h = harness
    await h.feed(ev.synced("O-G", [ev.line("SKU-1", 1, "59.00")]), ev.stage("O-G", stage))
    r = await post(h, order_id="O-G", kind="goodwill", amount="10.00", reason="late parcel")
    assert r.status_code == 202, r.text
    body = r.json()
    assert (body["kind"], body["status"], body["amount"], body["mode"]) == (
        "goodwill",
        "issued",
        "10.00",
        None,
    )
    assert body["decision"] is None and body["issued_at"]
    assert await amounts(h) == ["10.00"]
    assert await h.emitted("aftersales.refund_requested") == []  # no stage rule asked


async def test_goodwill_within_the_approval_limit_naming_it(harness):
    h = harness
    await h.feed(ev.synced("O-GL", [ev.line("SKU-3", 1, "350.00")]))
    r = await post(h, order_id="O-GL", kind="goodwill", amount="200.01")
    assert r.status_code == 403, r.text
    err = r.json()["error"]
    assert (err["code"], err["details"]["limit"]) == ("approval_limit_exceeded", "200.00")
    assert "200.00" in err["message"]
    assert await h.emitted() == []
    r = await post(h, SUPERVISOR, order_id="O-GL", kind="goodwill", amount="200.01")
    assert (r.status_code, r.json()["status"]) == (202, "issued")


async def test_goodwill_counts_against_what_was_paid(harness):
    h = harness
    await h.feed(ev.synced("O-GP", [ev.line("SKU-1", 1, "59.00")]))
    assert (await post(h, order_id="O-GP", kind="goodwill", amount="50.00")).status_code == 202
    r = await post(h, order_id="O-GP", kind="goodwill", amount="9.01")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "refund_exceeds_paid")
    assert r.json()["error"]["details"]["already"] == "50.00"
    # the whole order afterwards: what is left, once it is cancelled
    r = await post(h, order_id="O-GP")
    assert (r.status_code, r.json()["amount"]) == (202, "9.00")
    asked = await h.emitted("aftersales.refund_requested")
    assert [(e.payload["amount"], e.payload["lines"]) for e in asked] == [("9.00", [])]
    await h.feed(ev.decided("O-GP", r.json()["id"], "void"), ev.cancelled("O-GP", "59.00"))
    assert await amounts(h) == ["50.00", "9.00"]


async def test_bad_kinds_are_refused_storing_nothing(harness):
    h = harness
    await h.feed(ev.synced("O-B", DISCOUNTED, total="90.00"))
    for body in (
        {"kind": "goodwill"},
        {"kind": "lines"},
        {"kind": "goodwill", "amount": "1.00", "lines": [{"sku": "SKU-1"}]},
        {"lines": [{"sku": "SKU-1"}], "amount": "1.00"},
        {"kind": "refund_everything"},
    ):
        r = await post(h, order_id="O-B", **body)
        assert (r.status_code, r.json()["error"]["code"]) == (422, "validation_error"), body
    r = await post(h, order_id="O-B", lines=[{"sku": "SKU-9"}])
    assert (r.status_code, r.json()["error"]["code"]) == (422, "unknown_line")
    assert await h.emitted() == []
    assert (await h.client.get("/refunds?order_id=O-B", headers=AGENT)).json() == []


async def test_a_line_refund_claims_its_units_and_waits_for_their_cancel(harness):
    h = harness
    await h.feed(ev.synced("O-L", DISCOUNTED, total="90.00"))
    r = await post(h, order_id="O-L", lines=[{"sku": "SKU-1", "qty": 1}])
    assert r.status_code == 202, r.text
    first = r.json()
    assert (first["kind"], first["amount"], first["status"], first["mode"]) == (
        "lines",
        "27.00",  # 30 less its share (10%) of the discount
        "requested",
        None,
    )
    assert first["lines"] == [{"sku": "SKU-1", "qty": 1}]
    asked = (await h.emitted("aftersales.refund_requested"))[0].payload
    assert (asked["refund_id"], asked["lines"]) == (first["id"], [{"sku": "SKU-1", "qty": 1}])
    # the order service decides the line's path; its line cancel releases the money
    await h.feed(ev.decided("O-L", first["id"], "void", cancel="lines_pending"))
    got = await refund(h, first["id"])
    assert (got["status"], got["mode"], got["decision"]["cancel"]) == (
        "awaiting_cancel",
        "void",
        "lines_pending",
    )
    cancel = ev.cancelled("O-L", "27.00", lines=[("SKU-1", 1)])
    await h.feed(cancel, cancel)
    assert await amounts(h) == ["27.00"]
    assert (await refund(h, first["id"]))["status"] == "issued"
    # one SKU-1 unit is left: two cannot be refunded, one can
    r = await post(h, order_id="O-L", lines=[{"sku": "SKU-1", "qty": 2}])
    assert (r.status_code, r.json()["error"]["code"]) == (409, "already_refunded")
    assert r.json()["error"]["details"]["available"] == 1
    r = await post(h, order_id="O-L", lines=[{"sku": "SKU-1", "qty": 1}])
    assert (r.status_code, r.json()["amount"]) == (202, "27.00")


async def test_cancelled_lines_are_refunded_exactly_once(harness):
    """`order.cancelled` with lines and no refund waiting: those lines, by the line rule."""
    h = harness
    await h.feed(ev.synced("O-C", DISCOUNTED, total="90.00"))
    cancel = ev.cancelled("O-C", "36.00", "void", lines=[("SKU-2", 1)])
    await h.feed(cancel, cancel, ev.cancelled("O-C", "36.00", "void", lines=[("SKU-2", 1)]))
    assert await amounts(h) == ["36.00"]
    refunds = (await h.client.get("/refunds?order_id=O-C", headers=AGENT)).json()
    assert [(x["kind"], x["lines"], x["mode"]) for x in refunds] == [
        ("lines", [{"sku": "SKU-2", "qty": 1}], "void")
    ]
    # the rest of the order cancelled later: what is left of what was paid
    await h.feed(ev.cancelled("O-C", "90.00"))
    assert await amounts(h) == ["36.00", "54.00"]


async def test_a_line_refund_refused_by_the_order_service_frees_its_units(harness):
    h = harness
    await h.feed(ev.synced("O-R", DISCOUNTED, total="90.00"))
    r = await post(h, order_id="O-R", lines=[{"sku": "SKU-2", "qty": 1}])
    await h.feed(ev.decided("O-R", r.json()["id"], "return", cancel="none"))
    got = await refund(h, r.json()["id"])
    assert (got["status"], got["refused_code"]) == ("refused", "refund_requires_return")
    refused = (await h.emitted("refund.refused"))[0].payload
    assert (refused["code"], refused["path"]) == ("refund_requires_return", "return")
    r = await post(h, order_id="O-R", lines=[{"sku": "SKU-2", "qty": 1}])
    assert r.status_code == 202, r.text  # the unit is free again


async def test_concurrent_refunds_of_every_kind_never_exceed_what_was_paid(harness):
    h = harness
    lines = [ev.line("SKU-1", 3, "20.00"), ev.line("SKU-2", 1, "40.00")]
    await h.feed(ev.synced("O-X", lines, total="100.00"))
    bodies = [
        *[{"lines": [{"sku": "SKU-1", "qty": 1}]} for _ in range(5)],
        *[{"lines": [{"sku": "SKU-2", "qty": 1}]} for _ in range(2)],
        *[{"kind": "goodwill", "amount": "20.00"} for _ in range(3)],
        *[{} for _ in range(2)],  # the whole order
    ]
    answers = await asyncio.gather(*[post(h, order_id="O-X", **b) for b in bodies])
    accepted = [a.json() for a in answers if a.status_code == 202]
    refused = {a.json()["error"]["code"] for a in answers if a.status_code != 202}
    assert refused <= {
        "already_refunded",
        "refund_already_requested",
        "refund_exceeds_paid",
        "conflict",
    }, refused
    assert sum(D(x["amount"]) for x in accepted) <= D("100.00")
    kinds = [x["kind"] for x in accepted]
    sku1 = [x for x in accepted if x["lines"] == [{"sku": "SKU-1", "qty": 1}]]
    assert len(sku1) <= 3 and kinds.count("order") <= 1
    # every accepted request taken to its end: still never more than was paid
    for x in accepted:
        if x["kind"] == "lines":
            sku = x["lines"][0]["sku"]
            await h.feed(
                ev.decided("O-X", x["id"], "void", cancel="lines_pending"),
                ev.cancelled("O-X", x["amount"], lines=[(sku, 1)]),
            )
        elif x["kind"] == "order":
            await h.feed(ev.decided("O-X", x["id"], "void"), ev.cancelled("O-X", "100.00"))
    paid = [D(a) for a in await amounts(h)]
    assert sum(paid) <= D("100.00")
    assert len(paid) == len(accepted)


async def test_a_decision_for_an_unknown_refund_is_an_anomaly(harness):
    h = harness
    await h.feed(ev.synced("O-U", DISCOUNTED, total="90.00"), ev.decided("O-U", "RF-X", "void"))
    found = (await h.client.get("/anomalies?order_id=O-U", headers=AGENT)).json()
    assert [a["event_type"] for a in found] == ["order.refund_decided"]
    assert "refund_not_found" in found[0]["reason"]
    assert await h.emitted() == []


async def test_cancelled_lines_use_the_shipping_and_discount_the_order_carried(harness):
    """100.00 of goods + 10.00 shipping - 20.00 discount = 90.00 paid: a unit is refunded
    at its price less 20 %, the shipping with the last unit; together exactly 90.00."""
    h = harness
    synced = ev.synced("O-SD", DISCOUNTED, total="90.00", shipping="10.00", discount="20.00")
    await h.feed(synced)
    await h.feed(ev.cancelled("O-SD", "60.00", "void", lines=[("SKU-1", 2)]))
    assert await amounts(h) == ["48.00"]  # 2 x (30.00 - 6.00), no shipping yet
    await h.feed(ev.cancelled("O-SD", "40.00", "void", lines=[("SKU-2", 1)]))
    assert await amounts(h) == ["48.00", "42.00"]  # 32.00 + the shipping 10.00
    assert sum(D(a) for a in await amounts(h)) == D("90.00")


async def test_an_order_synced_without_them_still_parses_and_infers_the_discount(harness):
    """An `order.synced` already in flight before the fields existed: the total tells."""
    h = harness
    old = ev.synced("O-OLD", DISCOUNTED, total="90.00")
    old.payload.pop("shipping", None), old.payload.pop("discount", None)
    await h.feed(old, ev.cancelled("O-OLD", "30.00", "void", lines=[("SKU-1", 1)]))
    assert await amounts(h) == ["27.00"]  # the 10.00 below the lines taken as discount
