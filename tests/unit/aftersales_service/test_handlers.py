"""Refund and return use cases on the fake unit of work: the rules, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from aftersales_service.domain.errors import Refused
from aftersales_service.domain.orders import OrderLine, OrderView
from aftersales_service.domain.refunds import Decision
from aftersales_service.handlers.refunds import RequestRefund, on_refund_decided, request_refund
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
