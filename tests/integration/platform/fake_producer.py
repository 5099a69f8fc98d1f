"""A stand-in for AIOKafkaProducer whose failures a test scripts (installed by monkeypatch).

`Wire.install(monkeypatch)` replaces the bus's producer class and topic set-up;
every producer the bus creates asks `behaviour(producer, key, value)` what to do
with each record: None (acknowledge it), an exception (fail it) or HANG (never
answer). Acknowledged records land on `wire.records` in acknowledgement order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import SimpleNamespace

from shared.envelope import decode

HANG = object()


class Wire:
    def __init__(self, behaviour: Callable[[FakeProducer, str, bytes], object]):
        self.behaviour = behaviour
        self.records: list[tuple[str, int]] = []  # (order id, step), as acknowledged
        self.producers: list[FakeProducer] = []

    def install(self, monkeypatch) -> None:
        import shared.bus

        async def no_topics(settings) -> None:
            return None

        monkeypatch.setattr(shared.bus, "AIOKafkaProducer", self._producer)
        monkeypatch.setattr(shared.bus, "ensure_topics", no_topics)

    def _producer(self, **kwargs) -> FakeProducer:
        producer = FakeProducer(self, len(self.producers), kwargs)
        self.producers.append(producer)
        return producer

    def steps(self, order_id: str) -> list[int]:
        """The steps of one order in the order they first reached the broker."""
        seen: list[int] = []
        for key, step in self.records:
            if key == order_id and step not in seen:
                seen.append(step)
        return seen


class FakeProducer:
    def __init__(self, wire: Wire, index: int, kwargs: dict):
        self.wire, self.index, self.kwargs = wire, index, kwargs
        self.sent = 0
        self.broken: Exception | None = None
        self.stopped = False

        async def metadata() -> None:
            return None

        self.client = SimpleNamespace(fetch_all_metadata=metadata)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self.stopped = True

    async def partitions_for(self, topic: str) -> set[int]:
        return {0, 1, 2}

    async def send(self, topic: str, value: bytes, key: bytes | None = None):
        future = asyncio.get_running_loop().create_future()
        outcome = self.wire.behaviour(self, key.decode(), value)
        self.sent += 1
        if isinstance(outcome, Exception):
            future.set_exception(outcome)
        elif outcome is None:
            env = decode(value)
            self.wire.records.append((env.order_id, int(env.typed().trigger)))
            future.set_result(SimpleNamespace(topic=topic, partition=0, offset=self.sent))
        return future
