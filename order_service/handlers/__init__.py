"""Use cases: one short async function each (load via the unit of work, call the domain,
store, commit), wired with typed dependencies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from order_service.adapters.platform import PlatformAdapter, PlatformSync
from order_service.adapters.reads import OrderReads
from order_service.adapters.uow import OrderUnitOfWork
from shared.batching import Batcher
from shared.clock import Clock
from shared.settings import Mode


@dataclass
class Deps:
    """What handlers are wired with (built once by the composition root, or from fakes)."""

    uow: Callable[[], OrderUnitOfWork]
    reads: OrderReads
    clock: Clock
    mode: Mode = Mode.development
    # Whether two write transactions can run at once (PostgreSQL); SQLite's writers begin
    # IMMEDIATE, one after the other, so neither misses the other's rows there.
    interleaves: bool = False
    platform: PlatformAdapter | None = None  # the app wires these three
    platform_sync: PlatformSync | None = None
    intake: Batcher[Any, Any] | None = None  # group commit of order webhooks
