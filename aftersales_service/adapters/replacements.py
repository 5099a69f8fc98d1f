"""Replacements (exchanges' replacement units, reships), their shipments, the units an
exchange holds and the loss a reship records."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_service.adapters import tables as t
from aftersales_service.adapters.rows import (
    from_row,
    insert_obj,
    liability_rows,
    money,
    save_versioned,
)
from aftersales_service.domain.errors import NotFound, Refused
from aftersales_service.domain.replacements import Replacement
from aftersales_service.domain.returns import Liability
from shared.db import insert_ignoring_conflicts

OPEN = ("waiting", "requested", "created", "shipped")  # not refused or cancelled


class ReplacementRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    def _load(self, row) -> Replacement:
        return from_row(
            Replacement,
            row,
            lines=list(row.lines or []),
            paid_value=money(row.paid_value),
            value=None if row.value is None else money(row.value),
            price_difference=None if row.price_difference is None else money(row.price_difference),
            shipments=list(row.shipments or []),
            shipped=list(row.shipped or []),
            claims=list(row.claims or []),
        )

    async def add(self, replacement: Replacement) -> None:
        await insert_obj(self.session, t.replacements, replacement)

    async def get(self, replacement_id: str) -> Replacement:
        r = t.replacements.c
        row = (
            await self.session.execute(
                select(t.replacements).where(r.replacement_id == replacement_id)
            )
        ).first()
        if row is None:
            raise NotFound(f"replacement {replacement_id} not found", code="replacement_not_found")
        return self._load(row)

    async def find(self, replacement_id: str, kind: str) -> Replacement:
        """A replacement of this kind (`GET /reships/{id}` shows no exchange)."""
        query = select(t.replacements).where(
            t.replacements.c.replacement_id == replacement_id, t.replacements.c.kind == kind
        )
        row = (await self.session.execute(query)).first()
        if row is None:
            raise NotFound(f"{kind} {replacement_id} not found", code=f"{kind}_not_found")
        return self._load(row)

    async def of_order(self, order_id: str, kind: str, limit: int) -> list[Replacement]:
        """The order's replacements of this kind, oldest first (refused ones too)."""
        r = t.replacements.c
        rows = await self.session.execute(
            select(t.replacements)
            .where(r.order_id == order_id, r.kind == kind)
            .order_by(r.created_at, r.replacement_id)
            .limit(limit)
        )
        return [self._load(row) for row in rows]

    async def save(self, replacement: Replacement) -> None:
        await save_versioned(self.session, t.replacements, "replacement_id", replacement)

    async def reshipped(self, order_id: str) -> dict[str, int]:
        """Units of each SKU already reshipped (or asked to be) for the order."""
        r = t.replacements.c
        rows = await self.session.execute(
            select(r.lines).where(r.order_id == order_id, r.kind == "reship", r.status.in_(OPEN))
        )
        out: dict[str, int] = {}
        for (lines,) in rows:
            for item in lines or []:
                out[item["sku"]] = out.get(item["sku"], 0) + int(item["qty"])
        return out

    async def link_shipments(
        self, order_id: str, replacement_id: str, shipment_ids: Iterable[str]
    ) -> None:
        rows = [
            {"shipment_id": sid, "replacement_id": replacement_id, "order_id": order_id}
            for sid in shipment_ids
        ]
        if rows:
            dialect = self.session.get_bind().dialect.name
            await self.session.execute(
                insert_ignoring_conflicts(t.replacement_shipments, dialect), rows
            )

    async def by_shipment(self, shipment_id: str) -> Replacement | None:
        s = t.replacement_shipments.c
        found = (
            await self.session.execute(select(s.replacement_id).where(s.shipment_id == shipment_id))
        ).scalar()
        return None if found is None else await self.get(found)

    async def shipped_already(self, shipment_ids: list[str]) -> list[str]:
        """Of these shipments, those the projection already saw leave."""
        sh = t.shipments.c
        rows = await self.session.execute(
            select(sh.shipment_id).where(sh.shipment_id.in_(shipment_ids), sh.status == "shipped")
        )
        return [r.shipment_id for r in rows]

    async def hold_units(self, order_id: str, keys: list[str], holder: str) -> None:
        """An exchange holds its returned units as a refund holds what it pays (one claim per
        unit, unique): they are neither refunded nor returned again."""
        if not keys:
            return
        try:
            async with self.session.begin_nested():
                await self.session.execute(
                    insert(t.refund_claims),
                    [{"order_id": order_id, "claim_key": k, "refund_id": holder} for k in keys],
                )
        except IntegrityError:
            raise Refused(
                f"order {order_id}: these goods are already refunded or in another case",
                code="already_refunded",
            ) from None

    async def release_units(self, holder: str) -> None:
        await self.session.execute(
            delete(t.refund_claims).where(t.refund_claims.c.refund_id == holder)
        )

    async def add_liabilities(
        self, ids: list[str], reship: Replacement, items: list[Liability], at: datetime
    ) -> None:
        rows = liability_rows(
            ids, items, at, order_id=reship.order_id, replacement_id=reship.replacement_id
        )
        await self.session.execute(insert(t.liabilities), rows)

    async def drop_liabilities(self, replacement_id: str) -> None:
        """A reship the order service refused lost nothing."""
        await self.session.execute(
            delete(t.liabilities).where(t.liabilities.c.replacement_id == replacement_id)
        )

    async def liabilities(self, replacement_id: str) -> list[dict]:
        return (await self.liabilities_of([replacement_id])).get(replacement_id, [])

    async def liabilities_of(self, replacement_ids: list[str]) -> dict[str, list[dict]]:
        """Each replacement's ledger entries, in ledger order."""
        lb = t.liabilities.c
        rows = await self.session.execute(
            select(
                lb.replacement_id,
                lb.liability_id,
                lb.party,
                lb.amount,
                lb.basis,
                lb.sku,
                lb.warehouse_id,
            )
            .where(lb.replacement_id.in_(replacement_ids))
            .order_by(lb.liability_id)
        )
        out: dict[str, list[dict]] = {}
        for row in rows:
            entry = dict(row._mapping) | {"amount": str(money(row.amount))}
            out.setdefault(entry.pop("replacement_id"), []).append(entry)
        return out
