"""When available stock is pushed to the shop listing (SPEC §3.2). No I/O here.

A SKU's listed figure is its sellable stock available across warehouses. A change is
pushed at most once per `debounce` window (the newest figure wins, so a flash sale
does not send one call per order), except a drop to zero, which goes at once: the shop
must stop selling what no warehouse has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

DEBOUNCE = timedelta(seconds=5)


@dataclass(frozen=True)
class Listed:
    """What the platform was last told for one SKU, and when."""

    available: int
    at: datetime


def due(available: int, last: Listed | None, now: datetime, debounce: timedelta = DEBOUNCE) -> bool:
    """Push `available` now?"""
    if last is None:
        return True
    if available == last.available:
        return False
    return available == 0 or now - last.at >= debounce
