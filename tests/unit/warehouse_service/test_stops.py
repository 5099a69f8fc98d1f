"""Stop scopes: what a stop matches."""

from __future__ import annotations

import pytest

from warehouse_service.domain.errors import InvalidRequest
from warehouse_service.domain.stops import Scope, validate_scope

DS1 = {"warehouse_id": "WH-DS-1", "warehouse_kind": "dropship", "warehouse_supplier": "SUP-1"}
OWN = {"warehouse_id": "WH-OWN-1", "warehouse_kind": "own", "warehouse_supplier": None}


def lines(*skus, supplier=None, campaign=None):
    return [{"sku": s, "qty": 1, "supplier_id": supplier, "campaign_id": campaign} for s in skus]


@pytest.mark.parametrize(
    ("scope", "where", "task_lines", "expected"),
    [
        ({}, DS1, lines("SKU-7"), False),
        ({"skus": ["SKU-7"]}, DS1, lines("SKU-1", "SKU-7"), True),
        ({"skus": ["SKU-7"]}, OWN, lines("SKU-1"), False),
        ({"suppliers": ["SUP-1"]}, DS1, lines("SKU-1"), True),  # the warehouse's supplier
        ({"suppliers": ["SUP-1"]}, OWN, lines("SKU-7", supplier="SUP-1"), True),
        ({"suppliers": ["SUP-2"]}, DS1, lines("SKU-7"), False),
        ({"campaigns": ["C1"]}, OWN, lines("SKU-1", campaign="C1"), True),
        ({"campaigns": ["C1"]}, OWN, lines("SKU-1", campaign="C2"), False),
        ({"warehouses": ["WH-OWN-1"]}, OWN, lines("SKU-1"), True),
        ({"warehouses": ["WH-OWN-1"]}, DS1, lines("SKU-1"), False),
        ({"all_dropship": True}, DS1, lines("SKU-1"), True),
        ({"all_dropship": True}, OWN, lines("SKU-1"), False),
        # criteria narrow each other
        ({"skus": ["SKU-7"], "warehouses": ["WH-DS-2"]}, DS1, lines("SKU-7"), False),
        ({"skus": ["SKU-7"], "all_dropship": True}, DS1, lines("SKU-7"), True),
        ({"skus": ["SKU-7"], "campaigns": ["C1"]}, DS1, lines("SKU-7"), False),
    ],
)
def test_scope_matching(scope, where, task_lines, expected):
    assert Scope.from_dict(scope).matches(lines=task_lines, **where) is expected


def test_scope_round_trip_and_empty_refused():
    scope = Scope.from_dict({"skus": ["B", "A"], "all_dropship": True})
    assert Scope.from_dict(scope.to_dict()) == scope
    assert scope.to_dict()["skus"] == ["A", "B"]
    with pytest.raises(InvalidRequest):
        validate_scope(Scope())


def test_reaches_is_the_warehouse_level_part():
    scope = Scope.from_dict({"all_dropship": True, "skus": ["SKU-7"]})
    assert scope.reaches("WH-DS-1", "dropship")
    assert not scope.reaches("WH-OWN-1", "own")
