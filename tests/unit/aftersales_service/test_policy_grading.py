"""Return policy rules, grading dispositions and the liabilities they produce."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from aftersales_service.domain.errors import InvalidRequest, LimitExceeded, PolicyRefused, Refused
from aftersales_service.domain.policy import REASONS, ReturnPolicy
from aftersales_service.domain.returns import (
    ReturnCase,
    ReturnLine,
    grade_line,
    liabilities_for,
    match_inspection,
    refund_only_liabilities,
)

DELIVERED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
P = ReturnPolicy()
FULL = {"photos": ["a.jpg"], "order_number": "P-1", "chat_record": "c-1"}


@pytest.mark.parametrize(
    ("reason", "days", "ok"),
    [
        ("changed_mind", 7, True),
        ("changed_mind", 7.0001, False),
        ("wrong_order", 8, False),
        ("defect", 8, True),
        ("defect", 15, True),
        ("defect", 16, False),
        ("wrong_item", 15, True),
        ("package_damaged", 15.01, False),
    ],
)
def test_windows(reason, days, ok):
    now = DELIVERED + timedelta(days=days)
    if ok:
        P.check_window(reason, DELIVERED, now)
    else:
        with pytest.raises(PolicyRefused) as exc:
            P.check_window(reason, DELIVERED, now)
        assert exc.value.code == "return_window_closed"


def test_not_delivered_cannot_return():
    with pytest.raises(PolicyRefused) as exc:
        P.check_window("changed_mind", None, DELIVERED)
    assert exc.value.code == "not_delivered"


def test_shipping_payer_by_reason():
    assert P.return_shipping_payer("changed_mind") == "buyer"
    assert {P.return_shipping_payer(r) for r in ("defect", "wrong_item", "late")} == {"seller"}


@pytest.mark.parametrize("missing", ["photos", "order_number", "chat_record"])
def test_quality_claims_need_each_evidence_kind(missing):
    evidence = {k: v for k, v in FULL.items() if k != missing}
    with pytest.raises(PolicyRefused) as exc:
        P.check_evidence("not_as_described", evidence)
    assert exc.value.code == "evidence_required" and exc.value.details["missing"] == [missing]
    P.check_evidence("not_as_described", FULL)
    P.check_evidence("changed_mind", {})  # no evidence needed for no-reason returns


def test_unknown_reason_is_refused_with_the_list():
    with pytest.raises(InvalidRequest) as exc:
        P.window_days("bored")
    assert exc.value.details["allowed"] == sorted(REASONS)


def test_auto_approval():
    assert not P.needs_review("changed_mind", opened=False)
    assert not P.needs_review("defect", opened=False)
    assert not P.needs_review("missing_item", opened=True)
    assert P.needs_review("changed_mind", opened=True)


def test_approval_limits_by_role():
    P.check_approval_limit("cs_agent", Decimal("200.00"))
    with pytest.raises(LimitExceeded) as exc:
        P.check_approval_limit("cs_agent", Decimal("200.01"))
    assert exc.value.details["limit"] == "200.00"
    P.check_approval_limit("cs_supervisor", Decimal("2000.00"))
    with pytest.raises(LimitExceeded):
        P.check_approval_limit("cs_supervisor", Decimal("2000.01"))
    with pytest.raises(LimitExceeded):
        P.check_approval_limit("ops", Decimal("1"))
    P.check_approval_limit("admin", Decimal("99999"))


def test_policy_round_trips_as_data():
    data = P.to_dict()
    assert data["approval_limits"] == {"cs_agent": "200.00", "cs_supervisor": "2000.00"}
    assert ReturnPolicy.from_dict(data) == P


LINE = ReturnLine("SKU-1", 2, Decimal("50.00"), "shoes", "SUP-1", "WH-DS-1")


@pytest.mark.parametrize(
    ("grade", "kw", "disposition", "recovered"),
    [
        ("new", {}, "restock", "100.00"),
        ("minor_flaw", {"flaw_note": "scratch"}, "discounted_resale", "70.00"),
        ("severe_flaw", {"repair_cost": Decimal("99.99")}, "repair", "0.01"),
        ("severe_flaw", {"repair_cost": Decimal("100.00")}, "scrap", "0"),
        ("damaged", {}, "scrap", "0"),
    ],
)
def test_grade_dispositions(grade, kw, disposition, recovered):
    g = grade_line(LINE, grade, P, **kw)
    assert (g.disposition, g.recovered, g.value) == (
        disposition,
        Decimal(recovered),
        Decimal("100.00"),
    )
    assert g.loss == Decimal("100.00") - Decimal(recovered)


def test_grading_needs_its_facts():
    with pytest.raises(InvalidRequest) as exc:
        grade_line(LINE, "minor_flaw", P)
    assert exc.value.code == "flaw_note_required"
    with pytest.raises(InvalidRequest) as exc:
        grade_line(LINE, "severe_flaw", P)
    assert exc.value.code == "repair_cost_required"
    with pytest.raises(InvalidRequest):
        grade_line(LINE, "meh", P)


def case(reason, payer):
    return ReturnCase("RT-1", "O-1", "return", reason, [LINE], DELIVERED, shipping_payer=payer)


@pytest.mark.parametrize(
    ("reason", "party"),
    [
        ("defect", "supplier"),
        ("not_as_described", "supplier"),
        ("wrong_item", "warehouse"),
        ("late", "carrier"),
        ("package_damaged", "carrier"),
        ("changed_mind", "customer"),
    ],
)
def test_liability_party_follows_reason(reason, party):
    g = grade_line(LINE, "damaged", P)
    owed = liabilities_for(case(reason, P.return_shipping_payer(reason)), [g], P)
    assert {x.party for x in owed} == {party}
    assert owed[0].amount == Decimal("100.00")
    assert (owed[0].supplier_id, owed[0].warehouse_id) == ("SUP-1", "WH-DS-1")
    shipping = [x for x in owed if "shipping" in x.basis]
    assert len(shipping) == (0 if party == "customer" else 1)


def test_no_loss_no_goods_liability():
    g = grade_line(LINE, "new", P)
    assert liabilities_for(case("changed_mind", "buyer"), [g], P) == []
    owed = liabilities_for(case("defect", "seller"), [g], P)
    assert [(x.party, x.amount) for x in owed] == [("supplier", Decimal("12.00"))]


def test_refund_only_case_loses_the_whole_value():
    owed = refund_only_liabilities(case("missing_item", "seller"))
    assert [(x.party, x.amount) for x in owed] == [("warehouse", Decimal("100.00"))]


def test_every_returned_unit_is_graded_once():
    c = case("defect", "seller")
    pairs = match_inspection(c, [{"sku": "SKU-1", "qty": 1}, {"sku": "SKU-1", "qty": 1}])
    assert len(pairs) == 2
    with pytest.raises(Refused) as exc:
        match_inspection(c, [{"sku": "SKU-1", "qty": 1}])
    assert exc.value.code == "inspection_incomplete"
    with pytest.raises(InvalidRequest):
        match_inspection(c, [{"sku": "SKU-9", "qty": 2}])
