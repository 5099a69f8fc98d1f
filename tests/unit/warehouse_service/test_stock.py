"""Stock rules: available never below zero, reservations, the batch allocation, the ledger."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warehouse_service.domain.errors import InvalidRequest
from warehouse_service.domain.stock import (
    BelowReserved,
    Demand,
    InsufficientStock,
    Stock,
    allocate,
    demand,
    replay,
    returned,
    totals,
)

WHY = {"actor": "ops:t", "reason": "test"}


def test_reserve_pick_release_keep_available():
    s = Stock("WH", "SKU-1")
    s.receive(10, **WHY)
    s.reserve(4, **WHY)
    assert (s.on_hand, s.reserved, s.available) == (10, 4, 6)
    s.pick(3, **WHY)  # shipping consumes the reserved units
    assert (s.on_hand, s.reserved, s.available) == (7, 1, 6)
    s.release(1, **WHY)
    assert (s.on_hand, s.reserved, s.available) == (7, 0, 7)


def test_never_more_than_available():
    s = Stock("WH", "SKU-1", on_hand=5, reserved=3)
    with pytest.raises(InsufficientStock) as err:
        s.reserve(3, **WHY)
    assert err.value.details["available"] == 2
    with pytest.raises(InsufficientStock):
        s.transfer_out(3, **WHY)
    with pytest.raises(InsufficientStock):
        s.release(4, **WHY)  # more than is reserved
    assert (s.on_hand, s.reserved) == (5, 3)


def test_count_correction_cannot_undercut_reservations():
    s = Stock("WH", "SKU-1", on_hand=10, reserved=6)
    m = s.correct(8, **WHY)
    assert (m.kind, m.on_hand_delta, s.available) == ("count_correction", -2, 2)
    with pytest.raises(BelowReserved):
        s.correct(5, **WHY)
    with pytest.raises(InvalidRequest):
        s.receive(0, **WHY)


def test_demand_adds_lines_of_one_sku():
    lines = [{"sku": "B", "qty": 1}, {"sku": "A", "qty": 2}, {"sku": "B", "qty": 3}]
    assert demand(lines) == {"A": 2, "B": 4}


def test_batch_allocation_first_come_first_served_all_lines_or_none():
    d = [
        Demand("T1", "WH", {"HOT": 2}),
        Demand("T2", "WH", {"HOT": 2, "COLD": 1}),
        Demand("T3", "WH", {"HOT": 1, "COLD": 1}),
        Demand("T4", "WH", {"HOT": 1}),
    ]
    assert totals(d) == {("WH", "COLD"): 2, ("WH", "HOT"): 6}
    # HOT's total (6) did not fit: 3 left. T1 takes 2, T2 needs 2 (short), T3 takes 1.
    granted, short = allocate(d, {("WH", "HOT"): 3})
    assert granted == {("WH", "HOT"): 3}
    assert short == {"T2": ["HOT"], "T4": ["HOT"]}
    # COLD was reserved whole for the batch: T2's unit goes back.
    assert returned(d, short, [("WH", "HOT")]) == {("WH", "COLD"): 1}


OPS = st.lists(
    st.tuples(
        st.sampled_from(["reserve", "release", "ship", "receive", "correct", "transfer"]),
        st.sampled_from(["A", "B"]),
        st.integers(1, 12),
    ),
    max_size=80,
)


@settings(max_examples=200, deadline=None)
@given(OPS)
def test_random_operations_keep_the_invariant_and_match_the_ledger(ops):
    """reserve / release / ship / adjust / transfer in any order: on_hand - reserved =
    available >= 0, reserved = the live reservations, and the ledger replays to the rows."""
    rows = {(w, s): Stock(w, s) for w in ("W1", "W2") for s in ("A", "B")}
    ledger = []
    live: list[tuple[str, str, int]] = []  # open tasks' reservations (warehouse, sku, qty)
    for op, sku, n in ops:
        w1, w2 = rows[("W1", sku)], rows[("W2", sku)]
        try:
            if op == "reserve":
                ledger.append(w1.reserve(n, **WHY))
                live.append(("W1", sku, n))
            elif op in ("release", "ship") and live:
                w, s, q = live.pop(n % len(live))
                row = rows[(w, s)]
                ledger.append(row.release(q, **WHY) if op == "release" else row.pick(q, **WHY))
            elif op == "receive":
                ledger.append(w1.receive(n, **WHY))
            elif op == "correct":
                ledger.append(w1.correct(n, **WHY))
            elif op == "transfer":
                moved = [w1.transfer_out(n, **WHY), w2.transfer_in(n, **WHY)]
                ledger += moved
        except (InsufficientStock, BelowReserved):
            pass
        for row in rows.values():
            assert row.available == row.on_hand - row.reserved >= 0
            assert row.reserved == sum(q for w, s, q in live if (w, s) == row.key)
    replayed = replay(ledger)
    for row in rows.values():
        assert replayed.get((row.warehouse_id, row.sku, row.pool), (0, 0)) == (
            row.on_hand,
            row.reserved,
        )
