"""Warehouse registry entries."""

from __future__ import annotations

import pytest

from warehouse_service.domain.errors import InvalidRequest, WrongWarehouse
from warehouse_service.domain.warehouse import DEV_WAREHOUSES, Warehouse, check_access
from warehouse_service.entrypoints.errors import STATUS


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


def test_a_scanner_key_touches_only_its_warehouse_and_is_refused_with_403():
    check_access("WH-DS-1", "WH-DS-1")
    check_access(None, "WH-DS-2")  # clerk, ops, timers: not bound to a warehouse
    with pytest.raises(WrongWarehouse) as err:
        check_access("WH-DS-1", "WH-DS-2")
    assert (STATUS[type(err.value)], err.value.code) == (403, "wrong_warehouse")
    assert err.value.message == "this scanner key belongs to WH-DS-1, not WH-DS-2"
