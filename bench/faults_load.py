"""The traffic of a fault scenario: signed webhooks resent until 2xx, like Shopify (same
webhook id every time), and the clerk / CS calls that follow some of them: review and
submit (so the warehouse gets tasks), refunds through after-sales and refund webhooks."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import httpx

from tests.support import bearer
from tests.support.webhooks import generic_order, sign_generic

CLERK, CS = bearer("dev-clerk"), bearer("dev-cs_agent")
# SKU-1 ships from the own warehouse, SKU-7 from dropship WH-DS-1, SKU-9 from WH-DS-2.
MIXES = (("SKU-7",), ("SKU-1",), ("SKU-1", "SKU-9"))
FOLLOW_UP_SECONDS = 90
ANSWER_SECONDS = 240  # a webhook is resent until 2xx for this long after its first send


async def until_answered(
    http,
    method,
    url,
    deadline,
    *,
    sign=None,
    body=None,
    headers=None,
    retry_if=lambda r: r.status_code >= 500,
    failures: Counter | None = None,
) -> httpx.Response | None:
    """Send until an answer that `retry_if` accepts as final, or `deadline` passes (None).
    A transport error or a timeout is always retried; `sign(body)` re-signs each attempt.
    `failures` counts the attempts retried, by status code or exception name."""
    pause = 0.1
    while time.monotonic() < deadline:
        try:
            if sign:
                headers, content = sign(body)
                r = await http.request(method, url, headers=headers, content=content)
            else:
                r = await http.request(method, url, headers=headers, json=body)
            if not retry_if(r):
                return r
            if failures is not None:
                failures[f"retried {r.status_code}"] += 1
        except httpx.HTTPError as exc:
            if failures is not None:
                failures[f"retried {type(exc).__name__}"] += 1
        await asyncio.sleep(pause)
        pause = min(pause * 2, 1.0)
    return None


def _webhook_retry(r: httpx.Response) -> bool:
    return not r.is_success


def _refund_retry(r: httpx.Response) -> bool:
    """After-sales may not know a new order yet (404 order_unknown): ask again."""
    return r.status_code >= 500 or r.status_code == 404


@dataclass
class Stream:
    """N signed webhooks at `rate` per second; follow-ups on every 4th / 20th order."""

    urls: dict[str, str]
    n: int
    rate: float
    deadline: float
    mixes: tuple = MIXES
    submit_every: int = 4
    acked: dict[str, str] = field(default_factory=dict)  # platform order id -> order id
    sent: int = 0
    counts: Counter = field(default_factory=Counter)
    tasks: list[asyncio.Task] = field(default_factory=list)
    answers: list[tuple[float, float]] = field(default_factory=list)  # (sent at, seconds)

    def answer_times(self) -> str:
        """Client-side seconds from a webhook's first send to its 2xx: p50 / p99 / max."""
        took = sorted(t for _, t in self.answers)
        if not took:
            return "none"
        p50, p99 = took[len(took) // 2], took[min(len(took) - 1, int(len(took) * 0.99))]
        return f"{p50:.2f} / {p99:.2f} / {took[-1]:.2f}"

    def slowest_answers(self, origin: float, window: float = 10.0) -> str:
        """Per `window` seconds from `origin` (a fault's clock), the slowest webhook answer:
        where the stream stalled."""
        worst: dict[int, float] = {}
        for began, took in self.answers:
            k = int((began - origin) // window)
            worst[k] = max(worst.get(k, 0.0), took)
        return " ".join(f"{k * window:+.0f}s:{v:.1f}" for k, v in sorted(worst.items()) if v > 1)

    async def run(self) -> None:
        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(timeout=5, limits=limits) as http:
            gate = asyncio.Semaphore(64)
            start = time.monotonic()
            for i in range(self.n):
                await asyncio.sleep(max(0.0, start + i / self.rate - time.monotonic()))
                await gate.acquire()
                behind = round(time.monotonic() - (start + i / self.rate))
                self.counts["generator_behind_max_s"] = max(
                    self.counts["generator_behind_max_s"], behind
                )
                self.tasks.append(asyncio.create_task(self._one(http, gate, i)))
            await asyncio.gather(*self.tasks)

    async def _one(self, http, gate, i: int) -> None:
        pid = f"F-{i:05d}-{uuid.uuid4().hex[:6]}"
        body = json.dumps(generic_order(pid, skus=self.mixes[i % len(self.mixes)])).encode()
        self.sent += 1
        began = time.monotonic()
        try:
            r = await until_answered(
                http,
                "POST",
                self.urls["order"] + "/webhooks/generic/orders",
                # Its own bound, from when it is sent: a generator that fell behind on a
                # starved machine must not turn late sends into unanswered webhooks.
                max(self.deadline, began + ANSWER_SECONDS),
                sign=sign_generic,
                body=body,
                retry_if=_webhook_retry,
                failures=self.counts,
            )
        finally:
            gate.release()
            self.answers.append((began, time.monotonic() - began))
        if r is None:
            self.counts["webhook_gave_up"] += 1
            return
        order_id = r.json()["order_id"]
        self.acked[pid] = order_id
        try:
            async with asyncio.timeout(FOLLOW_UP_SECONDS):  # a call never answered gives up
                await self._follow_up(http, i, pid, order_id)
        except TimeoutError:
            self.counts["follow_up_gave_up"] += 1

    async def _follow_up(self, http, i: int, pid: str, order_id: str) -> None:
        if i % self.submit_every == 0 and await self._submit(http, order_id):
            self.counts["submitted"] += 1
            if i % 40 == 0:
                await self._refund(http, order_id, "cs_after_submit")
        elif i % 20 == 1:
            await self._refund(http, order_id, "cs")
        elif i % 20 == 11:
            await self._refund_webhook(http, pid)

    async def _submit(self, http, order_id: str) -> bool:
        base = f"{self.urls['order']}/orders/{order_id}"
        for step, body in (("review", {"approve": True}), ("submit", None)):
            r = await until_answered(
                http, "POST", f"{base}/{step}", self.deadline, body=body, headers=CLERK
            )
            if r is None or not (r.is_success or r.status_code == 409):
                self.counts[f"{step}_refused"] += 1
                return False
        return True

    async def _refund(self, http, order_id: str, kind: str) -> None:
        body = {"order_id": order_id, "reason": "fault suite", "reason_code": "changed_mind"}
        r = await until_answered(
            http,
            "POST",
            self.urls["aftersales"] + "/refunds",
            self.deadline,
            body=body,
            headers=CS,
            retry_if=_refund_retry,
        )
        self.counts[f"refund_{kind}_{r.status_code if r is not None else 'gave_up'}"] += 1

    async def _refund_webhook(self, http, pid: str) -> None:
        body = json.dumps(
            {
                "event_id": str(uuid.uuid4()),
                "platform": "taobao",
                "platform_order_id": pid,
                "platform_refund_id": f"R-{pid}",
                "amount": "59.00",
                "reason": "fault suite",
            }
        ).encode()
        r = await until_answered(
            http,
            "POST",
            self.urls["order"] + "/webhooks/generic/refunds",
            self.deadline,
            sign=sign_generic,
            body=body,
            retry_if=_webhook_retry,
        )
        self.counts[f"refund_webhook_{r.status_code if r is not None else 'gave_up'}"] += 1
