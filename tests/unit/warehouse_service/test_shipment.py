"""The shipment aggregate: scan check, holds, stops, edits, withdrawals, interceptions."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from warehouse_service.domain.errors import (
    Held,
    InvalidRequest,
    NoInterceptionPending,
    NotFound,
    ScanMismatch,
    StopHoldRelease,
    WrongStep,
)
from warehouse_service.domain.shipment import Hold, Shipment
from warehouse_service.domain.stops import Scope, Stop

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def task(status="queued", lines=None, **kw) -> Shipment:
    s = Shipment(
        shipment_id="S1",
        order_id="O1",
        warehouse_id="WH-DS-1",
        warehouse_kind="dropship",
        warehouse_supplier="SUP-1",
        lines=lines or [{"sku": "SKU-7", "qty": 2}, {"sku": "SKU-1", "qty": 1}],
        address={"name": "x", "phone": "1"},
        submitted_at=T0,
        status=status,
        **kw,
    )
    return s


def hold(hold_id="H1", kind="manual", reason="fraud_review", stop_id=None, until=None) -> Hold:
    return Hold(hold_id, kind, reason, "clerk", T0, until=until, stop_id=stop_id)


def stop(stop_id="STOP-1", **scope) -> Stop:
    return Stop(stop_id, Scope.from_dict(scope), "recall", "ops", T0, epoch=5)


def types(s: Shipment) -> list[str]:
    return [t for t, _ in s.events]


def test_happy_path_records_each_step():
    s = task()
    s.allocate()
    s.label("SF", "SF1")
    s.pack(["SKU-1", "SKU-7", "SKU-7"], 1200)
    s.ship(now=T0 + timedelta(hours=2), epoch=3, active_stops=[stop(skus=["SKU-9"])])
    assert s.status == "shipped" and s.shipped_epoch == 3
    assert types(s) == [
        "shipment.allocated",
        "shipment.labelled",
        "shipment.packed",
        "shipment.shipped",
    ]
    assert s.events[-1][1]["submitted_at"] == T0


@given(st.lists(st.sampled_from(["SKU-1", "SKU-7", "SKU-2"]), max_size=6))
def test_pack_accepts_exactly_the_order_lines_as_a_multiset(scanned):
    s = task("labelled")
    if Counter(scanned) == Counter({"SKU-7": 2, "SKU-1": 1}):
        s.pack(scanned, 100)
        assert s.status == "packed"
    else:
        with pytest.raises(ScanMismatch) as info:
            s.pack(scanned, 100)
        expected = Counter({"SKU-7": 2, "SKU-1": 1})
        assert info.value.details["missing"] == dict(expected - Counter(scanned))
        assert info.value.details["extra"] == dict(Counter(scanned) - expected)
        assert s.status == "labelled"


def test_pack_out_of_order_is_a_wrong_step_before_the_scan_check():
    with pytest.raises(WrongStep):
        task("allocated").pack(["nothing"], 10)
    with pytest.raises(InvalidRequest):
        task("labelled").pack(["SKU-1", "SKU-7", "SKU-7"], 0)


def test_several_holds_progress_resumes_after_the_last():
    s = task()
    s.add_hold(hold("H1"))
    s.add_hold(hold("H2", reason="address_check"))
    with pytest.raises(Held) as info:
        s.allocate()
    assert info.value.details["hold_id"] == "H1" and "fraud_review" in info.value.message
    s.release_hold("H1", now=T0, by="clerk")
    assert s.events[-1][1]["still_held"] is True
    with pytest.raises(Held):
        s.allocate()
    s.release_hold("H2", now=T0, by="clerk")
    assert s.events[-1][1]["still_held"] is False
    s.allocate()
    with pytest.raises(NotFound):
        s.release_hold("H2", now=T0, by="clerk")


def test_hold_rules():
    with pytest.raises(InvalidRequest):
        task().add_hold(hold(reason="because"))
    with pytest.raises(WrongStep):
        task("shipped").add_hold(hold())
    s = task()
    s.add_hold(hold("H9", kind="stop", reason="recall", stop_id="STOP-1"))
    with pytest.raises(StopHoldRelease):
        s.release_manual_hold("H9", now=T0, by="clerk")


def test_stop_hold_is_named_first_in_refusals():
    s = task("packed")
    s.add_hold(hold("H1"))
    s.add_hold(hold("H2", kind="stop", reason="recall", stop_id="STOP-7"))
    with pytest.raises(Held) as info:
        s.ship(now=T0, epoch=1, active_stops=[])
    assert info.value.details["stop_id"] == "STOP-7"
    assert "STOP-7" in info.value.message and "recall" in info.value.message


def test_ship_refused_by_an_active_matching_stop_without_a_hold():
    s = task("packed")
    with pytest.raises(Held) as info:
        s.ship(now=T0, epoch=9, active_stops=[stop(suppliers=["SUP-1"])])
    assert info.value.details["stop_id"] == "STOP-1"
    assert s.status == "packed"


def test_ship_answers_a_pending_interception_as_missed():
    s = task("packed", interception={"request_id": "R1", "reason": "buyer"})
    s.ship(now=T0, epoch=1, active_stops=[])
    assert types(s)[-1] == "shipment.interception_missed" and s.interception is None


@pytest.mark.parametrize(
    ("status", "held", "guaranteed", "outcome", "new_status"),
    [
        ("queued", False, False, "withdrawn", "withdrawn"),
        ("allocated", False, False, "pending", "allocated"),
        ("packed", False, False, "pending", "packed"),
        ("packed", True, False, "intercepted", "intercepted"),
        ("packed", True, True, "withdrawn", "withdrawn"),
        ("labelled", False, True, "withdrawn", "withdrawn"),
        ("exception", False, False, "withdrawn", "withdrawn"),
        ("shipped", False, True, "missed", "shipped"),
        ("shipped", False, False, "missed", "shipped"),
        ("withdrawn", False, False, "withdrawn", "withdrawn"),
    ],
)
def test_withdrawal_rules(status, held, guaranteed, outcome, new_status):
    s = task(status)
    if held:
        s.holds.append(hold())
    assert s.request_withdrawal("R1", "buyer", guaranteed=guaranteed) == outcome
    assert s.status == new_status
    assert (s.interception is not None) == (outcome == "pending")


@pytest.mark.parametrize(
    ("status", "outcome"),
    [("queued", "intercepted"), ("labelled", "pending"), ("shipped", "missed")],
)
def test_interception_requests(status, outcome):
    assert task(status).request_interception("R1", "buyer") == outcome


def test_interception_outcomes():
    with pytest.raises(NoInterceptionPending):
        task("packed").report_interception("intercepted")
    s = task("packed", interception={"request_id": "R1", "reason": "x"})
    s.report_interception("missed")
    assert s.status == "packed" and s.interception is None
    s = task("packed", interception={"request_id": "R1", "reason": "x"})
    s.report_interception("intercepted")
    assert s.status == "intercepted" and types(s) == ["shipment.intercepted"]


def test_edits_only_while_queued():
    s = task()
    assert s.apply_edit("E1", address={"name": "new"}, note="n", lines=None)
    assert s.address == {"name": "new"} and s.note == "n"
    s = task("allocated")
    assert not s.apply_edit("E2", address={"name": "new"}, note=None, lines=None)
    assert s.address != {"name": "new"}
    assert s.events[-1] == (
        "shipment.edit_rejected",
        {
            "shipment_id": "S1",
            "warehouse_id": "WH-DS-1",
            "request_id": "E2",
            "reason": "already in warehouse processing (allocated)",
        },
    )


def test_out_of_stock():
    s = task("labelled")
    with pytest.raises(InvalidRequest):
        s.report_out_of_stock(["SKU-9"])
    s.report_out_of_stock(["SKU-7", "SKU-7"], "shelf empty")
    assert s.status == "exception"
    assert s.events[-1][1]["skus"] == ["SKU-7"]


def test_queued_announcement_comes_first_and_names_stops():
    s = task()
    s.add_hold(hold("H1", kind="stop", reason="recall", stop_id="STOP-3"))
    s.announce_queued()
    assert s.events[0] == (
        "shipment.queued",
        {"shipment_id": "S1", "warehouse_id": "WH-DS-1", "held_by": ["STOP-3"]},
    )
