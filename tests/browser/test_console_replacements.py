"""Reships (补发) and exchanges (SPEC §4.1) from the order page in a real browser: CS
reships a missing unit and follows it with the warehouse's liability, an over-limit
reship is refused with the limit named, an exchange return shows its state. The order
service's half (routing `<order>-R1`) is not needed: the pages show whatever status
after-sales has."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.broker]
FOLLOWED = re.compile(r"requested|created|shipped")


def test_cs_reships_a_missing_unit_and_sees_its_status_and_the_warehouses_liability(
    open_as, system
):
    order_id = system.shipped_order("SKU-1", qty=2)
    page = open_as("dev-cs_agent")
    page.goto(f"/orders/{order_id}")
    form = page.locator("#reship-form")
    form.get_by_label("reship SKU-1").fill("1")
    form.get_by_label("Reason").select_option("missing_item")
    form.get_by_label("Note").fill("one unit missing from the box")
    form.get_by_role("button", name="Request reship").click()
    expect(page.get_by_role("status")).to_contain_text("warehouse bears 59.00")
    expect(page.locator("#reship-status")).to_have_text(FOLLOWED)
    liability = page.locator("#reship-liabilities")
    expect(liability).to_contain_text("warehouse")
    expect(liability).to_contain_text("59.00")
    reship_id = page.locator("h1").inner_text().split()[1]

    page.get_by_role("link", name=order_id, exact=True).click()
    expect(page.locator(f'#order-reships tr[data-reship="{reship_id}"]')).to_contain_text(
        "missing_item"
    )
    form = page.locator("#reship-form")
    form.get_by_label("reship SKU-1").fill("2")  # one of the two was reshipped already
    form.get_by_role("button", name="Request reship").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("reship_exceeds_shipped")
    expect(alert).to_contain_text("1 already reshipped")


def test_an_over_limit_reship_is_refused_with_the_limit_named(open_as, system):
    order_id = system.shipped_order("SKU-1", qty=4)  # 4 x 59.00 over the agent's 200.00
    page = open_as("dev-cs_agent")
    page.goto(f"/orders/{order_id}")
    form = page.locator("#reship-form")
    form.get_by_label("reship SKU-1").fill("4")
    form.get_by_label("Reason").select_option("transit_damage")
    form.get_by_role("button", name="Request reship").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("approval_limit_exceeded")
    expect(alert).to_contain_text("200.00")
    expect(page).to_have_url(re.compile(re.escape(f"/orders/{order_id}") + "$"))
    expect(page.locator("#order-reships")).to_contain_text("No reships")


def test_cs_opens_an_exchange_from_the_order_page_and_sees_its_status(open_as, system):
    order_id = system.shipped_order("SKU-1")
    system.delivered(order_id)
    page = open_as("dev-cs_agent")
    page.goto(f"/orders/{order_id}")
    form = page.locator("#return-form")
    form.get_by_label("Reason code").fill("changed_mind")
    form.get_by_label("Method").select_option("self_send")
    form.get_by_label("Resolution").select_option("exchange")
    form.get_by_role("textbox", name="Replacement").fill("SKU-1 1")
    form.get_by_role("button", name="Open return").click()
    expect(page.get_by_role("status")).to_contain_text("returned value 59.00")
    exchange = page.locator("#order-returns .exchange")
    expect(exchange.locator(".exchange-status")).to_have_text("waiting")  # for the parcel
    expect(exchange).to_contain_text("for SKU-1")
    expect(exchange).to_contain_text("returned value 59.00")
