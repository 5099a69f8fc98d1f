"""The OpenAPI every service publishes: bearer scheme, the real error body, every status.

Routes list the error statuses their handlers and domain errors answer
(`responses=errors(404, 409)`); `install_openapi` adds what holds for every route: the
bearer scheme, 401/403 and the roles on each route that takes an API key, and the JSON
error body (`{"error": {"code", "message", "details"}}`) in place of FastAPI's `{"detail"}`
for 422. Response models are documentation for clients and the fuzzer
(tests/fuzz): `response_model=None` plus `responses={200: {"model": M}}` documents a
body without validating it at run time.
"""

from __future__ import annotations

import inspect
from typing import Any, cast

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

ERROR_REF = "#/components/schemas/ErrorBody"
_FASTAPI_422 = "#/components/schemas/HTTPValidationError"


class ErrorInfo(BaseModel):
    code: str = Field(description="stable, machine-readable error code")
    message: str = Field(description="what went wrong and what to do about it")
    details: dict[str, Any] = Field(description="e.g. `errors` (field, problem) for a 422")


class ErrorBody(BaseModel):
    """Every error the services answer with; never a stack trace."""

    error: ErrorInfo


WHY = {
    401: "No or unknown API key, or (webhooks) a bad or stale signature",
    403: "The key's role may not do this (or a scanner key of another warehouse, or over "
    "the role's approval limit)",
    404: "Not found",
    409: "Refused by the current state (the `code` names the rule)",
    412: "`If-Match` is not the current version (reload and retry)",
    413: "Body over the size limit",
    422: "Invalid request: `details.errors` lists each field and its problem",
    423: "The shipment is held (a stop-shipment or a hold): `details` names it",
    428: "`If-Match` is required (send the `ETag` of the last read)",
    503: "Not ready: the database, broker or consumers are not reachable yet",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for the error statuses a route answers, each with the error body."""
    return {s: {"model": ErrorBody, "description": WHY[s]} for s in statuses}


def documented(
    model: Any, status: int = 200, description: str = "", headers: dict[str, Any] | None = None
) -> dict[int | str, dict[str, Any]]:
    """A documentation-only response body (a model, or e.g. `list[Model]`): the route
    keeps serialising its own value, nothing is validated at run time."""
    entry: dict[str, Any] = {"model": model}
    if description:
        entry["description"] = description
    if headers:
        entry["headers"] = headers
    return {status: entry}


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its `$defs` inlined, for a hand-declared request body."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


def _roles(route: APIRoute) -> tuple[str, ...] | None:
    """The roles of the route's `shared.auth.require` dependency, None if it takes no key."""
    pending = list(route.dependant.dependencies)
    while pending:
        dep = pending.pop()
        call = dep.call
        if call is not None and getattr(call, "__qualname__", "") == "require.<locals>.dependency":
            return tuple(inspect.getclosurevars(call).nonlocals.get("roles", ()))
        pending.extend(dep.dependencies)
    return None


def _swap_refs(node: Any) -> Any:
    if isinstance(node, dict):
        if node.get("$ref") == _FASTAPI_422:
            return {"$ref": ERROR_REF}
        return {k: _swap_refs(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_swap_refs(v) for v in node]
    return node


def _only_refs(node: Any) -> Any:
    """A documented model merged into FastAPI's default `dict` schema keeps just its `$ref`."""
    if isinstance(node, dict):
        if "$ref" in node:
            return {"$ref": node["$ref"]}
        return {k: _only_refs(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_only_refs(v) for v in node]
    return node


def _error_response(status: int) -> dict[str, Any]:
    return {
        "description": WHY[status],
        "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
    }


def build_openapi(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    schema = cast(dict[str, Any], _swap_refs(schema))
    components = schema.setdefault("components", {})
    defs = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        defs.pop(name, None)
    defs["ErrorBody"] = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    defs["ErrorBody"].pop("$defs", None)
    defs["ErrorInfo"] = ErrorInfo.model_json_schema()
    components["securitySchemes"] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "`Authorization: Bearer <api key>`; the key maps to a role "
            "(clerk, cs_agent, cs_supervisor, ops, admin, or scanner bound to one warehouse)",
        }
    }
    for item in schema["paths"].values():
        for operation in item.values():
            for response in operation.get("responses", {}).values():
                for media in response.get("content", {}).values():
                    if "schema" in media:
                        media["schema"] = _only_refs(media["schema"])
    for route in app.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        roles = _roles(route)
        if roles is None:
            continue
        for method in route.methods or ():
            operation = schema["paths"][route.path_format][method.lower()]
            operation["security"] = [{"bearer": []}]
            allowed = ", ".join(sorted({*roles, "admin"}))
            note = f"Roles: {allowed}."
            operation["description"] = f"{operation.get('description', '')}\n\n{note}".strip()
            responses = operation.setdefault("responses", {})
            for status in (401, 403):
                responses.setdefault(str(status), _error_response(status))
    return schema


def install_openapi(app: FastAPI) -> None:
    """Serve `build_openapi` at /openapi.json (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
