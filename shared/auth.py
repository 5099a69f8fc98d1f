"""API keys mapped to roles; scanner keys are bound to one warehouse."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request

from shared.errors import AppError


@dataclass(frozen=True)
class Principal:
    """The caller: a role, and for a scanner key the one warehouse it is bound to."""

    role: str
    warehouse_id: str | None = None
    key_hint: str = ""

    @property
    def actor(self) -> str:
        """Who did it, for timelines: role (and warehouse) plus a key hint."""
        who = f"scanner@{self.warehouse_id}" if self.warehouse_id else self.role
        return f"{who}:{self.key_hint}"


def _role_for(keys: dict[str, str], key: str) -> str | None:
    """The key's role, comparing with every configured key in constant time (no early exit)."""
    given, role = key.encode(), None
    for known, known_role in keys.items():
        if hmac.compare_digest(known.encode(), given):
            role = known_role
    return role


def principal_for(keys: dict[str, str], authorization: str | None) -> Principal:
    if not authorization or not authorization.startswith("Bearer "):
        raise AppError(401, "unauthenticated", "send 'Authorization: Bearer <api key>'")
    key = authorization.removeprefix("Bearer ").strip()
    role = _role_for(keys, key)
    if role is None:
        raise AppError(401, "unauthenticated", "unknown API key")
    hint = hashlib.sha256(key.encode()).hexdigest()[:8]  # names the key without revealing it
    if role.startswith("scanner:"):
        return Principal("scanner", role.split(":", 1)[1], hint)
    return Principal(role, None, hint)


def require(*roles: str) -> Callable[[Request], Awaitable[Principal]]:
    """Dependency: the caller's principal, if its role is one of `roles` (admin always is)."""

    async def dependency(request: Request) -> Principal:  # async: no threadpool hop
        principal = principal_for(
            request.app.state.settings.api_keys, request.headers.get("authorization")
        )
        if principal.role != "admin" and principal.role not in roles:
            raise AppError(
                403,
                "forbidden",
                f"role {principal.role!r} may not do this; needs one of {[*roles, 'admin']}",
            )
        return principal

    return dependency


def allow(*roles: str) -> Any:
    """`principal: Annotated[Principal, allow("clerk")]` in a route signature."""
    return Depends(require(*roles))
