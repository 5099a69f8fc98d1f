"""An in-memory order unit of work (no database, no broker) for handler unit tests.

It keeps what the real one stores: order documents with their version (a stale save is a
VersionConflict), events queued for the outbox until commit, timeline entries, platform
calls, anomalies, receipts, parked notices, SKU mappings and campaign purchases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from order_service.adapters.repository import VersionConflict, from_document, to_document
from order_service.domain.order import Order
from order_service.domain.review import ReviewPolicy
from order_service.domain.routing import DEV_CATALOG, DEV_WAREHOUSES, CatalogItem, Warehouse
from order_service.handlers import Deps
from shared.clock import ManualClock
from shared.settings import Mode


@dataclass
class FakeDatabase:
    """What survives between units of work (what the tables would hold)."""

    orders: dict[str, tuple[dict[str, Any], int]] = field(default_factory=dict)
    catalog: dict[str, CatalogItem] = field(default_factory=lambda: {c.sku: c for c in DEV_CATALOG})
    warehouses: dict[str, Warehouse] = field(
        default_factory=lambda: {w.warehouse_id: w for w in DEV_WAREHOUSES}
    )
    policy: ReviewPolicy = field(default_factory=ReviewPolicy)
    outbox: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # type, order, data
    timeline: list[dict[str, Any]] = field(default_factory=list)
    platform_calls: list[dict[str, Any]] = field(default_factory=list)
    anomalies: list[dict[str, Any]] = field(default_factory=list)
    receipts: dict[tuple[str, str], str | None] = field(default_factory=dict)
    parked: list[SimpleNamespace] = field(default_factory=list)
    sku_mappings: dict[tuple[str, str], str] = field(default_factory=dict)
    sku_waiting: set[tuple[str, str, str]] = field(default_factory=set)
    purchases: list[dict[str, Any]] = field(default_factory=list)
    stock: dict[str, tuple[int, Any]] = field(default_factory=dict)  # sku → (available, as_of)
    commits: int = 0

    def order(self, order_id: str) -> Order:
        doc, version = self.orders[order_id]
        return from_document(doc, version)

    def event_types(self, order_id: str | None = None) -> list[str]:
        return [t for t, oid, _ in self.outbox if order_id in (None, oid)]


class FakeOrders:
    def __init__(self, db: FakeDatabase):
        self.db = db

    async def get(self, order_id: str) -> Order | None:
        return self.db.order(order_id) if order_id in self.db.orders else None

    async def by_platform_id(self, platform: str, platform_order_id: str) -> Order | None:
        for doc, version in self.db.orders.values():
            if (doc["platform"], doc["platform_order_id"]) == (platform, platform_order_id):
                return from_document(doc, version)
        return None

    async def known_platform_ids(self, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        have = {(d["platform"], d["platform_order_id"]) for d, _ in self.db.orders.values()}
        return set(keys) & have

    async def add_all(self, orders: list[Order], now: Any) -> None:
        for order in orders:
            order.version = 1
            self.db.orders[order.id] = (to_document(order), 1)

    async def save(self, order: Order, now: Any) -> None:
        if self.db.orders[order.id][1] != order.version:
            raise VersionConflict(order.id, order.version)
        order.version += 1
        self.db.orders[order.id] = (to_document(order), order.version)


class FakeReference:
    def __init__(self, db: FakeDatabase):
        self.db = db

    async def catalog(self) -> dict[str, CatalogItem]:
        return dict(self.db.catalog)

    async def warehouses(self) -> list[Warehouse]:
        return list(self.db.warehouses.values())

    async def review_policy(self) -> ReviewPolicy:
        return self.db.policy

    async def stock(self, skus) -> dict[str, int]:
        return {s: self.db.stock[s][0] for s in set(skus) if s in self.db.stock}

    async def put_stock(self, levels, as_of) -> None:
        for sku, n in levels:
            if sku not in self.db.stock or self.db.stock[sku][1] < as_of:
                self.db.stock[sku] = (n, as_of)

    async def set_review_policy(self, policy: ReviewPolicy) -> None:
        self.db.policy = policy

    async def put_warehouse(self, warehouse_id: str, kind: str, supplier_id: str | None, name: str):
        self.db.warehouses[warehouse_id] = Warehouse(warehouse_id, kind, supplier_id)

    async def add_missing(self, catalog, warehouses) -> None:
        for c in catalog:
            self.db.catalog.setdefault(c.sku, c)
        for w in warehouses:
            self.db.warehouses.setdefault(w.warehouse_id, w)


class FakeCampaigns:
    def __init__(self, db: FakeDatabase):
        self.db = db

    async def lock(self, campaign_ids) -> None:
        return None  # one fake unit of work at a time

    async def bought(self, campaigns, identities):
        return [
            (
                p["campaign_id"],
                p["key_kind"],
                p["key_value"],
                p["qty"],
                self.db.order(p["order_id"]).stage,
            )
            for p in self.db.purchases
            if p["campaign_id"] in campaigns and (p["key_kind"], p["key_value"]) in identities
        ]

    async def add(self, rows: list[dict]) -> None:
        self.db.purchases += rows


class FakeParked:
    def __init__(self, db: FakeDatabase):
        self.db = db

    def _find(self, kind: str, platform: str, external_id: str) -> SimpleNamespace | None:
        return next(
            (
                p
                for p in self.db.parked
                if (p.kind, p.platform, p.external_id) == (kind, platform, external_id)
            ),
            None,
        )

    async def add(self, kind, platform, platform_order_id, external_id, body, at) -> bool:
        if self._find(kind, platform, external_id):
            return False
        self.db.parked.append(
            SimpleNamespace(
                id=len(self.db.parked) + 1,
                kind=kind,
                platform=platform,
                platform_order_id=platform_order_id,
                external_id=external_id,
                body=body,
                applied_at=None,
                order_id=None,
            )
        )
        return True

    async def body(self, kind: str, platform: str, external_id: str) -> dict | None:
        found = self._find(kind, platform, external_id)
        return found.body if found else None

    async def waiting(self, keys) -> dict:
        found: dict[tuple, list] = {}
        for p in self.db.parked:
            key = (p.platform, p.platform_order_id)
            if key in keys and p.applied_at is None:
                found.setdefault(key, []).append(p)
        return found

    async def mark_applied(self, notice_id: int, at, order_id: str, body: dict) -> None:
        row = self.db.parked[notice_id - 1]
        row.applied_at, row.order_id, row.body = at, order_id, body


class FakeSkuMappings:
    def __init__(self, db: FakeDatabase):
        self.db = db

    async def lookup(self, keys) -> dict[str, dict]:
        found: dict[str, dict] = {}
        for platform, variant in keys:
            if (platform, variant) in self.db.sku_mappings:
                found.setdefault(platform, {})[variant] = self.db.sku_mappings[(platform, variant)]
        return found

    async def put(self, platform, variant_id, sku, by, at) -> None:
        self.db.sku_mappings[(platform, variant_id)] = sku

    async def waiting_orders(self, platform, variant_id) -> list[str]:
        return sorted(o for p, v, o in self.db.sku_waiting if (p, v) == (platform, variant_id))

    async def add_waiting(self, rows: list[dict]) -> None:
        self.db.sku_waiting |= {(r["platform"], r["variant_id"], r["order_id"]) for r in rows}

    async def clear_waiting(self, platform, variant_id) -> None:
        self.db.sku_waiting = {w for w in self.db.sku_waiting if w[:2] != (platform, variant_id)}


class FakeOrderUnitOfWork:
    """The `OrderUnitOfWork` surface the handlers use, on a FakeDatabase."""

    def __init__(self, db: FakeDatabase, clock: ManualClock):
        self.db, self.clock = db, clock
        self.orders = FakeOrders(db)
        self.reference = FakeReference(db)
        self.campaigns = FakeCampaigns(db)
        self.parked = FakeParked(db)
        self.sku_mappings = FakeSkuMappings(db)
        self._events: list[tuple[str, str, dict[str, Any]]] = []

    async def __aenter__(self) -> FakeOrderUnitOfWork:
        self._events = []
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._events = []  # uncommitted events are dropped, as a rollback would

    def now(self):
        return self.clock.now()

    async def commit(self) -> None:
        self.db.outbox += self._events
        self._events = []
        self.db.commits += 1

    async def store(self, order: Order, *, cause=None) -> None:
        await self.orders.save(order, self.now())
        self._side_effects([order], cause)

    async def store_new(self, orders: list[Order]) -> None:
        await self.orders.add_all(orders, self.now())
        self._side_effects(orders, None)

    def _side_effects(self, orders: list[Order], cause) -> None:
        for order in orders:
            self._events += [(t, order.id, data) for t, data in order.events]
            self.db.timeline += [{"order_id": order.id, **e} for e in order.timeline]
            for call in order.tracking_sync:
                self.db.platform_calls.append(
                    {"order_id": order.id, "call": "tracking", "body": call}
                )
            order.events, order.timeline, order.tracking_sync = [], [], []

    async def queue_platform_call(self, order: Order, call: str, body: dict, now=None) -> None:
        self.db.platform_calls.append({"order_id": order.id, "call": call, "body": body})

    async def anomaly(self, kind, env, reason, *, order_id=None, shipment_id=None) -> None:
        self.db.anomalies.append(
            {"kind": kind, "event": env.type, "order_id": order_id, "shipment_id": shipment_id}
        )

    async def receipt(self, source: str, webhook_id: str):
        return self.db.receipts.get((source, webhook_id), False)

    async def receipts_seen(self, keys) -> set:
        return set(keys) & set(self.db.receipts)

    async def add_receipts(self, receipts) -> None:
        for source, webhook_id, order_id in receipts:
            self.db.receipts.setdefault((source, webhook_id), order_id)


class FakeReads:
    def __init__(self, db: FakeDatabase):
        self.db = db

    async def delivered_ids(self) -> list[str]:
        return [oid for oid, (doc, _) in self.db.orders.items() if doc["stage"] == "delivered"]

    async def unsettled(self, keys, variants):
        raise AssertionError("only PostgreSQL interleaves writers; the fake does not")


def fake_deps(db: FakeDatabase | None = None) -> tuple[Deps, FakeDatabase]:
    """Handler dependencies on an in-memory database (the development mode)."""
    db = db or FakeDatabase()
    clock = ManualClock()
    deps = Deps(
        uow=lambda: FakeOrderUnitOfWork(db, clock),  # type: ignore[arg-type,return-value]
        reads=FakeReads(db),  # type: ignore[arg-type]
        clock=clock,
        mode=Mode.development,
        interleaves=False,
    )
    return deps, db
