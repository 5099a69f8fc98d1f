"""Scanner use cases on the fake unit of work: the rules of each handler, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.unit.warehouse_service.fakes import FakeDatabase, fake_deps
from warehouse_service.domain.errors import Held, NotFound, ScanMismatch, WrongWarehouse
from warehouse_service.domain.shipment import Shipment
from warehouse_service.domain.stops import Scope, Stop
from warehouse_service.handlers import scanner

T0 = datetime(2026, 1, 1, tzinfo=UTC)
OWN = "WH-OWN-1"


def task(sid: str, status: str = "queued", warehouse_id: str = OWN) -> Shipment:
    return Shipment(
        shipment_id=sid,
        order_id=f"O-{sid}",
        warehouse_id=warehouse_id,
        lines=[{"sku": "SKU-1", "qty": 2}],
        address={"city": "Hangzhou"},
        submitted_at=T0,
        warehouse_kind="own",
        status=status,
    )


def database(*tasks: Shipment) -> FakeDatabase:
    db = FakeDatabase()
    for t in tasks:
        db.add(t)
    return db


async def test_import_allocates_queued_tasks_and_returns_each_refusal_as_its_domain_error():
    deps, db = fake_deps(
        database(task("S1"), task("S2", "packed"), task("S3", warehouse_id="WH-DS-1"))
    )
    result = await scanner.import_shipments(deps, OWN, ["S1", "S2", "S3", "S-NONE"], False)
    assert result.allocated == ["S1"] and result.missing == ["S-NONE"]
    refused = dict(result.refused)
    assert refused["S2"].code == "wrong_step" and isinstance(refused["S3"], NotFound)
    assert db.shipment("S1").status == "allocated" and db.shipment("S2").status == "packed"
    assert db.event_types() == ["shipment.allocated"]


async def test_pack_with_a_scan_mismatch_is_refused_and_changes_nothing():
    deps, db = fake_deps(database(task("S1", "labelled")))
    with pytest.raises(ScanMismatch) as err:
        await scanner.pack(deps, "S1", ["SKU-1"], 500, OWN)
    assert err.value.details == {"missing": {"SKU-1": 1}, "extra": {}}
    assert db.shipment("S1").status == "labelled" and db.outbox == []
    done = await scanner.pack(deps, "S1", ["SKU-1", "SKU-1"], 500, OWN)
    assert done.status == "packed" and db.event_types() == ["shipment.packed"]


async def test_ship_is_refused_while_a_stop_matches_and_allowed_once_it_is_lifted():
    packed = task("S1", "packed")
    packed.carrier, packed.tracking_number = "SF", "SF123"
    deps, db = fake_deps(database(packed))
    stop = Stop("STOP-1", Scope(skus=frozenset({"SKU-1"})), "recall", "ops", T0, epoch=1)
    db.stops[stop.stop_id] = stop
    with pytest.raises(Held) as err:
        await scanner.ship(deps, "S1", OWN)
    assert err.value.details["stop_id"] == "STOP-1"
    assert db.shipment("S1").status == "packed" and db.outbox == []
    stop.lifted_at = T0
    assert (await scanner.ship(deps, "S1", OWN)).status == "shipped"
    assert db.event_types() == ["shipment.shipped"]


async def test_a_scanner_key_of_another_warehouse_is_refused():
    deps, db = fake_deps(database(task("S1", "labelled")))
    with pytest.raises(WrongWarehouse):
        await scanner.pack(deps, "S1", ["SKU-1", "SKU-1"], 500, "WH-DS-1")
    assert db.shipment("S1").status == "labelled"
