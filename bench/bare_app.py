"""The yardstick: a bare FastAPI endpoint doing one INSERT on the same database.

BARE_DATABASE_URL=sqlite+aiosqlite:///x.db python -m bench.bare_app PORT
"""

from __future__ import annotations

import os
import sys

import uvicorn
from fastapi import FastAPI, Request
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, insert

from shared.db import Database

metadata = MetaData()
rows = Table(
    "bare_orders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(100)),
    Column("body", Text),
)
app = FastAPI()


@app.on_event("startup")
async def schema() -> None:
    app.state.db = Database(os.environ["BARE_DATABASE_URL"])
    await app.state.db.create_schema(metadata)


@app.post("/webhooks/generic/orders", status_code=202)
async def ingest(request: Request) -> dict:
    body = await request.body()
    async with request.app.state.db.session() as s, s.begin():
        await s.execute(
            insert(rows).values(key=request.headers.get("x-signature", ""), body=body.decode())
        )
    return {"ok": True}


if __name__ == "__main__":
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
    )
