"""Lines without a SKU (flag, mapping), platform cancellations by stage, and the event
contract's optional country (backward compatible)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from order_service.domain.cancellations import platform_cancel
from order_service.domain.errors import NotAllowed
from order_service.domain.order import Order, Shipment
from order_service.domain.skus import map_lines, waiting_variants, with_sku_flag
from shared.events.common import Address
from shared.events.orders import OrderSynced

ADDRESS = {"name": "A", "phone": "1", "province": "P", "city": "C", "line1": "L"}


def _order(lines: list[dict], stage: str = "synced") -> Order:
    order = Order(
        id="O1",
        shop_id="demo-shop",
        platform="shopify",
        platform_order_id="1",
        buyer={"id": "b"},
        address=ADDRESS,
        lines=lines,
        total=Decimal("10.00"),
        currency="USD",
        paid_at=datetime(2026, 1, 1, tzinfo=UTC),
        stage=stage,
    )
    if stage not in ("synced", "reviewed"):
        order.shipments = [Shipment("O1-S1", "WH-OWN-1", lines, status=_status(stage))]
    return order


def _status(stage: str) -> str:
    return stage if stage in ("allocated", "labelled", "packed", "shipped") else "submitted"


UNKNOWN = {"sku": "", "qty": 1, "variant_id": "V1", "attributes": {"title": "Wrap"}}
KNOWN = {"sku": "SKU-1", "qty": 1}


def test_flag_names_the_unknown_lines_and_goes_when_none_is_left():
    flags = with_sku_flag([{"code": "campaign_limit"}], [KNOWN, UNKNOWN])
    assert flags == [
        {"code": "campaign_limit"},
        {"code": "unknown_sku", "lines": [{"line": 1, "variant_id": "V1", "title": "Wrap"}]},
    ]
    assert with_sku_flag(flags, [KNOWN]) == [{"code": "campaign_limit"}]


def test_mapping_fills_only_lines_without_a_sku():
    lines, mapped = map_lines([KNOWN, UNKNOWN, {**KNOWN, "variant_id": "V1"}], {"V1": "SKU-3"})
    assert [ln["sku"] for ln in lines] == ["SKU-1", "SKU-3", "SKU-1"]
    assert mapped == [{"line": 1, "variant_id": "V1", "sku": "SKU-3"}]
    assert waiting_variants(lines) == set() and waiting_variants([UNKNOWN]) == {"V1"}


def test_an_order_with_an_unknown_sku_cannot_be_approved_until_mapped():
    order = _order([KNOWN, UNKNOWN])
    with pytest.raises(NotAllowed) as exc:
        order.approve("clerk")
    assert exc.value.code == "unknown_sku"
    order.map_skus([KNOWN, {**UNKNOWN, "sku": "SKU-3"}], [], "clerk")
    order.approve("clerk")
    assert order.stage == "reviewed"


@pytest.mark.parametrize(
    ("stage", "outcome", "mode"),
    [
        ("synced", "cancelled", "void"),
        ("reviewed", "cancelled", "void"),
        ("submitted", "pending", "withdraw"),
        ("allocated", "pending", "intercept"),
        ("packed", "pending", "intercept"),
        ("shipped", "refused", "refuse_delivery"),
    ],
)
def test_platform_cancel_takes_the_cs_cancel_path(stage, outcome, mode):
    order = _order([KNOWN], stage)
    result = platform_cancel(order, "customer", "platform:shopify", "P1")
    assert (result["outcome"], result["mode"]) == (outcome, mode)
    kinds = [e["kind"] for e in order.timeline]
    assert "platform_cancellation" in kinds
    again = platform_cancel(order, "customer", "platform:shopify", "P2")
    expected = {"cancelled": "already_cancelled", "pending": "pending", "refused": "refused"}
    assert again["outcome"] == expected[outcome]


def test_event_contract_country_is_optional():
    assert Address(name="A", phone="1").country == ""
    old = {
        "shop_id": "s",
        "platform": "taobao",
        "platform_order_id": "1",
        "buyer": {"id": "b"},
        "address": {"name": "A", "phone": "1", "line1": "L"},
        "lines": [{"sku": "SKU-1", "qty": 1}],
        "total": "1.00",
        "currency": "CNY",
        "paid_at": "2026-01-01T00:00:00+00:00",
    }
    assert OrderSynced.model_validate(old).address.country_code == ""
    new = {**old, "address": {**old["address"], "country": "France", "country_code": "FR"}}
    assert OrderSynced.model_validate(new).address.country == "France"
