"""Auto-review and stock (SPEC §2.2, §3.2): a line whose SKU no warehouse has is not clean."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from order_service.domain.review import ReviewPolicy, clean_problems, no_stock_flags
from order_service.entrypoints.consumers import dispatch
from order_service.handlers.webhooks import ingest_order
from shared.envelope import new_event
from shared.events.warehouse import SkuAvailable, StockLevels
from tests.unit.order_service.fakes import fake_deps
from tests.unit.order_service.test_handlers import incoming

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ADDR = {"name": "A", "phone": "138", "province": "P", "city": "C", "line1": "L"}


def levels(as_of: datetime, **available: int):
    payload = StockLevels(
        as_of=as_of, levels=[SkuAvailable(sku=s, available=n) for s, n in available.items()]
    )
    return new_event(payload, producer="warehouse_service", key="stock")


def test_only_a_known_zero_flags_no_stock():
    lines = [{"sku": "SKU-1", "qty": 1}, {"sku": "SKU-2", "qty": 1}, {"sku": "SKU-3", "qty": 1}]
    assert no_stock_flags(lines, {"SKU-1": 0, "SKU-2": 5}) == [
        {"code": "no_stock", "skus": ["SKU-1"]}
    ]
    assert no_stock_flags(lines, {}) == []  # never announced: unknown, not blocking
    problems = clean_problems(
        ADDR,
        lines,
        {"SKU-1", "SKU-2", "SKU-3"},
        "",
        no_stock_flags(lines, {"SKU-1": 0, "SKU-3": 0}),
    )
    assert problems == ["no stock anywhere: SKU-1, SKU-3"]


async def test_stock_levels_update_the_projection_and_an_older_batch_loses():
    deps, db = fake_deps()
    for env in [
        levels(T0, **{"SKU-1": 3, "SKU-2": 0}),
        levels(T0 + timedelta(seconds=5), **{"SKU-1": 0}),
    ]:
        async with deps.uow() as uow:
            await dispatch(uow, env)
    async with deps.uow() as uow:
        await dispatch(uow, levels(T0 + timedelta(seconds=1), **{"SKU-1": 7}))  # late
    assert {s: n for s, (n, _) in db.stock.items()} == {"SKU-1": 0, "SKU-2": 0}


@pytest.mark.parametrize(
    ("stock", "stage"), [({"SKU-1": 0}, "synced"), ({"SKU-1": 2}, "reviewed"), ({}, "reviewed")]
)
async def test_auto_review_waits_for_a_clerk_when_no_warehouse_has_the_sku(stock, stage):
    deps, db = fake_deps()
    db.policy = ReviewPolicy(auto_review=True)
    async with deps.uow() as uow:
        await dispatch(uow, levels(T0, **stock))
    result = await ingest_order(deps, incoming())
    assert result.stage == stage
    order = db.order(result.order_id)
    assert ([f["code"] for f in order.flags] == ["no_stock"]) == (stage == "synced")
    skipped = [e for e in db.timeline if e["kind"] == "auto_review_skipped"]
    assert bool(skipped) == (stage == "synced")
