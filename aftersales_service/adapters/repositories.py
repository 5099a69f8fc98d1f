"""Repositories for refunds, returns, the ledger, complaints, tasks and the policy."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_service.adapters import tables as t
from aftersales_service.adapters.rows import (
    from_row,
    insert_obj,
    liability_rows,
    money,
    save_versioned,
    utc,
)
from aftersales_service.domain.care import Complaint, NotificationTask
from aftersales_service.domain.errors import NotFound, Refused
from aftersales_service.domain.policy import ReturnPolicy
from aftersales_service.domain.refunds import Refund
from aftersales_service.domain.returns import Grading, Liability, ReturnCase, ReturnLine


class RefundRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    def _load(self, row) -> Refund:
        return from_row(
            Refund,
            row,
            amount=money(row.amount),
            claims=list(row.claims or []),
            lines=list(row.lines or []),
        )

    async def get(self, refund_id: str) -> Refund:
        row = (
            await self.session.execute(select(t.refunds).where(t.refunds.c.refund_id == refund_id))
        ).first()
        if row is None:
            raise NotFound(f"refund {refund_id} not found", code="refund_not_found")
        return self._load(row)

    async def for_order(self, order_id: str) -> list[Refund]:
        rows = (
            await self.session.execute(
                select(t.refunds)
                .where(t.refunds.c.order_id == order_id)
                .order_by(t.refunds.c.created_at, t.refunds.c.refund_id)
            )
        ).all()
        return [self._load(r) for r in rows]

    async def claimed(self, order_id: str) -> set[str]:
        rows = await self.session.execute(
            select(t.refund_claims.c.claim_key).where(t.refund_claims.c.order_id == order_id)
        )
        return {r.claim_key for r in rows}

    async def add(self, refund: Refund) -> None:
        """Insert the refund and its claims; a claim already held means money refunded twice."""
        try:
            async with self.session.begin_nested():
                await insert_obj(self.session, t.refunds, refund)
                if refund.claims:
                    await self.session.execute(
                        insert(t.refund_claims),
                        [
                            {
                                "order_id": refund.order_id,
                                "claim_key": k,
                                "refund_id": refund.refund_id,
                            }
                            for k in refund.claims
                        ],
                    )
        except IntegrityError:
            raise Refused(
                f"order {refund.order_id}: these goods or this money are already refunded "
                "or in another refund",
                code="refund_already_requested",
            ) from None

    async def save(self, refund: Refund) -> None:
        await save_versioned(self.session, t.refunds, "refund_id", refund)

    async def release_claims(self, refund: Refund) -> None:
        """A refused refund frees its goods for another case."""
        await self.session.execute(
            delete(t.refund_claims).where(t.refund_claims.c.refund_id == refund.refund_id)
        )

    async def by_platform_id(self, order_id: str, platform_refund_id: str) -> Refund | None:
        row = (
            await self.session.execute(
                select(t.refunds).where(
                    t.refunds.c.order_id == order_id,
                    t.refunds.c.platform_refund_id == platform_refund_id,
                )
            )
        ).first()
        return self._load(row) if row else None


class ReturnRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def add(self, case: ReturnCase, days_after_delivery: int | None) -> None:
        first = case.lines[0]
        await insert_obj(
            self.session,
            t.returns,
            case,
            reason_category=case.reason_category,
            amount=case.amount,
            warehouse_id=first.warehouse_id,
            days_after_delivery=days_after_delivery,
        )
        await self.session.execute(
            insert(t.return_lines),
            [
                {
                    "return_id": case.return_id,
                    "line_no": i,
                    "order_id": case.order_id,
                    "sku": ln.sku,
                    "qty": ln.qty,
                    "unit_price": ln.unit_price,
                    "category": ln.category,
                    "supplier_id": ln.supplier_id,
                    "warehouse_id": ln.warehouse_id,
                    "active": True,
                }
                for i, ln in enumerate(case.lines)
            ],
        )

    async def get(self, return_id: str) -> ReturnCase:
        row = (
            await self.session.execute(select(t.returns).where(t.returns.c.return_id == return_id))
        ).first()
        if row is None:
            raise NotFound(f"return {return_id} not found", code="return_not_found")
        return await self._load(row)

    async def _load(self, row) -> ReturnCase:
        lines = (
            await self.session.execute(
                select(t.return_lines)
                .where(t.return_lines.c.return_id == row.return_id)
                .order_by(t.return_lines.c.line_no)
            )
        ).all()
        return from_row(
            ReturnCase,
            row,
            lines=[
                ReturnLine(
                    ln.sku,
                    ln.qty,
                    money(ln.unit_price),
                    ln.category,
                    ln.supplier_id,
                    ln.warehouse_id,
                )
                for ln in lines
            ],
            evidence=dict(row.evidence or {}),
        )

    async def list(self, status: str | None, order_id: str | None, limit: int) -> list[ReturnCase]:
        q = select(t.returns).order_by(t.returns.c.opened_at).limit(limit)
        if status:
            q = q.where(t.returns.c.status == status)
        if order_id:
            q = q.where(t.returns.c.order_id == order_id)
        return [await self._load(r) for r in (await self.session.execute(q)).all()]

    async def save(self, case: ReturnCase, **more) -> None:
        await save_versioned(self.session, t.returns, "return_id", case, **more)
        if case.status == "rejected":
            await self.session.execute(
                update(t.return_lines)
                .where(t.return_lines.c.return_id == case.return_id)
                .values(active=False)
            )


class LedgerRepository:
    """Returned-goods inventory (apart from normal stock) and the liability ledger."""

    def __init__(self, session: AsyncSession):
        self.session = session

    async def add_goods(
        self,
        case: ReturnCase,
        gradings: list[Grading],
        warehouse: dict[str, str | None],
        at: datetime,
    ) -> None:
        await self.session.execute(
            insert(t.returned_inventory),
            [
                {
                    "return_id": case.return_id,
                    "order_id": case.order_id,
                    "sku": g.sku,
                    "qty": g.qty,
                    "grade": g.grade,
                    "disposition": g.disposition,
                    "value": g.value,
                    "recovered_value": g.recovered,
                    "repair_cost": g.repair_cost,
                    "flaw_note": g.flaw_note,
                    "warehouse_id": warehouse.get(g.sku),
                    "created_at": at,
                }
                for g in gradings
            ],
        )

    async def add_liabilities(
        self, ids: list[str], case: ReturnCase, items: list[Liability], at: datetime
    ) -> None:
        if not items:
            return
        rows = liability_rows(ids, items, at, order_id=case.order_id, return_id=case.return_id)
        await self.session.execute(insert(t.liabilities), rows)

    async def get_liability(self, liability_id: str):
        row = (
            await self.session.execute(
                select(t.liabilities).where(t.liabilities.c.liability_id == liability_id)
            )
        ).first()
        if row is None:
            raise NotFound(f"liability {liability_id} not found", code="liability_not_found")
        return row

    async def override(self, row, party: str, amount: Decimal, by: str, reason: str) -> None:
        await self.session.execute(
            update(t.liabilities)
            .where(t.liabilities.c.liability_id == row.liability_id)
            .values(
                party=party,
                amount=amount,
                overridden_by=by,
                override_reason=reason,
                original_party=row.original_party or row.party,
                original_amount=row.original_amount
                if row.original_amount is not None
                else row.amount,
            )
        )

    async def put_reviews(self, sku: str, reviews: int, bad: int) -> None:
        await self.session.execute(delete(t.sku_reviews).where(t.sku_reviews.c.sku == sku))
        await self.session.execute(
            insert(t.sku_reviews).values(sku=sku, reviews=reviews, bad_reviews=bad)
        )


class CareRepository:
    """Complaints and customer-notification tasks."""

    def __init__(self, session: AsyncSession):
        self.session = session

    async def add_complaint(self, c: Complaint) -> None:
        await insert_obj(self.session, t.complaints, c)

    async def complaint(self, complaint_id: str) -> Complaint:
        row = (
            await self.session.execute(
                select(t.complaints).where(t.complaints.c.complaint_id == complaint_id)
            )
        ).first()
        if row is None:
            raise NotFound(f"complaint {complaint_id} not found", code="complaint_not_found")
        return self._complaint(row)

    def _complaint(self, row) -> Complaint:
        return from_row(
            Complaint,
            row,
            evidence=list(row.evidence or []),
            responses=list(row.responses or []),
        )

    async def overdue_complaints(self, now: datetime, limit: int = 200) -> list[Complaint]:
        rows = await self.session.execute(
            select(t.complaints)
            .where(t.complaints.c.status == "open", t.complaints.c.due_at < now)
            .order_by(t.complaints.c.due_at)
            .limit(limit)
        )
        return [self._complaint(r) for r in rows]

    async def save_complaint(self, c: Complaint) -> None:
        await save_versioned(self.session, t.complaints, "complaint_id", c)

    async def add_task(self, task: NotificationTask) -> None:
        await insert_obj(self.session, t.tasks, task)

    async def task(self, task_id: str) -> NotificationTask:
        row = (
            await self.session.execute(select(t.tasks).where(t.tasks.c.task_id == task_id))
        ).first()
        if row is None:
            raise NotFound(f"task {task_id} not found", code="task_not_found")
        return from_row(NotificationTask, row, skus=list(row.skus or []))

    async def save_task(self, task: NotificationTask) -> None:
        await save_versioned(self.session, t.tasks, "task_id", task)


class PolicyRepository:
    NAME = "default"

    def __init__(self, session: AsyncSession):
        self.session = session

    async def get(self) -> ReturnPolicy:
        row = (
            await self.session.execute(select(t.policies).where(t.policies.c.name == self.NAME))
        ).first()
        return ReturnPolicy.from_dict(row.data) if row else ReturnPolicy()

    async def meta(self) -> dict:
        row = (
            await self.session.execute(select(t.policies).where(t.policies.c.name == self.NAME))
        ).first()
        if row is None:
            return {"version": 0, "updated_at": None, "updated_by": None}
        return {
            "version": row.version,
            "updated_at": utc(row.updated_at),
            "updated_by": row.updated_by,
        }

    async def put(self, policy: ReturnPolicy, by: str, at: datetime) -> int:
        meta = await self.meta()
        version = meta["version"] + 1
        values = {"data": policy.to_dict(), "version": version, "updated_at": at, "updated_by": by}
        if meta["version"] == 0:
            await self.session.execute(insert(t.policies).values(name=self.NAME, **values))
        else:
            await self.session.execute(
                update(t.policies).where(t.policies.c.name == self.NAME).values(**values)
            )
        return version
