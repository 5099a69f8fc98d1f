"""The refund of some units (SPEC §2.4): price less their share of the order's discount,
shipping with the last unit of a shipment, never more than paid, all of them = paid."""

from __future__ import annotations

from decimal import Decimal
from itertools import permutations

import pytest

from aftersales_service.domain.line_refunds import (
    discount,
    line_refund_amount,
    paid_goods_value,
    shipping,
    units_value,
)
from aftersales_service.domain.orders import OrderLine, OrderView

D = Decimal


def order(total: str, *lines: tuple[str, int, str, str | None]) -> OrderView:
    return OrderView(
        "O-1",
        stage="synced",
        synced=True,
        total=D(total),
        lines=[
            OrderLine(i, sku, qty, D(price), warehouse_id=wh)
            for i, (sku, qty, price, wh) in enumerate(lines)
        ],
    )


def keys(o: OrderView) -> list[str]:
    return [k for line in o.lines for k in line.unit_keys()]


def amount(o: OrderView, claimed, units, remaining=None) -> Decimal:
    left = o.total if remaining is None else D(remaining)
    return line_refund_amount(o, claimed, units, left)


def test_no_discount_no_shipping_a_unit_is_its_price():
    o = order("100.00", ("SKU-1", 2, "30.00", None), ("SKU-2", 1, "40.00", None))
    assert (discount(o), shipping(o)) == (D("0"), D("0"))
    assert amount(o, set(), ["L0U0"]) == D("30.00")
    assert amount(o, {"L0U0"}, ["L0U1", "L1U0"]) == D("70.00")


def test_a_discount_is_shared_by_value():
    o = order("90.00", ("SKU-1", 2, "30.00", None), ("SKU-2", 1, "40.00", None))
    assert discount(o) == D("10.00")
    assert amount(o, set(), ["L0U0"]) == D("27.00")
    assert amount(o, set(), ["L1U0"]) == D("36.00")


def test_rounding_never_pays_more_and_the_last_unit_takes_the_cents():
    o = order("20.00", ("SKU-1", 3, "10.00", None))
    paid = [amount(o, set(keys(o)[:i]), [k]) for i, k in enumerate(keys(o))]
    assert paid == [D("6.66"), D("6.67"), D("6.67")]
    assert sum(paid) == o.total


def test_shipping_goes_back_with_the_last_unit_of_its_shipment():
    o = order("69.00", ("SKU-1", 1, "30.00", "WH-A"), ("SKU-2", 1, "29.00", "WH-A"))
    assert shipping(o) == D("10.00")
    assert amount(o, set(), ["L0U0"]) == D("30.00")
    assert amount(o, {"L0U0"}, ["L1U0"]) == D("39.00")


def test_shipping_is_shared_by_shipments():
    o = order("70.00", ("SKU-1", 1, "30.00", "WH-A"), ("SKU-7", 1, "30.00", "WH-B"))
    assert amount(o, set(), ["L0U0"]) == D("35.00")  # WH-A's shipment is gone: its half
    assert amount(o, {"L0U0"}, ["L1U0"]) == D("35.00")


def test_never_more_than_what_is_left_to_refund():
    o = order("59.00", ("SKU-1", 1, "59.00", None))
    assert amount(o, set(), ["L0U0"], remaining="49.00") == D("49.00")  # after 10 goodwill
    assert amount(o, set(), ["L0U0"], remaining="0") == D("0")


def test_units_already_claimed_add_nothing():
    o = order("59.00", ("SKU-1", 1, "59.00", None))
    assert amount(o, {"L0U0"}, ["L0U0"]) == D("0")
    assert units_value(o, {"order", "L0U0"}) == o.total


@pytest.mark.parametrize(
    "o",
    [
        order("88.00", ("SKU-1", 2, "19.90", "WH-A"), ("SKU-2", 1, "33.33", "WH-B")),
        order("50.00", ("SKU-1", 2, "19.90", "WH-A"), ("SKU-2", 1, "33.33", None)),
        order("73.13", ("SKU-1", 2, "19.90", "WH-A"), ("SKU-2", 1, "33.33", "WH-A")),
    ],
)
def test_in_any_order_the_units_add_up_to_what_was_paid(o):
    for order_of_units in permutations(keys(o)):
        claimed: set[str] = set()
        paid = []
        for k in order_of_units:
            paid.append(amount(o, claimed, [k]))
            claimed.add(k)
        assert sum(paid) == o.total, order_of_units
        assert all(p >= 0 for p in paid)


def both(shipping_: str | None, discount_: str | None) -> OrderView:
    """2 x 30.00 + 1 x 40.00 = 100.00 of goods, one shipment, 90.00 paid."""
    o = order("90.00", ("SKU-1", 2, "30.00", "WH-A"), ("SKU-2", 1, "40.00", "WH-A"))
    o.shipping = None if shipping_ is None else D(shipping_)
    o.discount = None if discount_ is None else D(discount_)
    return o


def test_shipping_and_discount_carried_by_the_order_are_used_not_inferred():
    o = both("10.00", "20.00")  # 100.00 + 10.00 shipping - 20.00 discount = 90.00
    assert (discount(o), shipping(o)) == (D("20.00"), D("10.00"))
    assert amount(o, set(), ["L0U0"]) == D("24.00")  # 30.00 less its 20 % share
    assert amount(o, {"L0U0"}, ["L0U1"]) == D("24.00")
    assert amount(o, {"L0U0", "L0U1"}, ["L1U0"]) == D("42.00")  # 32.00 + the shipping
    assert paid_goods_value(o, [("SKU-1", 1)]) == D("24.00")
    assert paid_goods_value(o, [("SKU-2", 1)]) == D("32.00")  # no shipping
    assert units_value(o, {"L0U0", "L1U0"}) == D("56.00")


def test_with_both_known_the_units_add_up_to_what_was_paid_in_any_order():
    o = both("10.00", "20.00")
    for order_of_units in permutations(keys(o)):
        claimed: set[str] = set()
        paid = []
        for k in order_of_units:
            paid.append(amount(o, claimed, [k]))
            claimed.add(k)
        assert sum(paid) == D("90.00"), order_of_units
        assert paid[-1] >= D("34.00")  # the last unit of the shipment takes the shipping


def test_a_zero_shipping_or_discount_carried_is_known_too():
    o = order("110.00", ("SKU-1", 2, "30.00", None), ("SKU-2", 1, "40.00", None))
    o.shipping, o.discount = D("0"), D("0")  # e.g. 10.00 of tax the lines do not show
    assert (discount(o), shipping(o)) == (D("0"), D("0"))
    assert amount(o, set(), ["L0U0"]) == D("30.00")
    assert amount(o, {"L0U0", "L0U1"}, ["L1U0"]) == D("50.00")  # the rest of what was paid


def test_without_them_the_event_leaves_inference_as_before():
    o = both(None, None)
    assert (discount(o), shipping(o)) == (D("10.00"), D("0"))
    assert amount(o, set(), ["L0U0"]) == D("27.00")
