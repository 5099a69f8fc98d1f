"""Replenishment and clearance alerts per warehouse and SKU (SPEC §3.2). No I/O here.

Seed rules: reorder point = daily sales * 3 days (available below it: replenish);
slow-moving point = daily sales * 7 days (a week's sales below it in each of the last
2 weeks: clear). Daily sales is the SKU's configured figure, else what it sold a day
over the last 4 weeks (shipped units, from the ledger's picks).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

REORDER_DAYS = 3
SLOW_MOVING_DAYS = 7
HISTORY = timedelta(days=28)  # what measured daily sales average over
WEEK = timedelta(days=7)
SLOW_WEEKS = 2


@dataclass(frozen=True)
class AlertRule:
    """Per-SKU settings; `daily_sales` None means measured."""

    daily_sales: int | None = None
    reorder_days: int = REORDER_DAYS
    slow_moving_days: int = SLOW_MOVING_DAYS


@dataclass(frozen=True)
class Figures:
    """One stock row's facts: available now, units shipped over HISTORY and in each of the
    last SLOW_WEEKS weeks (newest first), and when it was first stocked."""

    warehouse_id: str
    sku: str
    available: int
    sold: int
    weekly: tuple[int, ...]
    stocked_since: datetime | None


@dataclass(frozen=True)
class Alert:
    warehouse_id: str
    sku: str
    kind: str  # reorder | slow_moving
    available: int
    daily_sales: float
    point: float
    weekly_sales: tuple[int, ...]


def daily_sales(rule: AlertRule, f: Figures) -> float:
    if rule.daily_sales is not None:
        return float(rule.daily_sales)
    return f.sold / HISTORY.days


def alerts_for(rule: AlertRule, f: Figures, now: datetime) -> list[Alert]:
    daily = daily_sales(rule, f)
    found = []

    def flag(kind: str, point: float) -> None:
        found.append(Alert(f.warehouse_id, f.sku, kind, f.available, daily, point, f.weekly))

    reorder = daily * rule.reorder_days
    if f.available < reorder:
        flag("reorder", reorder)
    slow = daily * rule.slow_moving_days
    watched = f.stocked_since is not None and now - f.stocked_since >= SLOW_WEEKS * WEEK
    if watched and f.available > 0 and all(w < slow for w in f.weekly[:SLOW_WEEKS]):
        flag("slow_moving", slow)
    return found
