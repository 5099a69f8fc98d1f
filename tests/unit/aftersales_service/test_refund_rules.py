"""Refunds follow the order service's decision; the never-twice / never-more-than-paid
rules are after-sales' own."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from aftersales_service.domain.errors import InvalidRequest, Refused
from aftersales_service.domain.orders import OrderLine, OrderView
from aftersales_service.domain.refunds import (
    Decision,
    Refund,
    cancellation_amount,
    check_within_paid,
    goodwill_amount,
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


def decision(mode, allowed=True, code="", cancel="requested", **kw) -> Decision:
    return Decision(allowed, mode, code=code, cancel=cancel, **kw)


@pytest.mark.parametrize("mode", ["void", "withdraw", "intercept"])
def test_a_path_through_a_cancel_waits_for_it(mode):
    r = refund("59.00", "requested")
    assert r.decided(decision(mode, guaranteed=True, timing="at_once")) is None
    assert (r.status, r.mode) == ("awaiting_cancel", mode)
    assert r.decision["guaranteed"] is True and r.decision["timing"] == "at_once"


@pytest.mark.parametrize(
    ("mode", "code"),
    [
        ("refuse_delivery", "refund_requires_refusal_or_return"),
        ("return", "refund_requires_return"),
    ],
)
def test_a_path_through_the_goods_refuses_naming_it(mode, code):
    r = refund("59.00", "requested")
    assert r.decided(decision(mode, cancel="none", reason="after return")) == (
        code,
        mode,
        "after return",
    )
    assert (r.status, r.refused_code, r.mode) == ("refused", code, mode)


def test_a_refusal_of_the_order_service_is_the_refunds():
    r = refund("59.00", "requested")
    refused = r.decided(decision("none", allowed=False, code="closed", cancel="none"))
    assert refused == ("closed", "complaint", "")
    assert (r.status, r.refused_code) == ("refused", "closed")
    # a cancel refused where the refund rule allowed it refuses with the cancel's code
    r = refund("59.00", "requested")
    assert r.decided(decision("withdraw", code="shipped", cancel="refused"))[0] == "shipped"


def test_a_decision_after_the_cancellation_only_records_the_mode():
    r = refund("59.00", "issued")
    assert r.decided(decision("void")) is None
    assert (r.status, r.mode, r.decision["mode"]) == ("issued", "void", "void")


def test_after_sales_holds_no_stage_rule():
    import aftersales_service.domain.refunds as module

    assert not hasattr(module, "refund_route")
    # the decision names no stage: it is the order service's, whatever the stage was
    assert "stage" not in Decision.__dataclass_fields__


def test_goodwill_needs_an_amount():
    assert goodwill_amount(Decimal("5")) == Decimal("5.00")
    for amount in (None, Decimal("0"), Decimal("-1")):
        with pytest.raises(InvalidRequest) as exc:
            goodwill_amount(amount)
        assert exc.value.code == "amount_required"


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
    r.decided(decision("void"))
    assert (r.status, r.mode) == ("awaiting_cancel", "void")
    r.issue(Decimal("10"), NOW)
    assert (r.status, r.amount, r.issued_at) == ("issued", Decimal("10.00"), NOW)
    with pytest.raises(Refused) as exc:
        r.issue(Decimal("10"), NOW)
    assert exc.value.code == "illegal_transition"
