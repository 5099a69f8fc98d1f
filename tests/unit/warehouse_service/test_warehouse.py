"""Warehouse registry entries."""

from __future__ import annotations

import pytest

from warehouse_service.domain.errors import InvalidRequest
from warehouse_service.domain.warehouse import DEV_WAREHOUSES, Warehouse


def test_dev_warehouses_are_valid():
    assert [Warehouse(*w).warehouse_id for w in DEV_WAREHOUSES] == [
        "WH-OWN-1",
        "WH-DS-1",
        "WH-DS-2",
    ]


@pytest.mark.parametrize(
    ("kind", "supplier"), [("dropship", None), ("own", "SUP-1"), ("virtual", None)]
)
def test_invalid_warehouses(kind, supplier):
    with pytest.raises(InvalidRequest):
        Warehouse("WH-X", kind, supplier)
