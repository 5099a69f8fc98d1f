"""The warehouse registry entry: own or dropship (with its supplier)."""

from __future__ import annotations

from dataclasses import dataclass

from warehouse_service.domain.errors import InvalidRequest, WrongWarehouse

KINDS = ("own", "dropship")
DEV_WAREHOUSES = (
    ("WH-OWN-1", "own", None, "Own warehouse 1"),
    ("WH-DS-1", "dropship", "SUP-1", "Dropship warehouse of SUP-1"),
    ("WH-DS-2", "dropship", "SUP-2", "Dropship warehouse of SUP-2"),
)


@dataclass(frozen=True)
class Warehouse:
    warehouse_id: str
    kind: str
    supplier_id: str | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InvalidRequest(f"kind must be one of {list(KINDS)}", field="kind")
        if self.kind == "dropship" and not self.supplier_id:
            raise InvalidRequest("a dropship warehouse needs its supplier_id", field="supplier_id")
        if self.kind == "own" and self.supplier_id:
            raise InvalidRequest("an own warehouse has no supplier_id", field="supplier_id")


def check_access(bound_to: str | None, warehouse_id: str) -> None:
    """A caller bound to one warehouse (a scanner key) may only touch that warehouse's
    tasks; `bound_to` None (clerk, ops, a timer) may touch any."""
    if bound_to is not None and bound_to != warehouse_id:
        raise WrongWarehouse(f"this scanner key belongs to {bound_to}, not {warehouse_id}")
