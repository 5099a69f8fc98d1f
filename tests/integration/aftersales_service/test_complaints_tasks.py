"""Complaint SLA breaches on a ManualClock (the scheduler runs; nobody sleeps through
hours), and out-of-stock notification tasks."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.aftersales_service import events as ev
from tests.integration.aftersales_service.conftest import AGENT, SUPERVISOR
from tests.support import wait_until


async def _complaint(h, tier, subject, order_id=None, evidence=()):
    r = await h.client.post(
        "/complaints",
        json={"tier": tier, "subject": subject, "order_id": order_id, "evidence": list(evidence)},
        headers=AGENT,
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_sla_breach_is_detected_and_escalated(harness):
    h = harness
    evidence = [
        {"kind": "photo", "ref": "img-1.jpg"},
        {"kind": "warehouse_weight", "ref": "pack:1234g"},
    ]
    l1 = await _complaint(h, "L1", "where is my parcel", "O-1", evidence)
    l2 = await _complaint(h, "L2", "refund dispute", "O-2")
    l3 = await _complaint(h, "L3", "charger overheated", "O-3")
    assert (l1["due_at"], l2["due_at"], l3["due_at"]) == (
        (ev.T0 + timedelta(hours=1)).isoformat(),
        (ev.T0 + timedelta(hours=4)).isoformat(),
        (ev.T0 + timedelta(hours=2)).isoformat(),
    )
    assert l1["evidence"][1] == {"kind": "warehouse_weight", "ref": "pack:1234g", "note": ""}

    # the L3 is answered in time; at 1 h exactly nothing is late yet
    h.clock.advance(minutes=30)
    r = await h.client.post(
        f"/complaints/{l3['id']}/respond",
        json={"message": "supervisor calling you"},
        headers=SUPERVISOR,
    )
    assert r.json()["status"] == "responded"
    h.clock.advance(minutes=30)
    assert (await h.client.get("/complaints?overdue=true", headers=AGENT)).json() == []

    h.clock.advance(minutes=1)  # 1 h 1 min: L1 breached

    async def escalated():
        rows = (await h.client.get("/complaints?overdue=true", headers=AGENT)).json()
        return rows if rows and rows[0]["escalations"] == 1 else None

    rows = await wait_until(escalated, message="L1 escalation")
    assert [(r["complaint_id"], r["tier"], r["owner"]) for r in rows] == [
        (l1["id"], "L2", "specialist")
    ]
    assert rows[0]["breached_at"] == (ev.T0 + timedelta(minutes=61)).isoformat()
    events = await h.emitted("complaint.escalated")
    assert [
        (e.payload["complaint_id"], e.payload["from_tier"], e.payload["to_tier"]) for e in events
    ] == [(l1["id"], "L1", "L2")]
    assert events[0].order_id == "O-1"

    # 4 h later still unanswered: both the escalated L1 and the L2 move up
    h.clock.advance(hours=4, minutes=2)
    await wait_until(lambda: _count(h, 3), message="second round of escalations")
    tiers = {
        e.payload["complaint_id"]: e.payload["to_tier"]
        for e in await h.emitted("complaint.escalated")
    }
    assert tiers == {l1["id"]: "L3", l2["id"]: "L3"}
    assert l3["id"] not in tiers


async def _count(h, n):
    return len(await h.emitted("complaint.escalated")) >= n


async def test_out_of_stock_creates_task_with_deadline_and_options(harness):
    h = harness
    lines = [ev.line("SKU-7", 1, "88.00")]
    await h.feed(
        ev.synced("O-9", lines),
        ev.stage("O-9", "allocated", "submitted"),
        ev.out_of_stock("O-9", "S-9", "WH-DS-1", ["SKU-7"]),
    )
    tasks = (await h.client.get("/tasks?status=open", headers=AGENT)).json()
    assert len(tasks) == 1
    task = tasks[0]
    assert task["deadline"] == (ev.T0 + timedelta(hours=2)).isoformat()
    assert task["options"] == ["wait", "substitute", "cancel_and_refund"]
    assert not task["overdue"]
    h.clock.advance(hours=2, minutes=1)
    assert len((await h.client.get("/tasks?overdue=true", headers=AGENT)).json()) == 1

    r = await h.client.post(
        f"/tasks/{task['task_id']}/resolve", json={"option": "cancel_and_refund"}, headers=AGENT
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "resolved" and r.json()["refund_id"]
    cancels = await h.emitted("aftersales.refund_requested")
    assert [c.payload["refund_id"] for c in cancels] == [r.json()["refund_id"]]
    again = await h.client.post(
        f"/tasks/{task['task_id']}/resolve", json={"option": "wait"}, headers=AGENT
    )
    assert (again.status_code, again.json()["error"]["code"]) == (409, "illegal_transition")
    await h.feed(ev.cancelled("O-9", "88.00", "intercept"))
    assert [e.payload["amount"] for e in await h.emitted("refund.issued")] == ["88.00"]
