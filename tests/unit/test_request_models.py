"""Request models of the three services: ranges, cross-field rules, what to send."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from aftersales_service.entrypoints.schemas import PolicyIn, ReviewsIn
from order_service.entrypoints.schemas import EditBody, ReviewPolicyBody
from warehouse_service.entrypoints.schemas import ImportRequest, ScopeBody


def _loc(exc: pytest.ExceptionInfo) -> tuple:
    return exc.value.errors()[0]["loc"]


def test_bad_reviews_may_not_exceed_reviews():
    assert ReviewsIn(reviews=10, bad_reviews=10).bad_reviews == 10
    with pytest.raises(ValidationError, match="bad_reviews"):
        ReviewsIn(reviews=10, bad_reviews=11)
    with pytest.raises(ValidationError) as exc:
        ReviewsIn(reviews=10**30, bad_reviews=0)
    assert _loc(exc) == ("reviews",)


def test_policy_minutes_days_limits_and_roles_are_bounded():
    assert PolicyIn().sla_minutes["L1"] == 60
    for data, loc in (
        ({"sla_minutes": {"L1": 10**12}}, ("sla_minutes", "L1")),
        ({"oos_notify_minutes": 0}, ("oos_notify_minutes",)),
        ({"claim_days": 366}, ("claim_days",)),
        ({"approval_limits": {"cs_agent": "-1"}}, ("approval_limits", "cs_agent")),
        ({"approval_limits": {"root": "1"}}, ("approval_limits", "root", "[key]")),
        ({"delist_return_rate": "1.5"}, ("delist_return_rate",)),
    ):
        with pytest.raises(ValidationError) as exc:
            PolicyIn.model_validate(data)
        assert _loc(exc) == loc


def test_an_import_must_say_what_to_import():
    for data in ({}, {"shipment_ids": []}, {"all_queued": False}):
        with pytest.raises(ValidationError, match=r"shipment_ids.*all_queued"):
            ImportRequest.model_validate(data)
    assert ImportRequest(all_queued=True).all_queued
    assert ImportRequest(shipment_ids=["S-1"]).shipment_ids == ["S-1"]


def test_scope_and_campaign_limits_are_bounded():
    with pytest.raises(ValidationError) as exc:
        ScopeBody(skus=["S" * 129])
    assert _loc(exc) == ("skus", 0)
    with pytest.raises(ValidationError) as exc:
        ReviewPolicyBody(campaign_limits={"C-1": -5})
    assert _loc(exc) == ("campaign_limits", "C-1")


def test_edit_lines_are_bounded_and_their_value_too():
    body = EditBody.model_validate({"lines": [{"sku": "SKU-1", "qty": 2, "unit_price": "1.50"}]})
    assert body.changes()["lines"][0]["unit_price"] == "1.50"
    with pytest.raises(ValidationError) as exc:
        EditBody.model_validate({"lines": [{"sku": "SKU-1", "qty": 1}] * 501})
    assert _loc(exc) == ("lines",)
    with pytest.raises(ValidationError, match="at most 1000000000"):
        EditBody.model_validate(
            {"lines": [{"sku": "SKU-1", "qty": 10_000, "unit_price": "1000000.00"}]}
        )
    with pytest.raises(ValidationError) as exc:
        EditBody.model_validate({"address": {"name": "n", "phone": "p", "line1": "x" * 201}})
    assert _loc(exc) == ("address", "line1")
    with pytest.raises(ValidationError) as exc:  # the event's Address ignores unknown fields
        EditBody.model_validate({"address": {"name": "n", "phone": "p", "geo": "30.2,120.1"}})
    assert _loc(exc) == ("address", "geo")
