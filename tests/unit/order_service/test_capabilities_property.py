"""Property: whatever happened before, what `decide` predicts is what the action does.

Random sequences of review, submit, warehouse progress / holds / stock-outs,
CS edits and cancels, and a simulated warehouse answering requests the way
SPEC §3 says (edits and withdrawals only while queued, or a held task whatever
its step; otherwise an interception). Warehouse events reach the order at once;
the warehouse handles its pending requests before any later action on a task.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import event, given, settings
from hypothesis import strategies as st

from order_service.domain.errors import DomainError, NotAllowed
from order_service.domain.order import Order
from order_service.domain.routing import DEV_CATALOG, DEV_WAREHOUSES, enrich, plan_shipments
from order_service.domain.rules import decide

CATALOG = {c.sku: c for c in DEV_CATALOG}
STEPS = {"queued": "allocated", "allocated": "labelled", "labelled": "packed", "packed": "shipped"}
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
        self.interceptions: list[str] = []

    def tell(self, kind: str, sid: str, **data) -> None:
        self.order.on_shipment_event(
            kind, {"shipment_id": sid, "warehouse_id": "W", **data}, "warehouse"
        )

    def take_requests(self) -> None:
        for kind, data in self.order.events:
            if kind == "order.submitted":
                self.tasks[data["shipment_id"]] = {"status": "queued", "held": False}
            elif kind in (
                "order.edit_requested",
                "order.withdraw_requested",
                "order.intercept_requested",
            ):
                self.requests.append((kind, data))
        self.order.events.clear()

    def answer_all(self, catch: bool) -> None:
        while self.requests:
            kind, data = self.requests.pop(0)
            sid, task = data["shipment_id"], self.tasks[data["shipment_id"]]
            rid = data["request_id"]
            if kind == "order.edit_requested":
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
                and (task["status"] in ("queued", "exception") or task["held"])
            ):
                task["status"] = "withdrawn"
                self.tell("withdrawn", sid, request_id=rid)
            elif task["status"] not in ("withdrawn", "intercepted"):
                if kind == "order.withdraw_requested":
                    self.tell("interception_pending", sid, request_id=rid)
                self.intercept(sid, catch)
            self.take_requests()

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
        if op == "progress" and task["status"] in STEPS:
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
        elif op == "hold" and task["status"] in ("queued", "allocated", "labelled", "packed"):
            task["held"] = True
            self.tell("held", sid, hold_id="STOP-1", stop_id="STOP-1", reason="stop")
        elif op == "release" and task["held"]:
            task["held"] = False
            self.tell("released", sid, hold_id="STOP-1", stop_id="STOP-1")
        elif op == "out_of_stock" and task["status"] in ("queued", "allocated"):
            task["status"] = "exception"
            self.tell("out_of_stock", sid, skus=["SKU-1"])
        elif op == "restock" and task["status"] == "exception":
            task["status"] = "queued"
            self.tell("queued", sid)
        self.take_requests()


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
    changes = {"address": {**ADDRESS, "line1": f"street {n}"}}
    try:
        if action == "edit":
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
    if action == "edit":
        if predicted.mode == "apply":
            assert order.address == changes["address"]
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
    return action == "cancel" and predicted.guaranteed


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
        "cancel",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    skus=st.lists(
        st.sampled_from(["SKU-1", "SKU-4", "SKU-7", "SKU-9"]), min_size=1, max_size=3, unique=True
    ),
    start=st.sampled_from([(), ("approve",), ("approve", "submit")]),
    steps=st.lists(st.tuples(OPS, st.integers(0, 3), st.booleans()), max_size=40),
)
def test_capabilities_predict_what_actions_do(skus, start, steps):
    order = new_order(skus)
    wh = Warehouse(order)
    order.events.clear()
    guaranteed_cancel = False
    for n, (op, index, flag) in enumerate([(op, 0, True) for op in start] + steps):
        if op in ("edit", "cancel"):
            guaranteed_cancel |= check_action(order, wh, op, n)
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
    if guaranteed_cancel:
        assert order.stage == "cancelled", order.timeline
    for s in order.shipments:
        assert s.status == wh.tasks[s.shipment_id]["status"] or (
            s.status in ("submitted", "queued") and wh.tasks[s.shipment_id]["status"] == "queued"
        )
