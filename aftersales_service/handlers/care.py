"""Complaints (SLA and escalation), out-of-stock tasks, liability overrides, the policy."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from aftersales_service.adapters.repositories import CareRepository
from aftersales_service.adapters.uow import AftersalesUnitOfWork
from aftersales_service.domain.care import Complaint, NotificationTask, open_complaint
from aftersales_service.domain.errors import InvalidRequest
from aftersales_service.domain.policy import PARTIES, ReturnPolicy
from aftersales_service.handlers import emit, new_id
from aftersales_service.handlers.refunds import RequestRefund, start_refund
from shared.events.aftersales import ComplaintEscalated


async def file_complaint(
    uow: AftersalesUnitOfWork,
    tier: str,
    subject: str,
    order_id: str | None,
    description: str,
    evidence: list[dict],
    now: datetime,
) -> Complaint:
    """`POST /complaints`: the tier sets who answers and by when."""
    async with uow:
        policy = await uow.policies.get()
        complaint = open_complaint(
            new_id("CP"),
            tier,
            subject,
            order_id,
            now,
            policy,
            description=description,
            evidence=evidence,
        )
        await uow.care.add_complaint(complaint)
        await uow.commit()
    return complaint


async def respond_complaint(
    uow: AftersalesUnitOfWork, complaint_id: str, by: str, message: str, now: datetime
) -> Complaint:
    async with uow:
        complaint = await uow.care.complaint(complaint_id)
        complaint.respond(by, message, now)
        await uow.care.save_complaint(complaint)
        await uow.commit()
    return complaint


async def escalate_overdue(uow: AftersalesUnitOfWork, now: datetime) -> list[Complaint]:
    """Scheduler tick: every open complaint past its deadline escalates one tier."""
    async with uow.db.reader() as session:  # cheap read first: no write lock when idle
        if not await CareRepository(session).overdue_complaints(now, limit=1):
            return []
    async with uow:
        overdue = await uow.care.overdue_complaints(now)
        if not overdue:
            return []
        policy = await uow.policies.get()
        for c in overdue:
            previous, tier = c.escalate(now, policy)
            await uow.care.save_complaint(c)
            emit(
                uow,
                ComplaintEscalated(
                    complaint_id=c.complaint_id,
                    from_tier=previous,
                    to_tier=tier,
                    owner=c.owner,
                    due_at=c.due_at,
                    breached_at=c.breached_at or now,  # escalate() recorded it
                    escalations=c.escalations,
                ),
                c.order_id or c.complaint_id,
            )
        await uow.commit()
    return overdue


async def resolve_task(
    uow: AftersalesUnitOfWork, task_id: str, option: str, by: str, note: str, now: datetime
) -> tuple[NotificationTask, str | None]:
    """Customer told: wait, substitute, or cancel and refund (asks the order to cancel)."""
    async with uow:
        task = await uow.care.task(task_id)
        task.resolve(option, by, note, now)
        refund_id = None
        if option == "cancel_and_refund":
            refund = await start_refund(
                uow,
                RequestRefund(
                    task.order_id,
                    f"out of stock: {', '.join(task.skus)}",
                    "missing_item",
                    requested_by=by,
                    source="exception",
                ),
                now,
            )
            refund_id = refund.refund_id
        await uow.care.save_task(task)
        await uow.commit()
    return task, refund_id


async def override_liability(
    uow: AftersalesUnitOfWork,
    liability_id: str,
    party: str,
    amount: Decimal | None,
    by: str,
    reason: str,
    now: datetime,
) -> None:
    """A supervisor reassigns a loss; the original assignment is kept beside it."""
    if party not in PARTIES:
        raise InvalidRequest(f"party must be one of {list(PARTIES)}", code="unknown_party")
    if not reason.strip():
        raise InvalidRequest("an override needs a reason", code="reason_required")
    async with uow:
        row = await uow.ledger.get_liability(liability_id)
        await uow.ledger.override(row, party, row.amount if amount is None else amount, by, reason)
        await uow.commit()


async def put_policy(
    uow: AftersalesUnitOfWork, data: dict, by: str, now: datetime
) -> tuple[ReturnPolicy, int]:
    async with uow:
        policy = ReturnPolicy.from_dict(data)
        version = await uow.policies.put(policy, by, now)
        await uow.commit()
    return policy, version


async def seed_policy(uow: AftersalesUnitOfWork, now: datetime) -> None:
    """Development seed: store the default policy once."""
    async with uow:
        if (await uow.policies.meta())["version"] == 0:
            await uow.policies.put(ReturnPolicy(), "seed", now)
            await uow.commit()


async def put_reviews(uow: AftersalesUnitOfWork, sku: str, reviews: int, bad: int) -> None:
    """Store a SKU's review counts (ops import) for the delisting rule."""
    async with uow:
        await uow.ledger.put_reviews(sku, reviews, bad)
        await uow.commit()
