"""Scans arriving together share one transaction, and each gets the answer it would have
had alone; a batch that loses a race is replayed one scan per transaction."""

from __future__ import annotations

import asyncio

from shared.batching import Batcher
from shared.clock import ManualClock
from tests.integration.warehouse_service.support import deliver, emitted, submitted
from tests.support import bearer, running
from warehouse_service.adapters.repository import ShipmentRepository
from warehouse_service.app import create_app
from warehouse_service.domain.errors import (
    Conflict,
    DuplicateTracking,
    InvalidRequest,
    NotFound,
    WrongStep,
    WrongWarehouse,
)
from warehouse_service.handlers import scanner

OWN = "WH-OWN-1"  # the scanner key's warehouse


def recording_batcher(deps, sizes: list[int]) -> Batcher:
    async def run(scans):
        sizes.append(len(scans))
        return await scanner.run_scans(deps, scans)

    return Batcher(run)


def _dirty_then_refused(shipment, _ctx) -> None:
    shipment.note = "half-applied"
    raise InvalidRequest("refused after changing the aggregate")


async def _allocated(app, n: int) -> list[str]:
    envs = [submitted("WH-OWN-1", [("SKU-1", 1)]) for _ in range(n)]
    await deliver(app, *envs)
    ids = [e.payload["shipment_id"] for e in envs]
    result = await scanner.import_shipments(app.state.deps, "WH-OWN-1", ids, False)
    assert sorted(result.allocated) == sorted(ids)
    return ids


async def test_scans_arriving_together_answer_as_if_alone(make_settings):
    app = create_app(make_settings("warehouse"), clock=ManualClock())
    async with running(app) as http:
        deps = app.state.deps
        a, b, c = await _allocated(app, 3)
        [elsewhere] = [submitted("WH-DS-1")]
        await deliver(app, elsewhere)
        sizes: list[int] = []
        deps.scans = recording_batcher(deps, sizes)
        results = await asyncio.gather(
            scanner.label(deps, a, "SF", "T-1", OWN),
            scanner.pack(deps, a, ["SKU-1"], 500, OWN),  # sees the label just before it
            scanner.label(deps, b, "SF", "T-1", OWN),  # taken by a, in this very batch
            scanner.pack(deps, c, ["SKU-1"], 500, OWN),  # not labelled yet
            deps.scans.submit(scanner.Scan(c, OWN, _dirty_then_refused)),
            scanner.label(deps, c, "SF", "T-3", OWN),  # unaffected by the refusal before
            scanner.label(deps, elsewhere.payload["shipment_id"], "SF", None, OWN),
            scanner.ship(deps, "SHP-nope", OWN),
            return_exceptions=True,
        )
        assert sizes == [8]
        assert [r.status for r in results[:2]] == ["labelled", "packed"]
        assert [r.version for r in results[:2]] == [2, 3]  # each step its own version
        assert isinstance(results[2], DuplicateTracking)
        assert isinstance(results[3], WrongStep)
        assert isinstance(results[4], InvalidRequest)
        assert results[5].status == "labelled" and results[5].tracking_number == "T-3"
        assert results[5].note is None  # the refused step's half-change was dropped
        assert isinstance(results[6], WrongWarehouse) and results[6].code == "wrong_warehouse"
        assert isinstance(results[7], NotFound)

        for sid, status in ((a, "packed"), (b, "allocated"), (c, "labelled")):
            r = await http.get(f"/shipments/{sid}", headers=bearer("dev-ops"))
            assert r.json()["status"] == status
        events = [(e.type, e.payload.get("shipment_id")) for e in await emitted(app)]
        assert [e for e in events if e[0] in ("shipment.labelled", "shipment.packed")] == [
            ("shipment.labelled", a),
            ("shipment.packed", a),
            ("shipment.labelled", c),
        ]


async def test_a_batch_that_loses_a_race_is_replayed_one_by_one(make_settings, monkeypatch):
    app = create_app(make_settings("warehouse"), clock=ManualClock())
    async with running(app):
        deps = app.state.deps
        a, b = await _allocated(app, 2)
        sizes: list[int] = []
        deps.scans = recording_batcher(deps, sizes)
        flush, lost = ShipmentRepository.flush, []

        async def flush_losing_once(self):
            if not lost:
                lost.append([s.shipment_id for s, _ in self._staged])
                raise Conflict("another writer won")
            await flush(self)

        monkeypatch.setattr(ShipmentRepository, "flush", flush_losing_once)
        done = await asyncio.gather(
            scanner.label(deps, a, "SF", None, OWN), scanner.label(deps, b, "SF", None, OWN)
        )
        assert sizes == [2] and lost == [[a, b]]
        assert [s.status for s in done] == ["labelled", "labelled"]
        labelled = [e.payload["shipment_id"] for e in await emitted(app, "shipment.labelled")]
        assert sorted(labelled) == sorted([a, b])  # the failed batch left nothing behind


def test_the_app_batches_scans(make_settings):
    app = create_app(make_settings("warehouse"), clock=ManualClock())
    assert isinstance(app.state.deps.scans, Batcher)
