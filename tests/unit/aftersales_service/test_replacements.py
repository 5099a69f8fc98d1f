"""Exchanges and reships (SPEC §4.1) as pure rules: the price difference both ways, when
an exchange ships, which units may be reshipped, and who carries a reshipped loss."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from aftersales_service.domain.errors import InvalidRequest, Refused
from aftersales_service.domain.line_refunds import paid_goods_value
from aftersales_service.domain.orders import OrderLine, OrderView
from aftersales_service.domain.policy import ReturnPolicy
from aftersales_service.domain.replacements import (
    Replacement,
    check_reship,
    merge_lines,
    reship_liabilities,
)

D = Decimal
NOW = datetime(2026, 3, 1, tzinfo=UTC)


def order(stage: str = "delivered", total: str = "100.00", shipped: bool = False) -> OrderView:
    """SKU-1 2 x 40.00 and SKU-2 1 x 20.00 (lines 100.00); `total` below 100: a discount."""
    return OrderView(
        "O-1",
        stage=stage,
        synced=True,
        total=D(total),
        lines=[
            OrderLine(0, "SKU-1", 2, D("40.00"), "apparel", "SUP-1", "WH-1", shipped=shipped),
            OrderLine(1, "SKU-2", 1, D("20.00"), "apparel", None, "WH-2"),
        ],
    )


def exchange(paid: str) -> Replacement:
    return Replacement(
        "RP-1", "O-1", "exchange", [{"sku": "SKU-1-L", "qty": 1}], "changed_mind", NOW,
        status="requested", paid_value=D(paid),
    )  # fmt: skip


def shipment(sid: str = "O-1-R1") -> dict:
    return {"shipment_id": sid, "warehouse_id": "WH-1", "lines": []}


def test_paid_value_is_the_price_less_its_discount_share_without_shipping():
    assert paid_goods_value(order(total="90.00"), [("SKU-1", 1)]) == D("36.00")
    assert paid_goods_value(order(total="110.00"), [("SKU-1", 1)]) == D("40.00")  # + shipping


def test_a_dearer_replacement_leaves_the_difference_due_from_the_customer():
    ex = exchange("36.00")
    ex.created([shipment()], D("45.00"), "CNY", NOW)
    assert (ex.status, ex.price_difference) == ("created", D("9.00"))
    assert (ex.due_from_customer, ex.refund_due) == (D("9.00"), D("0"))


def test_a_cheaper_replacement_refunds_the_difference():
    ex = exchange("36.00")
    ex.created([shipment()], D("30.00"), "CNY", NOW)
    assert (ex.price_difference, ex.refund_due, ex.due_from_customer) == (
        D("-6.00"),
        D("6.00"),
        D("0"),
    )


def test_an_exchange_is_shipped_when_all_its_shipments_left_in_any_order():
    ex = exchange("36.00")
    ex.ship("O-1-R1", NOW)  # the warehouse's event overtook the order service's answer
    assert ex.status == "requested"
    ex.created([shipment("O-1-R1"), shipment("O-1-R2")], D("40.00"), "CNY", NOW)
    assert ex.status == "created"
    ex.ship("O-1-R2", NOW)
    assert (ex.status, ex.shipped_at) == ("shipped", NOW)


def test_a_refused_replacement_cannot_be_created_afterwards():
    ex = exchange("36.00")
    ex.refuse("no_warehouse", "no stock anywhere")
    with pytest.raises(Refused):
        ex.created([shipment()], D("40.00"), "CNY", NOW)


def test_ship_first_globally_or_for_the_sellers_fault_reasons_else_on_receipt():
    policy = ReturnPolicy()
    assert policy.ships_first("wrong_item") and not policy.ships_first("changed_mind")
    policy.exchange_ship_first = True
    assert policy.ships_first("changed_mind")
    assert ReturnPolicy.from_dict(policy.to_dict()).exchange_ship_first is True


def test_a_reship_of_shipped_units_passes_and_merges_repeated_skus():
    got = check_reship(order(), [("SKU-1", 1), ("SKU-1", 1)], {}, set())
    assert got == [("SKU-1", 2)]


def test_a_reship_of_more_than_shipped_is_refused():
    with pytest.raises(Refused) as exc:
        check_reship(order(), [("SKU-1", 3)], {}, set())
    assert (exc.value.code, exc.value.details["available"]) == ("reship_exceeds_shipped", 2)


def test_a_reship_counts_what_was_already_reshipped_and_refunded():
    with pytest.raises(Refused) as exc:
        check_reship(order(), [("SKU-1", 1)], {"SKU-1": 1}, {"L0U0"})
    assert exc.value.details["available"] == 0


def test_units_not_yet_shipped_cannot_be_reshipped():
    split = order(stage="packed", shipped=True)  # only SKU-1's shipment has left
    assert check_reship(split, [("SKU-1", 2)], {}, set()) == [("SKU-1", 2)]
    with pytest.raises(Refused):
        check_reship(split, [("SKU-2", 1)], {}, set())


def test_a_reship_of_a_sku_not_in_the_order_is_invalid():
    with pytest.raises(InvalidRequest) as exc:
        check_reship(order(), [("SKU-9", 1)], {}, set())
    assert exc.value.code == "unknown_line"
    with pytest.raises(InvalidRequest):
        merge_lines([])


@pytest.mark.parametrize(
    ("reason", "party"),
    [("missing_item", "warehouse"), ("wrong_item", "warehouse"), ("transit_damage", "carrier")],
)
def test_the_reshipped_loss_goes_to_the_reasons_party_at_the_paid_price(reason, party):
    reship = Replacement("RP-2", "O-1", "reship", [{"sku": "SKU-1", "qty": 2}], reason, NOW)
    (owed,) = reship_liabilities(order(total="90.00"), reship)
    assert (owed.party, owed.amount, owed.sku) == (party, D("72.00"), "SKU-1")
    assert (owed.supplier_id, owed.warehouse_id) == ("SUP-1", "WH-1")


def test_an_unknown_reship_reason_is_invalid():
    reship = Replacement("RP-3", "O-1", "reship", [{"sku": "SKU-1", "qty": 1}], "late", NOW)
    with pytest.raises(InvalidRequest) as exc:
        reship_liabilities(order(), reship)
    assert exc.value.code == "unknown_reason"
