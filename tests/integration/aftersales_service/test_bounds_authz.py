"""After-sales bounds (422 naming the field, nothing stored) and who may change limits."""

from __future__ import annotations

import json

from tests.integration.aftersales_service import events as ev
from tests.integration.aftersales_service.conftest import AGENT, OPS, SUPERVISOR
from tests.support import bearer

ADMIN = bearer("dev-admin")


def _field(r) -> str:
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "validation_error"
    return err["details"]["errors"][0]["field"]


async def _policy(h) -> dict:
    return (await h.client.get("/policies", headers=SUPERVISOR)).json()


async def test_a_supervisor_cannot_raise_approval_limits_only_admin_can(harness):
    h = harness
    before = await _policy(h)
    raised = json.loads(json.dumps(before["policy"]))
    raised["approval_limits"] = {"cs_agent": "999999.00", "cs_supervisor": "999999.00"}
    for who in (AGENT, SUPERVISOR, OPS):
        r = await h.client.put("/policies", json=raised, headers=who)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
        assert "admin" in r.json()["error"]["message"]
    assert await _policy(h) == before
    r = await h.client.put("/policies", json=raised, headers=ADMIN)
    assert r.status_code == 200, r.text
    assert (await _policy(h))["policy"]["approval_limits"]["cs_agent"] == "999999.00"


async def test_post_refunds_is_checked_against_the_approval_limit(harness):
    h = harness
    await h.feed(ev.synced("O-BIG", [ev.line("SKU-3", 1, "350.00")]))
    r = await h.client.post("/refunds", json={"order_id": "O-BIG"}, headers=AGENT)
    assert r.status_code == 403, r.text
    err = r.json()["error"]
    assert err["code"] == "approval_limit_exceeded"
    assert err["details"]["limit"] == "200.00" and "200.00" in err["message"]
    r = await h.client.post(
        "/refunds", json={"order_id": "O-BIG", "amount": "300.00"}, headers=AGENT
    )
    assert r.status_code == 403
    assert await h.emitted("aftersales.refund_requested") == []
    r = await h.client.post("/refunds", json={"order_id": "O-BIG"}, headers=SUPERVISOR)
    assert r.status_code == 202, r.text
    assert len(await h.emitted("aftersales.refund_requested")) == 1


async def test_sla_minutes_and_other_policy_numbers_are_bounded(harness):
    h = harness
    before = await _policy(h)
    base = before["policy"]
    for patch, field in (
        ({"sla_minutes": {"L1": 10**12, "L2": 240, "L3": 120}}, "sla_minutes.L1"),
        ({"sla_minutes": {"L1": 0, "L2": 240, "L3": 120}}, "sla_minutes.L1"),
        ({"oos_notify_minutes": 10**12}, "oos_notify_minutes"),
        ({"no_reason_days": 10**9}, "no_reason_days"),
        ({"approval_limits": {"cs_agent": "-5"}}, "approval_limits.cs_agent"),
        ({"approval_limits": {"cs_agent": 1e100}}, "approval_limits.cs_agent"),
        ({"approval_limits": {"superuser": "5"}}, "approval_limits.superuser"),
        ({"return_address": "x" * 100_000}, "return_address"),
        ({"seller_return_shipping_cost": "1e100"}, "seller_return_shipping_cost"),
    ):
        r = await h.client.put("/policies", json={**base, **patch}, headers=ADMIN)
        assert _field(r).startswith(field), (patch, r.text)
    assert await _policy(h) == before
    r = await h.client.post("/complaints", json={"tier": "L1", "subject": "late"}, headers=AGENT)
    assert r.status_code == 201, r.text


async def test_review_counts_are_bounded_and_consistent(harness):
    h = harness
    r = await h.client.put(
        "/analytics/reviews/SKU-1", json={"reviews": 10**30, "bad_reviews": 0}, headers=OPS
    )
    assert _field(r) == "reviews"
    r = await h.client.put(
        "/analytics/reviews/SKU-1", json={"reviews": 10, "bad_reviews": 11}, headers=OPS
    )
    assert r.status_code == 422 and "bad_reviews" in r.json()["error"]["message"]
    r = await h.client.put(
        "/analytics/reviews/" + "S" * 500, json={"reviews": 1, "bad_reviews": 0}, headers=OPS
    )
    assert _field(r) == "path.sku"
    r = await h.client.get("/analytics/delisting", headers=OPS)
    assert r.status_code == 200 and r.json()["flagged"] == []


async def test_case_bodies_are_bounded(harness):
    h = harness
    await h.feed(ev.synced("O-1", [ev.line("SKU-1", 1)]))
    r = await h.client.post("/refunds", json={"order_id": "O-1", "amount": "1e100"}, headers=AGENT)
    assert _field(r) == "amount"
    r = await h.client.post(
        "/refunds", json={"order_id": "O-1", "reason": "r" * 100_000}, headers=AGENT
    )
    assert _field(r) == "reason"
    ret = {"order_id": "O-1", "lines": [{"sku": "SKU-1", "qty": 10**30}], "reason_code": "defect"}
    assert _field(await h.client.post("/returns", json=ret, headers=AGENT)) == "lines.0.qty"
    ret["lines"] = [{"sku": "SKU-1", "qty": 1}] * 1000
    assert _field(await h.client.post("/returns", json=ret, headers=AGENT)) == "lines"
    r = await h.client.post(
        "/complaints",
        json={"subject": "s", "evidence": [{"kind": "photo", "ref": "p"}] * 1000},
        headers=AGENT,
    )
    assert _field(r) == "evidence"
    assert await h.emitted() == []
    r = await h.client.get("/complaints", params={"limit": 10**20}, headers=AGENT)
    assert _field(r) == "query.limit"
    r = await h.client.get("/returns", params={"order_id": "O" * 1000}, headers=AGENT)
    assert _field(r) == "query.order_id"
