"""Scanners racing a stop-shipment: label, pack and ship many parcels of one dropship
warehouse while ops records a stop, then judge the stop against what the scanners saw."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import httpx

from bench.faults_load import until_answered
from tests.support import bearer, wait_until

OPS = bearer("dev-ops")
STEPS = {"allocated": "label", "labelled": "pack", "packed": "ship"}
BODIES = {"label": {"carrier": "SF"}, "pack": {"scanned": ["SKU-7"], "weight_grams": 500}}


@dataclass
class ScanRace:
    url: str
    deadline: float
    warehouse: str = "WH-DS-1"
    shipped: list[tuple[str, float]] = field(default_factory=list)  # (order id, sent at)
    stop_sent: float | None = None
    stop_recorded: float | None = None
    stop_id: str | None = None
    refused: int = 0

    @property
    def scanner(self) -> dict[str, str]:
        return bearer(f"dev-scanner-{self.warehouse}")

    async def tasks(self, http, status: str | None = None) -> list[dict]:
        params = {"limit": 5000} | ({"status": status} if status else {})
        r = await http.get(
            f"{self.url}/warehouses/{self.warehouse}/shipments", params=params, headers=self.scanner
        )
        r.raise_for_status()
        return r.json()

    async def _have(self, http, expected: int) -> bool:
        return len(await self.tasks(http)) >= expected

    async def prepare(self, expected: int) -> list[str]:
        """Wait for the submitted orders' tasks, import them all; their shipment ids."""
        async with httpx.AsyncClient(timeout=30) as http:
            await wait_until(
                lambda: self._have(http, expected),
                timeout=120,
                interval=0.5,
                message=f"{expected} tasks in {self.warehouse}",
            )
            await http.post(
                f"{self.url}/warehouses/{self.warehouse}/imports",
                json={"all_queued": True},
                headers=self.scanner,
            )
            return [t["shipment_id"] for t in await self.tasks(http, "allocated")]

    async def scan_all(self, ids: list[str], workers: int = 16) -> None:
        queue = list(reversed(ids))
        async with httpx.AsyncClient(timeout=5) as http:

            async def worker() -> None:
                while queue:
                    await self._parcel(http, queue.pop())

            await asyncio.gather(*(worker() for _ in range(workers)))

    async def _parcel(self, http, shipment_id: str, status: str = "allocated") -> None:
        """Label → pack → ship, each step resent until answered; 409 re-reads the task."""
        while status in STEPS and time.monotonic() < self.deadline:
            step = STEPS[status]
            sent = time.monotonic()
            r = await until_answered(
                http,
                "POST",
                f"{self.url}/shipments/{shipment_id}/{step}",
                self.deadline,
                body=BODIES.get(step),
                headers=self.scanner,
            )
            if r is None:
                return
            if r.status_code == 409:
                got = await until_answered(
                    http,
                    "GET",
                    f"{self.url}/shipments/{shipment_id}",
                    self.deadline,
                    headers=self.scanner,
                )
                if got is None or got.json()["status"] == status:
                    return
                status = got.json()["status"]
                continue
            if not r.is_success:  # 423 held by the stop, or refused for good
                self.refused += 1
                return
            status = r.json()["status"]
            if step == "ship":
                self.shipped.append((r.json()["order_id"], sent))

    async def issue_stop(self) -> None:
        """Ops records a stop on the whole warehouse (resent until answered)."""
        body = {"scope": {"warehouses": [self.warehouse]}, "reason": "fault suite"}
        self.stop_sent = time.monotonic()
        async with httpx.AsyncClient(timeout=5) as http:
            r = await until_answered(
                http, "POST", f"{self.url}/stop-shipments", self.deadline, body=body, headers=OPS
            )
        self.stop_recorded = time.monotonic()
        self.stop_id = r.json()["stop_id"] if r is not None and r.is_success else None

    async def report(self) -> dict | None:
        async with httpx.AsyncClient(timeout=10) as http:
            r = await http.get(f"{self.url}/stop-shipments/{self.stop_id}", headers=OPS)
            return r.json() if r.is_success else None

    async def acknowledged(self) -> bool:
        report = await self.report()
        return report is not None and self.warehouse not in report["unacknowledged_warehouses"]

    async def judge(self, notes) -> int:
        """Parcels that left after the stop: shipped but missing from the stop's
        already-shipped list, or shipped by a scan sent after the stop was answered."""
        if self.stop_id is None:
            notes["stop_not_recorded"] += 1
            return 1
        report = await self.report()
        if report is None:
            notes["stop_report_missing"] += 1
            return 1
        listed = set(report["already_shipped"])
        async with httpx.AsyncClient(timeout=30) as http:
            left = {t["order_id"] for t in await self.tasks(http, "shipped")}
        unlisted = left - listed
        if self.warehouse in report["unacknowledged_warehouses"]:
            notes["stop_unacknowledged"] = 1  # no already-shipped list to judge against
            unlisted = set()
        recorded = self.stop_recorded if self.stop_recorded is not None else float("inf")
        late = {o for o, sent in self.shipped if sent > recorded}
        notes["shipped_before_stop_listed"] = len(listed)
        notes["shipped_unlisted"] = len(unlisted)
        notes["shipped_by_scan_sent_after_stop"] = len(late)
        notes["scans_refused"] = self.refused
        return len(unlisted | late)
