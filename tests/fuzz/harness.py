"""Run schemathesis against one service app in-process (ASGI, no ports), bounded and seeded.

The app runs its real lifespan (database, broker, relay, consumers) in a background event
loop; schemathesis generates cases from the app's own OpenAPI, the harness sends them
through `httpx.ASGITransport` on that loop and checks each response. Cases are drawn
with a fixed seed (`derandomize`), and every failure is collected (not shrunk), so one
run reports all of them within a bounded time.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import schemathesis
from anyio.from_thread import BlockingPortal, start_blocking_portal
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
BASE_URL = "http://fuzz"
ROLE_KEYS = (
    "dev-clerk",
    "dev-cs_agent",
    "dev-cs_supervisor",
    "dev-ops",
    "dev-admin",
    "dev-scanner-WH-OWN-1",
)
SHOP, GENERIC_SECRET, SHOPIFY_SECRET = "demo-shop", "dev-shop-secret", "dev-shopify-secret"


@dataclass
class Failure:
    operation: str
    check: str
    status: int | None
    message: str
    request: str


@dataclass
class Report:
    """What one service's run did: operations, examples (requests) and distinct failures."""

    service: str
    operations: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    examples: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    by_operation: dict[str, dict[int, int]] = field(default_factory=dict)
    failures: dict[tuple[str, str, int | None], Failure] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        lines = [
            f"{self.service}: {len(self.operations)} operations fuzzed, {self.examples} examples, "
            f"{len(self.failures)} distinct failures, {self.seconds:.1f} s; "
            f"statuses {dict(sorted(self.statuses.items()))}"
        ]
        lines += [f"  skipped {op}: {why}" for op, why in self.skipped.items()]
        lines += [f"  {op}: {dict(sorted(seen.items()))}" for op, seen in self.by_operation.items()]
        for f in self.failures.values():
            lines.append(f"  FAIL {f.operation} [{f.check}] status={f.status}: {f.message}")
            lines.append(f"       {f.request}")
        return "\n".join(lines)


@contextlib.contextmanager
def serving(app: FastAPI) -> Iterator[tuple[BlockingPortal, httpx.AsyncClient]]:
    """The app's lifespan on a background loop, and an ASGI client that answers 500s
    (rather than raising the app's exception) as a real server would."""

    @contextlib.asynccontextmanager
    async def run():
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
                yield client

    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(run()) as client,
    ):
        yield portal, client


def sign_generic(raw: bytes) -> dict[str, str]:
    stamp = str(int(time.time()))
    digest = hmac.new(GENERIC_SECRET.encode(), stamp.encode() + b"." + raw, hashlib.sha256)
    return {"X-Shop-Id": SHOP, "X-Timestamp": stamp, "X-Signature": f"sha256={digest.hexdigest()}"}


def sign_shopify(raw: bytes) -> dict[str, str]:
    digest = hmac.new(SHOPIFY_SECRET.encode(), raw, hashlib.sha256).digest()
    return {
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
        "X-Shopify-Shop-Domain": f"{SHOP}.myshopify.com",
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Topic": "orders/create",
    }


def _signer(path: str) -> Callable[[bytes], dict[str, str]] | None:
    if path.startswith("/webhooks/generic/"):
        return sign_generic
    if path.startswith("/webhooks/shopify/"):
        return sign_shopify
    return None


@dataclass
class Explicit:
    """A hand-written case, sent (and checked) before the generated ones: it reaches the
    success paths random data seldom does (a valid signed order, a scan sequence)."""

    operation: str  # "POST /path/{param}"
    body: Any = None
    path: dict[str, str] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    key: str = "dev-admin"


Prepare = Callable[[httpx.AsyncClient, Any, int], Awaitable[None]]


def _keys(operation) -> st.SearchStrategy[str]:
    """Half the cases with a key whose role the route allows ("Roles: ..." in its
    description), half with any key: success paths and 403s both get their share."""
    description = operation.definition.raw.get("description", "")
    roles = description.partition("Roles: ")[2].split(".")[0].split(", ")
    allowed = [k for k in ROLE_KEYS if k.removeprefix("dev-").split("-")[0] in roles]
    any_key = st.sampled_from(ROLE_KEYS)
    return st.one_of(st.sampled_from(allowed), any_key) if allowed else any_key


class Fuzzer:
    """Fuzz every operation of one app; `known` maps a path parameter to real ids, which
    replace the generated value in part of the cases so that success paths are reached;
    `prepare` may refresh a case against the live state (e.g. a current `If-Match`)."""

    def __init__(
        self,
        service: str,
        app: FastAPI,
        portal: BlockingPortal,
        client: httpx.AsyncClient,
        *,
        known: dict[str, list[str]] | None = None,
        skip: dict[str, str] | None = None,
        explicit: list[Explicit] = (),
        prepare: Prepare | None = None,
        max_examples: int = 20,
        allow_nul: bool = True,
    ):
        self.app, self.portal, self.client = app, portal, client
        self.known = known or {}
        self.skip = skip or {}
        self.max_examples = max_examples
        self.explicit, self.prepare = list(explicit), prepare
        self.report = Report(service)
        self.schema = schemathesis.openapi.from_dict(app.openapi())
        self.schema.config.generation.update(allow_x00=allow_nul)

    def run(self) -> Report:
        started = time.perf_counter()
        operations = {op.label: op for op in (r.ok() for r in self.schema.get_all_operations())}
        for ex in self.explicit:
            media = {"media_type": "application/json"} if ex.body is not None else {}
            case = operations[ex.operation].Case(
                path_parameters=dict(ex.path),
                query=dict(ex.query),
                headers=dict(ex.headers),
                **({"body": ex.body} if ex.body is not None else {}),
                **media,
            )
            self._send(case, ex.key, 0, True)
        for result in self.schema.get_all_operations():
            operation = result.ok()
            label = operation.label
            if label in self.skip:
                self.report.skipped[label] = self.skip[label]
                continue
            self.report.operations.append(label)
            self._fuzz(operation)
        self.report.seconds = time.perf_counter() - started
        return self.report

    def _fuzz(self, operation) -> None:
        modes = [operation.as_strategy(GenerationMode.POSITIVE)]
        with contextlib.suppress(Exception):  # some operations cannot be negated
            modes.append(operation.as_strategy(GenerationMode.NEGATIVE))
        strategy = st.tuples(
            st.one_of(modes),
            _keys(operation),
            st.integers(0, 3),  # 0: generated id, else a known one
            st.booleans(),  # webhooks: signed, or not (then 401 is expected)
        )

        @settings(
            max_examples=self.max_examples,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(strategy)
        def fuzz(drawn):
            case, key, pick, signed = drawn
            self._send(case, key, pick, signed)

        fuzz()

    def _send(self, case, key: str, pick: int, signed: bool) -> None:
        for name in case.path_parameters or {}:
            ids = self.known.get(name)
            if ids and pick:
                case.path_parameters[name] = ids[(pick - 1) % len(ids)]
        if self.prepare is not None:
            self.portal.call(self.prepare, self.client, case, pick)
        kwargs = case.as_transport_kwargs(base_url=BASE_URL)
        headers = dict(kwargs.get("headers") or {})
        request: dict[str, Any] = {
            "method": kwargs["method"],
            "url": kwargs["url"],
            "params": kwargs.get("params"),
        }
        raw = kwargs.get("data")
        if "json" in kwargs:
            raw = json.dumps(kwargs["json"]).encode()
            headers.setdefault("Content-Type", "application/json")
        if isinstance(raw, str):
            raw = raw.encode()
        sign = _signer(case.path)
        if sign is None:
            headers["Authorization"] = f"Bearer {key}"
        elif signed:
            headers.update(sign(raw or b""))
        request["headers"] = headers
        if raw is not None:
            request["content"] = raw
        response = self.portal.call(lambda: self.client.request(**request))
        self.report.examples += 1
        status = response.status_code
        self.report.statuses[status] = self.report.statuses.get(status, 0) + 1
        seen = self.report.by_operation.setdefault(case.operation.label, {})
        seen[status] = seen.get(status, 0) + 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as exc:  # a FailureGroup is a BaseExceptionGroup
            self._record(case, response, exc, request)

    def _record(self, case, response, exc: BaseException, request: dict) -> None:
        failures = getattr(exc, "exceptions", None) or [exc]
        for failure in failures:
            check = type(failure).__name__
            key = (case.operation.label, check, response.status_code)
            if key in self.report.failures:
                continue
            message = getattr(failure, "title", "") or str(failure)
            detail = str(getattr(failure, "message", "") or "")[:400]
            body = request.get("content", b"")[:300]
            self.report.failures[key] = Failure(
                case.operation.label,
                check,
                response.status_code,
                f"{message}: {detail}" if detail else message,
                f"{request['method']} {request['url']} params={request.get('params')} "
                f"body={body!r} -> {response.text[:300]}",
            )
