"""Shipping and discount on the order: carried on `order.synced`, kept in the document,
unknown (None) in documents stored before they existed and in events without them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from order_service.adapters.repository import from_document, to_document
from order_service.domain.order import Order
from shared.events.orders import OrderSynced


def received(**money: Decimal | None) -> Order:
    return Order.receive(
        actor="platform",
        id="O1",
        shop_id="s",
        platform="taobao",
        platform_order_id="TB-1",
        buyer={"id": "b1"},
        address={"name": "A", "phone": "1", "city": "C", "line1": "L"},
        lines=[{"sku": "SKU-1", "qty": 2, "unit_price": "30.00", "attributes": {}}],
        total=Decimal("50.00"),
        currency="CNY",
        paid_at=datetime(2026, 1, 1, tzinfo=UTC),
        **money,
    )


@pytest.mark.parametrize(
    ("shipping", "discount"), [(Decimal("10.00"), Decimal("20.00")), (None, None)]
)
def test_synced_carries_them_and_the_document_keeps_them(shipping, discount):
    order = received(shipping=shipping, discount=discount)
    [(_, synced)] = [e for e in order.events if e[0] == "order.synced"]
    event = OrderSynced.model_validate(synced)
    assert (event.shipping, event.discount) == (shipping, discount)
    again = from_document(to_document(order), version=1)
    assert (again.shipping, again.discount) == (shipping, discount)


def test_a_document_stored_before_them_reads_as_unknown():
    doc = to_document(received(shipping=Decimal("1.00"), discount=Decimal("2.00")))
    del doc["shipping"], doc["discount"]
    old = from_document(doc, version=3)
    assert (old.shipping, old.discount) == (None, None)


def test_an_event_in_flight_without_them_still_parses():
    [(_, synced)] = [e for e in received().events if e[0] == "order.synced"]
    del synced["shipping"], synced["discount"]
    event = OrderSynced.model_validate(synced)
    assert (event.shipping, event.discount) == (None, None)
