"""What a refund of some units of an order is worth (SPEC §2.4).

A unit is refunded at its price less its share of the order-level discount; a
shipment's shipping goes back with the last of its units. Shipping and discount are the
order's as `order.synced` carried them; an older event without them leaves only the lines
and the total paid, and then the difference is taken for the discount (paid < lines) or the
shipping (paid > lines). A set of units is worth `units_value`; a refund of more units is
worth what they add to those already claimed, so all refunds of an order add up to at most
what was paid, to the cent, whatever their order.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_DOWN, Decimal

from aftersales_service.domain.orders import OrderLine, OrderView

CENT = Decimal("0.01")
ZERO = Decimal("0")


def goods_total(order: OrderView) -> Decimal:
    return sum((ln.unit_price * ln.qty for ln in order.lines), ZERO)


def discount(order: OrderView) -> Decimal:
    """The order-level discount; not known: what the lines cost above what was paid."""
    if order.discount is not None:
        return order.discount
    return max(ZERO, goods_total(order) - order.total)


def shipping(order: OrderView) -> Decimal:
    """The shipping paid; not known: what was paid above the lines."""
    if order.shipping is not None:
        return order.shipping
    return max(ZERO, order.total - goods_total(order))


def shipment_groups(order: OrderView) -> dict[str | None, list[OrderLine]]:
    """Lines by the shipment that carries them (one per warehouse; None: not yet submitted)."""
    groups: dict[str | None, list[OrderLine]] = {}
    for line in order.lines:
        groups.setdefault(line.warehouse_id, []).append(line)
    return groups


def units_value(order: OrderView, keys: Iterable[str]) -> Decimal:
    """What the units `keys` (unit claim keys) are worth together, shipping included for
    each shipment all of whose units are among them; every unit: exactly what was paid."""
    keys = set(keys)
    every = {k for line in order.lines for k in line.unit_keys()}
    if every and every <= keys:
        return order.total
    goods = goods_total(order)
    if goods <= 0:
        return ZERO
    value = _net(order, _list_price(order, keys))
    groups = shipment_groups(order)
    share = shipping(order) / len(groups)
    for lines in groups.values():
        if all(k in keys for line in lines for k in line.unit_keys()):
            value += share
    return value.quantize(CENT, rounding=ROUND_DOWN)


def _list_price(order: OrderView, keys: Iterable[str]) -> Decimal:
    price = {k: line.unit_price for line in order.lines for k in line.unit_keys()}
    return sum((price[k] for k in keys if k in price), ZERO)


def _net(order: OrderView, list_price: Decimal) -> Decimal:
    """A list price less its share of the order-level discount (unrounded)."""
    goods = goods_total(order)
    return list_price * max(ZERO, goods - discount(order)) / goods if goods > 0 else ZERO


def paid_goods_value(order: OrderView, lines: Iterable[tuple[str, int]]) -> Decimal:
    """What the buyer paid for these units (sku, qty): price less their discount share,
    no shipping. An exchange's returned units and a reship's units are worth this."""
    by_sku = {ln.sku: ln.unit_price for ln in order.lines}
    list_price = sum((by_sku.get(sku, ZERO) * qty for sku, qty in lines), ZERO)
    return _net(order, list_price).quantize(CENT, rounding=ROUND_DOWN)


def line_refund_amount(
    order: OrderView, claimed: Iterable[str], units: Iterable[str], remaining: Decimal
) -> Decimal:
    """The refund of `units` when `claimed` units are already refunded or in a case: what
    they add to the value of those, never more than `remaining` (paid less committed)."""
    before = set(claimed)
    added = units_value(order, before | set(units)) - units_value(order, before)
    return max(ZERO, min(added, remaining)).quantize(CENT)
