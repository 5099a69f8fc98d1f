"""The after-sales unit of work: one transaction with every repository on its session."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Self

from aftersales_service.adapters.projection import OrderProjection
from aftersales_service.adapters.replacements import ReplacementRepository
from aftersales_service.adapters.repositories import (
    CareRepository,
    LedgerRepository,
    PolicyRepository,
    RefundRepository,
    ReturnRepository,
)
from shared.envelope import Envelope
from shared.unit_of_work import UnitOfWork


class AftersalesUnitOfWork(UnitOfWork):
    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.orders = OrderProjection(self.session)
        self.refunds = RefundRepository(self.session)
        self.returns = ReturnRepository(self.session)
        self.ledger = LedgerRepository(self.session)
        self.care = CareRepository(self.session)
        self.policies = PolicyRepository(self.session)
        self.replacements = ReplacementRepository(self.session)
        return self

    async def prepare(self, envelopes: Sequence[Envelope]) -> None:
        """Lock the batch's stored orders in one query (and note the new ones)."""
        await self.orders.preload(e.order_id for e in envelopes if e.order_id)

    async def flush(self) -> None:
        await self.orders.flush()

    @contextlib.asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A nested transaction whose staged events are dropped too if it rolls back, and
        what the projection held back in it (it starts with what came before written)."""
        mark = len(self._events)
        await self.orders.flush()
        try:
            async with self.session.begin_nested():
                yield
        except BaseException:
            del self._events[mark:]
            self.orders.forget()
            raise
