"""When the listing hears of a stock change: debounced, a zero at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from warehouse_service.domain.listing import DEBOUNCE, Listed, due

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_first_figure_goes_out():
    assert due(10, None, T0)


def test_changes_wait_for_the_debounce_window_zero_does_not():
    last = Listed(10, T0)
    assert not due(10, last, T0 + timedelta(hours=1))  # nothing changed
    assert not due(9, last, T0 + DEBOUNCE - timedelta(milliseconds=1))
    assert due(9, last, T0 + DEBOUNCE)
    assert due(0, last, T0)  # sold out: at once
