"""Refund and return use cases on the fake unit of work: the rules, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from aftersales_service.domain.errors import InvalidRequest, LimitExceeded, Refused
from aftersales_service.domain.orders import OrderLine, OrderView
from aftersales_service.domain.refunds import Decision
from aftersales_service.handlers.refunds import RequestRefund, on_refund_decided, request_refund
from aftersales_service.handlers.replacements import (
    RequestReship,
    on_replacement_created,
    on_replacement_refused,
    on_shipment_shipped,
    request_reship,
)
from aftersales_service.handlers.returns import (
    OpenReturn,
    decide_return,
    open_return,
    receive_return,
)
from shared.events.orders import ReplacementCreated, ReplacementRefused, ReplacementShipment
from tests.unit.aftersales_service.fakes import FakeAftersalesUnitOfWork, FakeDatabase

NOW = datetime(2026, 1, 10, tzinfo=UTC)
D = Decimal


def order(stage: str, **over) -> OrderView:
    fields = {
        "order_id": "O-1",
        "stage": stage,
        "synced": True,
        "total": Decimal("100.00"),
        "lines": [OrderLine(0, "SKU-1", 2, Decimal("50.00"), "apparel", None, "WH-OWN-1")],
    }
    return OrderView(**(fields | over))


def unit(*orders: OrderView) -> tuple[FakeAftersalesUnitOfWork, FakeDatabase]:
    db = FakeDatabase(orders={o.order_id: o for o in orders})
    return FakeAftersalesUnitOfWork(db), db


async def test_a_refund_asks_the_order_service_for_its_path_and_claims_it_once():
    uow, db = unit(order("reviewed"))
    refund = await request_refund(uow, RequestRefund("O-1", "changed mind"), NOW)
    assert (refund.status, refund.amount, refund.mode) == ("requested", Decimal("100.00"), "")
    assert db.event_types() == ["aftersales.refund_requested"]
    with pytest.raises(Refused):
        await request_refund(uow, RequestRefund("O-1", "again"), NOW)
    assert len(db.refunds) == 1 and len(db.outbox) == 1


async def test_a_refund_the_order_service_routes_through_the_goods_is_refused_naming_the_path():
    uow, db = unit(order("shipped"))
    refund = await request_refund(uow, RequestRefund("O-1", "changed mind"), NOW)
    decided = Decision(True, "refuse_delivery", timing="after_return")
    async with uow:  # the consumer's unit of work
        await on_refund_decided(uow, refund.refund_id, decided, NOW, cause=None)  # type: ignore[arg-type]
        await uow.commit()
    assert db.refunds[refund.refund_id].status == "refused"
    assert db.claims == {}  # its units are free for the return that pays them
    assert db.event_types() == ["aftersales.refund_requested", "refund.refused"]
    assert db.outbox[-1].payload["code"] == "refund_requires_refusal_or_return"


async def test_an_unopened_return_is_approved_at_once_and_received_later():
    uow, db = unit(order("delivered", delivered_at=NOW - timedelta(days=3)))
    case = await open_return(uow, OpenReturn("O-1", [("SKU-1", 1)], "changed_mind"), NOW)
    assert (case.status, case.amount) == ("approved", Decimal("50.00"))
    assert db.refunds[case.refund_id].status == "awaiting_return"
    assert db.event_types() == ["return.opened"]
    received = await receive_return(uow, case.return_id, NOW + timedelta(days=2))
    assert received.status == "received"
    assert db.event_types() == ["return.opened", "return.received"]


async def test_a_return_outside_its_window_is_refused_and_stores_nothing():
    uow, db = unit(order("delivered", delivered_at=NOW - timedelta(days=30)))
    with pytest.raises(Refused):
        await open_return(uow, OpenReturn("O-1", [("SKU-1", 1)], "changed_mind"), NOW)
    assert db.returns == {} and db.refunds == {} and db.outbox == []


# --- exchanges and reships (SPEC §4.1) -------------------------------------------------------


def delivered(**over) -> OrderView:
    return order("delivered", delivered_at=NOW - timedelta(days=3), **over)


def exchange(reason: str = "changed_mind", **over) -> OpenReturn:
    fields = {"resolution": "exchange", "replacement_lines": (("SKU-1-L", 1),)}
    return OpenReturn("O-1", [("SKU-1", 1)], reason, **(fields | over))


def created(replacement_id: str, value: str, *shipment_ids: str) -> ReplacementCreated:
    shipments = [
        ReplacementShipment(shipment_id=sid, warehouse_id="WH-OWN-1", lines=[])
        for sid in shipment_ids or ("O-1-R1",)
    ]
    return ReplacementCreated(
        replacement_id=replacement_id, kind="exchange", shipments=shipments, value=D(value)
    )


async def consume(uow, handler, payload) -> None:
    """As the consumer does: one unit of work around the handler."""
    async with uow:
        await handler(uow, payload, NOW, None)
        await uow.commit()


async def test_an_exchange_refunds_nothing_and_ships_when_the_return_is_received():
    uow, db = unit(delivered())
    case = await open_return(uow, exchange(), NOW)
    assert (case.status, case.resolution, case.refund_id) == ("approved", "exchange", None)
    assert db.refunds == {} and set(db.claims.values()) == {case.replacement_id}
    assert db.replacements[case.replacement_id].status == "waiting"
    assert db.event_types() == ["return.opened"]
    await receive_return(uow, case.return_id, NOW)
    sent = db.outbox[-1]
    assert sent.type == "aftersales.replacement_requested"
    assert sent.payload["replacement_id"] == case.replacement_id
    assert (sent.payload["kind"], sent.payload["return_id"]) == ("exchange", case.return_id)
    assert sent.payload["lines"] == [{"sku": "SKU-1-L", "qty": 1}]
    assert db.replacements[case.replacement_id].status == "requested"


async def test_an_exchange_ships_first_for_the_policys_reasons_or_all():
    uow, db = unit(delivered())
    case = await open_return(uow, exchange("wrong_item"), NOW)
    assert db.event_types() == ["return.opened", "aftersales.replacement_requested"]
    await receive_return(uow, case.return_id, NOW)  # already sent: not sent again
    assert db.event_types()[-1] == "return.received"
    db.policy.exchange_ship_first = True
    await open_return(uow, exchange(), NOW)
    assert db.event_types()[-1] == "aftersales.replacement_requested"


async def test_a_cheaper_replacement_refunds_the_difference_a_dearer_one_is_due():
    uow, db = unit(delivered(total=D("90.00")))  # 10.00 discount: a unit paid 45.00
    case = await open_return(uow, exchange("wrong_item"), NOW)
    await consume(uow, on_replacement_created, created(case.replacement_id, "40.00"))
    ex = db.replacements[case.replacement_id]
    assert (ex.status, ex.shipment_ids, ex.price_difference) == (
        "created",
        ["O-1-R1"],
        D("-5.00"),
    )
    refund = db.refunds[ex.refund_id]
    assert (refund.kind, refund.status, refund.amount) == ("price_difference", "issued", D("5.00"))
    assert db.outbox[-1].type == "refund.issued"

    other = await open_return(uow, exchange("wrong_item"), NOW)
    await consume(uow, on_replacement_created, created(other.replacement_id, "59.00"))
    dearer = db.replacements[other.replacement_id]
    assert (dearer.price_difference, dearer.due_from_customer, dearer.refund_id) == (
        D("14.00"),
        D("14.00"),
        None,
    )


async def test_a_replacement_is_shipped_when_its_shipment_leaves():
    uow, db = unit(delivered())
    case = await open_return(uow, exchange("wrong_item"), NOW)
    await consume(uow, on_replacement_created, created(case.replacement_id, "50.00"))
    async with uow:
        await on_shipment_shipped(uow, "O-1-R1", NOW)
        await on_shipment_shipped(uow, "O-1-S1", NOW)  # not a replacement's: nothing
        await uow.commit()
    assert db.replacements[case.replacement_id].status == "shipped"


async def test_a_refused_exchange_turns_its_return_into_a_refund():
    uow, db = unit(delivered())
    case = await open_return(uow, exchange("wrong_item"), NOW)
    refused = ReplacementRefused(
        replacement_id=case.replacement_id, kind="exchange", code="unknown_sku", reason="?"
    )
    await consume(uow, on_replacement_refused, refused)
    ex = db.replacements[case.replacement_id]
    assert (ex.status, ex.refused_code) == ("refused", "unknown_sku")
    back = db.returns[case.return_id]
    assert (back.resolution, back.status) == ("refund", "approved")
    refund = db.refunds[back.refund_id]
    assert (refund.status, refund.amount) == ("awaiting_return", D("50.00"))
    assert set(db.claims.values()) == {refund.refund_id}  # the units moved to the refund


async def test_a_rejected_exchange_return_cancels_the_exchange_and_frees_its_units():
    uow, db = unit(delivered())
    case = await open_return(uow, exchange(opened=True), NOW)
    assert case.status == "pending_review"
    await decide_return(uow, case.return_id, False, "cs_agent", "a", "worn", NOW)
    assert db.replacements[case.replacement_id].status == "cancelled" and db.claims == {}


async def test_an_exchange_for_a_missing_item_is_a_reship_instead():
    uow, db = unit(delivered())
    with pytest.raises(InvalidRequest) as exc:
        await open_return(uow, exchange("missing_item"), NOW)
    assert exc.value.code == "exchange_needs_return"
    assert db.replacements == {} and db.claims == {} and db.outbox == []


def reship(lines=(("SKU-1", 1),), reason="missing_item", role="cs_agent") -> RequestReship:
    return RequestReship("O-1", tuple(lines), reason, role, "box arrived short", "agent-1")


async def test_a_reship_records_the_loss_and_asks_for_the_shipment_at_once():
    uow, db = unit(delivered())
    rs = await request_reship(uow, reship(), NOW)
    assert (rs.status, rs.paid_value, rs.liable_party) == ("requested", D("50.00"), "warehouse")
    ((_lid, owed, rid),) = db.liabilities
    assert (owed.party, owed.amount, owed.sku, rid) == (
        "warehouse",
        D("50.00"),
        "SKU-1",
        rs.replacement_id,
    )
    sent = db.outbox[-1]
    assert (sent.type, sent.payload["kind"], sent.payload["reason"]) == (
        "aftersales.replacement_requested",
        "reship",
        "missing_item",
    )
    with pytest.raises(Refused) as exc:  # one of the two units is reshipped already
        await request_reship(uow, reship([("SKU-1", 2)]), NOW)
    assert exc.value.code == "reship_exceeds_shipped"
    refused = ReplacementRefused(
        replacement_id=rs.replacement_id, kind="reship", code="no_warehouse"
    )
    await consume(uow, on_replacement_refused, refused)
    assert db.replacements[rs.replacement_id].status == "refused" and db.liabilities == []


async def test_a_reship_over_the_roles_limit_or_before_shipping_stores_nothing():
    big = [OrderLine(0, "SKU-1", 5, D("100.00"), "apparel", None, "WH-OWN-1")]
    uow, db = unit(delivered(total=D("500.00"), lines=big))
    with pytest.raises(LimitExceeded) as exc:
        await request_reship(uow, reship([("SKU-1", 3)]), NOW)
    assert exc.value.details["limit"] == "200.00"
    rs = await request_reship(uow, reship([("SKU-1", 3)], "transit_damage", "cs_supervisor"), NOW)
    assert db.liabilities[0][1].party == "carrier" and rs.paid_value == D("300.00")
    uow2, db2 = unit(order("packed"))
    with pytest.raises(Refused):
        await request_reship(uow2, reship(), NOW)
    assert db2.replacements == {} and db2.liabilities == [] and db2.outbox == []
