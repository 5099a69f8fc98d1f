"""Stop-shipment scopes and what they match.

Scope semantics: each non-empty criterion narrows the stop (criteria combine
with AND, values inside one list with OR); `all_dropship` limits it to dropship
warehouses. Line-level criteria (SKU, supplier, campaign) match when any line
of the task matches; a supplier also matches the dropship warehouse's supplier.
An empty scope matches nothing and is refused when issuing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from warehouse_service.domain.errors import InvalidRequest


@dataclass(frozen=True)
class Scope:
    skus: frozenset[str] = frozenset()
    suppliers: frozenset[str] = frozenset()
    campaigns: frozenset[str] = frozenset()
    warehouses: frozenset[str] = frozenset()
    all_dropship: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scope:
        return cls(
            skus=frozenset(data.get("skus") or ()),
            suppliers=frozenset(data.get("suppliers") or ()),
            campaigns=frozenset(data.get("campaigns") or ()),
            warehouses=frozenset(data.get("warehouses") or ()),
            all_dropship=bool(data.get("all_dropship")),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "skus": sorted(self.skus),
            "suppliers": sorted(self.suppliers),
            "campaigns": sorted(self.campaigns),
            "warehouses": sorted(self.warehouses),
            "all_dropship": self.all_dropship,
        }

    @property
    def is_empty(self) -> bool:
        return not (
            self.skus or self.suppliers or self.campaigns or self.warehouses or self.all_dropship
        )

    def reaches(self, warehouse_id: str, warehouse_kind: str | None) -> bool:
        """Whether tasks of this warehouse can match at all (warehouse-level criteria)."""
        if self.is_empty:
            return False
        if self.warehouses and warehouse_id not in self.warehouses:
            return False
        return not (self.all_dropship and warehouse_kind != "dropship")

    def matches(
        self,
        *,
        warehouse_id: str,
        warehouse_kind: str | None,
        warehouse_supplier: str | None,
        lines: list[dict[str, Any]],
    ) -> bool:
        if not self.reaches(warehouse_id, warehouse_kind):
            return False
        if self.skus and not any(line.get("sku") in self.skus for line in lines):
            return False
        if self.suppliers:
            suppliers = {line.get("supplier_id") for line in lines} | {warehouse_supplier}
            if not suppliers & self.suppliers:
                return False
        return not (
            self.campaigns and not any(line.get("campaign_id") in self.campaigns for line in lines)
        )


@dataclass
class Stop:
    """An issued stop; `epoch` orders it against ship scans in the same database."""

    stop_id: str
    scope: Scope
    reason: str
    issued_by: str
    issued_at: datetime
    epoch: int = 0
    lifted_at: datetime | None = None
    lifted_by: str | None = None
    acks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.lifted_at is None


def validate_scope(scope: Scope) -> None:
    if scope.is_empty:
        raise InvalidRequest(
            "a stop needs a scope: skus, suppliers, campaigns, warehouses or all_dropship",
            field="scope",
        )
