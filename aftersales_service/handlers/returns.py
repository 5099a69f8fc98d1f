"""Return use cases: open under the policy, approve/reject, receive, inspect and grade."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from aftersales_service.adapters.uow import AftersalesUnitOfWork
from aftersales_service.domain.errors import InvalidRequest, NotFound, Refused
from aftersales_service.domain.orders import OrderView
from aftersales_service.domain.policy import ReturnPolicy, reason_category
from aftersales_service.domain.refunds import Refund, check_within_paid, issued
from aftersales_service.domain.replacements import exchange_for
from aftersales_service.domain.returns import (
    ReturnCase,
    ReturnLine,
    grade_line,
    liabilities_for,
    match_inspection,
    refund_only_liabilities,
)
from aftersales_service.handlers import emit, new_id
from aftersales_service.handlers.refunds import issue, load_order
from aftersales_service.handlers.replacements import send_replacement
from shared.events.aftersales import GoodsGraded, GradedUnit, ReturnOpened, ReturnReceived


@dataclass(frozen=True)
class OpenReturn:
    order_id: str
    lines: list[tuple[str, int]]
    reason_code: str
    evidence: dict = field(default_factory=dict)
    opened: bool = False
    method: str = "self_send"
    requested_by: str = ""
    resolution: str = "refund"  # refund | exchange
    replacement_lines: tuple[tuple[str, int], ...] = ()  # (sku, qty) an exchange sends


async def open_return(uow: AftersalesUnitOfWork, cmd: OpenReturn, now: datetime) -> ReturnCase:
    """`POST /returns`: policy checks, claims the goods, issues the return address at once;
    auto-approves what cannot affect resale, queues the rest for review. An exchange refunds
    nothing: it holds the returned units and sends `replacement_lines` when the return is
    received, or on approval where the policy says ship first."""
    async with uow:
        order = await load_order(uow, cmd.order_id)
        policy = await uow.policies.get()
        reason_category(cmd.reason_code)
        if order.effective_stage in ("cancelled", "completed"):
            raise Refused(
                f"order {order.order_id} is {order.effective_stage}: no returns; "
                "a complaint or warranty claim remains",
                code="return_not_available",
            )
        policy.check_method(cmd.method)
        delivered_at = policy.check_window(cmd.reason_code, order.delivered_at, now)
        policy.check_evidence(cmd.reason_code, cmd.evidence)
        units = order.claim_units(cmd.lines, await uow.refunds.claimed(order.order_id))
        case = ReturnCase(
            new_id("RT"),
            order.order_id,
            "return",
            cmd.reason_code,
            _lines(units),
            method=cmd.method,
            opened=cmd.opened,
            evidence=cmd.evidence,
            shipping_payer=policy.return_shipping_payer(cmd.reason_code),
            return_address=policy.return_address,
            delivered_at=order.delivered_at,
            opened_at=now,
        )
        refund = None
        if cmd.resolution == "exchange":
            await _start_exchange(uow, order, case, cmd, [u.key for u in units], policy, now)
        else:
            refund = await _refund_on_return(uow, order, case, cmd, [u.key for u in units], now)
        days = int((now - delivered_at).total_seconds() // 86400)
        if not policy.needs_review(cmd.reason_code, cmd.opened):
            case.approve("auto", "cannot affect resale")
            await _after_approval(uow, case, refund, policy, now)
        await uow.returns.add(case, days)
        await uow.commit()
    return case


async def _start_exchange(
    uow: AftersalesUnitOfWork,
    order: OrderView,
    case: ReturnCase,
    cmd: OpenReturn,
    keys: list[str],
    policy: ReturnPolicy,
    now: datetime,
) -> None:
    """The returned units are held by the exchange (refunded nothing); it waits to ship."""
    if cmd.reason_code in policy.refund_only_reasons:
        raise InvalidRequest(
            f"{cmd.reason_code}: nothing comes back to exchange; send the units with POST /reships",
            code="exchange_needs_return",
        )
    returned = [(ln.sku, ln.qty) for ln in case.lines]
    exchange = exchange_for(
        new_id("EX"), order, case.return_id, returned, list(cmd.replacement_lines), keys,
        cmd.reason_code, now, cmd.requested_by,
    )  # fmt: skip
    await uow.replacements.hold_units(order.order_id, keys, exchange.replacement_id)
    await uow.replacements.add(exchange)
    case.resolution, case.replacement_id = "exchange", exchange.replacement_id


async def _refund_on_return(
    uow: AftersalesUnitOfWork,
    order: OrderView,
    case: ReturnCase,
    cmd: OpenReturn,
    keys: list[str],
    now: datetime,
) -> Refund:
    """A refund resolution: the return's refund waits for the goods, holding the units."""
    refunds = await uow.refunds.for_order(order.order_id)
    check_within_paid(order, refunds, case.amount)
    refund = Refund(
        new_id("RF"),
        order.order_id,
        case.amount,
        order.currency,
        "return",
        f"return {case.return_id}",
        cmd.reason_code,
        claims=keys,
        requested_by=cmd.requested_by,
        created_at=now,
    )
    refund.await_return(case.return_id, "return")
    case.refund_id = refund.refund_id
    await uow.refunds.add(refund)
    return refund


def _liability_ids(case: ReturnCase, items: list) -> list[str]:
    """Ids that sort in ledger order within a case."""
    return [f"LB-{case.return_id[3:]}-{i:03d}" for i in range(len(items))]


def _lines(units) -> list[ReturnLine]:
    by_sku: dict[str, ReturnLine] = {}
    for u in units:
        ln = u.line
        if ln.sku in by_sku:
            by_sku[ln.sku].qty += 1
        else:
            by_sku[ln.sku] = ReturnLine(
                ln.sku, 1, ln.unit_price, ln.category, ln.supplier_id, ln.warehouse_id
            )
    return list(by_sku.values())


async def _after_approval(
    uow: AftersalesUnitOfWork,
    case: ReturnCase,
    refund: Refund | None,
    policy: ReturnPolicy,
    now: datetime,
) -> None:
    """Goods to come back: `return.opened` (and an exchange that ships first is sent).
    Nothing to come back: refund now, close."""
    if refund is not None and case.reason_code in policy.refund_only_reasons:
        items = refund_only_liabilities(case)
        await uow.ledger.add_liabilities(_liability_ids(case, items), case, items, now)
        await issue(uow, refund, refund.amount, now)
        case.close()
        return
    emit(
        uow,
        ReturnOpened(return_id=case.return_id, kind=case.kind, reason_code=case.reason_code),
        case.order_id,
    )
    if case.replacement_id and policy.ships_first(case.reason_code):
        await _send_exchange(uow, case, now)


async def _send_exchange(uow: AftersalesUnitOfWork, case: ReturnCase, now: datetime) -> None:
    """The exchange's replacement, if it still waits (ship first, or the return is back)."""
    if case.replacement_id is None:
        return
    exchange = await uow.replacements.get(case.replacement_id)
    if exchange.status == "waiting":
        await send_replacement(uow, exchange, now)


async def decide_return(
    uow: AftersalesUnitOfWork,
    return_id: str,
    approve: bool,
    role: str,
    by: str,
    note: str,
    now: datetime,
) -> ReturnCase:
    """Review queue decision; approval is bounded by the caller role's limit."""
    async with uow:
        case = await uow.returns.get(return_id)
        refund = await _refund(uow, case) if case.refund_id else None
        policy = await uow.policies.get()
        if approve:
            policy.check_approval_limit(role, case.amount)
            case.approve(by, note)
            await _after_approval(uow, case, refund, policy, now)
        else:
            if not note.strip():
                raise Refused("a rejection needs a reason", code="reason_required")
            case.reject(by, note)
            if refund is not None:
                refund.refuse("return_rejected")
                await uow.refunds.release_claims(refund)
                await uow.refunds.save(refund)
            await _cancel_exchange(uow, case, note)
        await uow.returns.save(case)
        await uow.commit()
    return case


async def _cancel_exchange(uow: AftersalesUnitOfWork, case: ReturnCase, note: str) -> None:
    if case.replacement_id is None:
        return
    exchange = await uow.replacements.get(case.replacement_id)
    exchange.cancel("return_rejected", note)
    await uow.replacements.release_units(exchange.replacement_id)
    await uow.replacements.save(exchange)


async def receive_return(uow: AftersalesUnitOfWork, return_id: str, now: datetime) -> ReturnCase:
    """The parcel is back: `return.received`; a refused delivery refunds now; an exchange
    that waited for it is sent."""
    async with uow:
        case = await uow.returns.get(return_id)
        case.receive(now)
        emit(uow, ReturnReceived(return_id=case.return_id, kind=case.kind), case.order_id)
        await _send_exchange(uow, case, now)
        more = {}
        if case.kind == "refused_delivery":
            refund = await _refund(uow, case)
            await _issue_capped(uow, refund, now)
            case.close()
            more["handling_seconds"] = int((now - case.opened_at).total_seconds())
        await uow.returns.save(case, **more)
        await uow.commit()
    return case


async def _refund(uow: AftersalesUnitOfWork, case: ReturnCase) -> Refund:
    if case.refund_id is None:
        raise NotFound(f"return {case.return_id} has no refund", code="refund_not_found")
    return await uow.refunds.get(case.refund_id)


async def _issue_capped(uow: AftersalesUnitOfWork, refund: Refund, now: datetime) -> None:
    order = await load_order(uow, refund.order_id)
    others = issued(
        [r for r in await uow.refunds.for_order(refund.order_id) if r.refund_id != refund.refund_id]
    )
    await issue(uow, refund, min(refund.amount, order.total - others), now)


async def inspect_return(
    uow: AftersalesUnitOfWork, return_id: str, items: list[dict], now: datetime
) -> tuple[ReturnCase, list, list]:
    """Grade every returned unit: dispositions into returned-goods inventory, liabilities
    from reason and grade, and the refund issued."""
    async with uow:
        case = await uow.returns.get(return_id)
        policy = await uow.policies.get()
        case.inspect(now)
        gradings = [
            grade_line(
                line,
                item["grade"],
                policy,
                qty=item.get("qty", line.qty),
                flaw_note=item.get("flaw_note") or "",
                repair_cost=item.get("repair_cost"),
            )
            for line, item in match_inspection(case, items)
        ]
        warehouse = {ln.sku: ln.warehouse_id for ln in case.lines}
        await uow.ledger.add_goods(case, gradings, warehouse, now)
        emit(uow, _graded(case, gradings, warehouse), case.order_id)  # the warehouse restocks
        owed = liabilities_for(case, gradings, policy)
        await uow.ledger.add_liabilities(_liability_ids(case, owed), case, owed, now)
        refund = await _refund(uow, case) if case.refund_id else None  # none: an exchange
        if refund is not None and refund.open:
            await _issue_capped(uow, refund, now)
        await uow.returns.save(case, handling_seconds=int((now - case.opened_at).total_seconds()))
        await uow.commit()
    return case, gradings, owed


def _graded(case: ReturnCase, gradings: list, warehouse: dict[str, str | None]) -> GoodsGraded:
    units = [
        GradedUnit(
            sku=g.sku,
            qty=g.qty,
            grade=g.grade,
            disposition=g.disposition,
            warehouse_id=warehouse.get(g.sku),
            flaw_note=g.flaw_note,
        )
        for g in gradings
    ]
    return GoodsGraded(return_id=case.return_id, units=units)
