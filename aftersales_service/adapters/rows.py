"""Row <-> dataclass mapping shared by the repositories (versioned saves included)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar, overload

from sqlalchemy import Table, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_service.domain.errors import Conflict
from shared.db import rowcount

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    from aftersales_service.domain.returns import Liability

D = TypeVar("D", bound="DataclassInstance")
CENT = Decimal("0.01")


@overload
def utc(value: datetime) -> datetime: ...
@overload
def utc(value: None) -> None: ...
def utc(value: datetime | None) -> datetime | None:
    """Every timestamp here is aware UTC (SQLite hands back naive ones, which are UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def from_row(cls: type[D], row: Any, **extra: Any) -> D:
    data = dict(row._mapping) if hasattr(row, "_mapping") else dict(row)
    values = {}
    for f in dataclasses.fields(cls):
        if f.name in extra:
            values[f.name] = extra[f.name]
        elif f.name in data:
            v = data[f.name]
            values[f.name] = utc(v) if isinstance(v, datetime) else v
    return cls(**values)


def to_values(obj: Any, table: Table, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    cols = set(table.c.keys())
    return {
        f.name: getattr(obj, f.name)
        for f in dataclasses.fields(obj)
        if f.name in cols and f.name not in skip
    }


async def insert_obj(session: AsyncSession, table: Table, obj: Any, **more: Any) -> None:
    await session.execute(insert(table).values(**to_values(obj, table), **more))


async def save_versioned(
    session: AsyncSession, table: Table, key: str, obj: Any, **more: Any
) -> None:
    """UPDATE ... WHERE id AND version = v; 0 rows means someone else won → Conflict."""
    current = obj.version
    values = to_values(obj, table, skip=(key, "version"))
    result = await session.execute(
        update(table)
        .where(table.c[key] == getattr(obj, key), table.c.version == current)
        .values(**values, **more, version=current + 1)
    )
    if rowcount(result) != 1:
        raise Conflict(
            f"{table.name} {getattr(obj, key)} changed concurrently; retry",
            id=getattr(obj, key),
        )
    obj.version = current + 1


def liability_rows(
    ids: list[str],
    items: list[Liability],
    at: datetime,
    *,
    order_id: str,
    return_id: str | None = None,
    replacement_id: str | None = None,
) -> list[dict[str, Any]]:
    """Ledger rows of a return's or a reship's losses."""
    return [
        {
            "liability_id": lid,
            "return_id": return_id,
            "replacement_id": replacement_id,
            "order_id": order_id,
            "party": li.party,
            "amount": li.amount,
            "basis": li.basis,
            "sku": li.sku,
            "supplier_id": li.supplier_id,
            "warehouse_id": li.warehouse_id,
            "created_at": at,
        }
        for lid, li in zip(ids, items, strict=True)
    ]
