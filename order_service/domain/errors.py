"""Domain errors, each with a stable `code` the entrypoints map to HTTP statuses."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A business rule refused something; `code` is stable, `details` explain it."""

    code = "domain_error"

    def __init__(self, message: str, *, code: str | None = None, **details: Any):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details


class NotAllowed(DomainError):
    """The stage rule table refuses the action (HTTP 409)."""

    code = "not_allowed"


class IllegalTransition(DomainError):
    """The lifecycle has no such transition from the current stage, or a guard refused it."""

    code = "illegal_transition"


class InvalidRequest(DomainError):
    """The request cannot be satisfied as asked (HTTP 422)."""

    code = "invalid_request"


class CampaignLimit(DomainError):
    """A flash-sale per-buyer limit would be breached (HTTP 409)."""

    code = "campaign_limit"
