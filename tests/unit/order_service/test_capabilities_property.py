"""Property: whatever happened before, what `decide` predicts is what the action does.

Random sequences of review, submit, warehouse progress / holds / stock-outs,
CS edits, cancels and cancels by line, replacements (exchanges, reships) once something
shipped, and a simulated warehouse answering
requests the way SPEC §3 / §2.4 say (edits and withdrawals only while queued, or a
held task whatever its step; otherwise an interception; line removals at once while
queued or held, else a removal request answered removed or missed, missed once
packed; an address change after import a relabel: held `address_change` until the next
label, missed once shipped, and once packed best effort: without `catch` a packed,
unheld parcel has left first). As warehouse_service does, a withdrawal or interception
asked of a task already gone is answered for the gone task, and an interception asked
while a line removal waits for the scanner waits with it, and is dropped if that removal
empties (withdraws) the task. Warehouse events reach the order at once; the warehouse
handles its pending requests before any later action on a task.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from order_service.domain import lines, replacements
from order_service.domain.errors import DomainError, NotAllowed
from order_service.domain.lifecycle import SHIPMENT_RANK, WAREHOUSE_STAGES
from order_service.domain.order import Order
from order_service.domain.routing import DEV_CATALOG, DEV_WAREHOUSES, enrich, plan_shipments
from order_service.domain.rules import decide, decide_line

CATALOG = {c.sku: c for c in DEV_CATALOG}
STEPS = {"queued": "allocated", "allocated": "labelled", "labelled": "packed", "packed": "shipped"}
RELABELLED = ("allocated", "labelled", "packed")  # steps a new label is printed at
ADDRESS = {
    "name": "A",
    "phone": "1",
    "province": "P",
    "city": "C",
    "district": "",
    "line1": "L",
    "postcode": "",
}


class Warehouse:
    """The warehouse side, answering into the order immediately."""

    def __init__(self, order: Order):
        self.order = order
        self.tasks: dict[str, dict] = {}
        self.requests: list[tuple[str, dict]] = []
        self.interceptions: list[str] = []  # waiting for the task's line removals
        self.removals: list[dict] = []  # line-removal requests pending on imported tasks

    def tell(self, kind: str, sid: str, **data) -> None:
        ship, stage = self.order.shipment(sid), self.order.stage
        self.order.on_shipment_event(
            kind, {"shipment_id": sid, "warehouse_id": "W", **data}, "warehouse"
        )
        if ship is not None and ship.replacement_id:  # a replacement never moves the order
            assert self.order.stage == stage, (kind, sid, self.order.timeline)

    def take_requests(self) -> None:
        for kind, data in self.order.events:
            if kind == "order.submitted":
                units = sum(line["qty"] for line in data["lines"])
                self.tasks[data["shipment_id"]] = {
                    "status": "queued",
                    "held": False,
                    "units": units,
                    "relabel": False,  # an address_change hold waits for the new label
                }
            elif kind in (
                "order.edit_requested",
                "order.withdraw_requested",
                "order.intercept_requested",
                "order.line_removal_requested",
                "order.address_change_requested",
            ):
                self.requests.append((kind, data))
        self.order.events.clear()

    def answer_all(self, catch: bool) -> None:
        while self.requests:
            kind, data = self.requests.pop(0)
            sid, task = data["shipment_id"], self.tasks[data["shipment_id"]]
            rid = data["request_id"]
            if kind == "order.line_removal_requested":
                self.remove_lines(task, data)
            elif kind in ("order.withdraw_requested", "order.intercept_requested") and task[
                "status"
            ] in ("withdrawn", "intercepted"):  # gone already: answered for the gone task
                gone = kind == "order.withdraw_requested" and task["status"] == "withdrawn"
                self.tell("withdrawn" if gone else "intercepted", sid, request_id=rid)
            elif kind == "order.address_change_requested":
                self.relabel(task, data, catch)
            elif kind == "order.edit_requested":
                ok = task["status"] == "queued"
                self.tell(
                    "edit_applied" if ok else "edit_rejected",
                    sid,
                    request_id=rid,
                    **({} if ok else {"reason": "already imported"}),
                )
            elif (
                kind == "order.withdraw_requested"
                and task["status"] != "shipped"
                and (task["status"] in ("queued", "exception") or held(task))
            ):
                task["status"] = "withdrawn"
                self.tell("withdrawn", sid, request_id=rid)
            else:  # an interception; it waits while the scanner owes a line removal
                waits = any(d["shipment_id"] == sid for d in self.removals) and not held(task)
                if kind == "order.withdraw_requested" or waits:
                    self.tell("interception_pending", sid, request_id=rid)
                if waits:
                    self.interceptions.append(sid)
                else:
                    self.intercept(sid, catch)
            self.take_requests()

    def remove_lines(self, task: dict, data: dict) -> None:
        sid, status = data["shipment_id"], task["status"]
        if status in ("withdrawn", "intercepted"):
            self.tell("lines_removed", sid, request_id=data["request_id"], lines=data["lines"])
        elif status in ("shipped", "packed") and not (held(task) or data["guaranteed"]):
            self.tell(
                "line_removal_missed", sid, request_id=data["request_id"], lines=data["lines"]
            )
        elif status in ("queued", "exception") or held(task) or data["guaranteed"]:
            self.removed(task, data)
        else:
            self.tell(
                "line_removal_pending", sid, request_id=data["request_id"], lines=data["lines"]
            )
            self.removals.append(data)

    def relabel(self, task: dict, data: dict, catch: bool) -> None:
        sid, rid = data["shipment_id"], data["request_id"]
        if task["status"] == "packed" and not (catch or held(task) or data["guaranteed"]):
            task["status"] = "shipped"  # best effort: it left before the request
            self.tell("shipped", sid, carrier="SF", tracking_number=f"T-{sid}", shipped_at="x")
        if task["status"] in ("shipped", "withdrawn", "intercepted"):
            self.tell("address_change_missed", sid, request_id=rid)
        elif task["status"] in ("queued", "exception"):
            self.tell("address_changed", sid, request_id=rid)
        else:
            if not task["relabel"]:
                task["relabel"] = True
                self.tell("held", sid, hold_id=f"HR-{sid}", reason="address_change")
            voided = f"T-{sid}" if task["status"] != "allocated" else None
            self.tell("address_changed", sid, request_id=rid, voided_tracking_number=voided)

    def removed(self, task: dict, data: dict) -> None:
        task["units"] -= sum(line["qty"] for line in data["lines"])
        emptied = task["units"] == 0
        if emptied:
            task["status"] = "withdrawn"
        self.tell(
            "lines_removed",
            data["shipment_id"],
            request_id=data["request_id"],
            lines=data["lines"],
            task_withdrawn=emptied,
        )

    def answer_removals(self, sid: str | None, catch: bool) -> None:
        """The scanner answers (sid None: every task), or the pack scan misses them."""
        for data in [d for d in self.removals if sid in (None, d["shipment_id"])]:
            self.removals.remove(data)
            task = self.tasks[data["shipment_id"]]
            if task["status"] in ("withdrawn", "intercepted"):
                continue  # the whole task went: the order cancelled with it
            if catch and task["status"] in ("allocated", "labelled"):
                self.removed(task, data)
            else:
                kind = "line_removal_missed"
                self.tell(
                    kind, data["shipment_id"], request_id=data["request_id"], lines=data["lines"]
                )
        waiting = {d["shipment_id"] for d in self.removals}
        for task_id in [t for t in self.interceptions if t not in waiting]:
            self.interceptions.remove(task_id)
            if self.tasks[task_id]["status"] not in ("withdrawn", "intercepted"):
                self.intercept(task_id, catch)  # else dropped: the emptied task was withdrawn

    def intercept(self, sid: str, catch: bool) -> None:
        task = self.tasks[sid]
        if catch and task["status"] != "shipped":
            task["status"] = "intercepted"
            self.tell("intercepted", sid)
        else:
            self.tell("interception_missed", sid)

    def act(self, op: str, index: int, catch: bool) -> None:
        live = [s for s, t in self.tasks.items() if t["status"] not in ("withdrawn", "intercepted")]
        self.answer_all(catch)
        if not live:
            return
        sid = live[index % len(live)]
        task = self.tasks[sid]
        if op == "progress" and task["relabel"] and task["status"] in RELABELLED:
            # the new label, unless a stop holds it (a task in exception is not labelled)
            if not task["held"]:
                task["relabel"] = False
                if task["status"] == "allocated":
                    task["status"] = "labelled"
                self.tell("labelled", sid, carrier="SF", tracking_number=f"T2-{sid}")
                self.tell("released", sid, hold_id=f"HR-{sid}", still_held=False)
        elif op == "progress" and task["status"] in STEPS:
            nxt = STEPS[task["status"]]
            if task["held"] and nxt != "allocated":
                return
            task["status"] = nxt
            extra = (
                {"carrier": "SF", "tracking_number": "T1"} if nxt in ("labelled", "shipped") else {}
            )
            if nxt == "shipped":
                extra["shipped_at"] = datetime.now(UTC).isoformat()
            if nxt == "packed":
                extra["weight_grams"] = 1
            self.tell(nxt, sid, **extra)
            if nxt == "packed":  # packed with the units still asked for: missed
                self.answer_removals(sid, catch=False)
        elif op == "hold" and task["status"] in ("queued", "allocated", "labelled", "packed"):
            task["held"] = True
            self.tell("held", sid, hold_id="STOP-1", stop_id="STOP-1", reason="stop")
        elif op == "release" and task["held"]:
            task["held"] = False
            self.tell(
                "released", sid, hold_id="STOP-1", stop_id="STOP-1", still_held=task["relabel"]
            )
        elif op == "out_of_stock" and task["status"] in ("queued", "allocated"):
            task["status"] = "exception"
            self.tell("out_of_stock", sid, skus=["SKU-1"])
        elif op == "restock" and task["status"] == "exception":
            task["status"] = "queued"
            self.tell("queued", sid)
        self.take_requests()


def held(task: dict) -> bool:
    """Held by the stop or by a relabel's `address_change` hold."""
    return task["held"] or task["relabel"]


def new_order(skus: list[str]) -> Order:
    lines = enrich(
        [
            {"sku": s, "qty": 1, "unit_price": "10.00", "attributes": {}, "campaign_id": None}
            for s in skus
        ],
        CATALOG,
    )
    return Order.receive(
        actor="platform",
        id="O1",
        shop_id="demo-shop",
        platform="taobao",
        platform_order_id="TB-1",
        buyer={"id": "b1", "name": "", "phone": ""},
        address=dict(ADDRESS),
        lines=lines,
        total=Decimal("10.00") * len(lines),
        currency="CNY",
        paid_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def check_action(order: Order, wh: Warehouse, action: str, n: int) -> bool:
    """Run one CS action and assert it did what `decide` said. Returns True if a
    guaranteed cancel was accepted."""
    predicted = decide(order, action)
    event(f"{action}: {predicted.mode} guaranteed={predicted.guaranteed} held={order.held}")
    before = (order.stage, order.version, len(order.events))
    address = {**ADDRESS, "line1": f"street {n}"}
    changes = {"address": address} if action == "address_change" else {"note": f"note {n}"}
    try:
        if action in ("edit", "address_change"):
            done = order.edit(changes, "cs", f"E{n}")
        else:
            done = order.cancel("buyer asked", "cs", f"C{n}")
    except NotAllowed as exc:
        assert not predicted.allowed, f"{action} refused but predicted allowed: {exc}"
        assert exc.code == predicted.code
        assert (order.stage, order.version, len(order.events)) == before
        return False
    assert predicted.allowed, f"{action} done but predicted refused ({predicted.reason})"
    assert done == predicted
    if action in ("edit", "address_change"):
        if predicted.mode == "apply":
            assert order.address == address or order.note == changes.get("note")
        elif predicted.mode == "relabel":
            assert order.pending_edit and order.pending_edit["mode"] == "relabel"
            sent = [d for k, d in order.events if k == "order.address_change_requested"]
            assert {d["shipment_id"] for d in sent} == {
                s.shipment_id for s in order.relabel_targets()
            }
            assert predicted.guaranteed == all(d["guaranteed"] for d in sent)
            assert order.line_changes[-1]["kind"] == "address_change"
        else:
            assert order.pending_edit and order.pending_edit["request_id"] == f"E{n}"
            sent = [d for k, d in order.events if k == "order.edit_requested"]
            assert sent and all(d["request_id"] == f"E{n}" for d in sent)
    else:
        if predicted.mode == "void":
            assert order.stage == "cancelled"
            assert "order.cancelled" in [k for k, _ in order.events]
        else:
            kind = {
                "withdraw": "order.withdraw_requested",
                "intercept": "order.intercept_requested",
            }[predicted.mode]
            sent = [d for k, d in order.events if k == kind]
            assert sent, f"{kind} not emitted"
            if predicted.mode == "withdraw":
                assert all(d["guaranteed"] == predicted.guaranteed for d in sent)
            if predicted.mode == "intercept":
                assert order.stage == "intercepting"
    wh.take_requests()
    return predicted.guaranteed and action in ("cancel", "address_change")


def check_relabels(order: Order, guaranteed: list[str]) -> None:
    """A guaranteed relabel was done on every shipment (unless the order was cancelled);
    the order has the last relabelled address; no relabel waits once all is answered."""
    assert not (order.pending_edit and order.pending_edit.get("mode") == "relabel")
    for change in order.line_changes:
        if change["kind"] != "address_change":
            continue
        assert change["outcome"] != "pending", change
        if change["request_id"] in guaranteed and order.stage != "cancelled":
            # superseded: its shipment was withdrawn first (say, emptied by a line cancel
            # decided before it), so no parcel goes to the old address either.
            gone = all(
                not order.shipment(line["shipment_id"]).live  # type: ignore[union-attr]
                for line in change["lines"]
            )
            assert change["outcome"] == "done" or (change["outcome"] == "superseded" and gone), (
                change
            )
    done = [
        c
        for c in order.line_changes
        if c["kind"] == "address_change" and c["outcome"] in ("done", "partly_missed")
    ]
    if done and order.last_edit and order.last_edit.get("mode") == "relabel":
        assert order.address == done[-1]["address"]


def check_line_cancel(order: Order, wh: Warehouse, index: int, n: int) -> list[str]:
    """Cancel one unit of one line and assert it took the path `decide_line` predicted,
    as `GET /capabilities` shows it. Returns the request id when guaranteed."""
    caps = lines.line_capabilities(order)
    listed = lines.order_lines(order)
    if not listed:  # every line removed: the order is cancelled
        assert order.stage == "cancelled"
        return []
    line = listed[index % len(listed)]
    predicted = decide_line(order, line, "cancel")
    shown = caps[index % len(caps)]
    assert (shown["sku"], shown["shipment_id"], shown["qty"]) == (
        line.sku,
        line.shipment_id,
        line.active_qty,
    )
    assert shown["cancel"] == predicted.as_dict()
    kind = "replacement" if line.replacement_id else "line"
    event(f"{kind} cancel: {predicted.mode} guaranteed={predicted.guaranteed}")
    before = (order.stage, len(order.events), len(order.line_changes), list(order.line_removals))
    try:
        one = [{"sku": line.sku, "qty": 1, "shipment_id": line.shipment_id}]
        change = lines.cancel_lines(order, one, "one item", "cs", f"L{n}")
    except NotAllowed as exc:
        assert not predicted.allowed, f"line cancel refused but predicted allowed: {exc}"
        assert exc.code == predicted.code
        after = (order.stage, len(order.events), len(order.line_changes), order.line_removals)
        assert after == before
        return []
    assert predicted.allowed, f"line cancel done but predicted refused ({predicted.reason})"
    [entry] = change["lines"]
    assert (entry["mode"], entry["guaranteed"]) == (predicted.mode, predicted.guaranteed)
    kinds = [k for k, _ in order.events]
    if predicted.mode == "remove":
        assert entry["outcome"] == "removed" and "order.cancelled" in kinds
        assert "order.line_removal_requested" not in kinds
    else:
        sent = [d for k, d in order.events if k == "order.line_removal_requested"]
        assert [d["shipment_id"] for d in sent] == [line.shipment_id]
        assert sent[0]["guaranteed"] == predicted.guaranteed
    wh.take_requests()
    return [f"L{n}"] if predicted.guaranteed else []


REPLACEMENT_SKUS = ["SKU-1", "SKU-4", "SKU-7", "SKU-9", "SKU-404"]


def check_replacement(order: Order, wh: Warehouse, index: int, exchange: bool, n: int) -> None:
    """A replacement ships as new `-R` shipments exactly when something of the order has
    shipped and it is not cancelled; the order's stage and its own shipments do not move."""
    sku = REPLACEMENT_SKUS[index % len(REPLACEMENT_SKUS)]
    shipped = any(s.left_warehouse for s in order.own_shipments())
    before = (order.stage, order.held, order.fully_held, order.shipments_stage())
    own = [(s.shipment_id, s.status) for s in order.own_shipments()]
    request = {
        "replacement_id": f"RP-{n % 3}",  # some ids repeat: one replacement each
        "kind": "exchange" if exchange else "reship",
        "lines": [{"sku": sku, "qty": 1}],
    }
    repeat = replacements.find(order, request["replacement_id"]) is not None
    count, events = len(order.shipments), len(order.events)
    record = replacements.request_replacement(
        order, request, CATALOG, list(DEV_WAREHOUSES), "aftersales"
    )
    event(f"replacement: {record['outcome']} {record.get('code', '')} repeat={repeat}")
    if repeat:
        assert len(order.shipments) == count and len(order.events) == events
    elif order.stage == "cancelled":
        assert record["code"] == "order_cancelled"
    elif not shipped:
        assert record["code"] == "not_shipped"
    elif sku == "SKU-404":
        assert record["code"] == "unknown_sku"
    else:
        assert record["outcome"] == "created"
        assert all(sid.startswith(f"{order.id}-R") for sid in record["shipments"])
    assert (order.stage, order.held, order.fully_held, order.shipments_stage()) == before
    assert [(s.shipment_id, s.status) for s in order.own_shipments()] == own
    wh.take_requests()


def check_line_outcomes(order: Order, guaranteed: list[str]) -> None:
    """A guaranteed line removal is removed (or went with its whole shipment), never missed;
    a missed one was best effort; the change records agree with the ledger."""
    for r in order.line_removals:
        if r["request_id"] in guaranteed:
            assert r["state"] in lines.REMOVED, r
        if r["state"] == "missed":
            assert r["mode"] == "removal_request" and not r["guaranteed"], r
    for change in order.line_changes:
        states = {
            r["state"] for r in order.line_removals if r["request_id"] == change["request_id"]
        }
        if "requested" not in states:
            assert all(entry["outcome"] != "pending" for entry in change["lines"]), change
    active = sum(line.active_qty for line in lines.order_lines(order))
    shown = sum(s["qty"] for s in lines.line_states(order) if s["state"] != "removed")
    assert shown - active == sum(r["qty"] for r in order.line_removals if r["state"] == "requested")


OPS = st.sampled_from(
    [
        "approve",
        "submit",
        "progress",
        "progress",
        "progress",
        "hold",
        "release",
        "out_of_stock",
        "restock",
        "answer",
        "edit",
        "address_change",
        "address_change",
        "cancel",
        "cancel_line",
        "cancel_line",
        "answer_removals",
        "replace",
        "replace",
        "ship",
    ]
)


# Issue 15: a partly shipped split order, a line cancel emptying the unshipped shipment,
# then an order cancel (the scanner removes the line while the interception waits; or the
# removal is guaranteed and the interception reaches the already emptied task).
@example(
    skus=["SKU-1", "SKU-7"],
    start=("approve", "submit", "ship"),
    steps=[
        ("progress", 1, True),
        ("cancel_line", 1, True),
        ("cancel", 0, True),
        ("answer", 0, False),
    ],
)
@example(
    skus=["SKU-1", "SKU-7"],
    start=("approve", "submit", "ship"),
    steps=[("progress", 1, True), ("hold", 1, True), ("cancel_line", 1, True), ("cancel", 0, True)],
)
# A replacement's stock-out must not keep the order in `exception` once its own stuck
# shipment's lines are removed (nor requeue it on the replacement's answer).
@example(
    skus=["SKU-1", "SKU-7", "SKU-9"],
    start=("approve", "submit", "ship", "replace"),
    steps=[
        ("out_of_stock", 1, False),
        ("out_of_stock", 3, False),
        ("cancel_line", 1, False),
        ("cancel_line", 3, False),
    ],
)
@settings(max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "300")), deadline=None)
@given(
    skus=st.lists(
        st.sampled_from(["SKU-1", "SKU-4", "SKU-7", "SKU-9"]), min_size=1, max_size=3, unique=True
    ),
    start=st.sampled_from(
        [
            (),
            ("approve",),
            ("approve", "submit"),
            ("approve", "submit", "progress", "progress"),  # allocated: a relabel
            ("approve", "submit", *["progress"] * 3),
            ("approve", "submit", "ship", "replace"),
        ]
    ),
    steps=st.lists(st.tuples(OPS, st.integers(0, 3), st.booleans()), max_size=40),
)
def test_capabilities_predict_what_actions_do(skus, start, steps):
    order = new_order(skus)
    wh = Warehouse(order)
    order.events.clear()
    guaranteed_cancel = False
    guaranteed_lines: list[str] = []
    guaranteed_relabels: list[str] = []
    for n, (op, index, flag) in enumerate([(op, 0, True) for op in start] + steps):
        if op == "address_change":
            relabel = check_action(order, wh, op, n) and order.line_changes
            if relabel and order.line_changes[-1]["request_id"] == f"E{n}":
                guaranteed_relabels.append(f"E{n}")
        elif op in ("edit", "cancel"):
            guaranteed_cancel |= check_action(order, wh, op, n)
        elif op == "cancel_line":
            guaranteed_lines += check_line_cancel(order, wh, index, n)
        elif op == "replace":
            check_replacement(order, wh, index, flag, n)
        elif op == "ship":  # one task (the first of a start) all the way, unless held
            for _ in STEPS:
                wh.act("progress", index, flag)
        elif op == "answer_removals":
            wh.answer_all(flag)
            wh.answer_removals(None, flag)
        elif op == "approve":
            try:
                order.approve("clerk")
            except DomainError:
                assert order.stage != "synced"
        elif op == "submit":
            try:
                order.submit(plan_shipments(order.id, order.lines, DEV_WAREHOUSES), "clerk")
            except DomainError:
                assert order.stage != "reviewed"
            wh.take_requests()
        elif op == "answer":
            wh.answer_all(flag)
        else:
            wh.act(op, index, flag)
        assert (
            order.stage != "intercepting"
            or order.pending_cancel
            or any(t["status"] != "intercepted" for t in wh.tasks.values())
        )
    wh.answer_all(True)
    wh.answer_removals(None, True)
    check_line_outcomes(order, guaranteed_lines)
    check_relabels(order, guaranteed_relabels)
    # Every warehouse request was answered: no cancel waits (for a shipment or otherwise).
    assert order.pending_cancel is None, (order.pending_cancel, order.timeline)
    own = [
        SHIPMENT_RANK[s.status]
        for s in order.shipments
        if s.status in SHIPMENT_RANK and not s.replacement_id
    ]
    # The order's stage is its own shipments' (replacements left out), once nothing blocks it.
    if order.stage in WAREHOUSE_STAGES and own and not order.held:
        assert order.stage == WAREHOUSE_STAGES[min(own)], order.timeline
    if guaranteed_cancel:
        assert order.stage == "cancelled", order.timeline
    for s in order.shipments:
        assert s.status == wh.tasks[s.shipment_id]["status"] or (
            s.status in ("submitted", "queued") and wh.tasks[s.shipment_id]["status"] == "queued"
        )
