"""Fault suite (SPEC §5, issue 13): faults injected from outside into the production shape.

Each scenario gets fresh PostgreSQL databases and its own topic prefix, starts the three
services as processes, streams signed webhooks (resent until 2xx with the same webhook
id), submits and refunds some orders, injects its fault, and then checks: acknowledged,
stored, lost, duplicated, double transitions, double refunds, parcels shipped after a
recorded stop, dead letters, orders whose after-sales or warehouse view differs, and the
seconds to recover (from the fault's end and the load's, until every view agrees; bounded).
All but acknowledged, stored and seconds must be 0; the exit status says whether they were.

    .venv/bin/python -m bench.faults                       # every scenario, 2,000 webhooks
    .venv/bin/python -m bench.faults --short               # CI: 300 webhooks, one of each
    .venv/bin/python -m bench.faults --scenario kafka-restart --webhooks 1000

Webhooks arrive at 25/s by default (50/s with --short): within what the consumers apply
on the 2-core machine, so the figures are about faults, not throughput (`bench.lag`).
It starts its own PostgreSQL cluster (5433), single Kafka (9392) and, for `cluster-broker`,
the 3-node cluster (9192-9194); never the shared 5432 / 9092. Logs: /tmp/fulfil-faults/.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.faults_check import Result, check, final
from bench.faults_infra import Cluster, Kafka, Postgres, off_thread
from bench.faults_load import ANSWER_SECONDS, Stream
from bench.faults_scan import ScanRace
from bench.faults_system import System
from tests.support import wait_until

LOGS = Path(os.environ.get("FAULTS_LOG_DIR", "/tmp/fulfil-faults"))


class Run:
    """One scenario: its system, its load, and when its fault ended."""

    def __init__(self, name: str, opts, system: System, stream: Stream, infra: dict):
        self.name, self.opts, self.system, self.stream, self.infra = (
            name,
            opts,
            system,
            stream,
            infra,
        )
        self.fault_end = time.monotonic()
        self.fault_start: float | None = None
        self.race: ScanRace | None = None

    async def progress(self, fraction: float) -> None:
        """Wait until that fraction of the webhooks has been acknowledged."""
        await wait_until(
            lambda: len(self.stream.acked) >= fraction * self.stream.n,
            timeout=max(1.0, self.stream.deadline - time.monotonic()),
            message=f"{fraction:.0%} of the webhooks acknowledged",
        )

    async def restart(self, service: str, down: float = 1.0) -> None:
        self.system[service].kill()
        await asyncio.sleep(down)
        self.system[service].start()
        await self.system[service].ready()
        self.fault_end = time.monotonic()


async def kill_service(run: Run, service: str) -> None:
    await run.progress(1 / 3)
    await run.restart(service)


async def kafka_restarts(run: Run) -> None:
    kafka, times = run.infra["kafka"], run.opts.kafka_restarts
    for k in range(times):
        await run.progress((k + 1) / (times + 1))
        await off_thread(kafka.kill)
        await asyncio.sleep(2)
        await off_thread(kafka.up)
    run.fault_end = time.monotonic()


async def postgres_restart(run: Run) -> None:
    pg = run.infra["postgres"]
    await run.progress(1 / 3)
    await off_thread(pg.down)
    await asyncio.sleep(3)
    await off_thread(pg.up)
    run.fault_end = time.monotonic()


async def cluster_broker(run: Run) -> None:
    cluster = run.infra["cluster"]
    await run.progress(1 / 3)
    run.fault_start = time.monotonic()
    await off_thread(cluster.kill_node, 2)
    await asyncio.sleep(10)
    await off_thread(cluster.start_node, 2)
    run.fault_end = time.monotonic()


async def stop_race(run: Run) -> None:
    """Webhooks for dropship parcels first (all submitted); then scanners race a stop
    and the warehouse is killed just after the stop was recorded."""
    await run.progress(1.0)
    await asyncio.gather(*run.stream.tasks)
    race = run.race = ScanRace(run.system["warehouse"].url, run.stream.deadline)
    ids = await race.prepare(run.stream.counts["submitted"])
    scans = asyncio.create_task(race.scan_all(ids))
    await wait_until(
        lambda: len(race.shipped) >= len(ids) / 3 or scans.done(), timeout=300, interval=0.02
    )
    await race.issue_stop()
    await asyncio.sleep(random.uniform(0, 0.2))
    await run.restart("warehouse")
    await scans


async def nothing(run: Run) -> None:
    """The baseline: no fault (checks the checker)."""


SCENARIOS = {
    "kill-order": lambda run: kill_service(run, "order"),
    "kill-warehouse": lambda run: kill_service(run, "warehouse"),
    "kill-aftersales": lambda run: kill_service(run, "aftersales"),
    "stop-race": stop_race,
    "kafka-restart": kafka_restarts,
    "postgres-restart": postgres_restart,
    "cluster-broker": cluster_broker,
}
EXTRA = {"none": nothing}


async def scenario(name: str, opts, infra: dict, result: Result) -> None:
    if name == "cluster-broker":
        try:  # only for its scenario: three idle brokers would slow down every other one
            await off_thread(infra["cluster"].start)
            await in_system(name, opts, infra, result, infra["cluster"].bootstrap)
        finally:
            infra["cluster"].stop()
    else:
        await in_system(name, opts, infra, result, infra["kafka"].bootstrap)


async def in_system(name: str, opts, infra: dict, result: Result, bootstrap: str) -> None:
    tag = f"{name.replace('-', '_')}_{uuid.uuid4().hex[:4]}"
    db = await infra["postgres"].fresh_databases(tag)
    system = System(bootstrap, db, f"faults-{tag}.", LOGS / tag)
    try:
        await system.start()
        urls = {n: s.url for n, s in system.services.items()}
        race = name == "stop-race"
        n = opts.parcels if race else opts.webhooks
        deadline = time.monotonic() + n / opts.rate + ANSWER_SECONDS
        extra: dict[str, Any] = {"mixes": (("SKU-7",),), "submit_every": 1} if race else {}
        stream = Stream(urls, n, opts.rate, deadline, **extra)
        run = Run(name, opts, system, stream, infra)
        stream_began = time.monotonic()
        load = asyncio.create_task(stream.run())
        await {**SCENARIOS, **EXTRA}[name](run)
        await load
        await recover(run, db, result)
        await final(bootstrap, system.prefix, db, result)
        if run.race:
            result.after_stop = await run.race.judge(result.notes)
        result.notes.update({f"load: {k}": v for k, v in stream.counts.items()})
        result.figures["webhook answer s p50 / p99 / max"] = stream.answer_times()
        origin = run.fault_start or stream_began
        result.figures["webhook answers > 1 s (from the fault)"] = stream.slowest_answers(origin)
        result.notes.update({f"log: {k}": v for k, v in system.signs().items() if v})
        result.figures["order POST answers > 1 s / all (server side)"] = await _slow_posts(
            system["order"].url
        )
    finally:
        system.kill()  # checked already: a clean shutdown is not what is measured
        await infra["postgres"].drop_databases(db)


async def _slow_posts(url: str) -> str:
    """From the order service's own latency histogram: POSTs slower than 1 s, of all."""
    async with httpx.AsyncClient(timeout=10) as http:
        text = (await http.get(url + "/metrics")).text
    fast = total = 0.0
    for line in text.splitlines():
        if line.startswith("http_request_seconds_") and 'method="POST"' in line:
            value = float(line.rsplit(" ", 1)[1])
            if line.startswith("http_request_seconds_bucket") and 'le="1.0"' in line:
                fast += value
            elif line.startswith("http_request_seconds_count"):
                total += value
    return f"{total - fast:.0f} / {total:.0f}"


async def recover(run: Run, db: dict[str, str], result: Result) -> None:
    """Poll until every view agrees (and a raced stop is acknowledged), within the bound."""
    quiet = max(run.fault_end, time.monotonic())
    while True:
        agreed = await check(run.stream.acked, run.system["order"].url, db, result)
        if agreed and run.race and not await run.race.acknowledged():
            agreed, result.notes["stop_unacknowledged"] = False, 1
        if agreed:
            result.seconds = time.monotonic() - quiet
            return
        if time.monotonic() - quiet > run.opts.recover_timeout:
            return
        await asyncio.sleep(1)


COLUMNS = (
    "acked",
    "stored",
    "lost",
    "duplicated",
    "double_transitions",
    "double_refunds",
    "after_stop",
    "dead_letters",
    "views_differ",
)
HEADS = ("acked", "stored", "lost", "dup", "2x trans", "2x refund", "after stop", "dead", "views")


def row(name: str, r: Result, bound: float) -> str:
    cells = [f"{getattr(r, c):>{max(len(h), 6)}}" for c, h in zip(COLUMNS, HEADS, strict=True)]
    secs = f"{r.seconds:.1f}" if r.seconds is not None else f">{bound:.0f}"
    return f"{name:<17} {' '.join(cells)} {secs:>8}  {'ok' if r.ok else 'FAIL'}"


def header() -> str:
    cells = [f"{h:>{max(len(h), 6)}}" for h in HEADS]
    return f"{'scenario':<17} {' '.join(cells)} {'recover s':>8}"


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.faults",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--short", action="store_true", help="the CI version (300 webhooks)")
    p.add_argument(
        "--scenario",
        action="append",
        choices=[*SCENARIOS, *EXTRA],
        help="run only this scenario (repeatable)",
    )
    p.add_argument("--webhooks", type=int, help="webhooks per scenario (2000; --short 300)")
    p.add_argument("--parcels", type=int, help="parcels in the stop race (600; --short 150)")
    p.add_argument("--rate", type=float, help="webhooks per second (25; --short 50)")
    p.add_argument("--recover-timeout", type=float, help="seconds (120; --short 60)")
    p.add_argument("--skip-cluster", action="store_true", help="leave out cluster-broker")
    opts = p.parse_args(argv)
    opts.webhooks = opts.webhooks or (300 if opts.short else 2000)
    opts.parcels = opts.parcels or (150 if opts.short else 600)
    opts.recover_timeout = opts.recover_timeout or (60 if opts.short else 120)
    opts.rate = opts.rate or (50.0 if opts.short else 25.0)
    opts.kafka_restarts = 1 if opts.short else 3
    opts.scenarios = opts.scenario or [
        s for s in SCENARIOS if not (opts.skip_cluster and s == "cluster-broker")
    ]
    return opts


async def main(argv: list[str]) -> int:
    opts = parse(argv)
    infra: dict[str, Any] = {"postgres": Postgres(), "kafka": Kafka(), "cluster": Cluster()}
    results: dict[str, Result] = {}
    started = time.monotonic()
    try:
        await off_thread(infra["postgres"].start)
        await off_thread(infra["kafka"].start)
        for name in opts.scenarios:
            print(f"[faults] {name} ...", file=sys.stderr, flush=True)
            results[name] = Result()
            began = time.monotonic()
            try:
                await scenario(name, opts, infra, results[name])
            except Exception as exc:  # a scenario that could not finish is a failure, not a stop
                traceback.print_exc()
                results[name].seconds = None
                results[name].notes[f"error: {exc!r}"[:200]] = 1
            results[name].notes["took s"] = round(time.monotonic() - began)
            print(row(name, results[name], opts.recover_timeout), file=sys.stderr, flush=True)
    finally:
        infra["cluster"].stop()
        infra["kafka"].stop()
        infra["postgres"].stop()
    print(
        f"fault suite: {opts.webhooks} webhooks per scenario ({opts.parcels} parcels in "
        f"stop-race) at {opts.rate:.0f}/s, PostgreSQL 15 + Apache Kafka, "
        f"{time.monotonic() - started:.0f} s in all"
    )
    print(header())
    for name, r in results.items():
        print(row(name, r, opts.recover_timeout))
    for name, r in results.items():
        facts = {**r.notes, **r.figures}
        print(f"  {name}: " + ", ".join(f"{k} {v}" for k, v in sorted(facts.items())))
    print(f"command: .venv/bin/python -m bench.faults {' '.join(argv)}".strip())
    passed = sum(r.ok for r in results.values())
    print(f"faults: {passed} passed, {len(results) - passed} failed")  # a runner's closing line
    return 0 if results and passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
