"""Scanner flows, key binding, scan checks, holds and order-service requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared import topics
from shared.clock import ManualClock
from tests.integration.warehouse_service.support import (
    consume_until,
    deliver,
    emitted,
    publish,
    submitted,
)
from tests.support import bearer, running, wait_until
from warehouse_service.app import create_app
from warehouse_service.handlers.holds import release_due_holds

pytestmark = pytest.mark.broker

DS1 = bearer("dev-scanner-WH-DS-1")
DS2 = bearer("dev-scanner-WH-DS-2")
CLERK = bearer("dev-clerk")
OPS = bearer("dev-ops")


async def _status(http, shipment_id: str) -> str:
    r = await http.get(f"/shipments/{shipment_id}", headers=OPS)
    return r.json()["status"] if r.status_code == 200 else ""


async def test_seeded_registry_and_create(make_settings):
    app = create_app(make_settings("warehouse"), clock=ManualClock())
    async with running(app) as http:
        r = await http.get("/warehouses", headers=CLERK)
        assert {(w["warehouse_id"], w["kind"], w["supplier_id"]) for w in r.json()} == {
            ("WH-OWN-1", "own", None),
            ("WH-DS-1", "dropship", "SUP-1"),
            ("WH-DS-2", "dropship", "SUP-2"),
        }
        body = {"warehouse_id": "WH-DS-3", "kind": "dropship", "supplier_id": "SUP-3"}
        assert (await http.post("/warehouses", json=body, headers=CLERK)).status_code == 403
        assert (await http.post("/warehouses", json=body, headers=OPS)).status_code == 201
        assert (await http.post("/warehouses", json=body, headers=OPS)).status_code == 409
        bad = {"warehouse_id": "WH-DS-4", "kind": "dropship"}
        r = await http.post("/warehouses", json=bad, headers=OPS)
        assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "supplier_id"
    registered = await emitted(app, "warehouse.registered")
    assert [e.key for e in registered] == ["WH-OWN-1", "WH-DS-1", "WH-DS-2", "WH-DS-3"]
    # A restart seeds nothing twice.
    async with running(app):
        pass
    assert len(await emitted(app, "warehouse.registered")) == 4


async def test_full_scanner_flow_from_an_order_event(make_settings):
    settings = make_settings("warehouse")
    app = create_app(settings, clock=ManualClock())
    env = submitted("WH-DS-1", [("SKU-7", 2), ("SKU-8", 1)], supplier_id="SUP-1")
    sid = env.payload["shipment_id"]
    async with running(app) as http:
        await publish(settings, env)
        await wait_until(lambda: _status(http, sid), message="task created from order.submitted")

        worklist = await http.get("/warehouses/WH-DS-1/shipments?status=queued", headers=DS1)
        assert [s["shipment_id"] for s in worklist.json()] == [sid]
        assert worklist.json()[0]["held"] is False
        r = await http.get("/warehouses/WH-DS-1/shipments", headers=DS2)
        assert r.status_code == 403 and r.json()["error"]["code"] == "wrong_warehouse"
        r = await http.post(f"/shipments/{sid}/label", json={"carrier": "SF"}, headers=DS2)
        assert r.status_code == 403 and r.json()["error"]["code"] == "wrong_warehouse"

        r = await http.post("/warehouses/WH-DS-1/imports", json={"all_queued": True}, headers=DS1)
        assert r.json() == {"allocated": [sid], "refused": []}

        r = await http.post(f"/shipments/{sid}/ship", headers=DS1)
        assert r.status_code == 409
        err = r.json()["error"]
        assert err["code"] == "wrong_step" and err["details"]["required_step"] == "pack"
        assert "pack" in err["message"] and err["details"]["next_step"] == "label"
        r = await http.post(
            f"/shipments/{sid}/pack", json={"scanned": [], "weight_grams": 1}, headers=DS1
        )
        assert r.status_code == 409 and r.json()["error"]["details"]["required_step"] == "label"

        r = await http.post(f"/shipments/{sid}/label", json={"carrier": "SF"}, headers=DS1)
        assert r.status_code == 200
        tracking = r.json()["tracking_number"]
        assert tracking.startswith("SF")

        bad = {"scanned": ["SKU-7", "SKU-8"], "weight_grams": 900}
        r = await http.post(f"/shipments/{sid}/pack", json=bad, headers=DS1)
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "scan_mismatch"
        assert r.json()["error"]["details"] == {"missing": {"SKU-7": 1}, "extra": {}}
        bad = {"scanned": ["SKU-7", "SKU-8", "SKU-7", "SKU-2"], "weight_grams": 900}
        r = await http.post(f"/shipments/{sid}/pack", json=bad, headers=DS1)
        assert r.json()["error"]["details"] == {"missing": {}, "extra": {"SKU-2": 1}}
        assert "SKU-2" in r.json()["error"]["message"]

        good = {"scanned": ["SKU-7", "SKU-8", "SKU-7"], "weight_grams": 1234}
        r = await http.post(f"/shipments/{sid}/pack", json=good, headers=DS1)
        assert r.status_code == 200 and r.json()["weight_grams"] == 1234
        r = await http.post(f"/shipments/{sid}/ship", headers=DS1)
        assert r.status_code == 200 and r.json()["status"] == "shipped"
        r = await http.post(f"/shipments/{sid}/ship", headers=DS1)
        assert r.status_code == 409

        # What the order service sees: the same events on the warehouse topic, keyed by order.
        seen = await consume_until(
            settings, topics.WAREHOUSE, lambda envs: "shipment.shipped" in [e.type for e in envs]
        )
        mine = [(key, e.type) for key, e in seen if e.order_id == env.order_id]
        assert mine[-1] == (env.order_id.encode(), "shipment.shipped")
        assert {e.key for _, e in seen if e.type == "warehouse.registered"} == {
            "WH-OWN-1",
            "WH-DS-1",
            "WH-DS-2",
        }

    types = [e.type for e in await emitted(app) if e.order_id == env.order_id]
    assert types == [
        "shipment.queued",
        "shipment.allocated",
        "shipment.labelled",
        "shipment.packed",
        "shipment.shipped",
    ]
    shipped = (await emitted(app, "shipment.shipped"))[0].typed()
    assert (shipped.carrier, shipped.tracking_number) == ("SF", tracking)
    assert shipped.submitted_at == env.occurred_at
    assert (await emitted(app, "shipment.queued"))[0].causation_id == env.event_id


async def test_tracking_numbers_are_unique(make_settings):
    app = create_app(make_settings("warehouse"), clock=ManualClock())
    a, b, c = (submitted("WH-OWN-1") for _ in range(3))
    ids = [e.payload["shipment_id"] for e in (a, b, c)]
    key = bearer("dev-scanner-WH-OWN-1")
    async with running(app) as http:
        await deliver(app, a, b, c)
        r = await http.post("/warehouses/WH-OWN-1/imports", json={"shipment_ids": ids}, headers=key)
        assert sorted(r.json()["allocated"]) == sorted(ids)
        r = await http.post(
            f"/shipments/{ids[0]}/label",
            json={"carrier": "YTO", "tracking_number": "YT1"},
            headers=key,
        )
        assert r.status_code == 200
        r = await http.post(
            f"/shipments/{ids[1]}/label",
            json={"carrier": "YTO", "tracking_number": "YT1"},
            headers=key,
        )
        assert r.status_code == 409 and r.json()["error"]["code"] == "duplicate_tracking_number"
        assert await _status(http, ids[1]) == "allocated"
        r1 = await http.post(f"/shipments/{ids[1]}/label", json={"carrier": "YTO"}, headers=key)
        r2 = await http.post(f"/shipments/{ids[2]}/label", json={"carrier": "YTO"}, headers=key)
        assert r1.json()["tracking_number"] != r2.json()["tracking_number"]


async def test_out_of_stock_and_single_import_errors(make_settings):
    app = create_app(make_settings("warehouse"), clock=ManualClock())
    env = submitted("WH-OWN-1", [("SKU-1", 1), ("SKU-2", 1)])
    sid = env.payload["shipment_id"]
    key = bearer("dev-scanner-WH-OWN-1")
    async with running(app) as http:
        await deliver(app, env)
        r = await http.post(f"/shipments/{sid}/out-of-stock", json={"skus": ["SKU-9"]}, headers=key)
        assert r.status_code == 422
        r = await http.post(f"/shipments/{sid}/out-of-stock", json={"skus": ["SKU-2"]}, headers=key)
        assert r.status_code == 200 and r.json()["status"] == "exception"
        r = await http.post("/warehouses/WH-OWN-1/imports", json={"shipment_id": sid}, headers=key)
        assert r.status_code == 409 and r.json()["error"]["code"] == "wrong_step"
        r = await http.post(
            "/warehouses/WH-OWN-1/imports", json={"shipment_id": "nope"}, headers=key
        )
        assert r.status_code == 404
    oos = (await emitted(app, "shipment.out_of_stock"))[0].typed()
    assert oos.skus == ["SKU-2"] and oos.shipment_id == sid


async def test_manual_holds_with_hold_until(make_settings):
    clock = ManualClock(datetime(2026, 3, 1, 8, tzinfo=UTC))
    app = create_app(make_settings("warehouse"), clock=clock)
    env = submitted("WH-OWN-1")
    sid = env.payload["shipment_id"]
    key = bearer("dev-scanner-WH-OWN-1")
    async with running(app) as http:
        await deliver(app, env)
        until = (clock.now() + timedelta(hours=1)).isoformat()
        r = await http.post(
            f"/shipments/{sid}/holds",
            json={"reason": "fraud_review", "until": until},
            headers=CLERK,
        )
        assert r.status_code == 201
        timed = r.json()["hold"]["hold_id"]
        r = await http.post(
            f"/shipments/{sid}/holds", json={"reason": "address_check"}, headers=OPS
        )
        manual = r.json()["hold"]["hold_id"]
        assert r.json()["shipment"]["held"] is True and len(r.json()["shipment"]["holds"]) == 2
        r = await http.post(f"/shipments/{sid}/holds", json={"reason": "whim"}, headers=OPS)
        assert r.status_code == 422
        past = {"reason": "other", "until": clock.now().isoformat()}
        r = await http.post(f"/shipments/{sid}/holds", json=past, headers=OPS)
        assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "until"
        r = await http.post(f"/shipments/{sid}/holds", json={"reason": "other"}, headers=key)
        assert r.status_code == 403

        r = await http.post("/warehouses/WH-OWN-1/imports", json={"shipment_id": sid}, headers=key)
        assert r.status_code == 423 and r.json()["error"]["code"] == "held"
        assert "fraud_review" in r.json()["error"]["message"]

        assert await release_due_holds(app.state.deps) == 0
        clock.advance(minutes=61)
        await release_due_holds(app.state.deps)  # the app's own timer may have beaten us
        r = await http.get(f"/shipments/{sid}", headers=OPS)
        assert [h["hold_id"] for h in r.json()["holds"]] == [manual]
        r = await http.post("/warehouses/WH-OWN-1/imports", json={"shipment_id": sid}, headers=key)
        assert r.status_code == 423 and "address_check" in r.json()["error"]["message"]

        r = await http.delete(f"/shipments/{sid}/holds/{manual}", headers=CLERK)
        assert r.status_code == 200 and r.json()["held"] is False
        r = await http.delete(f"/shipments/{sid}/holds/{timed}", headers=CLERK)
        assert r.status_code == 404
        r = await http.post("/warehouses/WH-OWN-1/imports", json={"shipment_id": sid}, headers=key)
        assert r.status_code == 200
    released = [e.typed() for e in await emitted(app, "shipment.released")]
    assert [(x.hold_id, x.still_held) for x in released] == [(timed, True), (manual, False)]
    held = [e.typed() for e in await emitted(app, "shipment.held")]
    assert [x.reason for x in held] == ["fraud_review", "address_check"]
    assert held[0].until == clock.now() - timedelta(minutes=1)


async def test_edits_withdrawals_and_interceptions(make_settings):
    from shared.envelope import new_event
    from shared.events.orders import EditRequested, InterceptRequested, WithdrawRequested

    app = create_app(make_settings("warehouse"), clock=ManualClock())
    key = bearer("dev-scanner-WH-OWN-1")
    q, imp, held, gone = (submitted("WH-OWN-1") for _ in range(4))

    def req(kind, env, **kw):
        sid = env.payload["shipment_id"]
        payload = kind(shipment_id=sid, request_id=f"R-{kind.__name__}-{sid}", **kw)
        return new_event(payload, producer="order_service", order_id=env.order_id)

    async with running(app) as http:
        await deliver(app, q, imp, held, gone)
        ids = [e.payload["shipment_id"] for e in (imp, held, gone)]
        await http.post("/warehouses/WH-OWN-1/imports", json={"shipment_ids": ids}, headers=key)
        for sid in (ids[0], ids[2]):
            await http.post(f"/shipments/{sid}/label", json={"carrier": "SF"}, headers=key)
        await http.post(
            f"/shipments/{ids[2]}/pack", json={"scanned": ["SKU-1"], "weight_grams": 5}, headers=key
        )
        await http.post(f"/shipments/{ids[2]}/ship", headers=key)
        await http.post(f"/shipments/{ids[1]}/holds", json={"reason": "other"}, headers=CLERK)

        await deliver(
            app,
            req(EditRequested, q, note="leave at door"),
            req(EditRequested, imp, note="too late"),
            req(WithdrawRequested, q, reason="buyer"),
            req(WithdrawRequested, imp, reason="buyer"),
            req(WithdrawRequested, held, reason="buyer", guaranteed=True),
            req(WithdrawRequested, gone, reason="buyer", guaranteed=True),
        )
        assert await _status(http, q.payload["shipment_id"]) == "withdrawn"
        assert await _status(http, ids[1]) == "withdrawn"
        wl = await http.get("/warehouses/WH-OWN-1/shipments?status=labelled", headers=key)
        assert wl.json()[0]["interception_request"]["request_id"].startswith("R-Withdraw")

        r = await http.post(
            f"/shipments/{ids[2]}/interception", json={"outcome": "intercepted"}, headers=key
        )
        assert r.status_code == 409 and r.json()["error"]["code"] == "no_interception_pending"
        r = await http.post(
            f"/shipments/{ids[0]}/interception", json={"outcome": "intercepted"}, headers=key
        )
        assert r.status_code == 200 and r.json()["status"] == "intercepted"
        await deliver(app, req(InterceptRequested, gone, reason="buyer"))

    def of(env, type_name):
        return [e for e in events if e.order_id == env.order_id and e.type == type_name]

    events = await emitted(app)
    assert len(of(q, "shipment.edit_applied")) == 1 and len(of(q, "shipment.withdrawn")) == 1
    assert "labelled" in of(imp, "shipment.edit_rejected")[0].typed().reason
    assert len(of(imp, "shipment.interception_pending")) == 1
    assert len(of(imp, "shipment.intercepted")) == 1
    assert len(of(held, "shipment.withdrawn")) == 1
    assert len(of(gone, "shipment.interception_missed")) == 2
