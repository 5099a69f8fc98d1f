"""Concurrent order webhooks share transactions, with the outcome each would have had alone."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from order_service.adapters import tables as t
from order_service.app import create_app
from order_service.domain.order import Order
from order_service.handlers import webhooks as intake
from tests.integration.order_service.helpers import CLERK, CS, generic_order, post_generic
from tests.support import running, wait_until

pytestmark = pytest.mark.broker


def _campaign(pid: str, buyer: str) -> dict:
    body = generic_order(pid)
    body["buyer"] = {**body["buyer"], "id": buyer, "phone": f"1390000{buyer[-4:]}"}
    body["address"] = {**body["address"], "phone": "", "line1": f"{buyer} Rd"}
    body["lines"] = [{**body["lines"][0], "campaign_id": "FLASH"}]
    return body


def _record_batches(app) -> list[int]:
    intake = app.state.deps.intake
    sizes, run = [], intake._run

    async def recording(items):
        sizes.append(len(items))
        return await run(items)

    intake._run = recording
    return sizes


async def test_concurrent_webhooks_batch_and_keep_every_rule(app, client):
    sizes = _record_batches(app)
    await post_generic(
        client,
        "/webhooks/generic/refunds",
        {
            "event_id": "rf-early",
            "platform": "taobao",
            "platform_order_id": "TB-PARKED",
            "platform_refund_id": "RF-9",
            "amount": "59.00",
            "reason": "changed mind",
        },
    )
    plain = [generic_order(f"TB-B{i}") for i in range(20)]
    repeat = dict(plain[0])  # the same webhook delivered twice in one burst
    update = {**generic_order("TB-B1"), "note": "second delivery of TB-B1"}
    bodies = [
        *plain,
        repeat,
        update,
        _campaign("TB-C1", "buyer-0001"),
        _campaign("TB-C2", "buyer-0001"),  # same buyer, same flash sale: over the limit of 1
        _campaign("TB-C3", "buyer-0002"),
        generic_order("TB-PARKED"),
    ]
    answers = await asyncio.gather(
        *(post_generic(client, "/webhooks/generic/orders", b) for b in bodies)
    )
    by_pid = {}
    for body, r in zip(bodies, answers, strict=True):
        assert r.status_code in (200, 202), r.text
        by_pid.setdefault(body["platform_order_id"], []).append(r.json())

    assert max(sizes) > 1, sizes  # the burst really was batched
    async with app.state.runtime.db.reader() as s:
        assert (await s.execute(select(func.count()).select_from(t.orders))).scalar_one() == 24
    first, again = by_pid["TB-B0"]
    assert (first["duplicate"], again["duplicate"]) == (False, True)
    assert first["order_id"] == again["order_id"]
    assert sorted(a["duplicate"] for a in by_pid["TB-B1"]) == [False, True]

    async def flags(pid: str) -> list[str]:
        order_id = by_pid[pid][0]["order_id"]
        order = (await client.get(f"/orders/{order_id}", headers=CLERK)).json()
        return [f["code"] for f in order["flags"]]

    assert await flags("TB-C1") == []
    assert await flags("TB-C2") == ["campaign_limit"]
    assert await flags("TB-C3") == []
    parked_id = by_pid["TB-PARKED"][0]["order_id"]
    timeline = (await client.get(f"/orders/{parked_id}/timeline", headers=CLERK)).json()
    assert "refund_requested" in [e["kind"] for e in timeline["entries"]]


async def test_a_failing_order_in_a_batch_fails_alone(app, client, monkeypatch):
    sizes = _record_batches(app)
    receive = Order.receive.__func__

    def fragile(cls, **kw):
        if kw["platform_order_id"] == "TB-BAD":
            raise RuntimeError("cannot take this one")
        return receive(cls, **kw)

    monkeypatch.setattr(Order, "receive", classmethod(fragile))
    bodies = [generic_order(f"TB-OK{i}") for i in range(8)] + [generic_order("TB-BAD")]
    answers = await asyncio.gather(
        *(post_generic(client, "/webhooks/generic/orders", b) for b in bodies),
        return_exceptions=True,
    )
    assert [r.status_code for r in answers[:8]] == [202] * 8
    # the test client re-raises what the app answers with a 500
    assert isinstance(answers[8], RuntimeError), answers[8]
    assert max(sizes) > 1, sizes
    async with app.state.runtime.db.reader() as s:
        assert (await s.execute(select(func.count()).select_from(t.orders))).scalar_one() == 8


async def test_a_cancelled_order_gives_its_campaign_quantity_back(client):
    async def flags(pid: str) -> tuple[str, list[str]]:
        r = await post_generic(client, "/webhooks/generic/orders", _campaign(pid, "buyer-0007"))
        order = (await client.get(f"/orders/{r.json()['order_id']}", headers=CLERK)).json()
        return order["order_id"], [f["code"] for f in order["flags"]]

    first, first_flags = await flags("TB-Q1")
    assert first_flags == []
    r = await client.post(f"/orders/{first}/cancel", json={"reason": "buyer asked"}, headers=CS)
    assert r.status_code == 200 and r.json()["order"]["stage"] == "cancelled", r.text
    assert (await flags("TB-Q2"))[1] == []  # the cancelled order no longer counts
    assert (await flags("TB-Q3"))[1] == ["campaign_limit"]  # the live one does


async def test_two_instances_check_one_buyers_flash_sale_orders_in_turn(
    order_settings, clock, databases, monkeypatch
):
    """Two instances each take one of a buyer's flash-sale orders at the same moment: the
    later check waits for the earlier order to commit and sees it, so one is flagged."""
    if not databases.postgres:
        pytest.skip("SQLite has one writer: an intake transaction is exclusive from BEGIN")
    read, arrived = intake._prior_purchases, []

    async def together(uow, lines, keys):
        arrived.append(uow)
        prior = await read(uow, lines, keys)
        if len(arrived) == 1:  # the first reader holds its transaction until the other's check
            await wait_until(lambda: len(arrived) == 2, message="the other instance's check")
        return prior

    monkeypatch.setattr(intake, "_prior_purchases", together)
    apps = [create_app(order_settings, clock=clock) for _ in range(2)]
    async with running(apps[0]) as one, running(apps[1]) as two:
        answers = await asyncio.gather(
            post_generic(one, "/webhooks/generic/orders", _campaign("TB-R1", "buyer-0009")),
            post_generic(two, "/webhooks/generic/orders", _campaign("TB-R2", "buyer-0009")),
        )
        flags = []
        for r in answers:
            assert r.status_code == 202, r.text
            order = (await one.get(f"/orders/{r.json()['order_id']}", headers=CLERK)).json()
            flags.append([f["code"] for f in order["flags"]])
    assert len(arrived) == 2
    assert sorted(flags) == [[], ["campaign_limit"]]
