"""More of SPEC §1 from the console in a real browser: a clerk maps an unknown SKU from the
review queue, CS watches a refund's decision arrive, supervisors and ops open their pages."""

from __future__ import annotations

import uuid

import httpx
import pytest
from playwright.sync_api import expect

from tests.support.webhooks import generic_order, sign_generic

pytestmark = [pytest.mark.e2e, pytest.mark.broker]


def _order_with_unknown_variant(system, variant_id: str) -> str:
    body = generic_order(skus=("SKU-1", "SKU-2"))
    body["lines"][1] = {**body["lines"][1], "sku": "", "variant_id": variant_id}
    headers, raw = sign_generic(body)
    with httpx.Client(base_url=system.urls["order"], timeout=10) as http:
        r = http.post("/webhooks/generic/orders", content=raw, headers=headers)
    assert r.status_code == 202, r.text
    return r.json()["order_id"]


def test_a_clerk_maps_an_unknown_sku_from_the_review_queue_and_the_order_resolves(open_as, system):
    variant = f"V-{uuid.uuid4().hex[:8]}"
    order_id = _order_with_unknown_variant(system, variant)
    page = open_as("dev-clerk")
    row = page.locator(f'tr[data-order="{order_id}"]')
    row.locator('a[data-flag="unknown_sku"]').click()
    form = page.locator("#sku-form")
    expect(form.get_by_label("variant id")).to_have_value(variant)
    form.get_by_label("SKU").fill("SKU-3")
    form.get_by_role("button", name="Map").click()
    expect(page.get_by_role("status")).to_contain_text(f"resolved {order_id}")
    expect(page.locator(f'tr[data-variant="{variant}"]')).to_contain_text("SKU-3")
    with system.api("order") as order:
        found = order.get(f"/orders/{order_id}").json()
    assert [ln["sku"] for ln in found["lines"]] == ["SKU-1", "SKU-3"]
    assert "unknown_sku" not in [f["code"] for f in found["flags"]]


def test_cs_refunds_an_order_and_watches_the_order_services_decision_arrive(open_as, system):
    order_id = system.new_order("SKU-2")
    page = open_as("dev-cs_agent")
    page.goto(f"/orders/{order_id}")
    page.get_by_role("button", name="Request refund").click()
    expect(page.get_by_role("status")).to_contain_text("requested")
    expect(page.locator("#refund-decision")).to_contain_text("void")  # polled, no reload
    expect(page.locator("#refund-status")).to_have_text("issued")
    expect(page.locator("#refund-state")).to_have_attribute("data-done", "")


def test_cs_refunds_one_line_from_the_order_page(open_as, system):
    order_id = system.new_order("SKU-1", "SKU-2")
    page = open_as("dev-cs_agent")
    page.goto(f"/orders/{order_id}")
    form = page.locator("#line-refund-form")
    form.get_by_label("refund SKU-1").fill("1")
    form.get_by_role("button", name="Refund these units").click()
    expect(page.locator("h1")).to_contain_text("lines")
    expect(page.locator(".refund-lines")).to_contain_text("SKU-1")
    expect(page.locator("table.decision")).to_be_visible()


def test_a_supervisor_opens_liabilities_and_returned_goods_and_ops_its_operations_page(open_as):
    page = open_as("dev-cs_supervisor")
    page.goto("/liabilities")
    expect(page.locator("table.liabilities")).to_be_visible()
    page.get_by_role("link", name="Returned goods").click()
    expect(page.locator("table.returned-goods")).to_be_visible()
    ops = open_as("dev-ops")
    ops.get_by_role("link", name="Operations", exact=True).click()
    for service in ("order", "warehouse", "aftersales"):
        section = ops.locator(f'section[data-service="{service}"]')
        expect(section.locator("table.parked")).to_be_visible()
        expect(section.locator("table.anomalies")).to_be_visible()
