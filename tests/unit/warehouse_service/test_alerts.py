"""Alert arithmetic: reorder point = daily sales * 3, slow-moving = daily sales * 7, 2 weeks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from warehouse_service.domain.alerts import AlertRule, Figures, alerts_for, daily_sales

NOW = datetime(2026, 3, 1, tzinfo=UTC)
OLD = NOW - timedelta(days=60)


def fig(available: int, sold: int = 0, weekly=(0, 0), since=OLD) -> Figures:
    return Figures("WH", "SKU-1", available, sold, weekly, since)


def kinds(rule, f) -> list[str]:
    return [a.kind for a in alerts_for(rule, f, NOW)]


def test_measured_daily_sales_is_the_4_week_average():
    assert daily_sales(AlertRule(), fig(0, sold=280)) == 10
    assert daily_sales(AlertRule(daily_sales=4), fig(0, sold=280)) == 4


def test_reorder_below_three_days_of_sales():
    # 10 a day: reorder point 30, slow-moving point 70 a week (not slow: 80 and 75).
    assert kinds(AlertRule(), fig(29, sold=280, weekly=(80, 75))) == ["reorder"]
    assert kinds(AlertRule(), fig(30, sold=280, weekly=(80, 75))) == []
    [a] = alerts_for(AlertRule(reorder_days=5), fig(45, sold=280, weekly=(80, 75)), NOW)
    assert (a.kind, a.point) == ("reorder", 50)


def test_slow_moving_after_two_weeks_below_a_weeks_sales():
    rule = AlertRule(daily_sales=10)
    assert kinds(rule, fig(500, weekly=(69, 60))) == ["slow_moving"]
    assert kinds(rule, fig(500, weekly=(69, 70))) == []  # one slow week is not enough
    assert kinds(rule, fig(500, weekly=(0, 0), since=NOW - timedelta(days=13))) == []  # new
    assert kinds(AlertRule(), fig(500)) == []  # no sales and no expected figure: no alert
