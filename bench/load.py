"""A small keep-alive HTTP/1.1 load generator, run as its own process.

Reads prepared requests (raw bytes, one per line, base64) and sends them over
`--connections` persistent connections, each request once. Prints JSON with
the count, elapsed seconds, status counts and latency percentiles (ms).

    python -m bench.load --host 127.0.0.1 --port 8001 --connections 32 requests.b64
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import time
from collections import Counter

from bench.common import pct


async def worker(
    host: str, port: int, queue: list[bytes], lat: list[float], statuses: Counter
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    while queue:
        request = queue.pop()
        start = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        if length:
            await reader.readexactly(length)
        lat.append((time.perf_counter() - start) * 1000)
        statuses[status] += 1
    writer.close()


async def run(host: str, port: int, connections: int, requests: list[bytes]) -> dict:
    lat: list[float] = []
    statuses: Counter = Counter()
    queue = list(reversed(requests))
    start = time.perf_counter()
    await asyncio.gather(*(worker(host, port, queue, lat, statuses) for _ in range(connections)))
    elapsed = time.perf_counter() - start
    return {
        "requests": len(lat),
        "seconds": elapsed,
        "rps": len(lat) / elapsed,
        "p50_ms": pct(lat, 50),
        "p99_ms": pct(lat, 99),
        "statuses": {str(k): v for k, v in statuses.items()},
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("requests_file")
    args = p.parse_args()
    with open(args.requests_file) as f:
        requests = [base64.b64decode(line) for line in f if line.strip()]
    # uvloop when installed (it comes with uvicorn[standard]): the generator shares two
    # cores with the service and its database, so the less it costs the better.
    try:
        import uvloop
    except ImportError:
        runner = asyncio.run
    else:
        runner = uvloop.run
    print(json.dumps(runner(run(args.host, args.port, args.connections, requests))))


if __name__ == "__main__":
    main()
