"""Stock (SPEC §3.2): the dev seed, adjustments and transfers, reservation with the task,
release on withdrawal and interception, pick on shipping, and the ledger behind it all."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest
from sqlalchemy import select

from shared import topics
from shared.clock import ManualClock
from shared.envelope import new_event
from shared.events.aftersales import GoodsGraded, GradedUnit
from shared.events.common import Line
from shared.events.orders import EditRequested, InterceptRequested, WithdrawRequested
from shared.unit_of_work import idempotent, idempotent_batch
from tests.integration.warehouse_service.support import deliver, emitted, publish, submitted
from tests.support import bearer, running, wait_until
from warehouse_service.adapters import tables
from warehouse_service.adapters.stock import StockRepository
from warehouse_service.app import create_app
from warehouse_service.domain.stock import replay
from warehouse_service.entrypoints.consumers import AFTERSALES_CONSUMER, ORDERS_CONSUMER
from warehouse_service.handlers.orders import order_events
from warehouse_service.handlers.restock import aftersales_events

pytestmark = pytest.mark.broker

OPS = bearer("dev-ops")
CLERK = bearer("dev-clerk")
CS = bearer("dev-cs_agent")
KEY = bearer("dev-scanner-WH-OWN-1")


async def stock(http, sku: str, wh: str = "WH-OWN-1") -> dict:
    r = await http.get(f"/inventory?sku={sku}&warehouse_id={wh}", headers=CLERK)
    assert r.status_code == 200, r.text
    [row] = [x for x in r.json() if x["pool"] == "sellable"]
    return row


async def set_stock(http, sku: str, counted: int, wh: str = "WH-OWN-1") -> None:
    body = {"warehouse_id": wh, "sku": sku, "kind": "count_correction", "counted": counted}
    r = await http.post("/inventory/adjustments", json=body | {"reason": "stocktake"}, headers=OPS)
    assert r.status_code == 201, r.text


async def check_ledger(app) -> None:
    """Every row equals its replayed ledger, and `reserved` the sum of live reservations."""
    async with app.state.runtime.db.reader() as session:
        repo = StockRepository(session)
        rows = await repo.find(limit=5000)
        ledger = replay(reversed(await repo.movements(limit=100_000)))
        live = await repo.live_reserved()
    for row in rows:
        key = (row["warehouse_id"], row["sku"], row["pool"])
        assert ledger.get(key, (0, 0)) == (row["on_hand"], row["reserved"]), key
        assert row["available"] >= 0
        if row["pool"] == "sellable":
            assert live.get(key[:2], 0) == row["reserved"], key


@pytest.fixture
async def http(make_settings):
    app = create_app(make_settings("warehouse"), clock=ManualClock())
    async with running(app) as client:
        client.app = app
        yield client


async def test_dev_seed_stocks_each_carried_sku_once(http):
    r = await http.get("/inventory", headers=CS)
    seeded = {(x["warehouse_id"], x["sku"]): x["on_hand"] for x in r.json()}
    assert seeded[("WH-OWN-1", "SKU-1")] == 1000 and seeded[("WH-DS-2", "SKU-9")] == 1000
    assert ("WH-DS-1", "SKU-1") not in seeded and len(seeded) == 9
    assert {x["available"] for x in r.json()} == {1000}
    async with running(http.app):  # a restart seeds nothing twice
        pass
    moves = (await http.get("/inventory/movements?limit=100", headers=OPS)).json()
    assert len(moves) == 9 and {m["kind"] for m in moves} == {"receipt"}
    assert (await http.get("/inventory", headers=KEY)).status_code == 403
    await check_ledger(http.app)


async def test_adjustments_and_transfers(http):
    body = {"warehouse_id": "WH-OWN-1", "sku": "SKU-2", "kind": "receipt", "qty": 50}
    r = await http.post("/inventory/adjustments", json=body | {"reason": "PO-1"}, headers=OPS)
    assert r.status_code == 201, r.text
    assert r.json()["stock"]["on_hand"] == 1050
    assert r.json()["movement"]["kind"] == "receipt"
    assert r.json()["movement"]["actor"].startswith("ops:")
    r = await http.post("/inventory/adjustments", json=body | {"reason": "x"}, headers=CLERK)
    assert r.status_code == 403
    # Bounds: a receipt without qty, qty 0, an unknown kind, a huge reason: 422, nothing stored.
    for bad in (
        {"warehouse_id": "WH-OWN-1", "sku": "SKU-2", "kind": "receipt", "reason": "x"},
        body | {"qty": 0, "reason": "x"},
        body | {"kind": "theft", "reason": "x"},
        body | {"reason": "x" * 600},
        body | {"reason": "x", "counted": 5},
    ):
        r = await http.post("/inventory/adjustments", json=bad, headers=OPS)
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error", bad
    r = await http.post(
        "/inventory/adjustments", json=body | {"warehouse_id": "WH-NO", "reason": "x"}, headers=OPS
    )
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert (await stock(http, "SKU-2"))["on_hand"] == 1050

    await set_stock(http, "SKU-3", 10)
    await deliver(http.app, submitted("WH-OWN-1", [("SKU-3", 4)]))
    body = {"warehouse_id": "WH-OWN-1", "sku": "SKU-3", "kind": "count_correction", "counted": 3}
    r = await http.post("/inventory/adjustments", json=body | {"reason": "count"}, headers=OPS)
    assert r.status_code == 409 and r.json()["error"]["code"] == "below_reserved"
    assert (await stock(http, "SKU-3"))["available"] == 6

    move = {"sku": "SKU-3", "from_warehouse_id": "WH-OWN-1", "to_warehouse_id": "WH-DS-1"}
    r = await http.post("/inventory/transfers", json=move | {"qty": 7, "reason": "x"}, headers=OPS)
    assert r.status_code == 409 and r.json()["error"]["code"] == "insufficient_stock"
    assert r.json()["error"]["details"]["available"] == 6
    r = await http.post("/inventory/transfers", json=move | {"qty": 6, "reason": "x"}, headers=OPS)
    assert r.status_code == 201, r.text
    assert r.json()["from"]["available"] == 0 and r.json()["to"]["on_hand"] == 6
    same = move | {"to_warehouse_id": "WH-OWN-1", "qty": 1, "reason": "x"}
    assert (await http.post("/inventory/transfers", json=same, headers=OPS)).status_code == 422
    kinds = Counter(m["kind"] for m in (await http.get("/inventory/movements", headers=OPS)).json())
    assert kinds["transfer_out"] == kinds["transfer_in"] == 1
    await check_ledger(http.app)


async def test_a_task_reserves_its_lines_or_is_out_of_stock_at_once(http):
    app = http.app
    await set_stock(http, "SKU-4", 5)
    ok = submitted("WH-OWN-1", [("SKU-4", 2), ("SKU-1", 1), ("SKU-4", 1)])
    short = submitted("WH-OWN-1", [("SKU-4", 3), ("SKU-1", 1)])
    await deliver(app, ok, short)
    assert (await stock(http, "SKU-4"))["reserved"] == 3
    assert (await stock(http, "SKU-1"))["reserved"] == 1  # the short task holds nothing
    r = await http.get(f"/shipments/{short.payload['shipment_id']}", headers=OPS)
    assert r.json()["status"] == "exception"
    [oos] = await emitted(app, "shipment.out_of_stock")
    assert oos.payload["shipment_id"] == short.payload["shipment_id"]
    assert oos.payload["skus"] == ["SKU-4"] and oos.causation_id == short.event_id
    types = [e.type for e in await emitted(app) if e.order_id == short.order_id]
    assert types == ["shipment.queued", "shipment.out_of_stock"]  # as a scanner report
    await check_ledger(app)


async def test_withdrawal_and_interception_release_shipping_picks(http):
    app = http.app
    await set_stock(http, "SKU-5", 10)
    gone, caught, sent = (submitted("WH-OWN-1", [("SKU-5", 2)]) for _ in range(3))
    await deliver(app, gone, caught, sent)
    assert (await stock(http, "SKU-5"))["reserved"] == 6
    await deliver(
        app,
        _request(WithdrawRequested, gone, guaranteed=False),
        _request(WithdrawRequested, gone, guaranteed=False),  # asked twice: released once
        _request(InterceptRequested, caught),
    )
    row = await stock(http, "SKU-5")
    assert (row["on_hand"], row["reserved"], row["available"]) == (10, 2, 8)
    sid = sent.payload["shipment_id"]
    await http.post("/warehouses/WH-OWN-1/imports", json={"shipment_id": sid}, headers=KEY)
    await http.post(f"/shipments/{sid}/label", json={"carrier": "SF"}, headers=KEY)
    r = await http.post(
        f"/shipments/{sid}/pack", json={"scanned": ["SKU-5"] * 2, "weight_grams": 300}, headers=KEY
    )
    assert r.status_code == 200, r.text
    assert (await http.post(f"/shipments/{sid}/ship", headers=KEY)).status_code == 200
    row = await stock(http, "SKU-5")
    assert (row["on_hand"], row["reserved"], row["available"]) == (8, 0, 8)
    kinds = Counter(
        m["kind"] for m in (await http.get("/inventory/movements?sku=SKU-5", headers=OPS)).json()
    )
    assert (kinds["reservation"], kinds["release"], kinds["pick"]) == (3, 2, 1)
    await check_ledger(app)


def _request(kind, env, **extra):
    sid = env.payload["shipment_id"]
    payload = kind(shipment_id=sid, request_id=f"R-{sid}-{kind.__name__}", reason="buyer", **extra)
    return new_event(payload, producer="order_service", order_id=env.order_id)


async def test_a_withdrawal_in_the_same_batch_as_its_submission_releases(http):
    app = http.app
    await set_stock(http, "SKU-6", 3)
    env = submitted("WH-OWN-1", [("SKU-6", 3)])
    batch = idempotent_batch(ORDERS_CONSUMER, app.state.deps.uow, order_events(app.state.deps))
    await batch([env, _request(WithdrawRequested, env, guaranteed=False)])
    row = await stock(http, "SKU-6")
    assert (row["reserved"], row["available"]) == (0, 3)
    await check_ledger(app)


async def test_two_instances_reserving_one_sku_get_exactly_the_stock(make_settings):
    """Two warehouse_service instances on one database take batches of orders for one SKU
    at once: exactly the stock is reserved, the rest is out of stock, nothing oversold."""
    apps = [create_app(make_settings("warehouse"), clock=ManualClock()) for _ in range(2)]
    units, per_instance, batch_size = 37, 40, 8
    async with running(apps[0]) as http, running(apps[1]):
        await set_stock(http, "SKU-2", units)
        envs = [[submitted("WH-OWN-1", [("SKU-2", 1)]) for _ in range(per_instance)] for _ in apps]

        async def intake(app, mine):
            deps = app.state.deps
            batch = idempotent_batch(ORDERS_CONSUMER, deps.uow, order_events(deps))
            for i in range(0, len(mine), batch_size):
                await batch(mine[i : i + batch_size])

        await asyncio.gather(*(intake(app, mine) for app, mine in zip(apps, envs, strict=True)))
        row = await stock(http, "SKU-2")
        assert (row["on_hand"], row["reserved"], row["available"]) == (units, units, 0)
        async with apps[0].state.runtime.db.reader() as session:
            c = tables.shipments.c
            rows = await session.execute(select(c.status))
            statuses = Counter(r.status for r in rows)
        assert statuses == {"queued": units, "exception": 2 * per_instance - units}
        await check_ledger(apps[0])


async def test_an_edit_of_the_lines_reserves_them_anew(http):
    app = http.app
    await set_stock(http, "SKU-4", 5)
    env = submitted("WH-OWN-1", [("SKU-4", 2)])
    sid = env.payload["shipment_id"]
    await deliver(app, env)

    def edit(n: int, qty: int):
        lines = [Line(sku="SKU-4", qty=qty)]
        payload = EditRequested(shipment_id=sid, request_id=f"E-{n}", lines=lines)
        return new_event(payload, producer="order_service", order_id=env.order_id)

    await deliver(app, edit(1, 4))
    assert (await stock(http, "SKU-4"))["reserved"] == 4
    await deliver(app, edit(2, 6))  # more than there is: out of stock, nothing held
    row = await stock(http, "SKU-4")
    assert (row["reserved"], row["available"]) == (0, 5)
    assert (await http.get(f"/shipments/{sid}", headers=OPS)).json()["status"] == "exception"
    await check_ledger(app)


async def test_random_operations_through_the_service_keep_the_ledger(http):
    """Seeded random reserve / release / ship / adjust / transfer through the consumer's
    handler and the API: after each step every row replays from the ledger, `reserved` is
    the sum of live reservations and nothing is below zero."""
    rng = random.Random(16)
    app, open_tasks = http.app, []
    batch = idempotent_batch(ORDERS_CONSUMER, app.state.deps.uow, order_events(app.state.deps))
    ops = ["reserve", "reserve", "release", "ship", "adjust", "transfer"]
    await set_stock(http, "SKU-1", 12)
    await set_stock(http, "SKU-2", 8)
    for _ in range(40):
        op, sku = rng.choice(ops), rng.choice(["SKU-1", "SKU-2"])
        if op == "reserve":
            n = rng.randint(1, 3)
            envs = [submitted("WH-OWN-1", [(sku, rng.randint(1, 4))]) for _ in range(n)]
            await batch(envs)
            open_tasks += envs
        elif op in ("release", "ship") and open_tasks:
            env = open_tasks.pop(rng.randrange(len(open_tasks)))
            if op == "release":
                await deliver(app, _request(WithdrawRequested, env, guaranteed=True))
            else:
                await _ship(http, env)
        elif op == "adjust":
            row = await stock(http, sku)
            await set_stock(http, sku, row["reserved"] + rng.randint(0, 5))
        elif op == "transfer":
            move = {"sku": sku, "from_warehouse_id": "WH-OWN-1", "to_warehouse_id": "WH-DS-1"}
            move |= {"qty": rng.randint(1, 3), "reason": "x"}
            r = await http.post("/inventory/transfers", json=move, headers=OPS)
            assert r.status_code in (201, 409), r.text
        await check_ledger(app)


async def _ship(http, env) -> None:
    sid = env.payload["shipment_id"]
    task = (await http.get(f"/shipments/{sid}", headers=OPS)).json()
    if task["status"] != "queued":
        return  # out of stock at creation: nothing to ship
    scanned = [ln["sku"] for ln in task["lines"] for _ in range(ln["qty"])]
    steps = [
        ("/warehouses/WH-OWN-1/imports", {"shipment_id": sid}),
        (f"/shipments/{sid}/label", {"carrier": "SF"}),
        (f"/shipments/{sid}/pack", {"scanned": scanned, "weight_grams": 100}),
        (f"/shipments/{sid}/ship", None),
    ]
    for path, body in steps:
        r = await http.post(path, json=body, headers=KEY)
        assert r.status_code == 200, (path, r.text)


async def test_graded_returns_restock_sellable_and_discounted_stock(http):
    app = http.app
    deps = app.state.deps
    handle = idempotent(AFTERSALES_CONSUMER, deps.uow, aftersales_events(deps))
    units = [
        GradedUnit(sku="SKU-1", qty=2, grade="new", disposition="restock", warehouse_id="WH-OWN-1"),
        GradedUnit(
            sku="SKU-1",
            qty=1,
            grade="minor_flaw",
            disposition="discounted_resale",
            warehouse_id="WH-OWN-1",
            flaw_note="scuffed",
        ),
        GradedUnit(
            sku="SKU-1", qty=1, grade="damaged", disposition="scrap", warehouse_id="WH-OWN-1"
        ),
        GradedUnit(sku="SKU-2", qty=1, grade="new", disposition="restock", warehouse_id="WH-NO"),
    ]
    env = new_event(
        GoodsGraded(return_id="RT-1", units=units), producer="aftersales_service", order_id="O-1"
    )
    await handle(env)
    await handle(env)  # redelivered: applied once
    r = await http.get("/inventory?sku=SKU-1&warehouse_id=WH-OWN-1", headers=CLERK)
    pools = {x["pool"]: x["on_hand"] for x in r.json()}
    assert pools == {"sellable": 1002, "discounted": 1}
    # Discounted stock is counted like any other (a stocktake of the flawed units).
    body = {"warehouse_id": "WH-OWN-1", "sku": "SKU-1", "kind": "count_correction"}
    body |= {"pool": "discounted", "counted": 0, "reason": "sold at the outlet"}
    r = await http.post("/inventory/adjustments", json=body, headers=OPS)
    assert r.status_code == 201 and r.json()["stock"]["pool"] == "discounted", r.text
    moves = (await http.get("/inventory/movements?sku=SKU-1", headers=OPS)).json()
    restocks = [(m["pool"], m["on_hand_delta"]) for m in moves if m["kind"] == "restock"]
    assert sorted(restocks) == [("discounted", 1), ("sellable", 2)]
    assert (await stock(http, "SKU-1"))["on_hand"] == 1002
    assert {m["reference"] for m in moves if m["kind"] == "restock"} == {"RT-1"}
    r = await http.get("/anomalies", headers=OPS)
    assert [a["kind"] for a in r.json()] == ["unknown_warehouse"]
    await check_ledger(app)


async def test_graded_goods_arrive_through_the_broker(make_settings):
    settings = make_settings("warehouse")
    app = create_app(settings, clock=ManualClock())
    unit = GradedUnit(
        sku="SKU-9", qty=3, grade="new", disposition="restock", warehouse_id="WH-DS-2"
    )
    env = new_event(
        GoodsGraded(return_id="RT-9", units=[unit]), producer="aftersales_service", order_id="O-9"
    )
    async with running(app) as http:
        await publish(settings, env, topic=topics.AFTERSALES)

        async def on_hand():
            return (await stock(http, "SKU-9", "WH-DS-2"))["on_hand"]

        await wait_until(on_hand, expect=1003, message="restocked from the aftersales topic")
