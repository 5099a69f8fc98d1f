"""Schema migrations: `python -m services.migrate [service ...] [--check]`.

Upgrades each service's database (all three by default) to the code's head, reading
the same ORDER_/WAREHOUSE_/AFTERSALES_DATABASE_URL settings as the services (SQLite
under var/ in development). `--check` changes nothing and exits 1 if a database is not
at head or differs from the tables the code declares.
`--revision MESSAGE` autogenerates the next numbered revision into each named service's
tree (all three by default; a service whose tables match its migrations gets none),
diffing the code's tables against a scratch SQLite database at head. Review it; write
data moves and PostgreSQL-only options (such as a table's fillfactor) by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

from alembic import command
from alembic.script import Script

from shared.db import Database
from shared.migrations import SERVICES, SchemaBehind, Tree
from shared.settings import Settings


async def upgrade(service: str) -> str:
    tree, db = Tree(service), Database(Settings(service=service).database_url)
    try:
        await tree.upgrade(db)
    finally:
        await db.dispose()
    return f"{service}: at {tree.head}"


async def check(service: str) -> str:
    """'' when the database is at head and matches the code, else what is wrong."""
    tree, db = Tree(service), Database(Settings(service=service).database_url)
    try:
        await tree.check(db)
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(tree.diff_on)
    except SchemaBehind as exc:
        return str(exc)
    finally:
        await db.dispose()
    if diff:
        return f"the {service} database differs from the code's tables: {diff}"
    return ""


def revision(service: str, message: str) -> Path | None:
    """Autogenerate `service`'s next revision; None when its tables match its migrations."""
    tree = Tree(service)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/scratch.db"

        async def diff_at_head() -> list[Any]:
            db = Database(url)
            try:
                await tree.upgrade(db)
                async with db.engine.connect() as conn:
                    return await conn.run_sync(tree.diff_on)
            finally:
                await db.dispose()

        if not asyncio.run(diff_at_head()):
            return None
        cfg = tree.config(url=url)
        cfg.set_section_option("post_write_hooks", "hooks", "ruff_format, ruff_fix")
        for name, args in (("ruff_format", "format"), ("ruff_fix", "check --fix")):
            cfg.set_section_option("post_write_hooks", f"{name}.type", "module")
            cfg.set_section_option("post_write_hooks", f"{name}.module", "ruff")
            cfg.set_section_option(
                "post_write_hooks", f"{name}.options", f"{args} REVISION_SCRIPT_FILENAME"
            )
        script = command.revision(cfg, message=message, autogenerate=True, rev_id=tree.next_id())
    if not isinstance(script, Script):  # one head, one tree: alembic writes one script
        raise RuntimeError(f"{service}: alembic wrote no single revision ({script!r})")
    return Path(script.path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m services.migrate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("services", nargs="*", metavar="service", help=f"{', '.join(SERVICES)} (all)")
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 if behind")
    p.add_argument("--revision", metavar="MESSAGE", help="autogenerate the next revision")
    args = p.parse_args(argv)
    services = args.services or list(SERVICES)
    if unknown := set(services) - set(SERVICES):
        p.error(f"unknown service {', '.join(sorted(unknown))}; choose from {', '.join(SERVICES)}")
    if args.revision:
        for s in services:
            path = revision(s, args.revision)
            print(f"{s}: wrote {path}; review it" if path else f"{s}: no change, no revision")
        return 0
    if args.check:
        problems = [msg for s in services if (msg := asyncio.run(check(s)))]
        for msg in problems:
            print(msg, file=sys.stderr)
        return 1 if problems else 0
    for s in services:
        print(asyncio.run(upgrade(s)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
