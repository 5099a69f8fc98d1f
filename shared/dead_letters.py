"""Dead-letter records: where a message came from, who gave up on it and why, its bytes.

A record carries everything a replay needs to put the message back exactly as it
was (original topic, key and value, byte for byte) and what an operator needs to
pick it (service, consumer, event id and type, error, when).
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from aiokafka import ConsumerRecord

from shared.envelope import Envelope


@dataclass(frozen=True)
class DeadLetter:
    service: str
    consumer: str
    group_id: str
    error: str
    attempts: int
    topic: str
    partition: int
    offset: int
    key: str | None  # the original key as text (lossy if it was not UTF-8; see key_b64)
    key_b64: str | None
    event_id: str | None  # None when the message could not be decoded
    type: str | None
    dead_lettered_at: str  # ISO 8601, UTC
    original_b64: str

    @classmethod
    def of(
        cls,
        msg: ConsumerRecord,
        *,
        service: str,
        consumer: str,
        group_id: str,
        error: str,
        attempts: int,
        envelope: Envelope | None = None,
    ) -> DeadLetter:
        return cls(
            service=service,
            consumer=consumer,
            group_id=group_id,
            error=error,
            attempts=attempts,
            topic=msg.topic,
            partition=msg.partition,
            offset=msg.offset,
            key=msg.key.decode(errors="replace") if msg.key is not None else None,
            key_b64=base64.b64encode(msg.key).decode() if msg.key is not None else None,
            event_id=envelope.event_id if envelope else None,
            type=envelope.type if envelope else None,
            dead_lettered_at=datetime.now(UTC).isoformat(),
            original_b64=base64.b64encode(msg.value or b"").decode(),
        )

    @classmethod
    def parse(cls, raw: bytes) -> DeadLetter:
        """A record as stored; older records lack some fields (left empty)."""
        body = json.loads(raw)
        fields = cls.__dataclass_fields__
        values = {name: body.get(name) for name in fields}
        values["service"] = values["service"] or ""
        values["attempts"] = values["attempts"] or 0
        values["dead_lettered_at"] = values["dead_lettered_at"] or ""
        values["group_id"] = values["group_id"] or ""
        return cls(**values)

    def encode(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @property
    def original(self) -> bytes:
        return base64.b64decode(self.original_b64)

    @property
    def original_key(self) -> bytes | None:
        if self.key_b64 is not None:
            return base64.b64decode(self.key_b64)
        return self.key.encode() if self.key is not None else None
