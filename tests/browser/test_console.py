"""The jobs of SPEC §1 done from the console in a real browser (issue 17 "Tests")."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.broker]

# key → (role shown, landing path, nav entries it must and must not have)
ROLES = {
    "dev-clerk": ("clerk", "/review", ["Review queue", "Warehouses"], ["After-sales"]),
    "dev-cs_agent": ("cs_agent", "/orders", ["Orders", "After-sales"], ["Review queue"]),
    "dev-cs_supervisor": ("cs_supervisor", "/orders", ["After-sales", "Analytics"], ["Warehouses"]),
    "dev-ops": ("ops", "/stops", ["Stop-shipments", "Analytics"], ["After-sales"]),
    "dev-admin": ("admin", "/orders", ["Review queue", "After-sales", "Analytics"], []),
    "dev-scanner-WH-OWN-1": ("scanner · WH-OWN-1", "/warehouses/WH-OWN-1", [], ["Orders"]),
}


@pytest.mark.parametrize("key", ROLES)
def test_sign_in_as_each_role_shows_what_the_role_may_open(open_as, key):
    label, landing, has, lacks = ROLES[key]
    page = open_as(key)
    expect(page.locator(".role")).to_have_text(label)
    expect(page).to_have_url(re.compile(re.escape(landing) + r"$"))
    nav = page.locator("header nav")
    for title in has:
        expect(nav.get_by_role("link", name=title, exact=True)).to_be_visible()
    for title in lacks:
        expect(nav.get_by_role("link", name=title, exact=True)).to_have_count(0)


def test_an_unknown_key_is_refused_with_the_services_message(open_as):
    page = open_as("not-a-key")
    expect(page.get_by_role("alert")).to_contain_text("unknown API key")
    expect(page.locator(".role")).to_have_count(0)


def test_cs_cancels_a_synced_order_from_its_page_and_sees_void(open_as, system):
    order_id = system.new_order("SKU-2")
    page = open_as("dev-cs_agent")
    page.goto(f"/orders/{order_id}")
    cancel = page.locator('[data-action="cancel"]')
    expect(cancel).to_have_attribute("data-allowed", "true")
    expect(cancel.locator(".mode")).to_have_text("void")
    expect(cancel).to_contain_text("guaranteed")
    page.locator("#cancel-form button").click()
    expect(page.get_by_role("status")).to_contain_text("void")
    expect(page.locator("#stage")).to_have_text("cancelled")
    refused = page.locator('[data-action="cancel"]')
    expect(refused).to_have_attribute("data-allowed", "false")
    expect(page.locator("#cancel-form")).to_have_count(0)


def test_a_clerk_approves_from_the_review_queue(open_as, system):
    order_id = system.new_order("SKU-3", buyer="review-me")
    page = open_as("dev-clerk")
    row = page.locator(f'tr[data-order="{order_id}"]')
    expect(row).to_be_visible()
    row.locator("button.approve").click()
    expect(page.get_by_role("status")).to_contain_text(f"{order_id} approved")
    expect(page.locator(f'tr[data-order="{order_id}"]')).to_have_count(0)
    with system.api("order") as order:
        assert order.get(f"/orders/{order_id}").json()["stage"] == "reviewed"


def test_a_scanner_desk_packs_with_a_wrong_sku_and_sees_the_mismatch_named(open_as, system):
    _, shipment_id = system.submitted_order("WH-OWN-1", "SKU-1")
    page = open_as("dev-scanner-WH-OWN-1")
    task = page.locator(f'[data-shipment="{shipment_id}"]')
    task.get_by_role("button", name="Import").click()
    expect(task).to_have_attribute("data-status", "allocated")
    task.get_by_role("button", name="Label").click()
    expect(task).to_have_attribute("data-status", "labelled")
    task.get_by_label("scanned barcodes").fill("SKU-4")
    task.get_by_role("button", name="Pack").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("SKU-1")
    expect(alert).to_contain_text("SKU-4")
    expect(task).to_have_attribute("data-status", "labelled")
    task.get_by_label("scanned barcodes").fill("SKU-1")
    task.get_by_role("button", name="Pack").click()
    expect(task).to_have_attribute("data-status", "packed")


def test_ops_issues_a_stop_and_watches_two_warehouses_acknowledge_then_lifts_it(open_as, system):
    _, held_ds1 = system.submitted_order("WH-DS-1", "SKU-7")
    system.submitted_order("WH-DS-2", "SKU-9")
    page = open_as("dev-ops")
    page.goto("/stops")
    form = page.locator("#stop-form")
    form.get_by_label("all dropship warehouses").check()
    form.get_by_label("Reason").fill("supplier recall")
    form.get_by_role("button", name="Preview").click()
    preview = page.locator("#preview")
    expect(preview).to_contain_text("WH-DS-1")
    expect(preview).to_contain_text("WH-DS-2")
    page.locator("#stop-form").get_by_role("button", name="Issue stop").click()
    expect(page.get_by_role("status")).to_contain_text("issued")
    stop_id = page.locator("h1").inner_text().split()[0]
    page.evaluate("window.__not_reloaded = true")
    for wh in ("WH-DS-1", "WH-DS-2"):
        row = page.locator(f'#acks tr[data-warehouse="{wh}"]')
        expect(row).to_have_attribute("data-acked", "true")
        expect(row.locator(".held-count")).to_have_text(re.compile(r"[1-9]"))
    assert page.evaluate("window.__not_reloaded") is True  # updated in place

    desk = open_as("dev-scanner-WH-DS-1")
    task = desk.locator(f'[data-shipment="{held_ds1}"]')
    task.get_by_role("button", name="Import").click()
    expect(desk.get_by_role("alert")).to_contain_text(stop_id)
    expect(desk.get_by_role("alert")).to_contain_text("supplier recall")

    page.locator("#lift-form button").click()
    expect(page.locator("#stop-status")).to_have_text("lifted")


def test_cs_edits_with_the_version_read_and_a_stale_page_is_told_to_reload(open_as, system):
    order_id = system.new_order("SKU-5")
    page = open_as("dev-cs_agent")
    page.goto(f"/orders/{order_id}")
    form = page.locator("#edit-form")
    form.get_by_label("Note").fill("leave at the door")
    form.get_by_role("button", name=re.compile("Save")).click()
    expect(page.get_by_role("status")).to_contain_text("Edit accepted")
    expect(page.locator("#edit-form textarea[name=note]")).to_have_value("leave at the door")

    stale = open_as("dev-cs_supervisor")
    stale.goto(f"/orders/{order_id}")
    page.locator("#edit-form").get_by_label("Note").fill("ring twice")
    page.locator("#edit-form").get_by_role("button", name=re.compile("Save")).click()
    expect(page.get_by_role("status")).to_contain_text("Edit accepted")
    stale.locator("#edit-form").get_by_label("Note").fill("call first")
    stale.locator("#edit-form").get_by_role("button", name=re.compile("Save")).click()
    alert = stale.get_by_role("alert")
    expect(alert).to_contain_text("reload and retry")
    expect(alert).to_contain_text("stale_version")
    expect(alert).not_to_contain_text("Traceback")
    with system.api("order") as order:
        assert order.get(f"/orders/{order_id}").json()["note"] == "ring twice"


def test_cs_files_a_complaint_and_sees_its_sla_count_down(open_as):
    page = open_as("dev-cs_agent")
    page.goto("/aftersales")
    page.get_by_placeholder("subject").fill("parcel late")
    page.get_by_role("button", name="File complaint").click()
    expect(page.get_by_role("status")).to_contain_text("Complaint filed")
    row = page.locator("tr[data-complaint]", has_text="parcel late").first
    countdown = row.locator("time.countdown")
    expect(countdown).to_have_text(re.compile(r"^(\d+h )?\d+m \d+s left$"))
    first = countdown.inner_text()
    expect(countdown).not_to_have_text(first)  # it ticks


def test_ops_sees_the_lifecycle_drawn_and_the_analytics_charts(open_as, system):
    page = open_as("dev-ops")
    page.goto("/lifecycle")
    with system.api("order") as order:
        states = order.get("/lifecycle").json()["states"]
    expect(page.locator("#order-lifecycle svg g.state")).to_have_count(len(states))
    expect(page.locator('#order-lifecycle g.state[data-state="synced"]')).to_be_visible()
    page.goto("/analytics")
    charts = page.locator("figure.chart img")
    expect(charts).to_have_count(3)
    for i in range(3):
        charts.nth(i).scroll_into_view_if_needed()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=charts.nth(i).element_handle()
        )


def test_ops_records_a_receipt_on_the_inventory_page(open_as):
    page = open_as("dev-ops")
    page.goto("/inventory?sku=SKU-4&warehouse_id=WH-OWN-1")
    row = page.locator('tr[data-stock="WH-OWN-1/SKU-4/sellable"]')
    before = int(row.locator(".available").inner_text())
    form = page.locator("#adjust-form")
    form.get_by_label("Warehouse").select_option("WH-OWN-1")
    form.get_by_label("SKU").fill("SKU-4")
    form.get_by_label("Units", exact=True).fill("5")
    form.get_by_label("Reason").fill("delivery from the factory")
    form.get_by_role("button", name="Record").click()
    expect(page.get_by_role("status")).to_contain_text(f"{before + 5} available")
    clerk = open_as("dev-clerk")
    clerk.goto("/inventory")
    expect(clerk.locator("#adjust-form")).to_have_count(0)
