"""Refund and return use cases on the fake unit of work: the rules, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from aftersales_service.domain.errors import Refused
from aftersales_service.domain.orders import OrderLine, OrderView
from aftersales_service.handlers.refunds import RequestRefund, request_refund
from aftersales_service.handlers.returns import OpenReturn, open_return, receive_return
from tests.unit.aftersales_service.fakes import FakeAftersalesUnitOfWork, FakeDatabase

NOW = datetime(2026, 1, 10, tzinfo=UTC)


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


async def test_a_refund_before_shipping_asks_the_order_to_cancel_and_claims_it_once():
    uow, db = unit(order("reviewed"))
    refund = await request_refund(uow, RequestRefund("O-1", "changed mind"), NOW)
    assert (refund.status, refund.amount) == ("awaiting_cancel", Decimal("100.00"))
    assert db.event_types() == ["aftersales.cancel_requested"]
    with pytest.raises(Refused):
        await request_refund(uow, RequestRefund("O-1", "again"), NOW)
    assert len(db.refunds) == 1 and len(db.outbox) == 1


async def test_a_refund_after_shipping_is_refused_naming_the_path():
    uow, db = unit(order("shipped"))
    with pytest.raises(Refused) as err:
        await request_refund(uow, RequestRefund("O-1", "changed mind"), NOW)
    assert err.value.code == "refund_requires_refusal_or_return"
    assert db.refunds == {} and db.outbox == []


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
