"""Order use cases on the fake unit of work: the rules of each handler, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from order_service.domain.errors import IllegalTransition
from order_service.domain.review import ReviewPolicy
from order_service.handlers import events, notices
from order_service.handlers import orders as uc
from order_service.handlers.common import OrderNotFound
from order_service.handlers.webhooks import IncomingOrder, ingest_order, ingest_orders
from shared.envelope import new_event
from shared.events import warehouse as w
from tests.unit.order_service.fakes import fake_deps

ADDRESS = {
    "name": "Li Lei",
    "phone": "13800000000",
    "province": "Zhejiang",
    "city": "Hangzhou",
    "district": "Xihu",
    "line1": "1 West Lake Rd",
    "postcode": "310000",
}


def incoming(pid: str = "TB-1", webhook_id: str = "evt-1", **over) -> IncomingOrder:
    fields = {
        "source": "generic:demo-shop",
        "webhook_id": webhook_id,
        "shop_id": "demo-shop",
        "platform": "taobao",
        "platform_order_id": pid,
        "buyer": {"id": "buyer-1", "name": "Li Lei"},
        "address": ADDRESS,
        "lines": [{"sku": "SKU-1", "qty": 1, "unit_price": "59.00", "campaign_id": None}],
        "total": Decimal("59.00"),
        "currency": "CNY",
        "paid_at": datetime(2026, 1, 1, tzinfo=UTC),
    }
    return IncomingOrder(**(fields | over))


async def test_a_webhook_creates_the_order_once_per_webhook_and_per_platform_order():
    deps, db = fake_deps()
    created = await ingest_order(deps, incoming())
    assert (created.outcome, created.stage, created.duplicate) == ("created", "synced", False)
    assert db.event_types(created.order_id) == ["order.synced", "order.stage_changed"]
    again = await ingest_order(deps, incoming())  # the same webhook id
    assert (again.order_id, again.outcome, again.duplicate) == (created.order_id, "duplicate", True)
    other_id = await ingest_order(deps, incoming(webhook_id="evt-2"))  # same order, no update
    assert (other_id.order_id, other_id.outcome) == (created.order_id, "duplicate")
    assert len(db.orders) == 1 and len(db.outbox) == 2


async def test_a_batch_of_webhooks_is_created_in_one_commit():
    deps, db = fake_deps()
    results = await ingest_orders(deps, [incoming(f"TB-{n}", f"evt-{n}") for n in range(3)])
    assert [r.outcome for r in results] == ["created"] * 3
    assert db.commits == 1 and len(db.orders) == 3


@pytest.mark.parametrize(
    ("note", "stage", "kind"),
    [("", "reviewed", "transition"), ("please change the size", "synced", "auto_review_skipped")],
)
async def test_auto_review_approves_a_clean_order_and_says_why_not_otherwise(note, stage, kind):
    deps, db = fake_deps()
    db.policy = ReviewPolicy(auto_review=True)
    result = await ingest_order(deps, incoming(note=note))
    assert result.stage == stage
    assert kind in [e["kind"] for e in db.timeline if e["actor"] == "auto-review"]


async def test_review_approves_or_rejects_and_an_unknown_order_is_not_found():
    deps, db = fake_deps()
    a = (await ingest_order(deps, incoming("TB-A", "evt-a"))).order_id
    b = (await ingest_order(deps, incoming("TB-B", "evt-b"))).order_id
    assert (await uc.review(deps, a, True, "", "clerk")).stage == "reviewed"
    rejected = await uc.review(deps, b, False, "address unclear", "clerk")
    assert rejected.stage == "synced"
    assert db.order(a).stage == "reviewed" and db.order(b).stage == "synced"
    with pytest.raises(OrderNotFound):
        await uc.review(deps, "O-NOPE", True, "", "clerk")


async def test_submit_plans_one_shipment_per_warehouse_and_needs_a_review_first():
    deps, db = fake_deps()
    oid = (await ingest_order(deps, incoming())).order_id
    with pytest.raises(IllegalTransition):
        await uc.submit(deps, oid, None, "clerk")
    await uc.review(deps, oid, True, "", "clerk")
    order = await uc.submit(deps, oid, None, "clerk")
    assert order.stage == "submitted"
    assert [s.warehouse_id for s in order.shipments] == ["WH-OWN-1"]
    assert db.event_types(oid).count("order.submitted") == 1


async def test_cancel_voids_before_submission_and_asks_the_warehouse_after():
    deps, db = fake_deps()
    early = (await ingest_order(deps, incoming("TB-E", "evt-e"))).order_id
    order, cap = await uc.cancel(deps, early, "buyer", "cs")
    assert (order.stage, cap.mode) == ("cancelled", "void")
    late = (await ingest_order(deps, incoming("TB-L", "evt-l"))).order_id
    await uc.review(deps, late, True, "", "clerk")
    await uc.submit(deps, late, None, "clerk")
    order, cap = await uc.cancel(deps, late, "buyer", "cs")
    assert (order.stage, cap.mode) == ("submitted", "withdraw")
    assert order.pending_cancel and order.pending_cancel["mode"] == "withdraw"
    assert "order.withdraw_requested" in db.event_types(late)


async def test_a_platform_cancellation_parked_before_its_order_is_applied_and_reported():
    deps, db = fake_deps()
    notice = notices.cancellation_notice(
        "taobao", "TB-P", webhook_id="evt-c", reason="buyer", cancelled_at=None
    )
    parked = await notices.ingest_notice(deps, notice)
    assert (parked.outcome, parked.extra) == ("parked", {"parked": True})
    created = await ingest_order(deps, incoming("TB-P", "evt-p"))
    assert db.order(created.order_id).stage == "cancelled"
    [call] = [c for c in db.platform_calls if c["call"] == "cancellation"]
    assert call["body"]["outcome"] == "cancelled" and call["body"]["cancel_reason"] == "buyer"
    dup = await notices.ingest_notice(deps, notice)
    assert (dup.duplicate, dup.extra["first_outcome"]) == (True, "cancelled")


async def test_a_shipped_event_moves_the_order_and_queues_the_tracking_call():
    deps, db = fake_deps()
    oid = (await ingest_order(deps, incoming())).order_id
    await _shipped(deps, oid)
    assert db.order(oid).stage == "shipped"
    [call] = [c for c in db.platform_calls if c["call"] == "tracking"]
    assert call["body"]["tracking_number"] == "SF1"


async def test_an_event_for_an_unknown_order_is_an_anomaly_not_an_error():
    deps, db = fake_deps()
    payload = w.ShipmentAllocated(shipment_id="SHP-X", warehouse_id="WH-OWN-1")
    env = new_event(payload, producer="warehouse_service", order_id="O-NOPE")
    async with deps.uow() as uow:
        await events.on_warehouse_event(uow, env)
    assert [a["kind"] for a in db.anomalies] == ["unknown_order"]


async def test_cancel_lines_removes_at_once_or_asks_the_warehouse_and_hears_its_answer():
    from order_service.handlers import line_cancels

    deps, db = fake_deps()
    two = [
        {"sku": "SKU-1", "qty": 2, "unit_price": "10.00", "campaign_id": None},
        {"sku": "SKU-4", "qty": 1, "unit_price": "39.00", "campaign_id": None},
    ]
    oid = (await ingest_order(deps, incoming(lines=two))).order_id
    _, change = await line_cancels.cancel_lines(deps, oid, [{"sku": "SKU-1", "qty": 1}], "r", "cs")
    assert (change["lines"][0]["mode"], change["outcome"]) == ("remove", "done")
    assert db.event_types(oid)[-2:] == ["order.lines_changed", "order.cancelled"]
    await uc.review(deps, oid, True, "", "clerk")
    [ship] = (await uc.submit(deps, oid, None, "clerk")).shipments
    _, change = await line_cancels.cancel_lines(deps, oid, [{"sku": "SKU-4", "qty": 1}], "r", "cs")
    assert (change["lines"][0]["mode"], change["outcome"]) == ("withdraw", "pending")
    assert "order.line_removal_requested" in db.event_types(oid)
    answer = w.LinesRemoved(
        shipment_id=ship.shipment_id,
        warehouse_id=ship.warehouse_id,
        request_id=change["request_id"],
        lines=[w.RemovedLine(sku="SKU-4", qty=1)],
    )
    async with deps.uow() as uow:
        await events.on_warehouse_event(
            uow, new_event(answer, producer="warehouse_service", order_id=oid)
        )
        await uow.commit()
    after = db.order(oid)
    assert [c["outcome"] for c in after.line_changes] == ["done", "done"]
    assert after.shipments[0].lines == [{**ship.lines[0], "qty": 1}]


async def test_an_address_change_at_labelled_is_a_relabel_applied_on_the_warehouse_answer():
    deps, db = fake_deps()
    oid = (await ingest_order(deps, incoming())).order_id
    await uc.review(deps, oid, True, "", "clerk")
    [ship] = (await uc.submit(deps, oid, None, "clerk")).shipments
    ids = {"shipment_id": ship.shipment_id, "warehouse_id": ship.warehouse_id}

    async def hear(*payloads) -> None:
        for payload in payloads:
            async with deps.uow() as uow:
                env = new_event(payload, producer="warehouse_service", order_id=oid)
                await events.on_warehouse_event(uow, env)
                await uow.commit()

    await hear(
        w.ShipmentAllocated(**ids), w.ShipmentLabelled(**ids, carrier="SF", tracking_number="SF1")
    )
    new = {**ADDRESS, "line1": "New Street 9"}
    order = db.order(oid)
    order, cap = await uc.edit(deps, oid, order.version, {"address": new}, "cs")
    assert (cap.mode, cap.guaranteed, cap.pending_confirmation) == ("relabel", True, True)
    [(_, _, asked)] = [e for e in db.outbox if e[0] == "order.address_change_requested"]
    assert asked["shipment_id"] == ship.shipment_id and asked["address"]["line1"] == "New Street 9"
    rid = asked["request_id"]
    await hear(
        w.ShipmentHeld(**ids, hold_id="H1", reason="address_change"),
        w.AddressChanged(**ids, request_id=rid, voided_tracking_number="SF1", hold_id="H1"),
    )
    after = db.order(oid)
    assert after.address["line1"] == "New Street 9" and after.pending_edit is None
    assert after.held and after.shipments[0].tracking_number is None
    assert after.line_changes[-1]["kind"] == "address_change"
    assert after.line_changes[-1]["outcome"] == "done"
    await hear(
        w.ShipmentLabelled(**ids, carrier="SF", tracking_number="SF2"),
        w.ShipmentReleased(**ids, hold_id="H1"),
    )
    after = db.order(oid)
    assert not after.held and after.shipments[0].tracking_number == "SF2"
    assert after.shipments[0].voided_tracking_numbers == ["SF1"]


async def _shipped(deps, oid: str) -> None:
    """Take the (one-shipment) order through the warehouse up to shipped."""
    await uc.review(deps, oid, True, "", "clerk")
    [ship] = (await uc.submit(deps, oid, None, "clerk")).shipments
    ids = {"shipment_id": ship.shipment_id, "warehouse_id": ship.warehouse_id}
    label = {"carrier": "SF", "tracking_number": "SF1"}
    for payload in (
        w.ShipmentAllocated(**ids),
        w.ShipmentLabelled(**ids, **label),
        w.ShipmentPacked(**ids, weight_grams=500),
        w.ShipmentShipped(**ids, **label, shipped_at=deps.clock.now()),
    ):
        async with deps.uow() as uow:
            await events.on_warehouse_event(
                uow, new_event(payload, producer="warehouse_service", order_id=oid)
            )
            await uow.commit()


async def _replacement_requested(deps, oid: str, rid: str = "RP-1", sku: str = "SKU-1") -> None:
    from order_service.entrypoints.consumers import dispatch
    from shared.events.aftersales import ReplacementRequested
    from shared.events.orders import LineQty

    payload = ReplacementRequested(
        replacement_id=rid, kind="reship", lines=[LineQty(sku=sku, qty=1)], reason="missing"
    )
    async with deps.uow() as uow:
        await dispatch(uow, new_event(payload, producer="aftersales_service", order_id=oid))
        await uow.commit()


async def test_a_replacement_request_ships_R1_once_and_answers_after_sales():
    deps, db = fake_deps()
    oid = (await ingest_order(deps, incoming())).order_id
    await _replacement_requested(deps, oid, "RP-0")  # nothing shipped yet: refused
    await _shipped(deps, oid)
    seen = len(db.outbox)
    await _replacement_requested(deps, oid)
    await _replacement_requested(deps, oid)  # the same replacement again: nothing new
    new = [(t, d) for t, o, d in db.outbox[seen:] if o == oid]
    assert [t for t, _ in new] == [
        "order.submitted",
        "order.replacement_created",
        "order.lines_changed",
    ]
    assert new[0][1]["shipment_id"] == f"{oid}-R1"
    assert new[0][1]["replacement_id"] == "RP-1"
    order = db.order(oid)
    assert order.stage == "shipped" and [r["outcome"] for r in order.replacements] == [
        "refused",
        "created",
    ]
    refused = next(d for t, _, d in db.outbox if t == "order.replacement_refused")
    assert refused["code"] == "not_shipped"
    assert any(e["kind"] == "replacement_created" for e in db.timeline)


async def test_a_replacement_of_an_unknown_sku_or_order_is_refused_or_an_anomaly():
    deps, db = fake_deps()
    oid = (await ingest_order(deps, incoming())).order_id
    await _shipped(deps, oid)
    await _replacement_requested(deps, oid, sku="SKU-404")
    [refused] = [d for t, o, d in db.outbox if t == "order.replacement_refused"]
    assert refused["code"] == "unknown_sku"
    await _replacement_requested(deps, "O-NOPE")
    assert [a["kind"] for a in db.anomalies] == ["unknown_order"]
