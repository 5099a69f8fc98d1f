"""The after-sales unit of work: one transaction with every repository on its session."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Self

from aftersales_service.adapters.projection import OrderProjection
from aftersales_service.adapters.repositories import (
    CareRepository,
    LedgerRepository,
    PolicyRepository,
    RefundRepository,
    ReturnRepository,
)
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
        return self

    @contextlib.asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A nested transaction whose staged events are dropped too if it rolls back."""
        mark = len(self._events)
        try:
            async with self.session.begin_nested():
                yield
        except BaseException:
            del self._events[mark:]
            raise
