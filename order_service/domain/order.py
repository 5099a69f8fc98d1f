"""The Order aggregate: stage, shipments, pending CS requests, timeline and outgoing events.

Every stage change goes through the shared lifecycle machine (`lifecycle.fire`)
and records an `order.stage_changed` event; every CS action asks `rules.decide`
first and does exactly what it answered. Warehouse and after-sales reactions
live in `reactions.py` (mixed in below).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from order_service.domain import lifecycle, lines, reactions, relabel
from order_service.domain.errors import IllegalTransition, InvalidRequest, NotAllowed
from order_service.domain.lifecycle import SHIPMENT_RANK
from order_service.domain.rules import Capability, decide, edit_action
from order_service.domain.skus import UNKNOWN_SKU, unknown_lines, with_sku_flag


@dataclass
class Shipment:
    """One warehouse's part of an order; `status` mirrors the warehouse task."""

    shipment_id: str
    warehouse_id: str
    lines: list[dict[str, Any]]
    status: str = "submitted"
    holds: list[dict[str, Any]] = field(default_factory=list)
    carrier: str | None = None
    tracking_number: str | None = None
    interception_missed: bool = False
    voided_tracking_numbers: list[str] = field(default_factory=list)  # relabels (§2.4)
    # Set on a replacement shipment (`<order>-R1`, domain/replacements.py): it follows the
    # warehouse like any shipment but never moves the order's own stage.
    replacement_id: str | None = None

    @property
    def live(self) -> bool:
        """Still on its way (not withdrawn, intercepted)."""
        return self.status not in ("withdrawn", "intercepted")

    @property
    def left_warehouse(self) -> bool:
        return self.status == "shipped"


@dataclass
class Order:
    id: str
    shop_id: str
    platform: str
    platform_order_id: str
    buyer: dict[str, Any]
    address: dict[str, Any]
    lines: list[dict[str, Any]]
    total: Decimal
    currency: str
    paid_at: datetime
    note: str = ""
    platform_updated_at: datetime | None = None
    # What `total` includes besides the lines, as the platform said; None: it did not say.
    shipping: Decimal | None = None
    discount: Decimal | None = None
    stage: str = "synced"
    version: int = 0
    review: dict[str, Any] = field(default_factory=lambda: {"status": "pending"})
    flags: list[dict[str, Any]] = field(default_factory=list)
    shipments: list[Shipment] = field(default_factory=list)
    pending_edit: dict[str, Any] | None = None
    pending_cancel: dict[str, Any] | None = None
    last_edit: dict[str, Any] | None = None
    last_cancel: dict[str, Any] | None = None
    resume_stage: str | None = None
    instructions: list[dict[str, Any]] = field(default_factory=list)
    anomalies: list[dict[str, Any]] = field(default_factory=list)
    delivered_at: datetime | None = None
    delivery_reported_at: datetime | None = None
    merge_group: str | None = None
    # Cancel by line (domain/lines.py): the ledger of removed / requested units, and one
    # versioned change record per line cancel.
    line_removals: list[dict[str, Any]] = field(default_factory=list)
    line_changes: list[dict[str, Any]] = field(default_factory=list)
    # Exchanges and reships (domain/replacements.py): one record per replacement id.
    replacements: list[dict[str, Any]] = field(default_factory=list)
    # Collected during one use case; written by the unit of work, never persisted here.
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list, repr=False)
    timeline: list[dict[str, Any]] = field(default_factory=list, repr=False)
    tracking_sync: list[dict[str, Any]] = field(default_factory=list, repr=False)

    # ---- facts -------------------------------------------------------------------------
    @property
    def held(self) -> bool:
        return any(s.holds for s in self.own_shipments() if s.live and not s.left_warehouse)

    @property
    def fully_held(self) -> bool:
        """Every live shipment is held and none has left: a cancel is then guaranteed."""
        live = self.live_shipments()
        return bool(live) and all(s.holds and not s.left_warehouse for s in live)

    @property
    def held_by(self) -> list[str]:
        return sorted(
            {
                h.get("stop_id") or h["hold_id"]
                for s in self.own_shipments()
                if s.live
                for h in s.holds
            }
        )

    @property
    def unshipped_tasks(self) -> list[tuple[str, bool]]:
        """(status, held) of each shipment a relabel asks (`relabel_targets`)."""
        return [(s.status, bool(s.holds)) for s in self.relabel_targets()]

    def relabel_targets(self) -> list[Shipment]:
        """Live shipments not yet shipped, replacements (`-R1`) too: an address change
        reaches every parcel still on its way to the customer."""
        return [s for s in self.shipments if s.live and not s.left_warehouse]

    def own_shipments(self) -> list[Shipment]:
        """The order's own shipments: replacements (`-R1`) are left out of its stage,
        holds and order-level cancel."""
        return [s for s in self.shipments if s.replacement_id is None]

    def live_shipments(self, *, unshipped: bool = False) -> list[Shipment]:
        return [s for s in self.own_shipments() if s.live and not (unshipped and s.left_warehouse)]

    def shipment(self, shipment_id: str) -> Shipment | None:
        return next((s for s in self.shipments if s.shipment_id == shipment_id), None)

    def shipments_stage(self) -> str | None:
        """The least advanced live shipment's stage (the order's warehouse stage)."""
        ranks = [SHIPMENT_RANK[s.status] for s in self.own_shipments() if s.status in SHIPMENT_RANK]
        return lifecycle.WAREHOUSE_STAGES[min(ranks)] if ranks else None

    # ---- recording ---------------------------------------------------------------------
    def emit(self, event_type: str, **data: Any) -> None:
        self.events.append((event_type, data))

    def record(self, kind: str, actor: str, /, **detail: Any) -> None:
        self.timeline.append({"kind": kind, "actor": actor, "detail": detail})

    def anomaly(self, kind: str, actor: str, message: str, /, **detail: Any) -> None:
        """An impossible or out-of-order fact: kept on the order and its timeline, never raised."""
        entry = {"kind": kind, "message": message, "stage": self.stage, **detail}
        self.anomalies.append(entry)
        self.record("anomaly", actor, **entry)

    def fire(self, trigger: str, actor: str, /, **detail: Any) -> None:
        step = lifecycle.fire(self.stage, trigger, held=self.held, resume_stage=self.resume_stage)
        self.stage = step.stage
        self.emit(
            "order.stage_changed",
            stage=step.stage,
            previous=step.previous,
            trigger=trigger,
            held=self.held,
        )
        self.record(
            "transition", actor, trigger=trigger, previous=step.previous, stage=step.stage, **detail
        )

    # ---- creation and review -----------------------------------------------------------
    @classmethod
    def receive(cls, *, actor: str, **fields: Any) -> Order:
        """A paid platform order arrives: stored at `synced`, `order.synced` emitted."""
        order = cls(**fields)
        order.emit(
            "order.synced",
            shop_id=order.shop_id,
            platform=order.platform,
            platform_order_id=order.platform_order_id,
            buyer=order.buyer,
            address=order.address,
            lines=order.lines,
            total=str(order.total),
            currency=order.currency,
            paid_at=order.paid_at.isoformat(),
            note=order.note,
            shipping=None if order.shipping is None else str(order.shipping),
            discount=None if order.discount is None else str(order.discount),
        )
        order.emit("order.stage_changed", stage="synced", previous="", trigger="sync", held=False)
        order.record("transition", actor, trigger="sync", previous="", stage="synced")
        return order

    def approve(self, actor: str, *, auto: bool = False, problems: list[str] | None = None) -> None:
        unknown = unknown_lines(self.lines)
        if unknown:
            raise NotAllowed(
                "lines without a SKU: set[Any] a SKU mapping for their variant (PUT /sku-mappings) "
                "or edit the lines first",
                code=UNKNOWN_SKU,
                lines=unknown,
            )
        self.fire("approve", actor, auto=auto)
        self.review = {"status": "approved", "by": actor, "auto": auto, "reason": ""}

    def map_skus(
        self, lines: list[dict[str, Any]], mapped: list[dict[str, Any]], actor: str
    ) -> None:
        """A SKU mapping filled in lines that had none (`lines` already enriched); the
        `unknown_sku` flag goes once no line is unknown, and the order stays in review."""
        self.lines = lines
        self.flags = with_sku_flag(self.flags, lines)
        self.record("sku_mapped", actor, lines=mapped, unknown=unknown_lines(lines))

    def reject(self, actor: str, reason: str) -> None:
        """A reject keeps the order in `synced` with the reason visible."""
        if self.stage != "synced":
            raise IllegalTransition(
                f"only a synced order can be rejected (stage is {self.stage})",
                trigger="reject",
                stage=self.stage,
                rule="no_such_transition",
            )
        self.review = {"status": "rejected", "by": actor, "reason": reason, "auto": False}
        self.record("review_rejected", actor, reason=reason)

    def submit(self, plan: list[tuple[str, str, list[dict[str, Any]]]], actor: str) -> None:
        """Send to warehouses: one `order.submitted` per shipment of the plan."""
        if not lifecycle.can_fire(self.stage, "submit"):
            raise IllegalTransition(
                f"'submit' is not possible from stage '{self.stage}'",
                trigger="submit",
                stage=self.stage,
                rule="no_such_transition",
            )
        self.shipments = [Shipment(sid, wh, lines) for sid, wh, lines in plan]
        for s in self.shipments:
            self.announce(s)
        self.fire("submit", actor, shipments=[s.shipment_id for s in self.shipments])

    # ---- CS actions: they do exactly what `decide` answers ----------------------------
    def announce(self, s: Shipment) -> None:
        """`order.submitted`: a shipment (or a replacement's) for its warehouse."""
        self.emit(
            "order.submitted",
            shipment_id=s.shipment_id,
            warehouse_id=s.warehouse_id,
            lines=s.lines,
            address=self.address,
            platform=self.platform,
            buyer_id=self.buyer["id"],
            paid_at=self.paid_at.isoformat(),
            **({"replacement_id": s.replacement_id} if s.replacement_id else {}),
        )

    def _allowed(self, action: str) -> Capability:
        cap = decide(self, action)
        if not cap.allowed:
            raise NotAllowed(
                cap.reason,
                code=cap.code,
                action=action,
                stage=self.stage,
                mode=cap.mode,
                held=self.held,
            )
        return cap

    def edit(self, changes: dict[str, Any], actor: str, request_id: str) -> Capability:
        """Edit address / note / lines (lines already enriched from the catalog); an
        address-only edit in the warehouse is a relabel (domain/relabel.py)."""
        cap = self._allowed(edit_action(changes))
        if cap.mode == "relabel":
            relabel.request(self, changes["address"], actor, request_id)
            return cap
        if cap.mode == "apply":
            self._apply_changes(changes, actor)
            self.last_edit = {"request_id": request_id, "outcome": "applied", "changes": changes}
            self.record("edit_applied", actor, request_id=request_id, changes=changes)
            return cap
        targets = self.live_shipments(unshipped=True)
        if "lines" in changes and lines.removal_pending(self):
            raise NotAllowed(
                "a line removal awaits the warehouse's answer: edit the items after it",
                code="line_removal_in_progress",
                action="edit",
            )
        if "lines" in changes and len(targets) > 1:
            raise InvalidRequest(
                "item changes on an order split across warehouses must be made by cancel "
                "and re-order",
                code="items_edit_on_split_order",
                field="lines",
            )
        self.pending_edit = {
            "request_id": request_id,
            "changes": changes,
            "by": actor,
            "waiting": [s.shipment_id for s in targets],
            "rejections": [],
        }
        for s in targets:
            self.emit(
                "order.edit_requested", shipment_id=s.shipment_id, request_id=request_id, **changes
            )
        self.record(
            "edit_requested",
            actor,
            request_id=request_id,
            changes=changes,
            pending_confirmation=True,
        )
        return cap

    def _apply_changes(self, changes: dict[str, Any], actor: str) -> None:
        if "address" in changes:
            self.address = changes["address"]
        if "note" in changes:
            self.note = changes["note"]
        if "lines" in changes:
            self.lines = changes["lines"]
            self.flags = with_sku_flag(self.flags, self.lines)
            if len(self.shipments) == 1:
                self.shipments[0].lines = changes["lines"]
            if self.stage == "reviewed":
                self.fire("back_to_review", actor, reason="items changed")
                self.review = {"status": "pending", "reason": "items changed after review"}

    def cancel(self, reason: str, actor: str, request_id: str) -> Capability:
        """Cancel by the table: void at once, withdraw (pending), or intercept (best effort)."""
        cap = self._allowed("cancel")
        if cap.mode == "void":
            self.fire("void", actor, reason=reason)
            self._cancelled(reason, "void", actor, request_id)
            return cap
        unshipped = self.live_shipments(unshipped=True)
        self.pending_cancel = {
            "request_id": request_id,
            "mode": cap.mode,
            "guaranteed": cap.guaranteed,
            "reason": reason,
            "by": actor,
            "waiting": [s.shipment_id for s in unshipped],
        }
        if cap.mode == "intercept":
            self.resume_stage = self.stage
            self.fire("intercept", actor, reason=reason)
        for s in unshipped:
            kind = (
                "order.withdraw_requested"
                if cap.mode == "withdraw"
                else ("order.intercept_requested")
            )
            extra = {"guaranteed": cap.guaranteed} if cap.mode == "withdraw" else {}
            self.emit(
                kind, shipment_id=s.shipment_id, request_id=request_id, reason=reason, **extra
            )
        self._refuse_delivery_for(self.live_shipments(), actor, only_shipped=True)
        self.record(
            "cancel_requested",
            actor,
            request_id=request_id,
            mode=cap.mode,
            guaranteed=cap.guaranteed,
            reason=reason,
        )
        return cap

    def _cancelled(self, reason: str, mode: str, actor: str, request_id: str) -> None:
        self.pending_cancel = None
        self.last_cancel = {"request_id": request_id, "outcome": "cancelled", "mode": mode}
        lines.supersede_requests(self)  # line removals still waiting go with the order
        self.emit(
            "order.cancelled",
            reason=reason,
            mode=mode,
            refund_due=str(self.total - lines.removed_value(self)),
            currency=self.currency,
        )

    def _refuse_delivery_for(
        self, shipments: list[Shipment], actor: str, *, only_shipped: bool = False
    ) -> None:
        for s in shipments:
            if only_shipped and not s.left_warehouse:
                continue
            self.instructions.append(
                {
                    "kind": "refuse_delivery",
                    "shipment_id": s.shipment_id,
                    "text": "ask the customer to refuse delivery",
                }
            )
            self.record("instruction", actor, kind="refuse_delivery", shipment_id=s.shipment_id)

    def platform_update(
        self, changes: dict[str, Any], updated_at: datetime | None, actor: str
    ) -> str:
        """A platform `orders/updated`: stale ones are ignored; others follow the edit rule."""
        if updated_at and self.platform_updated_at and updated_at <= self.platform_updated_at:
            self.record("stale_platform_update_ignored", actor, updated_at=updated_at.isoformat())
            return "stale"
        if updated_at:
            self.platform_updated_at = updated_at
        if not changes:
            return "unchanged"
        try:
            cap = self.edit(changes, actor, request_id=f"platform-{updated_at or 'update'}")
        except NotAllowed as exc:
            self.anomaly("platform_edit_refused", actor, exc.message, changes=changes)
            return "refused"
        return "pending" if cap.pending_confirmation else "applied"

    # ---- reactions to other services' facts (domain/reactions.py) -----------------------
    def on_shipment_event(self, kind: str, data: dict[str, Any], actor: str) -> None:
        """Apply one `shipment.*` event (kind without the prefix)."""
        reactions.on_shipment_event(self, kind, data, actor)

    def shipment_emptied(self, ship: Shipment, actor: str) -> bool:
        """A shipment withdrawn with its last line: it answers a cancel waiting for it."""
        return reactions.shipment_emptied(self, ship, actor)

    def advance(self, actor: str) -> None:
        """Move the stage up to the least advanced shipment, until a guard stops."""
        reactions.advance(self, actor)

    def deliver(self, at: datetime, source: str, actor: str) -> str:
        """Delivery reported (webhook or carrier); early reports wait for `shipped`."""
        return reactions.deliver(self, at, source, actor)

    def on_aftersales(self, kind: str, data: dict[str, Any], actor: str) -> None:
        """Cancel requests, refunds issued and returns from after-sales."""
        reactions.on_aftersales(self, kind, data, actor)

    def complete(self, actor: str) -> None:
        self.fire("complete", actor)
