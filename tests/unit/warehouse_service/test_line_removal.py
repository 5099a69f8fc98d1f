"""Line-removal requests on a task (SPEC §2.4): at once, pending, missed, settled at pack."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from warehouse_service.domain import line_removal as lr
from warehouse_service.domain.errors import ScanMismatch
from warehouse_service.domain.shipment import Hold, Shipment

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ONE = [{"sku": "SKU-1", "qty": 1}]


def task(status="queued", held=False) -> Shipment:
    s = Shipment(
        shipment_id="S1",
        order_id="O1",
        warehouse_id="WH-OWN-1",
        lines=[{"sku": "SKU-7", "qty": 2}, {"sku": "SKU-1", "qty": 1}],
        address={"name": "x", "phone": "1"},
        submitted_at=T0,
        status=status,
    )
    if held:
        s.holds.append(Hold("H1", "manual", "fraud_review", "clerk", T0))
    return s


def kinds(s: Shipment) -> list[str]:
    return [t for t, _ in s.events]


@pytest.mark.parametrize(
    ("status", "held", "guaranteed", "outcome"),
    [
        ("queued", False, False, "removed"),
        ("exception", False, False, "removed"),
        ("allocated", False, False, "pending"),
        ("labelled", False, False, "pending"),
        ("packed", False, False, "missed"),
        ("shipped", False, False, "missed"),
        ("allocated", True, False, "removed"),
        ("labelled", True, False, "removed"),
        ("packed", True, False, "removed"),
        ("labelled", False, True, "removed"),
        ("withdrawn", False, False, "removed"),
        ("intercepted", False, False, "removed"),
    ],
)
def test_request_by_status(status, held, guaranteed, outcome):
    s = task(status, held)
    assert lr.request_removal(s, "R1", ONE, "r", guaranteed=guaranteed) == outcome
    event = {
        "removed": "shipment.lines_removed",
        "pending": "shipment.line_removal_pending",
        "missed": "shipment.line_removal_missed",
    }[outcome]
    assert kinds(s) == [event]
    assert s.events[0][1]["lines"] == ONE and s.events[0][1]["request_id"] == "R1"
    remaining = {line["sku"]: line["qty"] for line in s.lines}
    if outcome == "removed" and status not in lr.GONE:
        assert remaining == {"SKU-7": 2}
    else:
        assert remaining == {"SKU-7": 2, "SKU-1": 1}


def test_partial_qty_and_last_line_withdraws_the_task():
    s = task()
    lr.request_removal(s, "R1", [{"sku": "SKU-7", "qty": 1}], "r", guaranteed=False)
    assert s.lines == [{"sku": "SKU-7", "qty": 1}, {"sku": "SKU-1", "qty": 1}]
    assert s.status == "queued" and s.events[-1][1]["task_withdrawn"] is False
    lr.request_removal(s, "R2", [{"sku": "SKU-7", "qty": 1}, *ONE], "r", guaranteed=False)
    assert s.lines == [] and s.status == "withdrawn"
    assert s.events[-1][1]["task_withdrawn"] is True


def test_a_line_not_on_the_task_is_missed():
    s = task()
    assert lr.request_removal(s, "R1", [{"sku": "SKU-1", "qty": 2}], "r", guaranteed=False) == (
        "missed"
    )
    assert len(s.lines) == 2


def test_answer_removed_missed_and_errors():
    s = task("labelled")
    with pytest.raises(lr.NoLineRemovalPending):
        lr.answer_removal(s, "removed", None)
    lr.request_removal(s, "R1", ONE, "r", guaranteed=False)
    lr.request_removal(s, "R2", [{"sku": "SKU-7", "qty": 1}], "r", guaranteed=False)
    s.events.clear()
    with pytest.raises(lr.LineRemovalMismatch) as err:
        lr.answer_removal(s, "removed", [{"sku": "SKU-1", "qty": 2}])
    assert err.value.details["pending"] == [*ONE, {"sku": "SKU-7", "qty": 1}]
    lr.answer_removal(s, "removed", ONE)
    assert kinds(s) == ["shipment.lines_removed"] and s.lines == [{"sku": "SKU-7", "qty": 2}]
    lr.answer_removal(s, "missed", None)
    assert kinds(s)[-1] == "shipment.line_removal_missed"
    assert [r["state"] for r in s.line_removals] == ["removed", "missed"]
    assert s.lines == [{"sku": "SKU-7", "qty": 2}]


def test_answer_removed_of_every_line_withdraws_an_imported_task():
    s = task("allocated")
    lr.request_removal(s, "R1", [{"sku": "SKU-7", "qty": 2}, *ONE], "r", guaranteed=False)
    lr.answer_removal(s, "removed", None)
    assert s.status == "withdrawn" and s.events[-1][1]["task_withdrawn"] is True


def test_pack_checks_the_remaining_lines():
    s = task("labelled")
    lr.request_removal(s, "R1", ONE, "r", guaranteed=False)
    lr.answer_removal(s, "removed", None)
    with pytest.raises(ScanMismatch):
        s.pack(["SKU-7", "SKU-7", "SKU-1"], 100)  # the removed unit is extra now
    s.pack(["SKU-7", "SKU-7"], 100)
    assert s.status == "packed"


def test_pack_without_the_requested_units_is_refused_until_answered():
    s = task("labelled")
    lr.request_removal(s, "R1", ONE, "r", guaranteed=False)
    with pytest.raises(ScanMismatch) as err:
        s.pack(["SKU-7", "SKU-7"], 100)  # the scanner answers `removed` first
    assert err.value.details["missing"] == {"SKU-1": 1}
    assert s.line_removals[0]["state"] == "pending"


def test_pack_with_the_requested_units_misses_them():
    s = task("labelled")
    lr.request_removal(s, "R1", ONE, "r", guaranteed=False)
    s.events.clear()
    s.pack(["SKU-7", "SKU-7", "SKU-1"], 100)
    assert kinds(s) == ["shipment.packed", "shipment.line_removal_missed"]
    assert s.lines[-1] == {"sku": "SKU-1", "qty": 1}
