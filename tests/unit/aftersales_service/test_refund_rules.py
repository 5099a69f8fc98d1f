"""The stage table for refunds and the never-twice / never-more-than-paid rules."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from aftersales_service.domain.errors import NotFound, Refused
from aftersales_service.domain.orders import OrderLine, OrderView
from aftersales_service.domain.refunds import (
    Refund,
    cancellation_amount,
    check_within_paid,
    refund_route,
    whole_order_claims,
)

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def order(stage="synced", held=False, shipped=False, total="100.00") -> OrderView:
    return OrderView(
        "O-1",
        stage=stage,
        held=held,
        synced=True,
        total=Decimal(total),
        shipped=shipped,
        lines=[
            OrderLine(0, "SKU-1", 2, Decimal("30.00")),
            OrderLine(1, "SKU-2", 1, Decimal("40.00")),
        ],
    )


@pytest.mark.parametrize(
    ("stage", "held", "mode", "guaranteed"),
    [
        ("synced", False, "void", True),
        ("reviewed", False, "void", True),
        ("submitted", False, "withdraw", False),
        ("allocated", False, "intercept", False),
        ("labelled", False, "intercept", False),
        ("packed", False, "intercept", False),
        ("intercepting", False, "intercept", False),
        ("submitted", True, "withdraw", True),
        ("packed", True, "withdraw", True),
        ("synced", True, "void", True),
        ("exception", False, "cancel", True),
    ],
)
def test_refund_route_before_shipping(stage, held, mode, guaranteed):
    route = refund_route(order(stage, held))
    assert (route.mode, route.guaranteed) == (mode, guaranteed)


@pytest.mark.parametrize(
    ("stage", "code", "path"),
    [
        ("shipped", "refund_requires_refusal_or_return", "refuse_delivery"),
        ("returning", "refund_requires_refusal_or_return", "refuse_delivery"),
        ("delivered", "refund_requires_return", "return"),
        ("returned", "refund_requires_return", "return"),
        ("completed", "refund_window_closed", "complaint"),
        ("cancelled", "order_cancelled", "none"),
    ],
)
def test_refund_route_refusals_name_the_path(stage, code, path):
    with pytest.raises(Refused) as exc:
        refund_route(order(stage))
    assert (exc.value.code, exc.value.details["path"]) == (code, path)


def test_held_does_not_help_after_shipping():
    with pytest.raises(Refused):
        refund_route(order("shipped", held=True))


def test_warehouse_shipped_event_overrides_a_stale_stage():
    with pytest.raises(Refused) as exc:
        refund_route(order("packed", shipped=True))
    assert exc.value.code == "refund_requires_refusal_or_return"


def test_unknown_order():
    with pytest.raises(NotFound) as exc:
        refund_route(OrderView("O-X"))
    assert exc.value.code == "order_unknown"


def refund(amount, status="issued", claims=()):
    return Refund("RF-1", "O-1", Decimal(amount), "CNY", "cs", status=status, claims=list(claims))


def test_never_more_than_paid():
    o = order()
    check_within_paid(o, [refund("60.00")], Decimal("40.00"))
    with pytest.raises(Refused) as exc:
        check_within_paid(o, [refund("60.00")], Decimal("40.01"))
    assert exc.value.code == "refund_exceeds_paid"
    # open refunds count as committed money; refused ones do not
    with pytest.raises(Refused):
        check_within_paid(o, [refund("60.00", "awaiting_return")], Decimal("50.00"))
    check_within_paid(o, [refund("60.00", "refused")], Decimal("100.00"))
    with pytest.raises(Refused):
        check_within_paid(o, [], Decimal("0"))


def test_whole_order_claims_every_unclaimed_unit_once():
    o = order()
    assert whole_order_claims(o, set(), []) == ["order", "L0U0", "L0U1", "L1U0"]
    assert whole_order_claims(o, {"L0U0"}, []) == ["order", "L0U1", "L1U0"]
    with pytest.raises(Refused) as exc:
        whole_order_claims(o, {"order"}, [refund("100.00", claims=["order"])])
    assert exc.value.code == "refund_already_requested"
    assert exc.value.details["refund_id"] == "RF-1"


def test_claim_units_refuses_units_already_claimed():
    o = order()
    picked = o.claim_units([("SKU-1", 1)], {"L0U0"})
    assert [p.key for p in picked] == ["L0U1"]
    with pytest.raises(Refused) as exc:
        o.claim_units([("SKU-1", 2)], {"L0U0"})
    assert exc.value.code == "already_refunded" and exc.value.details["available"] == 1


def test_cancellation_amount_subtracts_refunds_issued_elsewhere():
    o = order()
    assert cancellation_amount(o, [], Decimal("100.00")) == Decimal("100.00")
    assert cancellation_amount(o, [refund("30.00")], Decimal("100.00")) == Decimal("70.00")
    assert cancellation_amount(o, [refund("100.00")], Decimal("100.00")) == Decimal("0.00")


def test_refund_state_machine():
    r = refund("10.00", "requested")
    r.request_cancel(refund_route(order()))
    assert (r.status, r.mode) == ("awaiting_cancel", "void")
    r.issue(Decimal("10"), NOW)
    assert (r.status, r.amount, r.issued_at) == ("issued", Decimal("10.00"), NOW)
    with pytest.raises(Refused) as exc:
        r.issue(Decimal("10"), NOW)
    assert exc.value.code == "illegal_transition"
