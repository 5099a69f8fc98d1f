"""Cancel by line on the warehouse side (SPEC §2.4): line-removal requests on a task.

A request removes some units from a task at once while it is queued (or in exception),
held, or `guaranteed` by the order service (it saw the task held); it is answered
`missed` once the task is packed or shipped; otherwise it is recorded on the task and
answered by the scanner (`removed` | `missed`) before packing; a parcel packed with the
requested units still on the task missed them. A task left without lines is withdrawn.
No I/O here; events are recorded on the shipment.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from warehouse_service.domain import lifecycle
from warehouse_service.domain.errors import DomainError

if TYPE_CHECKING:
    from warehouse_service.domain.shipment import Shipment

AT_ONCE = ("queued", "exception")
GONE = ("withdrawn", "intercepted")


class NoLineRemovalPending(DomainError):
    code = "no_line_removal_pending"


class LineRemovalMismatch(DomainError):
    """The answer names lines that are not what the pending requests ask to remove."""

    code = "line_removal_mismatch"


def pending(shipment: Shipment) -> list[dict[str, Any]]:
    return [r for r in shipment.line_removals if r["state"] == "pending"]


def request_removal(
    shipment: Shipment,
    request_id: str,
    lines: list[dict[str, Any]],
    reason: str,
    *,
    guaranteed: bool,
) -> str:
    """Apply or record one request → removed | pending | missed."""
    request = {"request_id": request_id, "lines": lines, "reason": reason, "state": "pending"}
    shipment.line_removals.append(request)
    if shipment.status in GONE:  # the whole task went first: its lines with it
        return _settle(shipment, request, "removed")
    if shipment.status == "shipped" or not _on_task(shipment, lines):
        return _settle(shipment, request, "missed")
    if shipment.status in AT_ONCE or shipment.held or guaranteed:
        return _settle(shipment, request, "removed")
    if shipment.status == "packed":
        return _settle(shipment, request, "missed")
    _record(shipment, "shipment.line_removal_pending", request)
    return "pending"


def answer_removal(shipment: Shipment, outcome: str, lines: list[dict[str, Any]] | None) -> None:
    """The scanner's answer to the pending requests (all of them, or those `lines` name)."""
    waiting = pending(shipment)
    if not waiting:
        raise NoLineRemovalPending(
            f"shipment {shipment.shipment_id} has no pending line-removal request"
        )
    chosen = waiting if lines is None else _chosen(waiting, lines)
    for request in chosen:
        _settle(shipment, request, outcome)


def miss_at_pack(shipment: Shipment) -> None:
    """After the pack: requests still pending went into the parcel, so they are missed."""
    for request in pending(shipment):
        _settle(shipment, request, "missed")


def _settle(shipment: Shipment, request: dict[str, Any], outcome: str) -> str:
    request["state"] = outcome
    if outcome == "missed":
        _record(shipment, "shipment.line_removal_missed", request)
        return outcome
    withdrawn = False
    if shipment.status not in GONE:
        shipment.lines = _without(shipment.lines, request["lines"])
        if not shipment.lines:
            trigger = (
                "withdraw" if lifecycle.can(shipment.status, "withdraw") else "withdraw_guaranteed"
            )
            shipment.status = lifecycle.fire(shipment.status, trigger)
            shipment.interception = None
            withdrawn = True
    _record(shipment, "shipment.lines_removed", request, task_withdrawn=withdrawn)
    return outcome


def _record(shipment: Shipment, type_name: str, request: dict[str, Any], **extra: Any) -> None:
    data = {
        "shipment_id": shipment.shipment_id,
        "warehouse_id": shipment.warehouse_id,
        "request_id": request["request_id"],
        "lines": [{"sku": line["sku"], "qty": int(line["qty"])} for line in request["lines"]],
    }
    shipment.events.append((type_name, data | extra))


def _chosen(waiting: list[dict[str, Any]], lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    named = {line["sku"] for line in lines}
    chosen = [r for r in waiting if {line["sku"] for line in r["lines"]} <= named]
    if not chosen or _units(_all_lines(chosen)) != _units(lines):
        asked = [line for r in waiting for line in r["lines"]]
        raise LineRemovalMismatch(
            "the lines must be exactly those of pending removal requests",
            pending=[{"sku": line["sku"], "qty": int(line["qty"])} for line in asked],
        )
    return chosen


def _on_task(shipment: Shipment, lines: list[dict[str, Any]]) -> bool:
    have, want = _units(shipment.lines), _units(lines)
    return all(have[sku] >= qty for sku, qty in want.items())


def _units(lines: list[dict[str, Any]]) -> Counter[str]:
    units: Counter[str] = Counter()
    for line in lines:
        units[line["sku"]] += int(line["qty"])
    return units


def _all_lines(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for r in requests for line in r["lines"]]


def _without(lines: list[dict[str, Any]], removed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The task's lines less the removed units (a line whose units all went is dropped)."""
    left = _units(removed)
    kept = []
    for line in lines:
        take = min(left[line["sku"]], int(line["qty"]))
        left[line["sku"]] -= take
        if int(line["qty"]) > take:
            kept.append({**line, "qty": int(line["qty"]) - take})
    return kept
