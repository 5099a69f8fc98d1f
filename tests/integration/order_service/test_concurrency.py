"""Two CS cancels and a warehouse `allocated` racing on one order: one consistent outcome."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import select

from order_service.adapters import tables as t
from shared import topics
from shared.events import warehouse as w
from tests.integration.order_service.helpers import (
    CLERK,
    CS,
    Publisher,
    generic_order,
    post_generic,
)
from tests.support import wait_until

pytestmark = pytest.mark.broker


async def _requests(app, order_id):
    async with app.state.runtime.db.reader() as s:
        rows = (await s.execute(select(t.messaging.outbox.c.value))).scalars().all()
    events = [json.loads(v) for v in rows]
    return [
        e
        for e in events
        if e["order_id"] == order_id
        and e["type"] in ("order.withdraw_requested", "order.intercept_requested")
    ]


async def test_two_cancels_and_allocated_race(app, client, order_settings):
    r = await post_generic(client, "/webhooks/generic/orders", generic_order())
    order_id = r.json()["order_id"]
    await client.post(f"/orders/{order_id}/review", json={"approve": True}, headers=CLERK)
    await client.post(f"/orders/{order_id}/submit", headers=CLERK)
    cancel = lambda: client.post(  # noqa: E731
        f"/orders/{order_id}/cancel", json={"reason": "race"}, headers=CS
    )
    async with Publisher(order_settings) as pub:
        allocated = pub.send(
            topics.WAREHOUSE,
            w.ShipmentAllocated(shipment_id=f"{order_id}-S1", warehouse_id="WH-OWN-1"),
            order_id,
        )
        first, second, _ = await asyncio.gather(cancel(), cancel(), allocated)
    answers = sorted([first, second], key=lambda r: r.status_code)
    assert [a.status_code for a in answers] == [202, 409], [a.text for a in answers]
    assert answers[1].json()["error"]["code"] == "cancel_in_progress"
    mode = answers[0].json()["mode"]
    assert mode in ("withdraw", "intercept")

    async def settled():
        order = (await client.get(f"/orders/{order_id}", headers=CS)).json()
        shipment = order["shipments"][0]
        return order if shipment["status"] == "allocated" else None

    order = await wait_until(settled, message="allocated applied")
    assert len(await _requests(app, order_id)) == 1
    if mode == "withdraw":  # cancel won the race: still pending, the import is recorded
        assert order["stage"] == "allocated" and order["pending_cancel"]["mode"] == "withdraw"
    else:  # allocated won: the cancel was an interception
        assert order["stage"] == "intercepting"
    assert order["version"] >= 5
