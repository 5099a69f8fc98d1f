"""`python -m console --port 8000`: serve the console (the runner starts it with the rest).

The services' URLs come from `CONSOLE_ORDER_URL`, `CONSOLE_WAREHOUSE_URL` and
`CONSOLE_AFTERSALES_URL` (default 127.0.0.1:8001-8003)."""

from __future__ import annotations

import argparse

import uvicorn

from console.app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args()
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
