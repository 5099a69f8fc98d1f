"""Available stock pushed to the shop listing (SPEC §3.2): debounced, a zero at once,
a failed push retried; recorded like the order service's tracking sync."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.clock import ManualClock
from tests.integration.warehouse_service.support import deliver, submitted
from tests.integration.warehouse_service.test_inventory import set_stock
from tests.support import bearer, running
from warehouse_service.adapters.listing import RecordingListingAdapter
from warehouse_service.app import create_app
from warehouse_service.domain.listing import DEBOUNCE

pytestmark = pytest.mark.broker

OPS = bearer("dev-ops")


class Flaky(RecordingListingAdapter):
    """Fails the next `fail` calls."""

    fail = 0

    async def push_stock(self, call):
        if self.fail:
            self.fail -= 1
            raise ConnectionError("platform down")
        await super().push_stock(call)


async def test_listing_is_debounced_and_told_of_a_zero_at_once(make_settings):
    clock, adapter = ManualClock(), Flaky()
    app = create_app(make_settings("warehouse"), clock=clock, listing=adapter)
    sync = app.state.listing_sync
    async with running(app) as http:
        await sync.run_once()
        first = {c["sku"]: c["available"] for c in adapter.calls}
        assert first == {f"SKU-{n}": 1000 for n in range(1, 10)}  # the seed, once
        adapter.calls.clear()

        await deliver(app, submitted("WH-OWN-1", [("SKU-1", 2)]))
        await sync.run_once()
        assert list(adapter.calls) == []  # within the debounce window
        clock.advance(seconds=DEBOUNCE.total_seconds())
        await sync.run_once()
        assert list(adapter.calls) == [{"sku": "SKU-1", "available": 998}]

        await set_stock(http, "SKU-2", 3)
        await deliver(app, submitted("WH-OWN-1", [("SKU-2", 3)]))  # sold out
        adapter.fail = 1
        await sync.run_once()  # the zero is due at once, but the platform is down
        clock.advance(seconds=1)
        await sync.run_once()  # retried
        assert list(adapter.calls)[-1] == {"sku": "SKU-2", "available": 0}
        r = await http.get("/inventory/listing?sku=SKU-2", headers=OPS)
        assert [x["available"] for x in r.json()] == [0]
        # the failed push is not recorded, its retry is, once (the app's own listing timer
        # runs alongside and may have pushed SKU-2's 3 first: the clock is past the debounce)
        assert adapter.calls.count({"sku": "SKU-2", "available": 0}) == 1
        pushed = len(adapter.calls)
        clock.advance(seconds=timedelta(hours=1).total_seconds())
        await sync.run_once()
        assert len(adapter.calls) == pushed  # nothing changed since
