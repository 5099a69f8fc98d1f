"""The one envelope every event travels in, and the registry of typed payloads.

A payload type is a pydantic model declared with `@event("type.name", version)`.
Decoding checks the envelope *and* the payload against the registry, so an
unknown or invalid event is rejected whole (`EventRejected`), never half-applied;
fields it does not know are ignored (`TOLERANT`). Old versions are lifted to the
current one by registered upcasters.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field, ValidationError

# A tolerant reader: fields a newer producer added (an optional field needs no new version)
# are ignored on decode, so a rolling upgrade that adds one dead-letters nothing. Our own
# producers cannot misspell one: mypy's pydantic plugin refuses unknown keyword arguments
# (init_forbid_extra).
TOLERANT = ConfigDict(frozen=True, extra="ignore")


class Payload(BaseModel):
    """Base of every event payload; `TYPE`/`VERSION` are set by `@event`."""

    model_config = TOLERANT
    TYPE: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1


P = TypeVar("P", bound=type[Payload])
_REGISTRY: dict[str, type[Payload]] = {}
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
_UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def event(type_name: str, version: int = 1) -> Callable[[P], P]:
    """Register a payload model under an event type (one current version per type)."""

    def register(cls: P) -> P:
        if type_name in _REGISTRY and _REGISTRY[type_name] is not cls:
            raise ValueError(f"event type {type_name!r} registered twice")
        cls.TYPE, cls.VERSION = type_name, version
        _REGISTRY[type_name] = cls
        return cls

    return register


def upcaster(type_name: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Register a function lifting a payload dict from `from_version` to the next."""

    def register(fn: Upcaster) -> Upcaster:
        _UPCASTERS[(type_name, from_version)] = fn
        return fn

    return register


def payload_type(type_name: str) -> type[Payload]:
    try:
        return _REGISTRY[type_name]
    except KeyError:
        raise EventRejected(f"unknown event type {type_name!r}") from None


class EventRejected(Exception):
    """An event that cannot be decoded: unknown type, bad envelope or payload."""


def _now() -> datetime:
    return datetime.now(UTC)


class Envelope(BaseModel):
    """SPEC §5 envelope. `order_id` is the partition key; broadcasts use `key`."""

    model_config = TOLERANT

    event_id: str = Field(default_factory=lambda: str(uuid4()))
    type: str
    version: int = 1
    occurred_at: datetime = Field(default_factory=_now)
    producer: str
    order_id: str | None = None
    key: str | None = None
    correlation_id: str
    causation_id: str | None = None
    payload: dict[str, Any]

    @property
    def partition_key(self) -> str:
        return self.order_id or self.key or self.event_id

    def typed(self) -> Any:
        """The payload as its registered model (validated again on each call)."""
        return payload_type(self.type).model_validate(self.payload)

    def encode(self) -> bytes:
        return self.model_dump_json().encode()


def new_event(
    payload: Payload,
    *,
    producer: str,
    order_id: str | None = None,
    key: str | None = None,
    cause: Envelope | None = None,
    correlation_id: str | None = None,
    occurred_at: datetime | None = None,
) -> Envelope:
    """Wrap a payload; a `cause` carries its correlation id and becomes the causation."""
    event_id = str(uuid4())
    return Envelope(
        event_id=event_id,
        type=payload.TYPE,
        version=payload.VERSION,
        occurred_at=occurred_at or _now(),
        producer=producer,
        order_id=order_id,
        key=key,
        correlation_id=(cause.correlation_id if cause else correlation_id) or event_id,
        causation_id=cause.event_id if cause else None,
        payload=payload.model_dump(mode="json"),
    )


def decode(raw: bytes) -> Envelope:
    """Parse and fully validate an event, upcasting old payload versions."""
    try:
        env = Envelope.model_validate_json(raw)
    except ValidationError as exc:
        raise EventRejected(f"invalid envelope: {exc.errors(include_url=False)}") from None
    model = payload_type(env.type)
    data, version = env.payload, env.version
    while version < model.VERSION:
        step = _UPCASTERS.get((env.type, version))
        if step is None:
            raise EventRejected(f"no upcaster for {env.type} v{version}")
        data, version = step(data), version + 1
    if version != model.VERSION:
        raise EventRejected(f"{env.type} v{env.version} is newer than known v{model.VERSION}")
    try:
        model.model_validate(data)
    except ValidationError as exc:
        raise EventRejected(
            f"invalid {env.type} payload: {exc.errors(include_url=False)}"
        ) from None
    return env.model_copy(update={"payload": data, "version": version})
