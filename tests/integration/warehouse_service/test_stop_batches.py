"""Set-based stops: SQL matching equals the domain's, keys follow edits, and the holds
are announced in partition-aligned `shipments.held` batches (no broker needed: the
broadcast handler runs directly and the outbox is read back)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from sqlalchemy import select

from shared.clock import ManualClock
from shared.envelope import new_event
from shared.events.stops import StopAcknowledged, StopIssued, StopLifted, StopScope
from shared.unit_of_work import idempotent
from tests.integration.warehouse_service.support import deliver, emitted, submitted
from warehouse_service.adapters import tables
from warehouse_service.adapters.partitions import partition_of
from warehouse_service.adapters.stop_holds import scope_condition
from warehouse_service.app import create_app
from warehouse_service.domain.shipment import Shipment
from warehouse_service.domain.stops import Scope, Stop
from warehouse_service.entrypoints.consumers import broadcast_consumer_name
from warehouse_service.handlers.holds import place_hold
from warehouse_service.handlers.stops import broadcast_events, issue_stop

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
WAREHOUSES = [
    ("WH-OWN-1", "own", None),
    ("WH-DS-1", "dropship", "SUP-1"),
    ("WH-DS-2", "dropship", "SUP-2"),
    ("WH-NEW", None, None),  # not registered: kind and supplier unknown
]
LINES = [
    [{"sku": "SKU-1", "qty": 1}],
    [{"sku": "SKU-2", "qty": 1, "supplier_id": "SUP-1"}],
    [{"sku": "SKU-3", "qty": 2, "campaign_id": "CMP-1"}],
    [{"sku": "SKU-1", "qty": 1}, {"sku": "SKU-4", "qty": 1, "supplier_id": "SUP-3"}],
    [{"sku": "SKU-2", "qty": 1, "supplier_id": "SUP-2", "campaign_id": "CMP-2"}],
]
SCOPES = [
    {"skus": ["SKU-1"]},
    {"skus": ["SKU-2", "SKU-3"]},
    {"suppliers": ["SUP-1"]},
    {"suppliers": ["SUP-2", "SUP-3"]},
    {"campaigns": ["CMP-1"]},
    {"warehouses": ["WH-DS-1", "WH-NEW"]},
    {"all_dropship": True},
    {"all_dropship": True, "skus": ["SKU-1"]},
    {"suppliers": ["SUP-1"], "campaigns": ["CMP-2"]},
    {"warehouses": ["WH-OWN-1"], "skus": ["SKU-4"]},
    {"skus": ["NO-SUCH"]},
]


async def _app(make_settings, **overrides):
    app = create_app(make_settings("warehouse", **overrides), clock=ManualClock(NOW))
    await app.state.runtime.db.create_schema(tables.metadata)
    async with app.state.deps.uow() as uow:  # what start-up does
        await uow.stops.ensure_guard()
        await uow.commit()
    return app


def _task(n: int, wh: tuple, lines: list) -> Shipment:
    wid, kind, supplier = wh
    return Shipment(
        shipment_id=f"S-{n}",
        order_id=f"O-{n}",
        warehouse_id=wid,
        warehouse_kind=kind,
        warehouse_supplier=supplier,
        lines=lines,
        address={"name": "x"},
        submitted_at=NOW,
    )


async def _matching(app, scope: Scope) -> set[str]:
    s = tables.shipments.c
    async with app.state.runtime.db.reader() as session:
        rows = await session.execute(select(s.shipment_id).where(scope_condition(scope)))
        return {r.shipment_id for r in rows}


async def test_sql_matching_equals_the_domain_and_follows_edits(make_settings):
    app = await _app(make_settings)
    deps = app.state.deps
    tasks = [_task(n, wh, ln) for n, (wh, ln) in enumerate(itertools.product(WAREHOUSES, LINES))]
    async with deps.uow() as uow:
        for task in tasks:
            await uow.shipments.add(task, NOW)
        await uow.commit()
    for raw in SCOPES:
        scope = Scope.from_dict(raw)
        stop = Stop("STOP-X", scope, "r", "ops", NOW)
        expected = {t.shipment_id for t in tasks if t.matches(stop)}
        assert await _matching(app, scope) == expected, raw
    assert await _matching(app, Scope()) == set()  # an empty scope matches nothing

    async with deps.uow() as uow:  # an edit rewrites the task's match keys
        task = await uow.shipments.get("S-0")
        task.apply_edit("R-1", address=None, note=None, lines=[{"sku": "SKU-9", "qty": 1}])
        await uow.shipments.save(task, NOW)
        await uow.commit()
    assert "S-0" not in await _matching(app, Scope.from_dict({"skus": ["SKU-1"]}))
    assert await _matching(app, Scope.from_dict({"skus": ["SKU-9"]})) == {"S-0"}
    await app.state.runtime.db.dispose()


async def test_holds_are_announced_in_partition_aligned_batches(make_settings):
    app = await _app(make_settings, FULFIL_WAREHOUSES="WH-DS-1,WH-DS-2", KAFKA_TOPIC_PARTITIONS=3)
    deps = app.state.deps
    tasks = [submitted(wh, [("SKU-7", 1)]) for wh in ("WH-DS-1", "WH-DS-2") for _ in range(12)]
    await deliver(app, *tasks)
    handle = idempotent(broadcast_consumer_name(deps.instance), deps.uow, broadcast_events(deps))
    await handle(_issued("STOP-B1"))
    late = submitted("WH-DS-1", [("SKU-7", 1)])  # arrives after: held on arrival
    await deliver(app, late)
    # The broadcast again under a new event id (e.g. re-published): nothing is held twice.
    await handle(_issued("STOP-B1"))

    batches = await emitted(app, "shipments.held")
    listed = [(b, task) for b in batches for task in b.typed().tasks]
    warehouse_of = {e.order_id: e.payload["warehouse_id"] for e in tasks}
    assert sorted(task.order_id for _, task in listed) == sorted(e.order_id for e in tasks)
    for b, task in listed:
        assert partition_of(task.order_id, 3) == partition_of(b.partition_key, 3)
        assert task.shipment_id == f"SHP-{task.order_id}"
        assert b.typed().warehouse_id == warehouse_of[task.order_id]
    # Per-task `shipment.held` only for the task held on arrival, none for the batch.
    assert [e.order_id for e in await emitted(app, "shipment.held")] == [late.order_id]
    h = tables.holds.c
    async with deps.uow().db.reader() as session:
        rows = (await session.execute(select(h.hold_id, h.shipment_id, h.stop_id))).all()
    assert {(r.hold_id, r.shipment_id) for r in rows if r.stop_id == "STOP-B1"} >= {
        (task.hold_id, task.shipment_id) for _, task in listed
    }
    assert len({r.shipment_id for r in rows}) == len(rows) == 25  # one hold per task
    acks = [e.typed() for e in await emitted(app, "stop.acknowledged")]
    assert {(a.warehouse_id, a.held_count) for a in acks} == {("WH-DS-1", 12), ("WH-DS-2", 12)} | {
        ("WH-DS-1", 13)
    }
    await app.state.runtime.db.dispose()


async def test_acknowledgements_commit_with_the_holds(make_settings):
    """The applying instance records its own acknowledgements in the holds transaction
    (a shared database shows them before the broadcast comes back); consuming them, or
    another instance's twice, records each acknowledgement once."""
    app = await _app(make_settings, FULFIL_WAREHOUSES="WH-DS-1,WH-DS-2")
    deps = app.state.deps
    await deliver(app, *(submitted(wh, [("SKU-7", 1)]) for wh in ("WH-DS-1", "WH-DS-2")))
    consumer = broadcast_consumer_name(deps.instance)
    stop = await issue_stop(deps, Scope.from_dict({"skus": ["SKU-7"]}), "r", "ops")
    await deliver(app, submitted("WH-DS-1", [("SKU-7", 1)]))  # held on arrival
    issued = StopIssued(
        stop_id=stop.stop_id,
        scope=StopScope(skus=["SKU-7"]),
        reason="r",
        issued_by="ops",
        issued_at=stop.issued_at,
    )
    handle = idempotent(consumer, deps.uow, broadcast_events(deps))
    await handle(new_event(issued, producer="warehouse_service", key=stop.stop_id))

    async def ack_rows() -> list[tuple]:
        a = tables.stop_acks.c
        async with deps.uow().db.reader() as session:
            rows = await session.execute(select(a.warehouse_id, a.instance_id, a.held_count))
            return sorted(tuple(r) for r in rows)

    # No consumer has run: committed with the holds (placed now + held on arrival).
    mine = [("WH-DS-1", deps.instance, 2), ("WH-DS-2", deps.instance, 1)]
    assert await ack_rows() == mine

    own = await emitted(app, "stop.acknowledged")
    other = new_event(
        StopAcknowledged(
            stop_id=stop.stop_id,
            warehouse_id="WH-X",
            instance_id="other",
            held_count=3,
            already_shipped=["O-9"],
        ),
        producer="warehouse_service",
        key=stop.stop_id,
    )
    for env in [*own, other, other]:  # its own acknowledgements come back; one redelivered
        await handle(env)
    assert await ack_rows() == sorted([*mine, ("WH-X", "other", 3)])
    i = tables.messaging.inbox.c
    async with deps.uow().db.reader() as session:
        seen = (await session.execute(select(i.event_id).where(i.consumer == consumer))).all()
    assert len(seen) == 1 + len(own) + 1
    await app.state.runtime.db.dispose()


async def test_a_lift_is_announced_in_partition_aligned_batches(make_settings):
    app = await _app(make_settings, FULFIL_WAREHOUSES="WH-DS-1,WH-DS-2", KAFKA_TOPIC_PARTITIONS=3)
    deps = app.state.deps
    tasks = [submitted(wh, [("SKU-7", 1)]) for wh in ("WH-DS-1", "WH-DS-2") for _ in range(6)]
    other = submitted("WH-DS-1", [("SKU-8", 1)])  # not in the stop's scope
    await deliver(app, *tasks, other)
    handle = idempotent(broadcast_consumer_name(deps.instance), deps.uow, broadcast_events(deps))
    await handle(_issued("STOP-L1"))
    late = submitted("WH-DS-2", [("SKU-7", 1)])  # held on arrival
    await deliver(app, late)
    manual = f"SHP-{tasks[0].order_id}"
    await place_hold(deps, manual, "fraud_review", None, "clerk", None)
    await place_hold(deps, f"SHP-{other.order_id}", "other", None, "clerk", None)
    versions = await _versions(app)

    lifted = StopLifted(stop_id="STOP-L1", lifted_by="ops", lifted_at=NOW)
    await handle(new_event(lifted, producer="warehouse_service", key="STOP-L1"))

    batches = await emitted(app, "shipments.released")
    listed = [(b, task) for b in batches for task in b.typed().tasks]
    stopped = [*tasks, late]
    assert sorted(task.order_id for _, task in listed) == sorted(e.order_id for e in stopped)
    for b, task in listed:
        assert partition_of(task.order_id, 3) == partition_of(b.partition_key, 3)
        assert task.still_held is (task.shipment_id == manual)  # the manual hold stays
    assert await emitted(app, "shipment.released") == []  # no per-task events
    h = tables.holds.c
    async with deps.uow().db.reader() as session:
        active = await session.execute(select(h.shipment_id).where(h.released_at.is_(None)))
        assert sorted(r.shipment_id for r in active) == sorted([manual, f"SHP-{other.order_id}"])
    after = await _versions(app)
    bumped = {sid for sid in after if after[sid] > versions[sid]}
    assert bumped == {f"SHP-{e.order_id}" for e in stopped}  # writers in flight retry
    await app.state.runtime.db.dispose()


def _issued(stop_id: str):
    """A `stop.issued` broadcast for SKU-7 (a new event id each time)."""
    issued = StopIssued(
        stop_id=stop_id,
        scope=StopScope(skus=["SKU-7"]),
        reason="recall",
        issued_by="ops",
        issued_at=NOW,
    )
    return new_event(issued, producer="warehouse_service", key=stop_id)


async def _versions(app) -> dict[str, int]:
    s = tables.shipments.c
    async with app.state.runtime.db.reader() as session:
        rows = await session.execute(select(s.shipment_id, s.version))
        return {r.shipment_id: r.version for r in rows}
