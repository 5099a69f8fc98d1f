"""Lines that arrive without a SKU (SPEC §2.3): flagged `unknown_sku`, matched by the
platform's variant id through a SKU mapping a clerk sets once.

A line is unknown while its `sku` is empty. Such an order lands, waits for manual review
(never auto-reviewed, and approval is refused until every line has a SKU) and is resolved
when a mapping for its variant is set, or on arrival once the mapping exists.
"""

from __future__ import annotations

from typing import Any

UNKNOWN_SKU = "unknown_sku"


def unknown_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Which lines have no SKU: position, variant id and a title for the clerk."""
    return [
        {
            "line": i,
            "variant_id": ln.get("variant_id"),
            "title": (ln.get("attributes") or {}).get("title", ""),
        }
        for i, ln in enumerate(lines)
        if not ln.get("sku")
    ]


def with_sku_flag(flags: list[dict[str, Any]], lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`flags` with the `unknown_sku` flag as `lines` warrant (added, updated or dropped)."""
    kept = [f for f in flags if f.get("code") != UNKNOWN_SKU]
    unknown = unknown_lines(lines)
    if not unknown:
        return kept
    return [*kept, {"code": UNKNOWN_SKU, "lines": unknown}]


def waiting_variants(lines: list[dict[str, Any]]) -> set[str]:
    """Variant ids a mapping could resolve (unknown lines that name their variant)."""
    return {ln["variant_id"] for ln in lines if not ln.get("sku") and ln.get("variant_id")}


def map_lines(
    lines: list[dict[str, Any]], mappings: dict[str, str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Lines with SKUs filled in from `mappings` (variant id → SKU), and what was mapped."""
    out, mapped = [], []
    for i, ln in enumerate(lines):
        sku = mappings.get(ln.get("variant_id") or "") if not ln.get("sku") else None
        if sku:
            out.append({**ln, "sku": sku})
            mapped.append({"line": i, "variant_id": ln["variant_id"], "sku": sku})
        else:
            out.append(ln)
    return out, mapped
