"""The shipment task aggregate: scanner steps, holds, edits, withdrawals, interceptions.

Methods enforce the rules and record events as `(type, data)` pairs named after
the contract types in `shared.events.warehouse`; handlers turn them into
envelopes. No I/O here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from warehouse_service.domain import lifecycle, line_removal, relabel
from warehouse_service.domain.errors import (
    Held,
    InvalidRequest,
    NoInterceptionPending,
    NotFound,
    RelabelHoldRelease,
    ScanMismatch,
    StopHoldRelease,
    WrongStep,
)
from warehouse_service.domain.stops import Stop

MANUAL_HOLD_REASONS = ("address_check", "fraud_review", "awaiting_stock", "other")
# `address_change`: placed by a relabel (domain/relabel.py), released by the next label.
HOLD_REASONS = (*MANUAL_HOLD_REASONS, relabel.HOLD_REASON)


@dataclass
class Hold:
    """A manual hold (reason from MANUAL_HOLD_REASONS), a stop-shipment hold (`stop_id`)
    or a relabel's `address_change` hold."""

    hold_id: str
    kind: str  # manual | stop | relabel
    reason: str
    owner: str
    created_at: datetime
    until: datetime | None = None
    stop_id: str | None = None
    released_at: datetime | None = None
    released_by: str | None = None

    @property
    def active(self) -> bool:
        return self.released_at is None


@dataclass
class Shipment:
    shipment_id: str
    order_id: str
    warehouse_id: str
    lines: list[dict[str, Any]]
    address: dict[str, Any]
    submitted_at: datetime
    warehouse_kind: str | None = None
    warehouse_supplier: str | None = None
    # A replacement shipment (`<order>-R1`, SPEC §4.1): the after-sales request it ships;
    # otherwise handled exactly like any task.
    replacement_id: str | None = None
    status: str = "queued"
    note: str | None = None
    holds: list[Hold] = field(default_factory=list)
    interception: dict[str, Any] | None = None
    # Line-removal requests (cancel by line): see `line_removal`.
    line_removals: list[dict[str, Any]] = field(default_factory=list)
    # Address changes after import (relabels): see `relabel`.
    relabels: list[dict[str, Any]] = field(default_factory=list)
    carrier: str | None = None
    tracking_number: str | None = None
    weight_grams: int | None = None
    scanned: list[str] | None = None
    shipped_at: datetime | None = None
    shipped_epoch: int | None = None
    version: int = 0
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    # -- queries -------------------------------------------------------------------------

    @property
    def active_holds(self) -> list[Hold]:
        return [h for h in self.holds if h.active]

    @property
    def held(self) -> bool:
        return bool(self.active_holds)

    @property
    def held_by_stops(self) -> list[str]:
        return [h.stop_id for h in self.active_holds if h.stop_id]

    def matches(self, stop: Stop) -> bool:
        return stop.scope.matches(
            warehouse_id=self.warehouse_id,
            warehouse_kind=self.warehouse_kind,
            warehouse_supplier=self.warehouse_supplier,
            lines=self.lines,
        )

    def _record(self, type_name: str, **data: Any) -> None:
        base = {"shipment_id": self.shipment_id, "warehouse_id": self.warehouse_id}
        self.events.append((type_name, base | data))

    def _fire(self, trigger: str) -> None:
        self.status = lifecycle.fire(self.status, trigger)

    def _ensure_not_held(self, action: str) -> None:
        """Any hold refuses the step, except that a relabel's hold waits for the label."""
        holds = sorted(
            (
                h
                for h in self.active_holds
                if not (action == "label" and h.kind == relabel.HOLD_KIND)
            ),
            key=lambda h: (h.kind != "stop", h.created_at),
        )
        if holds:
            first = holds[0]
            what = f"stop-shipment {first.stop_id}" if first.stop_id else f"hold {first.hold_id}"
            raise Held(
                f"cannot {action}: shipment is held by {what} (reason: {first.reason})",
                holds=[_hold_ref(h) for h in holds],
                stop_id=first.stop_id,
                hold_id=first.hold_id,
                reason=first.reason,
            )

    def announce_queued(self) -> None:
        """Record `shipment.queued` first, naming the stops that held it on arrival."""
        base = {"shipment_id": self.shipment_id, "warehouse_id": self.warehouse_id}
        self.events.insert(0, ("shipment.queued", base | {"held_by": self.held_by_stops}))

    # -- scanner steps ---------------------------------------------------------------------

    def allocate(self) -> None:
        self._ensure_not_held("import")
        self._fire("allocate")
        self._record("shipment.allocated")

    def label(self, carrier: str, tracking_number: str, now: datetime | None = None) -> None:
        """Print the label; after a relabel, the new one (with the new address) releases
        the `address_change` hold, and a labelled or packed task keeps its step."""
        self._ensure_not_held("label")
        if not relabel.relabelling(self):
            self._fire("label")
        self.carrier, self.tracking_number = carrier, tracking_number
        self._record("shipment.labelled", carrier=carrier, tracking_number=tracking_number)
        relabel.labelled(self, now)

    def pack(self, scanned: list[str], weight_grams: int) -> None:
        """Scanned barcodes (= SKUs) must equal the order lines as a multiset."""
        self._ensure_not_held("pack")
        if not lifecycle.can(self.status, "pack"):
            self._fire("pack")  # raises WrongStep naming the required step
        if weight_grams <= 0:
            raise InvalidRequest("weight_grams must be positive", field="weight_grams")
        expected: Counter[str] = Counter()
        for line in self.lines:
            expected[line["sku"]] += int(line["qty"])
        got = Counter(scanned)
        missing, extra = dict(expected - got), dict(got - expected)
        if missing or extra:
            parts = [f"missing {missing}" if missing else "", f"extra {extra}" if extra else ""]
            raise ScanMismatch(
                "scanned items do not match the order: " + "; ".join(p for p in parts if p),
                missing=missing,
                extra=extra,
            )
        self._fire("pack")
        self.scanned, self.weight_grams = list(scanned), weight_grams
        self._record("shipment.packed", weight_grams=weight_grams)
        line_removal.miss_at_pack(self)

    def ensure_not_stopped(self, action: str, active_stops: list[Stop]) -> None:
        """Refuse progress while held or matched by an active stop not yet applied here."""
        self._ensure_not_held(action)
        for stop in active_stops:
            if self.matches(stop):
                raise Held(
                    f"cannot {action}: stop-shipment {stop.stop_id} is active "
                    f"(reason: {stop.reason})",
                    stop_id=stop.stop_id,
                    reason=stop.reason,
                )

    def ship(self, *, now: datetime, epoch: int, active_stops: list[Stop]) -> None:
        """Ship unless held or matched by an active stop (checked in the caller's transaction)."""
        self.ensure_not_stopped("ship", active_stops)
        self._fire("ship")
        self.shipped_at, self.shipped_epoch = now, epoch
        self._record(
            "shipment.shipped",
            carrier=self.carrier,
            tracking_number=self.tracking_number,
            shipped_at=now,
            submitted_at=self.submitted_at,
        )
        if self.interception:
            # It left before anyone could intercept it: the pending request is answered.
            self._record("shipment.interception_missed", request_id=self.interception["request_id"])
            self.interception = None

    def report_out_of_stock(self, skus: list[str], note: str = "") -> None:
        known = {line["sku"] for line in self.lines}
        unknown = sorted(set(skus) - known)
        if not skus or unknown:
            raise InvalidRequest(
                f"skus must name lines of this shipment (unknown: {unknown})", field="skus"
            )
        self._fire("report_out_of_stock")
        self._record("shipment.out_of_stock", skus=sorted(set(skus)), note=note)

    # -- holds -----------------------------------------------------------------------------

    def add_hold(self, hold: Hold) -> None:
        if self.status not in lifecycle.HOLDABLE:
            raise WrongStep(
                f"cannot hold: shipment is {self.status}", status=self.status, trigger="hold"
            )
        if hold.kind == "manual" and hold.reason not in MANUAL_HOLD_REASONS:
            raise InvalidRequest(
                f"reason must be one of {list(MANUAL_HOLD_REASONS)}", field="reason"
            )
        self.holds.append(hold)
        self._record(
            "shipment.held",
            hold_id=hold.hold_id,
            reason=hold.reason,
            stop_id=hold.stop_id,
            owner=hold.owner,
            until=hold.until,
        )

    def release_manual_hold(self, hold_id: str, *, now: datetime, by: str) -> Hold:
        hold = next((h for h in self.active_holds if h.hold_id == hold_id), None)
        if hold is not None and hold.stop_id:
            raise StopHoldRelease(
                f"hold {hold_id} belongs to stop-shipment {hold.stop_id}; lift the stop instead",
                stop_id=hold.stop_id,
            )
        if hold is not None and hold.kind == relabel.HOLD_KIND:
            raise RelabelHoldRelease(
                f"hold {hold_id} waits for the new label (address change): print the label",
                hold_id=hold_id,
            )
        return self.release_hold(hold_id, now=now, by=by)

    def release_hold(self, hold_id: str, *, now: datetime, by: str) -> Hold:
        hold = next((h for h in self.active_holds if h.hold_id == hold_id), None)
        if hold is None:
            raise NotFound(f"no active hold {hold_id} on shipment {self.shipment_id}")
        hold.released_at, hold.released_by = now, by
        self._record(
            "shipment.released", hold_id=hold.hold_id, stop_id=hold.stop_id, still_held=self.held
        )
        return hold

    # -- requests from the order service ---------------------------------------------------

    def apply_edit(
        self,
        request_id: str,
        *,
        address: dict[str, Any] | None,
        note: str | None,
        lines: list[Any] | None,
    ) -> bool:
        """Applied only while queued; otherwise answered with a rejection."""
        if self.status != "queued":
            self._record(
                "shipment.edit_rejected",
                request_id=request_id,
                reason=f"already in warehouse processing ({self.status})",
            )
            return False
        if address is not None:
            self.address = address
        if note is not None:
            self.note = note
        if lines is not None:
            self.lines = lines
        self._record("shipment.edit_applied", request_id=request_id)
        return True

    def request_relabel(
        self, request_id: str, address: dict[str, Any], *, hold_id: str, now: datetime
    ) -> str:
        """An address change after import (SPEC §2.4): see `relabel.request_relabel`."""
        hold = Hold(hold_id, relabel.HOLD_KIND, relabel.HOLD_REASON, f"relabel:{request_id}", now)
        return relabel.request_relabel(self, request_id, address, hold)

    def request_withdrawal(self, request_id: str, reason: str, *, guaranteed: bool) -> str:
        """Withdraw while queued (or whenever `guaranteed`), else become an interception."""
        if self.status == "withdrawn":
            self._record("shipment.withdrawn", request_id=request_id)
            return "withdrawn"
        if self.status == "shipped":
            self._record("shipment.interception_missed", request_id=request_id)
            return "missed"
        if self.status == "intercepted":
            self._record("shipment.intercepted", request_id=request_id)
            return "intercepted"
        if lifecycle.can(self.status, "withdraw") or guaranteed:
            self._fire(
                "withdraw" if lifecycle.can(self.status, "withdraw") else "withdraw_guaranteed"
            )
            self.interception = None
            self._record("shipment.withdrawn", request_id=request_id)
            return "withdrawn"
        return self.request_interception(request_id, reason)

    def request_interception(self, request_id: str, reason: str) -> str:
        """Best effort: a held or not-yet-imported task is intercepted at once."""
        if self.status == "shipped":
            self._record("shipment.interception_missed", request_id=request_id)
            return "missed"
        if self.status in ("withdrawn", "intercepted"):
            self._record("shipment.intercepted", request_id=request_id)
            return "intercepted"
        if self.status in ("queued", "exception") or self.held:
            self._fire("intercept")
            self.interception = None
            self._record("shipment.intercepted", request_id=request_id)
            return "intercepted"
        self.interception = {"request_id": request_id, "reason": reason}
        self._record("shipment.interception_pending", request_id=request_id)
        return "pending"

    def report_interception(self, outcome: str) -> None:
        """The warehouse's answer to a pending interception request."""
        if not self.interception:
            raise NoInterceptionPending(
                f"shipment {self.shipment_id} has no pending interception request"
            )
        request_id = self.interception["request_id"]
        if outcome == "intercepted":
            self._fire("intercept")
            self._record("shipment.intercepted", request_id=request_id)
        elif outcome == "missed":
            self._record("shipment.interception_missed", request_id=request_id)
        else:
            raise InvalidRequest("outcome must be 'intercepted' or 'missed'", field="outcome")
        self.interception = None


def _hold_ref(hold: Hold) -> dict[str, Any]:
    return {
        "hold_id": hold.hold_id,
        "kind": hold.kind,
        "reason": hold.reason,
        "stop_id": hold.stop_id,
        "owner": hold.owner,
    }
