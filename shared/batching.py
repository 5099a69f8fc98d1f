"""Group concurrent calls into one batch call (a group commit for request handlers).

No timer: a lone call runs at once. While a batch is being processed, new calls
queue up and go together in the next one, so batches grow exactly as far as
load makes them wait anyway.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Batcher(Generic[T, R]):
    """`await batcher.submit(item)` → that item's result from `run(items)`.

    `run` returns one result per item, in order; an exception in the list is raised
    to that item's caller only. A caller that gives up (cancelled) does not stop
    its item from being processed.
    """

    def __init__(
        self, run: Callable[[list[T]], Awaitable[list[R | Exception]]], *, max_items: int = 64
    ):
        self._run, self._max = run, max_items
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._batch: list[tuple[T, asyncio.Future[R]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())
            self._worker.add_done_callback(self._release_waiting)
        return await future

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self._max], self._queue[self._max :]
            self._batch = batch
            try:
                results: list[Any] = await self._run([item for item, _ in batch])
            except Exception as exc:  # the batch as a whole failed: every caller hears why
                results = [exc] * len(batch)
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, Exception):
                    future.set_exception(result)
                else:
                    future.set_result(result)

    async def aclose(self) -> None:
        """Let the batch in progress finish before the database goes away: a worker left
        running at loop close, mid-statement, never lets the loop close (aiosqlite ≥ 0.22
        with SQLAlchemy's shielded connection close)."""
        if self._worker is not None and not self._worker.done():
            await asyncio.gather(self._worker, return_exceptions=True)

    def _release_waiting(self, worker: asyncio.Task[None]) -> None:
        """A worker cancelled at shutdown leaves no caller waiting for ever."""
        if worker.cancelled():
            for _, future in self._batch + self._queue:
                future.cancel()
            self._queue = []
