"""Complaint SLAs, notification tasks, delisting flags and the SVG charts."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from aftersales_service.domain.analytics import delisting_flags
from aftersales_service.domain.care import open_complaint, out_of_stock_task
from aftersales_service.domain.errors import InvalidRequest, Refused
from aftersales_service.domain.lifecycle import RETURNS
from aftersales_service.domain.policy import ReturnPolicy
from aftersales_service.domain.returns import ReturnCase
from aftersales_service.entrypoints import charts

NOW = datetime(2026, 3, 1, tzinfo=UTC)
P = ReturnPolicy()


@pytest.mark.parametrize(
    ("tier", "hours", "owner"),
    [("L1", 1, "cs_agent"), ("L2", 4, "specialist"), ("L3", 2, "cs_supervisor")],
)
def test_sla_tiers(tier, hours, owner):
    c = open_complaint("CP-1", tier, "x", None, NOW, P)
    assert (c.due_at, c.owner) == (NOW + timedelta(hours=hours), owner)
    assert not c.overdue(NOW + timedelta(hours=hours))
    assert c.overdue(NOW + timedelta(hours=hours, seconds=1))


def test_escalation_moves_up_and_resets_the_clock():
    c = open_complaint("CP-1", "L1", "x", None, NOW, P)
    later = NOW + timedelta(hours=1, minutes=5)
    assert c.escalate(later, P) == ("L1", "L2")
    assert (c.owner, c.due_at, c.breached_at, c.escalations) == (
        "specialist",
        later + timedelta(hours=4),
        later,
        1,
    )
    c.escalate(later + timedelta(hours=5), P)
    assert c.escalate(later + timedelta(hours=8), P) == ("L3", "L3")
    assert c.breached_at == later and c.escalations == 3


def test_responded_complaints_are_not_overdue():
    c = open_complaint("CP-1", "L1", "x", None, NOW, P)
    c.respond("agent", "on it", NOW + timedelta(minutes=10))
    assert not c.overdue(NOW + timedelta(days=1))
    assert c.first_response_at == NOW + timedelta(minutes=10)


def test_complaint_validation():
    with pytest.raises(InvalidRequest):
        open_complaint("CP-1", "L9", "x", None, NOW, P)
    with pytest.raises(InvalidRequest):
        open_complaint("CP-1", "L1", "x", None, NOW, P, evidence=[{"kind": "rumour"}])


def test_out_of_stock_task():
    t = out_of_stock_task("TK-1", "O-1", "S-1", ["SKU-7"], NOW, P)
    assert t.deadline == NOW + timedelta(hours=2)
    with pytest.raises(InvalidRequest):
        t.resolve("shrug", "agent", "", NOW)
    t.resolve("substitute", "agent", "SKU-8 instead", NOW)
    assert (t.status, t.option) == ("resolved", "substitute")
    with pytest.raises(Refused):
        t.resolve("wait", "agent", "", NOW)


def test_return_case_lifecycle_is_declared():
    c = ReturnCase("RT-1", "O-1", "return", "defect", [], NOW)
    assert not RETURNS.can(c.status, "receive")
    with pytest.raises(Refused):
        c.receive(NOW)
    c.approve("sup")
    c.receive(NOW)
    c.inspect(NOW)
    assert c.status == "inspected"


def test_delisting_thresholds_are_strictly_greater():
    rates = [
        {"sku": "A", "sold_units": 100, "return_rate": Decimal("0.1500")},
        {"sku": "B", "sold_units": 100, "return_rate": Decimal("0.1501")},
        {"sku": "C", "sold_units": 0, "return_rate": Decimal("0")},
    ]
    flags = delisting_flags(rates, {"A": (100, 6), "C": (100, 5)}, P)
    assert flags == {"B": ["return_rate"], "A": ["bad_review_rate"]}


def test_charts_are_well_formed_svg():
    ns = "{http://www.w3.org/2000/svg}"
    pie = ET.fromstring(charts.pie("Reasons <&>", [("defect", 3), ("late", 1)]))
    assert len(pie.findall(f"{ns}path")) == 2
    whole = ET.fromstring(charts.pie("one", [("defect", 3)]))
    assert whole.findall(f"{ns}circle")
    bars = ET.fromstring(charts.bars("rates", [("SKU-1", 0.4), ("SKU-2", 0.1)], 0.15))
    fills = [r.get("fill") for r in bars.findall(f"{ns}rect")]
    assert fills == ["#e15759", "#4e79a7"]  # over the threshold in red
    line = ET.fromstring(charts.timeline("t", [("2026-03-01", 2), ("2026-03-02", 5)]))
    assert len(line.findall(f"{ns}circle")) == 2
    assert ET.fromstring(charts.timeline("t", [])) is not None
    assert ET.fromstring(charts.pie("t", [])) is not None
