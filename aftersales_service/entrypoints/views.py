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


def return_view(case, exchange=None) -> dict:
    data = plain(case)
    data["id"] = case.return_id
    data["amount"] = str(case.amount)
    data["reason_category"] = case.reason_category
    data["exchange"] = None if exchange is None else exchange_view(exchange)
    return data


def _replacement(rep) -> dict:
    return {
        "status": rep.status,
        "lines": plain(rep.lines),
        "shipments": plain(rep.shipments),
        "shipment_ids": rep.shipment_ids,
        "shipped": list(rep.shipped),
        "refused_code": rep.refused_code,
        "refused_reason": rep.refused_reason,
        "shipped_at": plain(rep.shipped_at),
    }


def exchange_view(rep) -> dict:
    return _replacement(rep) | {
        "replacement_id": rep.replacement_id,
        "returned_value": str(rep.paid_value),
        "value": plain(rep.value),
        "price_difference": plain(rep.price_difference),
        "due_from_customer": str(rep.due_from_customer),
        "refund_id": rep.refund_id,
        "requested_at": plain(rep.requested_at),
    }


def reship_view(rep, liabilities: list[dict]) -> dict:
    return _replacement(rep) | {
        "id": rep.replacement_id,
        "reship_id": rep.replacement_id,
        "order_id": rep.order_id,
        "reason_code": rep.reason_code,
        "liable_party": rep.liable_party,
        "note": rep.note,
        "value": str(rep.paid_value),
        "catalog_value": plain(rep.value),
        "requested_by": rep.requested_by,
        "created_at": plain(rep.created_at),
        "liabilities": liabilities,
    }
