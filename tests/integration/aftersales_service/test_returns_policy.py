"""Return policy edges over HTTP on a real database: windows, evidence, limits, doubles."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tests.integration.aftersales_service import events as ev
from tests.integration.aftersales_service.conftest import AGENT, SUPERVISOR
from tests.support import bearer

EVIDENCE = {"photos": ["p1.jpg"], "order_number": "P-1", "chat_record": "chat-1"}


async def _delivered_order(h, oid: str, lines, total: str | None = None) -> None:
    await h.feed(
        ev.synced(oid, lines, total),
        ev.submitted(oid, f"S-{oid}", "WH-DS-1", lines),
        ev.shipped(oid, f"S-{oid}", "WH-DS-1", ev.T0 + timedelta(hours=5)),
        ev.stage(oid, "shipped", "packed"),
        ev.delivered(oid, ev.T0 + timedelta(days=1)),
        ev.stage(oid, "delivered", "shipped"),
    )


def _ret(oid, reason="changed_mind", sku="SKU-1", qty=1, opened=False, evidence=None):
    return {
        "order_id": oid,
        "lines": [{"sku": sku, "qty": qty}],
        "reason_code": reason,
        "opened": opened,
        "evidence": evidence or {},
        "method": "pickup",
    }


async def test_no_reason_window_day_7_allowed_day_8_refused(harness):
    h = harness
    await _delivered_order(h, "O-1", [ev.line("SKU-1", 2)])
    delivered = ev.T0 + timedelta(days=1)
    h.clock.set(delivered + timedelta(days=8, minutes=1))
    r = await h.client.post("/returns", json=_ret("O-1"), headers=AGENT)
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "return_window_closed" and err["details"]["window_days"] == 7

    h.clock.set(delivered + timedelta(days=7))
    r = await h.client.post("/returns", json=_ret("O-1"), headers=AGENT)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "approved" and body["approved_by"] == "auto"  # unopened
    assert body["shipping_payer"] == "buyer" and body["return_address"]
    opened = await h.emitted("return.opened")
    assert [e.payload["return_id"] for e in opened] == [body["id"]]

    # quality claims have 15 days: day 8 is still fine for a defect
    h.clock.set(delivered + timedelta(days=8))
    r = await h.client.post(
        "/returns", json=_ret("O-1", "defect", evidence=EVIDENCE), headers=AGENT
    )
    assert r.status_code == 201, r.text
    assert r.json()["shipping_payer"] == "seller"


async def test_quality_claim_needs_evidence(harness):
    h = harness
    await _delivered_order(h, "O-2", [ev.line("SKU-2")])
    h.clock.set(ev.T0 + timedelta(days=3))
    r = await h.client.post(
        "/returns",
        json=_ret("O-2", "defect", sku="SKU-2", evidence={"photos": ["a.jpg"]}),
        headers=AGENT,
    )
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "evidence_required"
    assert err["details"]["missing"] == ["order_number", "chat_record"]
    assert await h.emitted("return.opened") == []


async def test_opened_goods_queue_for_review_and_limits_apply(harness):
    h = harness
    await _delivered_order(h, "O-3", [ev.line("SKU-3", 1, "350.00")])
    h.clock.set(ev.T0 + timedelta(days=2))
    r = await h.client.post(
        "/returns",
        json=_ret("O-3", "defect", sku="SKU-3", opened=True, evidence=EVIDENCE),
        headers=AGENT,
    )
    assert r.status_code == 201
    rid = r.json()["id"]
    assert r.json()["status"] == "pending_review"
    queue = (await h.client.get("/returns?status=pending_review", headers=AGENT)).json()
    assert [c["id"] for c in queue] == [rid]

    r = await h.client.post(f"/returns/{rid}/approve", json={"approve": True}, headers=AGENT)
    assert r.status_code == 403
    err = r.json()["error"]
    assert err["code"] == "approval_limit_exceeded"
    assert err["details"]["limit"] == "200.00" and "200.00" in err["message"]

    r = await h.client.post(f"/returns/{rid}/approve", json={"approve": True}, headers=SUPERVISOR)
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert len(await h.emitted("return.opened")) == 1

    # limits are policy data: lower the supervisor's limit and it is refused too
    policy = (await h.client.get("/policies", headers=SUPERVISOR)).json()["policy"]
    policy["approval_limits"]["cs_supervisor"] = "100.00"
    for who in (AGENT, SUPERVISOR):  # limits are changed by admin only
        r = await h.client.put("/policies", json=policy, headers=who)
        assert r.status_code == 403
    r = await h.client.put("/policies", json=policy, headers=bearer("dev-admin"))
    assert r.status_code == 200 and r.json()["version"] == 2
    await _delivered_order(h, "O-3b", [ev.line("SKU-3", 1, "150.00")])
    r = await h.client.post(
        "/returns", json=_ret("O-3b", "changed_mind", sku="SKU-3", opened=True), headers=AGENT
    )
    rid = r.json()["id"]
    r = await h.client.post(f"/returns/{rid}/approve", json={"approve": True}, headers=SUPERVISOR)
    assert r.status_code == 403 and r.json()["error"]["details"]["limit"] == "100.00"


async def test_double_refund_attempts_are_refused(harness):
    h = harness
    await h.feed(ev.synced("O-4", [ev.line("SKU-1", 1, "59.00")]))
    first = await h.client.post("/refunds", json={"order_id": "O-4"}, headers=AGENT)
    assert first.status_code == 202
    again = await h.client.post("/refunds", json={"order_id": "O-4"}, headers=AGENT)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "refund_already_requested"
    assert again.json()["error"]["details"]["refund_id"] == first.json()["id"]
    assert len(await h.emitted("aftersales.refund_requested")) == 1
    # the cancellation and its redelivery issue exactly one refund
    cancel = ev.cancelled("O-4", "59.00")
    await h.feed(cancel, cancel, ev.cancelled("O-4", "59.00"))
    issued = await h.emitted("refund.issued")
    assert [e.payload["amount"] for e in issued] == ["59.00"]
    got = (await h.client.get(f"/refunds/{first.json()['id']}", headers=AGENT)).json()
    assert got["status"] == "issued" and got["amount"] == "59.00"
    assert got["mode"] == "void"  # the cancellation answered before any decision: its mode

    # the same goods cannot be returned twice
    await _delivered_order(h, "O-5", [ev.line("SKU-1", 1)])
    h.clock.set(ev.T0 + timedelta(days=2))
    assert (await h.client.post("/returns", json=_ret("O-5"), headers=AGENT)).status_code == 201
    r = await h.client.post("/returns", json=_ret("O-5"), headers=AGENT)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "already_refunded")


async def test_refund_larger_than_paid_is_refused(harness):
    h = harness
    await h.feed(ev.synced("O-6", [ev.line("SKU-1", 1, "59.00")]))
    r = await h.client.post("/refunds", json={"order_id": "O-6", "amount": "59.01"}, headers=AGENT)
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "refund_exceeds_paid" and err["details"]["paid"] == "59.00"
    assert await h.emitted("aftersales.refund_requested") == []
    # from a platform webhook: recorded as refused and announced, nothing cancelled
    await h.feed(ev.refund_requested("O-6", "PR-1", "80.00"))
    refused = await h.emitted("refund.refused")
    assert [e.payload["code"] for e in refused] == ["refund_exceeds_paid"]
    assert await h.emitted("aftersales.refund_requested") == []
    # a platform refund within what was paid cancels first, like CS
    await h.feed(
        ev.refund_requested("O-6", "PR-2", "59.00"), ev.refund_requested("O-6", "PR-2", "59.00")
    )
    assert len(await h.emitted("aftersales.refund_requested")) == 1


async def test_concurrent_refund_requests_issue_one(harness):
    h = harness
    await h.feed(ev.synced("O-7", [ev.line("SKU-1", 2, "10.00")]))
    answers = await asyncio.gather(
        *[h.client.post("/refunds", json={"order_id": "O-7"}, headers=AGENT) for _ in range(5)]
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [202, 409, 409, 409, 409]
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 409} == {
        "refund_already_requested"
    }
    assert len(await h.emitted("aftersales.refund_requested")) == 1
