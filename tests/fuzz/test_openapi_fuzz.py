"""Schemathesis against each service's OpenAPI, in-process, with keys of several roles.

Checks: no server error, and every response conforms to the documented status codes,
content types and body schemas. Bounded (`MAX_EXAMPLES` per operation, fixed seed) so
that it runs in the suite on both shapes; the summary prints the operations fuzzed, the
examples sent and every distinct failure.
"""

from __future__ import annotations

import json
import os

import pytest

from aftersales_service.app import create_app as aftersales_app
from order_service.app import create_app as order_app
from tests.fuzz.harness import Explicit, Fuzzer, serving, sign_generic
from tests.integration.aftersales_service import events as ev
from tests.integration.warehouse_service.support import deliver, submitted
from tests.support import bearer, wait_until
from warehouse_service.app import create_app as warehouse_app

pytestmark = pytest.mark.broker
# Strings with NUL (\x00) are generated: request strings refuse them with 422 (PostgreSQL
# cannot store NUL).
ALLOW_NUL = True
CURRENT = "current"
ADMIN = bearer("dev-admin")
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "15"))
# Operations not fuzzed, each with its reason (none today).
SKIP: dict[str, dict[str, str]] = {"order": {}, "warehouse": {}, "aftersales": {}}


async def _ready(client) -> None:
    """Consumers joined: `/readyz` 503 before that is its documented answer, not a fault."""

    async def status() -> int:
        return (await client.get("/readyz")).status_code

    await wait_until(status, expect=200, message="readyz 200", timeout=60)


def _fuzz(capsys, service: str, app, seed, explicit=(), prepare=None) -> None:
    with serving(app) as (portal, client):
        portal.call(_ready, client)
        known = portal.call(seed, client)
        fuzzer = Fuzzer(
            service,
            app,
            portal,
            client,
            known=known,
            skip=SKIP[service],
            explicit=explicit(known) if callable(explicit) else explicit,
            prepare=prepare,
            max_examples=MAX_EXAMPLES,
            allow_nul=ALLOW_NUL,
        )
        report = fuzzer.run()
    with capsys.disabled():  # the counts show in every run, not only a failing one
        print(f"\n{report.summary().splitlines()[0]}")
    print(report.summary())
    assert report.operations, "no operation was fuzzed"
    assert not report.failures, report.summary()


async def _seed_orders(client) -> dict[str, list[str]]:
    """A few real orders (synced, reviewed, submitted) for the fuzzer's path parameters."""
    from tests.integration.order_service.helpers import generic_order

    ids = []
    for n in range(3):
        body = generic_order(f"FUZZ-{n}", paid_at="2026-01-01T00:00:00+00:00")
        raw = json.dumps(body).encode()
        headers = sign_generic(raw) | {"Content-Type": "application/json"}
        answer = await client.post("/webhooks/generic/orders", content=raw, headers=headers)
        assert answer.status_code == 202, answer.text
        ids.append(answer.json()["order_id"])
    clerk = bearer("dev-clerk")
    await client.post(f"/orders/{ids[1]}/review", json={"approve": True}, headers=clerk)
    await client.post(f"/orders/{ids[2]}/review", json={"approve": True}, headers=clerk)
    await client.post(f"/orders/{ids[2]}/submit", json={}, headers=clerk)
    # If-Match is required, and its absence answers 428 with the error body (not 422).
    cs = bearer("dev-cs_agent")
    missing = await client.patch(f"/orders/{ids[0]}", json={"note": "x"}, headers=cs)
    assert missing.status_code == 428, missing.text
    assert missing.json()["error"]["code"] == "precondition_required"
    return {"order_id": ids}


def _order_cases(known) -> list[Explicit]:
    from tests.integration.order_service.helpers import generic_order, shopify_order

    first, _, submitted_id = known["order_id"]
    new = generic_order("FUZZ-NEW", paid_at="2026-01-01T00:00:00+00:00")
    cs = {"key": "dev-cs_agent"}
    return [
        Explicit("POST /webhooks/generic/orders", new),
        Explicit("POST /webhooks/generic/orders", new),  # the duplicate: 200
        Explicit("POST /webhooks/shopify/orders", shopify_order()),
        Explicit(
            "POST /webhooks/generic/deliveries",
            {
                "event_id": "fuzz-delivery",
                "platform": "taobao",
                "platform_order_id": "FUZZ-9",
                "delivered_at": "2026-01-02T00:00:00+00:00",
            },
        ),
        Explicit(
            "PATCH /orders/{order_id}",
            {"note": "call first"},
            {"order_id": first},
            headers={"If-Match": CURRENT},
            **cs,
        ),
        Explicit(
            "POST /orders/{order_id}/cancel", {"reason": "fuzz"}, {"order_id": submitted_id}, **cs
        ),
        Explicit("POST /orders/{order_id}/cancel", {"reason": "fuzz"}, {"order_id": first}, **cs),
    ]


async def _fresh_version(client, case, pick: int) -> None:
    """`If-Match: current` (explicit cases) or a known order in half the generated cases:
    the order's current version, so that edits reach the stage rules, not only 412."""
    if case.method != "PATCH" or "order_id" not in (case.path_parameters or {}):
        return
    headers = case.headers if case.headers is not None else {}
    if headers.get("If-Match") == CURRENT or pick in (1, 3):
        read = await client.get(f"/orders/{case.path_parameters['order_id']}", headers=ADMIN)
        if read.status_code == 200:
            headers["If-Match"] = read.headers["etag"]
            case.headers = headers


def test_order_service_fuzz(make_settings, capsys):
    app = order_app(make_settings("order"))
    _fuzz(capsys, "order", app, _seed_orders, _order_cases, _fresh_version)


def _seed_warehouse(app):
    async def seed(client) -> dict[str, list[str]]:
        envelopes = [submitted("WH-OWN-1"), submitted("WH-OWN-1"), submitted("WH-DS-1")]
        await deliver(app, *envelopes)
        ops = bearer("dev-ops")
        stop = await client.post(
            "/stop-shipments", json={"scope": {"skus": ["SKU-9"]}, "reason": "fuzz"}, headers=ops
        )
        assert stop.status_code == 201, stop.text
        return {
            "shipment_id": [e.payload["shipment_id"] for e in envelopes],
            "warehouse_id": ["WH-OWN-1", "WH-DS-1"],
            "stop_id": [stop.json()["stop_id"]],
        }

    return seed


def _warehouse_cases(known) -> list[Explicit]:
    """A scan sequence to shipped, an out-of-stock, a hold, a new warehouse, a lift."""
    one, two, dropship = known["shipment_id"]
    scan = {"key": "dev-scanner-WH-OWN-1"}
    at = {"warehouse_id": "WH-OWN-1"}
    return [
        Explicit("POST /warehouses/{warehouse_id}/imports", {"shipment_id": one}, at, **scan),
        Explicit("POST /shipments/{shipment_id}/label", {"carrier": "SF"}, {"shipment_id": one}),
        Explicit(
            "POST /shipments/{shipment_id}/pack",
            {"scanned": ["SKU-1"], "weight_grams": 250},
            {"shipment_id": one},
            **scan,
        ),
        Explicit("POST /shipments/{shipment_id}/ship", None, {"shipment_id": one}, **scan),
        Explicit("POST /warehouses/{warehouse_id}/imports", {"all_queued": True}, at, **scan),
        Explicit(
            "POST /shipments/{shipment_id}/out-of-stock",
            {"skus": ["SKU-1"]},
            {"shipment_id": two},
            **scan,
        ),
        Explicit(
            "POST /shipments/{shipment_id}/holds",
            {"reason": "fraud_review"},
            {"shipment_id": dropship},
            key="dev-ops",
        ),
        Explicit("POST /warehouses", {"warehouse_id": "WH-FUZZ", "kind": "own"}, key="dev-ops"),
        Explicit("POST /stop-shipments/{stop_id}/lift", None, {"stop_id": known["stop_id"][0]}),
    ]


def test_warehouse_service_fuzz(make_settings, capsys):
    app = warehouse_app(make_settings("warehouse"))
    _fuzz(capsys, "warehouse", app, _seed_warehouse(app), _warehouse_cases)


def _seed_aftersales(app):
    async def seed(client) -> dict[str, list[str]]:
        from aftersales_service.entrypoints.consumers import PROJECTION
        from aftersales_service.handlers.projection import apply_event
        from shared.unit_of_work import idempotent

        rt = app.state.runtime

        async def handle(uow, env):
            await apply_event(uow, env, rt.clock.now())

        run = idempotent(PROJECTION, app.state.deps.uow, handle)
        now = rt.clock.now()
        lines = [ev.line("SKU-1", 2), ev.line("SKU-2")]
        journey = []
        for oid in ("ORD-F1", "ORD-F2"):
            journey += [
                ev.synced(oid, lines),
                ev.submitted(oid, f"SHP-{oid}", "WH-OWN-1", lines, at=now),
                ev.shipped(oid, f"SHP-{oid}", "WH-OWN-1", now),
                ev.delivered(oid, now),
            ]
        journey += [
            ev.synced("ORD-F3", lines),
            ev.submitted("ORD-F3", "SHP-ORD-F3", "WH-OWN-1", lines, at=now),
            ev.out_of_stock("ORD-F3", "SHP-ORD-F3", "WH-OWN-1", ["SKU-2"]),
        ]
        for env in journey:
            await run(env)
        agent = bearer("dev-cs_agent")
        ret = await client.post(
            "/returns",
            json={"order_id": "ORD-F1", "lines": [{"sku": "SKU-1"}], "reason_code": "changed_mind"},
            headers=agent,
        )
        complaint = await client.post(
            "/complaints", json={"subject": "late", "order_id": "ORD-F2"}, headers=agent
        )
        tasks = await client.get("/tasks", headers=agent)
        return {
            "task_id": [t["task_id"] for t in tasks.json()],
            "return_id": [ret.json()["id"]] if ret.status_code == 201 else [],
            "complaint_id": [complaint.json()["id"]],
            "sku": ["SKU-1", "SKU-2"],
        }

    return seed


def _aftersales_cases(known) -> list[Explicit]:
    """A return through approval, receipt and inspection; a refund; a complaint answered."""
    sup = {"key": "dev-cs_supervisor"}
    ret = {"return_id": known["return_id"][0]} if known["return_id"] else {}
    cases = [
        Explicit("POST /refunds", {"order_id": "ORD-F2", "reason": "late"}, **sup),
        Explicit("GET /refunds", query={"order_id": "ORD-F2"}, **sup),
        Explicit(
            "POST /complaints/{complaint_id}/respond",
            {"message": "on it"},
            {"complaint_id": known["complaint_id"][0]},
            **sup,
        ),
    ]
    if ret:
        cases += [
            Explicit("POST /returns/{return_id}/approve", {"approve": True}, ret, **sup),
            Explicit("POST /returns/{return_id}/receive", None, ret, **sup),
            Explicit(
                "POST /returns/{return_id}/inspect",
                {"lines": [{"sku": "SKU-1", "grade": "minor_flaw", "flaw_note": "scuff"}]},
                ret,
                **sup,
            ),
        ]
    return cases


def test_aftersales_service_fuzz(make_settings, capsys):
    app = aftersales_app(make_settings("aftersales"))
    _fuzz(capsys, "aftersales", app, _seed_aftersales(app), _aftersales_cases)
