"""Fixtures that run every test tier against either infrastructure shape.

Embedded (default): SQLite files in a temp folder and a Tansu broker started
once per session. Production shape: set `KAFKA_BOOTSTRAP_SERVERS` (Apache
Kafka) and `TEST_POSTGRES_URL` (an admin URL such as
postgresql+asyncpg://fulfil:fulfil@127.0.0.1:5432/postgres); each test then
gets fresh PostgreSQL databases. Every test gets its own topic prefix, so
tests never see each other's events.
"""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

import shared.events  # noqa: F401 - registers the event contracts
from services.broker import start_tansu
from shared.settings import Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SESSION = uuid.uuid4().hex[:4]


@pytest.fixture(scope="session")
def broker(tmp_path_factory) -> str:
    """Bootstrap servers of a real broker: the given Kafka, else an embedded Tansu.

    On Kafka the session's topics are deleted at the end: a dev broker would otherwise
    keep thousands of them, and take minutes to recover its logs after a kill.
    """
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield os.environ["KAFKA_BOOTSTRAP_SERVERS"]
        _run_in_thread(lambda: _delete_topics(os.environ["KAFKA_BOOTSTRAP_SERVERS"]))
        return
    port = _free_port()
    proc: subprocess.Popen = start_tansu(port, tmp_path_factory.mktemp("broker") / "tansu.log")
    yield f"127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


async def _delete_topics(bootstrap: str) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        ours = [t for t in await admin.list_topics() if t.startswith(f"t{SESSION}")]
        for i in range(0, len(ours), 200):
            await admin.delete_topics(ours[i : i + 200])
    except Exception as exc:  # a left topic is clutter, not a failure
        warnings.warn(f"could not delete this session's topics: {exc}", stacklevel=1)
    finally:
        await admin.close()


def kafka_idempotence() -> bool:
    return os.environ.get("KAFKA_IDEMPOTENCE", "false").lower() == "true"


def session_timeout_ms() -> int:
    """Short sessions on Tansu (it holds joins for half of it); Kafka's minimum is 6 s."""
    return 6000 if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") else 3000


class Databases:
    """Fresh databases per test: SQLite files, or new PostgreSQL databases."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.admin_url = os.environ.get("TEST_POSTGRES_URL", "")
        self.created: list[str] = []

    @property
    def postgres(self) -> bool:
        return bool(self.admin_url)

    def url(self, name: str) -> str:
        if not self.postgres:
            return f"sqlite+aiosqlite:///{self.tmp / name}.db"
        db = f"t_{name}_{uuid.uuid4().hex[:10]}"
        self._admin(f'CREATE DATABASE "{db}"')
        self.created.append(db)
        return self.admin_url.rsplit("/", 1)[0] + f"/{db}"

    def _admin(self, sql: str) -> None:
        import asyncio

        import asyncpg

        async def run():
            dsn = self.admin_url.replace("postgresql+asyncpg", "postgresql")
            conn = await asyncpg.connect(dsn)
            try:
                await conn.execute(sql)
            finally:
                await conn.close()

        asyncio.run(run()) if not _loop_running() else _run_in_thread(run)

    def drop_all(self) -> None:
        """Drop this test's databases; a failed drop leaves a stray database, not a failure."""
        for db in self.created:
            try:
                self._admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            except Exception as exc:
                warnings.warn(f"could not drop test database {db}: {exc}", stacklevel=1)


def _loop_running() -> bool:
    import asyncio

    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        return False


def _run_in_thread(coro_fn) -> None:
    import asyncio
    import threading

    errors: list[BaseException] = []

    def target():
        try:
            asyncio.run(coro_fn())
        except BaseException as exc:  # re-raised below
            errors.append(exc)

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if errors:
        raise errors[0]


@pytest.fixture
def databases(tmp_path) -> Databases:
    dbs = Databases(tmp_path)
    yield dbs
    dbs.drop_all()


@pytest.fixture
def topic_prefix() -> str:
    return f"t{SESSION}{uuid.uuid4().hex[:8]}."


@pytest.fixture
def make_settings(broker, databases, topic_prefix, tmp_path) -> Callable[..., Settings]:
    """`make_settings("order", FULFIL_RELAY_IDLE_MS=50)` → settings on this test's infra.

    Each service name gets its own database (created once per test and name).
    """
    urls: dict[str, str] = {}

    def make(service: str, **overrides) -> Settings:
        if service not in urls:
            urls[service] = databases.url(service)
        values = {
            "KAFKA_BOOTSTRAP_SERVERS": broker,
            "KAFKA_IDEMPOTENCE": kafka_idempotence(),
            "KAFKA_SESSION_TIMEOUT_MS": session_timeout_ms(),
            "FULFIL_TOPIC_PREFIX": topic_prefix,
            "FULFIL_VAR_DIR": str(tmp_path / "var"),
            f"{service.upper()}_DATABASE_URL": urls[service],
            "FULFIL_RELAY_IDLE_MS": 50,
        }
        values.update(overrides)
        return Settings(service=service, **values)

    return make
