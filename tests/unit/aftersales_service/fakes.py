"""An in-memory after-sales unit of work (no database, no broker) for handler unit tests."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aftersales_service.domain.errors import NotFound, Refused
from aftersales_service.domain.orders import OrderView
from aftersales_service.domain.policy import ReturnPolicy
from aftersales_service.domain.refunds import Refund
from aftersales_service.domain.replacements import Replacement
from aftersales_service.domain.returns import ReturnCase


@dataclass
class FakeDatabase:
    """What survives between units of work: the order projection, cases, claims, outbox."""

    orders: dict[str, OrderView] = field(default_factory=dict)
    refunds: dict[str, Refund] = field(default_factory=dict)
    claims: dict[tuple[str, str], str] = field(default_factory=dict)  # (order, key) → refund
    returns: dict[str, ReturnCase] = field(default_factory=dict)
    policy: ReturnPolicy = field(default_factory=ReturnPolicy)
    liabilities: list[Any] = field(default_factory=list)  # (id, Liability[, replacement])
    replacements: dict[str, Replacement] = field(default_factory=dict)
    replacement_shipments: dict[str, str] = field(default_factory=dict)  # shipment → id
    shipped: set[str] = field(default_factory=set)  # shipments the projection saw leave
    outbox: list[Any] = field(default_factory=list)  # envelopes

    def event_types(self) -> list[str]:
        return [env.type for env in self.outbox]


class FakeOrders:
    def __init__(self, db: FakeDatabase):
        self.db = db

    async def get(self, order_id: str) -> OrderView | None:
        return copy.deepcopy(self.db.orders.get(order_id))

    async def status(self, order_id: str) -> tuple[bool, str | None] | None:
        """(synced, stage); the real one locks the row, which one task needs no fake of."""
        view = self.db.orders.get(order_id)
        return None if view is None else (view.synced, view.stage)


class FakeRefunds:
    def __init__(self, db: FakeDatabase):
        self.db = db

    async def get(self, refund_id: str) -> Refund:
        return copy.deepcopy(self.db.refunds[refund_id])

    async def for_order(self, order_id: str) -> list[Refund]:
        return [copy.deepcopy(r) for r in self.db.refunds.values() if r.order_id == order_id]

    async def claimed(self, order_id: str) -> set[str]:
        return {k for o, k in self.db.claims if o == order_id}

    async def by_platform_id(self, order_id: str, platform_refund_id: str) -> Refund | None:
        return next(
            (
                r
                for r in self.db.refunds.values()
                if (r.order_id, r.platform_refund_id) == (order_id, platform_refund_id)
            ),
            None,
        )

    async def add(self, refund: Refund) -> None:
        keys = [(refund.order_id, k) for k in refund.claims]
        if any(k in self.db.claims for k in keys):
            raise Refused("already refunded", code="refund_already_requested")
        self.db.refunds[refund.refund_id] = copy.deepcopy(refund)
        self.db.claims |= {k: refund.refund_id for k in keys}

    async def save(self, refund: Refund) -> None:
        self.db.refunds[refund.refund_id] = copy.deepcopy(refund)

    async def release_claims(self, refund: Refund) -> None:
        self.db.claims = {k: r for k, r in self.db.claims.items() if r != refund.refund_id}


class FakeReturns:
    def __init__(self, db: FakeDatabase):
        self.db = db

    async def add(self, case: ReturnCase, days_after_delivery: int | None) -> None:
        self.db.returns[case.return_id] = copy.deepcopy(case)

    async def get(self, return_id: str) -> ReturnCase:
        if return_id not in self.db.returns:
            raise NotFound(f"no return {return_id}")
        return copy.deepcopy(self.db.returns[return_id])

    async def save(self, case: ReturnCase, **_: Any) -> None:
        self.db.returns[case.return_id] = copy.deepcopy(case)


class FakePolicies:
    def __init__(self, db: FakeDatabase):
        self.db = db

    async def get(self) -> ReturnPolicy:
        return self.db.policy


class FakeLedger:
    def __init__(self, db: FakeDatabase):
        self.db = db

    async def add_liabilities(self, ids, case, items, now) -> None:
        self.db.liabilities += list(zip(ids, items, strict=True))


class FakeReplacements:
    def __init__(self, db: FakeDatabase):
        self.db = db

    async def add(self, rep: Replacement) -> None:
        self.db.replacements[rep.replacement_id] = copy.deepcopy(rep)

    async def get(self, replacement_id: str) -> Replacement:
        if replacement_id not in self.db.replacements:
            raise NotFound(f"no replacement {replacement_id}", code="replacement_not_found")
        return copy.deepcopy(self.db.replacements[replacement_id])

    async def save(self, rep: Replacement) -> None:
        self.db.replacements[rep.replacement_id] = copy.deepcopy(rep)

    async def reshipped(self, order_id: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for rep in self.db.replacements.values():
            if rep.order_id == order_id and rep.kind == "reship" and rep.status != "refused":
                for ln in rep.lines:
                    out[ln["sku"]] = out.get(ln["sku"], 0) + ln["qty"]
        return out

    async def link_shipments(self, order_id: str, replacement_id: str, ids) -> None:
        for sid in ids:
            self.db.replacement_shipments.setdefault(sid, replacement_id)

    async def by_shipment(self, shipment_id: str) -> Replacement | None:
        found = self.db.replacement_shipments.get(shipment_id)
        return None if found is None else await self.get(found)

    async def shipped_already(self, ids: list[str]) -> list[str]:
        return [i for i in ids if i in self.db.shipped]

    async def hold_units(self, order_id: str, keys: list[str], holder: str) -> None:
        if any((order_id, k) in self.db.claims for k in keys):
            raise Refused("already refunded", code="already_refunded")
        self.db.claims |= {(order_id, k): holder for k in keys}

    async def release_units(self, holder: str) -> None:
        self.db.claims = {k: r for k, r in self.db.claims.items() if r != holder}

    async def add_liabilities(self, ids, reship, items, now) -> None:
        self.db.liabilities += [
            (i, li, reship.replacement_id) for i, li in zip(ids, items, strict=True)
        ]

    async def drop_liabilities(self, replacement_id: str) -> None:
        self.db.liabilities = [x for x in self.db.liabilities if x[2:] != (replacement_id,)]


class FakeAftersalesUnitOfWork:
    """The `AftersalesUnitOfWork` surface the refund and return handlers use."""

    def __init__(self, db: FakeDatabase):
        self.db = db
        self._events: list[Any] = []

    async def __aenter__(self) -> FakeAftersalesUnitOfWork:
        self.orders = FakeOrders(self.db)
        self.refunds = FakeRefunds(self.db)
        self.returns = FakeReturns(self.db)
        self.policies = FakePolicies(self.db)
        self.ledger = FakeLedger(self.db)
        self.replacements = FakeReplacements(self.db)
        self._events = []
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._events = []

    def emit(self, topic: str, envelope: Any) -> None:
        self._events.append(envelope)

    @contextlib.asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        mark = len(self._events)
        try:
            yield
        except BaseException:
            del self._events[mark:]
            raise

    async def commit(self) -> None:
        self.db.outbox += self._events
        self._events = []
