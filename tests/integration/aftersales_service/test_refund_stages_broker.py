"""Refund outcome per stage, driven through the real broker (order/warehouse events and the
order service's `order.refund_decided` in, `aftersales.refund_requested` / `refund.issued` /
`refund.refused` / `return.*` out). The decisions themselves: test_refund_path_broker.py."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared import topics
from shared.envelope import Envelope, decode
from tests.integration.aftersales_service import events as ev
from tests.integration.aftersales_service.conftest import AGENT
from tests.support import wait_until

pytestmark = pytest.mark.broker
WH = "WH-OWN-1"


class Wire:
    """Publishes like the other services; collects what after-sales emits."""

    def __init__(self, settings):
        self.settings = settings
        self.seen: list[Envelope] = []

    async def __aenter__(self):
        servers = self.settings.kafka_bootstrap_servers
        self.producer = AIOKafkaProducer(bootstrap_servers=servers)
        self.consumer = AIOKafkaConsumer(
            self.settings.topic(topics.AFTERSALES),
            bootstrap_servers=servers,
            group_id=f"probe-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest",
        )
        # bounded: a struggling broker fails the test instead of hanging it
        await asyncio.wait_for(self.producer.start(), 30)
        await asyncio.wait_for(self.consumer.start(), 30)
        return self

    async def __aexit__(self, *exc):
        await self.producer.stop()
        await self.consumer.stop()

    async def publish(self, topic: str, *envs: Envelope) -> None:
        for env in envs:
            await asyncio.wait_for(
                self.producer.send_and_wait(
                    self.settings.topic(topic), env.encode(), key=env.partition_key.encode()
                ),
                30,
            )

    async def drain(self) -> list[Envelope]:
        batches = await self.consumer.getmany(timeout_ms=100)
        for msgs in batches.values():
            self.seen += [decode(m.value) for m in msgs]
        return self.seen

    def of(self, type_name: str, order_id: str) -> list[Envelope]:
        return [e for e in self.seen if e.type == type_name and e.order_id == order_id]

    async def wait_for(self, type_name: str, order_id: str, count: int = 1) -> list[Envelope]:
        async def found():
            await self.drain()
            return len(self.of(type_name, order_id)) >= count

        await wait_until(found, timeout=30, message=f"{type_name} for {order_id}")
        return self.of(type_name, order_id)


async def _projected(h, order_id: str, stage: str) -> bool:
    async with h.rt.db.reader() as s:
        from aftersales_service.adapters.projection import OrderProjection

        order = await OrderProjection(s).get(order_id)
    return order is not None and order.effective_stage == stage


async def _refund(h, refund_id: str) -> tuple[str, str | None]:
    got = (await h.client.get(f"/refunds/{refund_id}", headers=AGENT)).json()
    return got["status"], got["mode"]


async def test_refund_outcome_per_stage(harness, make_settings):
    h = harness
    settings = make_settings("aftersales")
    lines = [ev.line("SKU-1", 1, "59.00")]
    stages = {
        "O-SYN": ["synced"],
        "O-REV": ["reviewed"],
        "O-SUB": ["reviewed", "submitted"],
        "O-ALLOC": ["reviewed", "submitted", "allocated"],
        "O-SHIP": ["reviewed", "submitted", "allocated", "labelled", "packed", "shipped"],
        "O-DLV": [
            "reviewed",
            "submitted",
            "allocated",
            "labelled",
            "packed",
            "shipped",
            "delivered",
        ],
    }
    async with Wire(settings) as wire:
        for oid, path in stages.items():
            await wire.publish(
                topics.ORDERS,
                ev.synced(oid, lines),
                *[ev.stage(oid, s) for s in path if s != "synced"],
            )
        # a held order in the warehouse: the cancel is a guaranteed withdrawal
        await wire.publish(
            topics.ORDERS, ev.synced("O-HELD", lines), ev.stage("O-HELD", "packed", held=True)
        )
        for oid, path in [*stages.items(), ("O-HELD", ["packed"])]:
            await wait_until(lambda o=oid, p=path: _projected(h, o, p[-1]), message=oid)

        expected = {
            "O-SYN": "void",
            "O-REV": "void",
            "O-SUB": "withdraw",
            "O-ALLOC": "intercept",
            "O-HELD": "withdraw",
        }
        refunds = {}
        for oid, mode in expected.items():
            r = await h.client.post(
                "/refunds", json={"order_id": oid, "reason": "buyer asks"}, headers=AGENT
            )
            assert r.status_code == 202, r.text
            assert (r.json()["status"], r.json()["mode"]) == ("requested", None)
            refunds[oid] = r.json()["id"]
            asked = await wire.wait_for("aftersales.refund_requested", oid)
            assert asked[0].payload["refund_id"] == refunds[oid]
            assert not wire.of("refund.issued", oid)
            # the order service answers with its own rule (tests/unit/order_service)
            await wire.publish(topics.ORDERS, ev.decided(oid, refunds[oid], mode))
        for oid, mode in expected.items():
            await wait_until(
                lambda o=oid: _refund(h, refunds[o]),
                expect=("awaiting_cancel", mode),
                message=f"{oid} awaits its {mode}",
            )

        # shipped or delivered: money comes back only with the goods; the path is named
        for oid, mode, code in (
            ("O-SHIP", "refuse_delivery", "refund_requires_refusal_or_return"),
            ("O-DLV", "return", "refund_requires_return"),
        ):
            r = await h.client.post("/refunds", json={"order_id": oid}, headers=AGENT)
            assert r.status_code == 202, r.text
            await wire.publish(topics.ORDERS, ev.decided(oid, r.json()["id"], mode))
            refused = await wire.wait_for("refund.refused", oid)
            assert (refused[0].payload["code"], refused[0].payload["path"]) == (code, mode)
            got = await h.client.get(f"/refunds/{r.json()['id']}", headers=AGENT)
            assert (got.json()["status"], got.json()["mode"]) == ("refused", mode)

        # the order service voids/withdraws and reports the cancellation → refund issued
        await wire.publish(
            topics.ORDERS,
            ev.cancelled("O-SYN", "59.00"),
            ev.cancelled("O-SUB", "59.00", "withdraw"),
        )
        issued = await wire.wait_for("refund.issued", "O-SYN")
        assert issued[0].payload["refund_id"] == refunds["O-SYN"]
        assert Decimal(issued[0].payload["amount"]) == Decimal("59.00")
        await wire.wait_for("refund.issued", "O-SUB")

        # interception missed: a refused-delivery case refunds when the parcel is back
        await wire.publish(topics.WAREHOUSE, ev.missed("O-ALLOC", "S-ALLOC", WH))
        opened = await wire.wait_for("return.opened", "O-ALLOC")
        assert opened[0].payload["kind"] == "refused_delivery"
        rid = opened[0].payload["return_id"]
        assert not wire.of("refund.issued", "O-ALLOC")
        r = await h.client.post(f"/returns/{rid}/receive", headers=AGENT)
        assert r.status_code == 200, r.text
        await wire.wait_for("return.received", "O-ALLOC")
        issued = await wire.wait_for("refund.issued", "O-ALLOC")
        assert issued[0].payload["refund_id"] == refunds["O-ALLOC"]

        # a cancel made in the order service (no refund asked here) still refunds once
        await wire.publish(topics.ORDERS, ev.synced("O-CS", lines), ev.cancelled("O-CS", "59.00"))
        await wire.wait_for("refund.issued", "O-CS")
        # redelivered cancellation: no second refund
        dup = ev.cancelled("O-CS", "59.00")
        await wire.publish(topics.ORDERS, dup, dup, ev.cancelled("O-SYN", "59.00"))
        await wire.publish(
            topics.ORDERS, ev.synced("O-LAST", lines), ev.cancelled("O-LAST", "59.00")
        )
        await wire.wait_for("refund.issued", "O-LAST")
        await wire.drain()
        assert len(wire.of("refund.issued", "O-CS")) == 1
        assert len(wire.of("refund.issued", "O-SYN")) == 1
