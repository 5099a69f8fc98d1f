"""The envelope and the payload registry reject bad events whole."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from shared.envelope import EventRejected, Payload, decode, event, new_event, upcaster
from shared.events.common import Address, Line
from shared.events.orders import OrderDelivered, OrderStageChanged, ShipmentSubmitted


def stage_changed(**kw):
    return new_event(
        OrderStageChanged(stage="reviewed", previous="synced", trigger="approve"),
        producer="order",
        order_id="O-1",
        **kw,
    )


def line_event():
    submitted = ShipmentSubmitted(
        shipment_id="O-1-S1",
        warehouse_id="WH-1",
        lines=[Line(sku="SKU-1", qty=1)],
        address=Address(name="A", phone="1"),
        platform="taobao",
        buyer_id="B-1",
        paid_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    return new_event(submitted, producer="order", order_id="O-1")


def test_round_trip_keeps_the_typed_payload():
    env = stage_changed()
    back = decode(env.encode())
    assert back == env
    assert back.typed() == OrderStageChanged(stage="reviewed", previous="synced", trigger="approve")
    assert back.partition_key == "O-1"


def test_a_cause_carries_correlation_and_becomes_the_causation():
    first = stage_changed()
    second = new_event(
        OrderDelivered(delivered_at=datetime.now(UTC)),
        producer="order",
        order_id="O-1",
        cause=first,
    )
    assert second.correlation_id == first.correlation_id == first.event_id
    assert second.causation_id == first.event_id


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda d: d.update(type="order.unknown"), "unknown event type"),
        (lambda d: d["payload"].pop("stage"), "invalid order.stage_changed payload"),
        (lambda d: d.pop("producer"), "invalid envelope"),
        (lambda d: d.update(version=9), "newer than known"),
    ],
)
def test_bad_events_are_rejected_whole(mutate, reason):
    data = json.loads(stage_changed().encode())
    mutate(data)
    with pytest.raises(EventRejected, match=reason):
        decode(json.dumps(data).encode())


def test_fields_a_newer_producer_added_are_ignored_not_rejected():
    """A tolerant reader: during a rolling upgrade an event may carry fields this
    consumer does not know yet (in the envelope, the payload or a nested value)."""
    data = json.loads(line_event().encode())
    data["trace"] = {"span": "s-1"}
    data["payload"]["channel"] = "live"
    data["payload"]["lines"][0]["bundle_id"] = "B-1"
    back = decode(json.dumps(data).encode())
    typed = back.typed()
    assert typed.lines[0].sku == "SKU-1" and not hasattr(typed, "channel")
    assert back.event_id == data["event_id"] and back.payload["channel"] == "live"


def test_not_json_is_rejected():
    with pytest.raises(EventRejected, match="invalid envelope"):
        decode(b"\x00garbage")


def test_old_versions_are_upcast():
    @event("test.renamed_field", version=2)
    class Renamed(Payload):
        new_name: str

    @upcaster("test.renamed_field", 1)
    def _v1_to_v2(data):
        return {"new_name": data["old_name"]}

    env = new_event(Renamed(new_name="x"), producer="t", key="k")
    old = json.loads(env.encode())
    old.update(version=1, payload={"old_name": "x"})
    back = decode(json.dumps(old).encode())
    assert back.version == 2
    assert back.typed() == Renamed(new_name="x")


def test_a_type_cannot_be_registered_twice():
    with pytest.raises(ValueError, match="registered twice"):

        @event("order.stage_changed")
        class Again(Payload):
            pass
