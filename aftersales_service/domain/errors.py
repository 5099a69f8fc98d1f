"""Domain errors, each with a stable `code`; entrypoints map the class to an HTTP status."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base: a rule refused the request. `details` are machine-readable extras."""

    code = "domain_error"

    def __init__(self, message: str, code: str | None = None, **details: Any):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details


class NotFound(DomainError):
    code = "not_found"


class Refused(DomainError):
    """A business rule refuses the request in the current state (HTTP 409)."""

    code = "refused"


class PolicyRefused(Refused):
    """The return policy refuses the request; `code` names the rule."""


class LimitExceeded(DomainError):
    """The caller's role may not approve this amount (HTTP 403)."""

    code = "approval_limit_exceeded"


class InvalidRequest(DomainError):
    """The request is well-formed JSON but makes no sense for this case (HTTP 422)."""

    code = "invalid_request"


class Conflict(DomainError):
    """A concurrent change won; retry (HTTP 409 `conflict`)."""

    code = "conflict"
