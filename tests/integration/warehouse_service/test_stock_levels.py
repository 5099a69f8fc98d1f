"""`stock.levels`: what the listing sync claims is announced to the other services in the
same transaction (seeded levels at startup, a zero at once, nothing when nothing changed)."""

from __future__ import annotations

import pytest

from shared.clock import ManualClock
from tests.integration.warehouse_service.support import emitted
from tests.integration.warehouse_service.test_inventory import set_stock
from tests.support import running
from warehouse_service.app import create_app

pytestmark = pytest.mark.broker


async def test_listing_sync_announces_what_it_claims(make_settings):
    app = create_app(make_settings("warehouse"), clock=ManualClock())
    sync = app.state.listing_sync

    async def announced() -> list[dict[str, int]]:
        return [
            {x.sku: x.available for x in e.typed().levels}
            for e in await emitted(app, "stock.levels")
        ]

    async with running(app) as http:
        await sync.run_once()
        [seed] = await announced()  # development seeds, announced once
        assert seed == {f"SKU-{n}": 1000 for n in range(1, 10)}
        await set_stock(http, "SKU-2", 0)
        await sync.run_once()
        await sync.run_once()
        assert (await announced())[1:] == [{"SKU-2": 0}]  # at once, and once
        [env] = (await emitted(app, "stock.levels"))[1:]
        assert env.key == "stock" and env.order_id is None
