"""Delisting rule: return rate over the threshold, or bad-review rate when reviews exist."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aftersales_service.domain.policy import ReturnPolicy


def delisting_flags(
    rates: list[dict[str, Any]], reviews: dict[str, tuple[int, int]], policy: ReturnPolicy
) -> dict[str, list[str]]:
    """sku → reasons it is flagged (`return_rate`, `bad_review_rate`)."""
    flags: dict[str, list[str]] = {}
    for row in rates:
        if row["sold_units"] and row["return_rate"] > policy.delist_return_rate:
            flags.setdefault(row["sku"], []).append("return_rate")
    for sku, (total, bad) in reviews.items():
        if total and Decimal(bad) / Decimal(total) > policy.delist_bad_review_rate:
            flags.setdefault(sku, []).append("bad_review_rate")
    return flags
