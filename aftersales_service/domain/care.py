"""Complaints with SLA tiers and escalation; out-of-stock customer-notification tasks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aftersales_service.domain.errors import InvalidRequest
from aftersales_service.domain.lifecycle import COMPLAINTS, TASKS
from aftersales_service.domain.policy import ReturnPolicy

TIERS = ("L1", "L2", "L3")
# Who must answer at each tier (SPEC §4): first response, specialist, supervisor.
TIER_OWNER = {"L1": "cs_agent", "L2": "specialist", "L3": "cs_supervisor"}
EVIDENCE = ("photo", "chat", "warehouse_weight", "carrier_signoff", "other")
TASK_OPTIONS = ("wait", "substitute", "cancel_and_refund")


@dataclass
class Complaint:
    complaint_id: str
    tier: str
    subject: str
    order_id: str | None
    opened_at: datetime
    due_at: datetime
    description: str = ""
    evidence: list[dict[str, Any]] = field(default_factory=list)
    status: str = "open"
    escalations: int = 0
    owner: str = "cs_agent"
    breached_at: datetime | None = None
    first_response_at: datetime | None = None
    responses: list[dict[str, Any]] = field(default_factory=list)
    version: int = 0

    def overdue(self, now: datetime) -> bool:
        return self.status == "open" and now > self.due_at

    def respond(self, by: str, message: str, now: datetime) -> None:
        COMPLAINTS.fire(self, "respond")
        self.first_response_at = self.first_response_at or now
        self.responses.append({"by": by, "message": message, "at": now.isoformat()})

    def escalate(self, now: datetime, policy: ReturnPolicy) -> tuple[str, str]:
        """A breach: record it, move to the next tier (L3 stays L3) with a fresh deadline."""
        previous = self.tier
        self.breached_at = self.breached_at or now
        self.tier = TIERS[min(TIERS.index(self.tier) + 1, len(TIERS) - 1)]
        self.owner = TIER_OWNER[self.tier]
        self.escalations += 1
        self.due_at = now + policy.sla(self.tier)
        return previous, self.tier


def open_complaint(
    complaint_id: str,
    tier: str,
    subject: str,
    order_id: str | None,
    now: datetime,
    policy: ReturnPolicy,
    *,
    description: str = "",
    evidence: list[dict[str, Any]] | None = None,
) -> Complaint:
    if tier not in TIERS:
        raise InvalidRequest(f"tier must be one of {list(TIERS)}", code="unknown_tier")
    for item in evidence or []:
        if item.get("kind") not in EVIDENCE:
            raise InvalidRequest(
                f"evidence kind must be one of {list(EVIDENCE)}", code="unknown_evidence_kind"
            )
    return Complaint(
        complaint_id,
        tier,
        subject,
        order_id,
        now,
        now + policy.sla(tier),
        description,
        list(evidence or []),
        owner=TIER_OWNER[tier],
    )


@dataclass
class NotificationTask:
    """Tell the customer about an out-of-stock shipment before the deadline."""

    task_id: str
    order_id: str
    shipment_id: str
    skus: list[str]
    created_at: datetime
    deadline: datetime
    status: str = "open"
    option: str | None = None
    note: str = ""
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    version: int = 0

    def resolve(self, option: str, by: str, note: str, now: datetime) -> None:
        if option not in TASK_OPTIONS:
            raise InvalidRequest(
                f"option must be one of {list(TASK_OPTIONS)}", code="unknown_option"
            )
        TASKS.fire(self, "resolve")
        self.option, self.resolved_by, self.note, self.resolved_at = option, by, note, now


def out_of_stock_task(
    task_id: str,
    order_id: str,
    shipment_id: str,
    skus: list[str],
    now: datetime,
    policy: ReturnPolicy,
) -> NotificationTask:
    deadline = now + timedelta(minutes=policy.oos_notify_minutes)
    return NotificationTask(task_id, order_id, shipment_id, list(skus), now, deadline)
