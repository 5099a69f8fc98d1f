"""Routing splits and review rules (campaign limits, clean orders, merge refusal)."""

from __future__ import annotations

import pytest

from order_service.domain.errors import CampaignLimit, InvalidRequest
from order_service.domain.lifecycle import MAIN_STAGES, SIDE_STATES
from order_service.domain.review import (
    ReviewPolicy,
    buyer_keys,
    campaign_breaches,
    check_merge,
    clean_problems,
    holds_campaign_quantity,
)
from order_service.domain.routing import DEV_CATALOG, DEV_WAREHOUSES, enrich, plan_shipments

CATALOG = {c.sku: c for c in DEV_CATALOG}
ADDR = {"name": "A", "phone": "138", "province": "P", "city": "C", "line1": "L"}


def _lines(*skus, campaign=None):
    return enrich([{"sku": s, "qty": 1, "campaign_id": campaign} for s in skus], CATALOG)


def test_mixed_order_splits_per_warehouse_own_first():
    plan = plan_shipments("O1", _lines("SKU-9", "SKU-1", "SKU-7", "SKU-8"), DEV_WAREHOUSES)
    assert [(sid, wh, [ln["sku"] for ln in lines]) for sid, wh, lines in plan] == [
        ("O1-S1", "WH-OWN-1", ["SKU-1"]),
        ("O1-S2", "WH-DS-1", ["SKU-7", "SKU-8"]),
        ("O1-S3", "WH-DS-2", ["SKU-9"]),
    ]


def test_given_dropship_warehouse_refuses_other_suppliers():
    with pytest.raises(InvalidRequest) as err:
        plan_shipments("O1", _lines("SKU-1", "SKU-7"), DEV_WAREHOUSES, "WH-DS-1")
    assert err.value.code == "warehouse_cannot_ship"
    assert plan_shipments("O1", _lines("SKU-1"), DEV_WAREHOUSES, "WH-OWN-1")[0][1] == "WH-OWN-1"


def test_campaign_limit_across_phone_or_address():
    keys = buyer_keys({"id": "other-account", "phone": "138"}, ADDR)
    prior = {("FLASH", "phone", "138"): 1}
    flags = campaign_breaches(_lines("SKU-1", campaign="FLASH"), prior, keys, ReviewPolicy())
    assert flags and flags[0]["matched_by"] == ["phone"]
    assert not campaign_breaches(_lines("SKU-1", campaign="FLASH"), {}, keys, ReviewPolicy())


def test_only_a_cancelled_order_gives_its_campaign_quantity_back():
    given_back = [s for s in (*MAIN_STAGES, *SIDE_STATES) if not holds_campaign_quantity(s)]
    assert given_back == ["cancelled"]


def test_clean_order_rules():
    assert clean_problems(ADDR, _lines("SKU-1"), set(CATALOG), "", []) == []
    problems = clean_problems(
        {**ADDR, "city": ""},
        _lines("SKU-X"),
        set(CATALOG),
        "please change the colour",
        [{"code": "campaign_limit"}],
    )
    assert len(problems) == 4


def test_merge_across_buyer_accounts_refused_for_campaign_orders():
    orders = [
        {"order_id": "O1", "buyer_id": "b1", "lines": _lines("SKU-1", campaign="F")},
        {"order_id": "O2", "buyer_id": "b2", "lines": _lines("SKU-1", campaign="F")},
    ]
    with pytest.raises(CampaignLimit):
        check_merge(orders, ReviewPolicy())
    check_merge(
        [
            {"order_id": "O1", "buyer_id": "b1", "lines": _lines("SKU-1")},
            {"order_id": "O2", "buyer_id": "b1", "lines": _lines("SKU-2")},
        ],
        ReviewPolicy(),
    )
