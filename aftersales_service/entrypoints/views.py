"""JSON views of domain objects: Decimal as strings, datetimes as ISO 8601 UTC."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from typing import Any


def plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def refund_view(refund) -> dict:
    data = plain(refund)
    data.pop("claims", None)
    data["id"] = refund.refund_id
    data["mode"] = refund.mode or None
    return data


def return_view(case) -> dict:
    data = plain(case)
    data["id"] = case.return_id
    data["amount"] = str(case.amount)
    data["reason_category"] = case.reason_category
    return data
