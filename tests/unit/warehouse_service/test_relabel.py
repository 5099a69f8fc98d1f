"""Address change as a relabel on the shipment task (SPEC §2.4): the task takes the new
address, its label is voided, an `address_change` hold stops pack and ship, and only the
next label (printed with the new address) releases it; other holds stay. Once shipped it
is missed. The handler on the fake unit of work, with stock reservations untouched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.envelope import new_event
from shared.events.orders import AddressChangeRequested
from tests.unit.warehouse_service.fakes import FakeDatabase, fake_deps
from tests.unit.warehouse_service.test_shipment import hold, task, types
from warehouse_service.domain.errors import Held, RelabelHoldRelease, WrongStep
from warehouse_service.domain.shipment import HOLD_REASONS
from warehouse_service.handlers import scanner
from warehouse_service.handlers.orders import address_change_requested

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NEW = {"name": "x", "phone": "1", "city": "Ningbo", "line1": "New Street 9"}


def at(status: str):
    s = task()
    steps = () if status == "queued" else ("allocated", "labelled", "packed", "shipped")
    for step in steps:
        if step == "allocated":
            s.allocate()
        elif step == "labelled":
            s.label("SF", "SF-OLD")
        elif step == "packed":
            s.pack(["SKU-1", "SKU-7", "SKU-7"], 900)
        else:
            s.ship(now=T0, epoch=1, active_stops=[])
        if step == status:
            break
    s.events.clear()
    return s


def ask(s, rid="E1") -> str:
    return s.request_relabel(rid, NEW, hold_id=f"H-{rid}", now=T0)


def test_address_change_is_a_hold_reason():
    assert "address_change" in HOLD_REASONS


@pytest.mark.parametrize("status", ["allocated", "labelled", "packed"])
def test_relabel_applies_the_address_voids_the_label_and_holds(status):
    s = at(status)
    assert ask(s) == "relabelled"
    voided = None if status == "allocated" else "SF-OLD"
    assert s.address == NEW and s.tracking_number is None and s.status == status
    assert types(s) == ["shipment.held", "shipment.address_changed"]
    held, changed = (d for _, d in s.events)
    assert held["reason"] == "address_change" and held["hold_id"] == "H-E1"
    assert changed["voided_tracking_number"] == voided and changed["request_id"] == "E1"
    assert s.relabels == [
        {
            "request_id": "E1",
            "status": status,
            "voided_tracking_number": voided,
            "hold_id": "H-E1",
            "state": "awaiting_label",
            "tracking_number": None,
        }
    ]
    with pytest.raises(Held):
        s.ship(now=T0, epoch=1, active_stops=[])
    with pytest.raises((Held, WrongStep)):
        s.pack(["SKU-1", "SKU-7", "SKU-7"], 900)


@pytest.mark.parametrize("status", ["allocated", "labelled", "packed"])
def test_only_the_next_label_releases_the_hold_and_carries_the_new_address(status):
    s = at(status)
    ask(s)
    with pytest.raises(RelabelHoldRelease):
        s.release_manual_hold("H-E1", now=T0, by="clerk")
    s.events.clear()
    s.label("YTO", "YT-NEW", now=T0 + timedelta(minutes=5))
    assert (s.tracking_number, s.status) == (
        "YT-NEW",
        "labelled" if status != "packed" else "packed",
    )
    assert types(s) == ["shipment.labelled", "shipment.released"]
    assert s.events[1][1]["hold_id"] == "H-E1" and not s.events[1][1]["still_held"]
    assert not s.held and s.relabels[0]["state"] == "labelled"
    assert s.relabels[0]["tracking_number"] == "YT-NEW"
    if status == "packed":  # the parcel is re-labelled, not packed again
        s.ship(now=T0, epoch=1, active_stops=[])
        assert s.status == "shipped" and s.tracking_number == "YT-NEW"
    else:
        s.pack(["SKU-1", "SKU-7", "SKU-7"], 900)
        assert s.status == "packed"


def test_a_stop_hold_survives_the_relabel_and_blocks_the_new_label_until_lifted():
    s = at("labelled")
    s.add_hold(hold("HS", kind="stop", reason="recall", stop_id="STOP-1"))
    ask(s)
    with pytest.raises(Held) as refused:
        s.label("YTO", "YT-NEW", now=T0)
    assert refused.value.details["stop_id"] == "STOP-1"
    s.release_hold("HS", now=T0, by="stop")  # the stop is lifted: the relabel hold stays
    assert s.held and [h.reason for h in s.active_holds] == ["address_change"]
    s.label("YTO", "YT-NEW", now=T0)
    assert not s.held


def test_a_manual_hold_stays_after_the_new_label():
    s = at("allocated")
    ask(s)
    s.add_hold(hold("HM", reason="fraud_review"))
    with pytest.raises(Held):
        s.label("YTO", "YT-NEW", now=T0)
    s.release_manual_hold("HM", now=T0, by="clerk")
    s.label("YTO", "YT-NEW", now=T0)
    assert not s.held


def test_shipped_is_missed_and_changes_nothing():
    s = at("shipped")
    assert ask(s) == "missed"
    assert s.address != NEW and s.tracking_number == "SF-OLD" and not s.held
    assert types(s) == ["shipment.address_change_missed"]


def test_queued_takes_the_address_without_a_hold():
    s = at("queued")
    assert ask(s) == "changed"
    assert s.address == NEW and not s.held and types(s) == ["shipment.address_changed"]


def test_a_second_relabel_before_the_new_label_reuses_the_hold():
    s = at("labelled")
    ask(s, "E1")
    s.events.clear()
    ask(s, "E2")
    assert types(s) == ["shipment.address_changed"]
    assert s.events[0][1]["hold_id"] == "H-E1" and s.events[0][1]["voided_tracking_number"] is None
    assert len(s.active_holds) == 1
    s.label("YTO", "YT-NEW", now=T0)
    assert not s.held and {r["state"] for r in s.relabels} == {"labelled"}


async def test_the_handler_relabels_the_stored_task_and_reservations_stay():
    s = at("labelled")
    db = FakeDatabase()
    db.add(s)
    deps, db = fake_deps(db)
    env = new_event(
        AddressChangeRequested(shipment_id="S1", request_id="E1", address=NEW, guaranteed=True),
        producer="order_service",
        order_id="O1",
    )
    async with deps.uow() as uow:
        await address_change_requested(deps, uow, env)
        await uow.commit()
    stored = db.shipment("S1")
    assert stored.address["line1"] == NEW["line1"] and stored.tracking_number is None
    assert stored.held
    assert stored.lines == s.lines  # reservations are per task and its lines: untouched
    assert db.event_types() == ["shipment.held", "shipment.address_changed"]
    done = await scanner.label(deps, "S1", "YTO", "YT-NEW", "WH-DS-1")
    assert done.tracking_number == "YT-NEW" and not done.held
    assert db.event_types()[-2:] == ["shipment.labelled", "shipment.released"]
