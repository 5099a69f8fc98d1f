"""Bounds on warehouse request bodies and queries: 413/422 naming the field, nothing stored."""

from __future__ import annotations

import json

import pytest

from shared.clock import ManualClock
from tests.integration.warehouse_service.support import deliver, submitted
from tests.support import bearer, running
from warehouse_service.app import create_app

pytestmark = pytest.mark.broker

OPS = bearer("dev-ops")
KEY = bearer("dev-scanner-WH-OWN-1")


def _field(r) -> str:
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "validation_error"
    return err["details"]["errors"][0]["field"]


@pytest.fixture
async def http(make_settings):
    app = create_app(make_settings("warehouse"), clock=ManualClock())
    async with running(app) as client:
        client.app = app
        yield client


async def _stops(http) -> list:
    return (await http.get("/stop-shipments", headers=OPS)).json()


async def test_a_10_mb_sku_in_a_stop_scope_is_413_and_records_no_stop(http):
    body = {"scope": {"skus": ["S" * (10 * 1024 * 1024)]}, "reason": "recall"}
    r = await http.post(
        "/stop-shipments",
        content=json.dumps(body).encode(),
        headers={**OPS, "Content-Type": "application/json"},
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    assert await _stops(http) == []


async def test_a_long_sku_or_too_many_skus_in_a_scope_names_the_field(http):
    r = await http.post(
        "/stop-shipments", json={"scope": {"skus": ["S" * 500]}, "reason": "x"}, headers=OPS
    )
    assert _field(r) == "scope.skus.0"
    r = await http.post(
        "/stop-shipments", json={"scope": {"skus": ["S"] * 5000}, "reason": "x"}, headers=OPS
    )
    assert _field(r) == "scope.skus"
    assert await _stops(http) == []


async def test_a_chunked_body_over_the_limit_is_413(http):
    async def chunks():
        for _ in range(40):
            yield b" " * 65536

    r = await http.post(
        "/stop-shipments", content=chunks(), headers={**OPS, "Content-Type": "application/json"}
    )
    assert r.status_code == 413
    assert await _stops(http) == []


async def test_an_empty_import_says_what_to_send(http):
    await deliver(http.app, submitted("WH-OWN-1"))
    for body in ({}, {"shipment_ids": []}, {"all_queued": False}):
        r = await http.post("/warehouses/WH-OWN-1/imports", json=body, headers=KEY)
        assert r.status_code == 422, r.text
        err = r.json()["error"]
        assert "shipment_ids" in err["message"] and "all_queued" in err["message"]
    r = await http.get("/warehouses/WH-OWN-1/shipments", headers=KEY)
    assert {s["status"] for s in r.json()} == {"queued"}
    r = await http.post(
        "/warehouses/WH-OWN-1/imports", json={"shipment_ids": ["S"] * 5000}, headers=KEY
    )
    assert _field(r) == "shipment_ids"


async def test_scanner_bodies_are_bounded(http):
    r = await http.post(
        "/shipments/S-1/pack", json={"scanned": ["SKU-1"], "weight_grams": 10**30}, headers=KEY
    )
    assert _field(r) == "weight_grams"
    r = await http.post(
        "/shipments/S-1/out-of-stock", json={"skus": ["SKU-1"], "note": "n" * 100_000}, headers=KEY
    )
    assert _field(r) == "note"
    r = await http.post(
        "/warehouses",
        json={"warehouse_id": "WH-X", "kind": "own", "name": "n" * 10_000},
        headers=OPS,
    )
    assert _field(r) == "name"


async def test_warehouse_queries_are_bounded(http):
    r = await http.get("/warehouses/WH-OWN-1/shipments", params={"limit": 10**20}, headers=KEY)
    assert _field(r) == "query.limit"
    r = await http.get("/warehouses/WH-OWN-1/shipments", params={"status": "s" * 1000}, headers=KEY)
    assert _field(r) == "query.status"
