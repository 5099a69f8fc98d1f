"""Catalog and warehouse routing (SPEC §8.1): which warehouse ships which line.

A dropship SKU goes to its supplier's warehouse; own SKUs go to an own
warehouse; a given warehouse takes everything it can ship. An order mixing
warehouses is split into one shipment per warehouse, ids `<order_id>-S1`, `-S2`…
(own warehouse first, then by warehouse id).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from order_service.domain.errors import InvalidRequest


@dataclass(frozen=True)
class CatalogItem:
    sku: str
    category: str
    supplier_id: str | None = None  # set for dropshipped SKUs
    unit_price: Decimal | None = None  # list price: what a replacement of it is worth


@dataclass(frozen=True)
class Warehouse:
    warehouse_id: str
    kind: str  # own | dropship
    supplier_id: str | None = None


DEV_CATALOG = [
    CatalogItem(f"SKU-{n}", cat, sup, Decimal(price))
    for n, cat, sup, price in [
        (1, "apparel", None, "59.00"),
        (2, "apparel", None, "69.00"),
        (3, "apparel", None, "79.00"),
        (4, "home", None, "39.00"),
        (5, "home", None, "49.00"),
        (6, "home", None, "99.00"),
        (7, "electronics", "SUP-1", "199.00"),
        (8, "electronics", "SUP-1", "299.00"),
        (9, "electronics", "SUP-2", "399.00"),
    ]
]
DEV_WAREHOUSES = [
    Warehouse("WH-OWN-1", "own"),
    Warehouse("WH-DS-1", "dropship", "SUP-1"),
    Warehouse("WH-DS-2", "dropship", "SUP-2"),
]


def enrich(lines: list[dict[str, Any]], catalog: dict[str, CatalogItem]) -> list[dict[str, Any]]:
    """Lines with `supplier_id` and `category` from the catalog (unknown SKUs left blank)."""
    out = []
    for line in lines:
        item = catalog.get(line["sku"])
        out.append(
            {
                **line,
                "supplier_id": item.supplier_id if item else None,
                "category": item.category if item else None,
            }
        )
    return out


def _warehouse_for(line: dict[str, Any], warehouses: list[Warehouse]) -> str:
    supplier = line.get("supplier_id")
    for wh in sorted(warehouses, key=lambda w: w.warehouse_id):
        if supplier and wh.kind == "dropship" and wh.supplier_id == supplier:
            return wh.warehouse_id
        if not supplier and wh.kind == "own":
            return wh.warehouse_id
    raise InvalidRequest(
        f"no warehouse can ship {line['sku']} (supplier {supplier or 'own stock'})",
        code="no_route",
        sku=line["sku"],
    )


def plan_shipments(
    order_id: str,
    lines: list[dict[str, Any]],
    warehouses: list[Warehouse],
    warehouse_id: str | None = None,
) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """[(shipment_id, warehouse_id, lines)] for an order's (enriched) lines."""
    by_id = {w.warehouse_id: w for w in warehouses}
    groups: dict[str, list[dict[str, Any]]] = {}
    if warehouse_id is not None:
        wh = by_id.get(warehouse_id)
        if wh is None:
            raise InvalidRequest(
                f"unknown warehouse {warehouse_id}", code="unknown_warehouse", field="warehouse_id"
            )
        wrong = [
            ln["sku"]
            for ln in lines
            if wh.kind == "dropship" and ln.get("supplier_id") != wh.supplier_id
        ]
        if wrong:
            raise InvalidRequest(
                f"{warehouse_id} ships only {wh.supplier_id}'s SKUs, not {', '.join(wrong)}",
                code="warehouse_cannot_ship",
                skus=wrong,
            )
        groups[warehouse_id] = list(lines)
    else:
        for line in lines:
            groups.setdefault(_warehouse_for(line, warehouses), []).append(line)
    order = sorted(groups, key=lambda w: (by_id[w].kind != "own", w))
    return [(f"{order_id}-S{i}", wh, groups[wh]) for i, wh in enumerate(order, start=1)]
