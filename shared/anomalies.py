"""Anomalies (SPEC §5): consumed events a service could not apply — about an order or
shipment it does not know, or one its stage makes impossible. Each is one row, written in
the consumer's transaction (with the inbox mark), and listed by `GET /anomalies`; the
event is acknowledged, never raised. The table is added to each service's own metadata.
"""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, allow
from shared.envelope import Envelope

_ID = BigInteger().with_variant(Integer(), "sqlite")
REASON_MAX = 2000  # a reason quotes the event; bounded so a hostile payload cannot bloat it


def anomalies_table(metadata: MetaData) -> Table:
    return Table(
        "anomalies",
        metadata,
        Column("id", _ID, primary_key=True, autoincrement=True),
        Column("kind", String(60), nullable=False),
        Column("event_type", String(100), nullable=False),
        Column("event_id", String(64), nullable=False),
        Column("order_id", String(100)),
        Column("shipment_id", String(100)),
        Column("reason", Text, nullable=False),
        Column("recorded_at", DateTime(timezone=True), nullable=False),
        Index("ix_anomalies_kind", "kind", "id"),
        Index("ix_anomalies_order", "order_id", "id"),
    )


class Anomaly(BaseModel):
    """One recorded anomaly, as `GET /anomalies` lists it (newest first)."""

    id: int
    kind: str
    event_type: str
    event_id: str
    order_id: str | None
    shipment_id: str | None
    reason: str
    recorded_at: datetime


class AnomalyLog:
    """Writes and reads one service's anomalies table (no rules: callers name the kind)."""

    def __init__(self, table: Table):
        self.table = table

    async def record(
        self,
        session: AsyncSession,
        kind: str,
        env: Envelope,
        reason: str,
        at: datetime,
        *,
        order_id: str | None = None,
        shipment_id: str | None = None,
    ) -> None:
        """One anomaly about `env` (about its order unless another is named)."""
        await self.add(
            session,
            kind=kind,
            event_type=env.type,
            event_id=env.event_id,
            order_id=order_id or env.order_id,
            shipment_id=shipment_id,
            reason=reason,
            recorded_at=at,
        )

    async def add(self, session: AsyncSession, *, reason: str, **row: Any) -> None:
        """One row, columns named (`record` fills them from the envelope)."""
        await session.execute(insert(self.table).values(reason=reason[:REASON_MAX], **row))

    async def listed(
        self,
        session: AsyncSession,
        *,
        limit: int,
        kind: str | None = None,
        order_id: str | None = None,
        event_type: str | None = None,
    ) -> list[Anomaly]:
        a = self.table
        q = select(a).order_by(a.c.id.desc()).limit(limit)
        for column, value in (("kind", kind), ("order_id", order_id), ("event_type", event_type)):
            if value is not None:
                q = q.where(a.c[column] == value)
        rows = (await session.execute(q)).mappings().all()
        return [Anomaly(**{**r, "recorded_at": _utc(r["recorded_at"])}) for r in rows]


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite drops the zone


def anomalies_router(table: Table, *roles: str) -> APIRouter:
    """`GET /anomalies` on a service, for `roles` (and admin): the same route everywhere."""
    router = APIRouter(tags=["anomalies"])
    log = AnomalyLog(table)

    @router.get("/anomalies", response_model=list[Anomaly])
    async def list_anomalies(
        request: Request,
        _: Annotated[Principal, allow(*roles)],
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        kind: Annotated[str | None, Query(max_length=60)] = None,
        order_id: Annotated[str | None, Query(max_length=100)] = None,
        event_type: Annotated[str | None, Query(max_length=100)] = None,
    ) -> list[Anomaly]:
        """Consumed events that could not be applied (unknown order or shipment, or a stage
        that makes them impossible): recorded and acknowledged, never crashing a consumer.
        Newest first; filter by `kind`, `order_id`, `event_type`."""
        async with request.app.state.runtime.db.reader() as session:
            return await log.listed(
                session, limit=limit, kind=kind, order_id=order_id, event_type=event_type
            )

    return router
