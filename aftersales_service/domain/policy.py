"""The return policy as data, reason codes, and the rules that read them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from aftersales_service.domain.errors import InvalidRequest, LimitExceeded, PolicyRefused

REASONS: dict[str, str] = {
    "defect": "quality",
    "damaged": "quality",
    "not_as_described": "quality",
    "late": "logistics",
    "package_damaged": "logistics",
    "wrong_order": "customer",
    "changed_mind": "customer",
    "wrong_item": "warehouse",
    "missing_item": "warehouse",
}

# Who carries a loss, by reason category (SPEC §4 liability).
LIABLE_PARTY: dict[str, str] = {
    "quality": "supplier",
    "warehouse": "warehouse",
    "logistics": "carrier",
    "customer": "customer",
}
PARTIES = ("supplier", "warehouse", "carrier", "customer", "seller")
EVIDENCE_KINDS = ("photos", "order_number", "chat_record")


def reason_category(reason_code: str) -> str:
    try:
        return REASONS[reason_code]
    except KeyError:
        raise InvalidRequest(
            f"unknown reason code {reason_code!r}; use one of {sorted(REASONS)}",
            code="unknown_reason",
            allowed=sorted(REASONS),
        ) from None


@dataclass
class ReturnPolicy:
    """Configurable after-sales policy (`GET/PUT /policies`). Money as Decimal."""

    no_reason_days: int = 7
    claim_days: int = 15
    no_reason_categories: list[str] = field(default_factory=lambda: ["customer"])
    evidence_required_categories: list[str] = field(default_factory=lambda: ["quality"])
    evidence_fields: list[str] = field(default_factory=lambda: list(EVIDENCE_KINDS))
    resale_neutral_reasons: list[str] = field(default_factory=lambda: ["missing_item"])
    refund_only_reasons: list[str] = field(default_factory=lambda: ["missing_item"])
    approval_limits: dict[str, Decimal] = field(
        default_factory=lambda: {"cs_agent": Decimal("200.00"), "cs_supervisor": Decimal("2000.00")}
    )
    return_address: str = "Returns Centre, 1 Depot Road, Hangzhou 310000"
    methods: list[str] = field(default_factory=lambda: ["pickup", "self_send"])
    minor_flaw_discount: Decimal = Decimal("0.30")
    seller_return_shipping_cost: Decimal = Decimal("12.00")
    oos_notify_minutes: int = 120
    sla_minutes: dict[str, int] = field(default_factory=lambda: {"L1": 60, "L2": 240, "L3": 120})
    delist_return_rate: Decimal = Decimal("0.15")
    delist_bad_review_rate: Decimal = Decimal("0.05")
    # Exchanges (SPEC §4.1): the replacement ships when the return is received, or at once
    # (on approval) for every exchange, or for these reasons only (the seller's fault).
    exchange_ship_first: bool = False
    exchange_ship_first_reasons: list[str] = field(default_factory=lambda: ["wrong_item"])

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["approval_limits"] = {k: str(v) for k, v in self.approval_limits.items()}
        for key in (
            "minor_flaw_discount",
            "seller_return_shipping_cost",
            "delist_return_rate",
            "delist_bad_review_rate",
        ):
            data[key] = str(data[key])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReturnPolicy:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        policy = cls(**known)
        policy.approval_limits = {k: Decimal(str(v)) for k, v in policy.approval_limits.items()}
        for key in (
            "minor_flaw_discount",
            "seller_return_shipping_cost",
            "delist_return_rate",
            "delist_bad_review_rate",
        ):
            setattr(policy, key, Decimal(str(getattr(policy, key))))
        return policy

    # --- rules -----------------------------------------------------------------------------

    def window_days(self, reason_code: str) -> int:
        category = reason_category(reason_code)
        return self.no_reason_days if category in self.no_reason_categories else self.claim_days

    def return_shipping_payer(self, reason_code: str) -> str:
        category = reason_category(reason_code)
        return "buyer" if category in self.no_reason_categories else "seller"

    def check_window(
        self, reason_code: str, delivered_at: datetime | None, now: datetime
    ) -> datetime:
        """Day N after delivery is allowed while N <= window (day 7 yes, day 8 no); the
        delivery instant."""
        if delivered_at is None:
            raise PolicyRefused(
                "the order has not been delivered; before delivery use a refund "
                "(cancel) or refuse the parcel",
                code="not_delivered",
            )
        days = self.window_days(reason_code)
        closes = delivered_at + timedelta(days=days)
        if now > closes:
            raise PolicyRefused(
                f"the {days}-day window for {reason_category(reason_code)} returns "
                f"closed at {closes.isoformat()}",
                code="return_window_closed",
                rule=f"{reason_category(reason_code)}_window_days",
                window_days=days,
                closed_at=closes.isoformat(),
            )
        return delivered_at

    def check_evidence(self, reason_code: str, evidence: dict[str, Any]) -> None:
        if reason_category(reason_code) not in self.evidence_required_categories:
            return
        missing = [f for f in self.evidence_fields if not evidence.get(f)]
        if missing:
            raise PolicyRefused(
                f"{reason_category(reason_code)} claims need evidence: missing {missing}",
                code="evidence_required",
                missing=missing,
            )

    def check_method(self, method: str) -> None:
        if method not in self.methods:
            raise PolicyRefused(
                f"return method {method!r} is not offered; use one of {self.methods}",
                code="method_not_offered",
            )

    def needs_review(self, reason_code: str, opened: bool) -> bool:
        """Auto-approve what cannot affect resale: unopened goods, resale-neutral reasons."""
        return opened and reason_code not in self.resale_neutral_reasons

    def check_approval_limit(self, role: str, amount: Decimal) -> None:
        if role == "admin":
            return
        limit = self.approval_limits.get(role)
        if limit is None or amount > limit:
            raise LimitExceeded(
                f"role {role!r} may approve up to {limit} but this case is {amount}",
                role=role,
                limit=str(limit) if limit is not None else None,
                amount=str(amount),
            )

    def ships_first(self, reason_code: str) -> bool:
        """Whether an exchange's replacement leaves before its return is received."""
        return self.exchange_ship_first or reason_code in self.exchange_ship_first_reasons

    def sla(self, tier: str) -> timedelta:
        if tier not in self.sla_minutes:
            raise InvalidRequest(
                f"unknown complaint tier {tier!r}; use one of {sorted(self.sla_minutes)}",
                code="unknown_tier",
            )
        return timedelta(minutes=self.sla_minutes[tier])
