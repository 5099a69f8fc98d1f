"""Domain errors; each has a stable `code` the entrypoints map to an HTTP status."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule refused the request; `details` is machine-readable context."""

    code = "domain_error"

    def __init__(self, message: str, **details: Any):
        super().__init__(message)
        self.message, self.details = message, details


class NotFound(DomainError):
    code = "not_found"


class InvalidRequest(DomainError):
    code = "invalid_request"


class WrongStep(DomainError):
    """A scanner call out of order (e.g. ship before pack); names the required step."""

    code = "wrong_step"


class Held(DomainError):
    """The task is held (stop-shipment or manual hold); names the hold and its reason."""

    code = "held"


class ScanMismatch(DomainError):
    """Scanned barcodes differ from the order lines; names what is missing or extra."""

    code = "scan_mismatch"


class DuplicateTracking(DomainError):
    code = "duplicate_tracking_number"


class NoInterceptionPending(DomainError):
    code = "no_interception_pending"


class AlreadyExists(DomainError):
    code = "already_exists"


class Conflict(DomainError):
    """Someone else changed the task first (optimistic version check)."""

    code = "conflict"


class WrongWarehouse(DomainError):
    """A scanner key used on another warehouse's task (HTTP 403)."""

    code = "wrong_warehouse"


class StopHoldRelease(DomainError):
    """A stop-shipment hold is released by lifting its stop, not one by one."""

    code = "stop_hold"


class RelabelHoldRelease(DomainError):
    """An address-change hold is released by printing the new label, not by hand."""

    code = "relabel_hold"


def error_for_code(code: str) -> type[DomainError]:
    """The error class with this stable code (DomainError if none)."""
    return next((c for c in DomainError.__subclasses__() if c.code == code), DomainError)
