"""The batcher: concurrent calls share one batch; results and errors go to their own caller."""

from __future__ import annotations

import asyncio

import pytest

from shared.batching import Batcher


class Recorder:
    def __init__(self, gate: asyncio.Event | None = None):
        self.batches: list[list[int]] = []
        self.gate = gate

    async def run(self, items: list[int]) -> list[int | Exception]:
        self.batches.append(items)
        if self.gate is not None:
            await self.gate.wait()
        return [ValueError(f"bad {i}") if i < 0 else i * 10 for i in items]


async def test_a_lone_call_runs_at_once():
    rec = Recorder()
    assert await Batcher(rec.run).submit(3) == 30
    assert rec.batches == [[3]]


async def test_calls_arriving_during_a_batch_go_together_in_the_next():
    gate = asyncio.Event()
    rec = Recorder(gate)
    batcher = Batcher(rec.run, max_items=3)
    calls = [asyncio.create_task(batcher.submit(i)) for i in range(6)]
    await asyncio.sleep(0)  # let every call queue while the first batch waits on the gate
    gate.set()
    assert await asyncio.gather(*calls) == [0, 10, 20, 30, 40, 50]
    assert rec.batches == [[0, 1, 2], [3, 4, 5]]


async def test_an_item_error_reaches_only_its_caller():
    batcher = Batcher(Recorder().run)
    good, bad = await asyncio.gather(batcher.submit(1), batcher.submit(-1), return_exceptions=True)
    assert good == 10
    assert isinstance(bad, ValueError) and str(bad) == "bad -1"


async def test_a_failed_batch_fails_its_callers_and_the_next_batch_still_runs():
    async def run(items):
        if 0 in items:
            raise RuntimeError("database gone")
        return items

    batcher = Batcher(run)
    with pytest.raises(RuntimeError, match="database gone"):
        await batcher.submit(0)
    assert await batcher.submit(7) == 7


async def test_a_caller_that_gives_up_does_not_stop_the_others():
    gate = asyncio.Event()
    rec = Recorder(gate)
    batcher = Batcher(rec.run)
    first = asyncio.create_task(batcher.submit(1))
    second = asyncio.create_task(batcher.submit(2))
    await asyncio.sleep(0)
    first.cancel()
    gate.set()
    assert await second == 20
    assert rec.batches == [[1, 2]]  # the abandoned item was still processed


async def test_a_cancelled_worker_releases_every_waiting_caller():
    gate = asyncio.Event()  # never set: the batch hangs until the worker is cancelled
    batcher = Batcher(Recorder(gate).run)
    calls = [asyncio.create_task(batcher.submit(i)) for i in range(3)]
    await asyncio.sleep(0)
    batcher._worker.cancel()
    results = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 5)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)


async def test_aclose_waits_for_the_batch_a_caller_gave_up_on():
    """The app closes the batcher before the database: no worker is left mid-statement
    for the loop's close to trip over."""
    started, release, done = asyncio.Event(), asyncio.Event(), []

    async def run(items):
        started.set()
        await release.wait()
        done.extend(items)
        return items

    batcher = Batcher(run)
    caller = asyncio.create_task(batcher.submit(1))
    await started.wait()
    caller.cancel()  # a request that gave up: its item is still being written
    closing = asyncio.create_task(batcher.aclose())
    await asyncio.sleep(0)
    assert not closing.done()
    release.set()
    await closing
    assert done == [1]
