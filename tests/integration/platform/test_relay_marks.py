"""The relay's marks leave SQLite's one writer to the intake (issue 13, bench.lag).

Each mark is a write transaction (and an fsync). Marking every acknowledgement round
as it came took a third of the writer from the webhook group commit once writers took
their turns in order; the relay marks at most every `mark_seconds`, and still marks
every acknowledged row.
"""

from __future__ import annotations

import asyncio
import time

from tests.integration.platform import toy
from tests.integration.platform.fake_producer import Wire
from tests.integration.platform.test_relay_recovery import started, stopped, unpublished
from tests.support import wait_until


async def test_a_steady_trickle_is_marked_in_few_transactions(make_settings, monkeypatch):
    Wire(lambda producer, key, value: None).install(monkeypatch)  # acknowledges at once
    rt = toy.runtime(make_settings("order"))
    marks: list[int] = []
    mark = rt.relay._mark

    async def counted(ids: list[int]) -> None:
        marks.append(len(ids))
        await mark(ids)

    monkeypatch.setattr(rt.relay, "_mark", counted)
    tasks = await started(rt)
    try:
        start = time.monotonic()
        for seq in range(1, 61):  # one commit every ~20 ms, for ~1.2 s and more
            await toy.record_step(rt, f"ord-{seq % 7}", seq)
            await asyncio.sleep(0.02)
        seconds = time.monotonic() - start
        await wait_until(lambda: unpublished(rt), expect=0, message="every row marked")
        assert sum(marks) == 60
        assert len(marks) <= seconds / 0.25 + 2, (len(marks), seconds)  # mark_seconds 0.25
    finally:
        await stopped(rt, tasks)
