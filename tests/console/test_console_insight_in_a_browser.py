"""The console's insight in a real browser (Debian's Chromium through Playwright, the hub
served by uvicorn on a socket): the SKU page draws its stock over time with uPlot under
the strict CSP; an operator edits the routing rules and previews, before saving, that the
recent orders would move to the warehouse; an order is routed again and its new
explanation shown. Every page is checked for script errors and CSP reports, and a
screenshot of each is saved in OMNIHUB_ARTEFACTS."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from omnihub.entrypoints.api.app import create_app
from tests.conftest import add_location, bearer, issue_token
from tests.console.pages_client import person
from tests.console.test_console_in_a_browser import Person
from tests.live_server import LiveServer


@pytest.fixture
def estate(hub):
    add_location(hub, "BKN", name="Brooklyn", kind="store", lat=40.72, lng=-73.95)
    add_location(hub, "WH", name="Newark warehouse", kind="warehouse", capabilities=["ship"], lat=40.73, lng=-74.17)
    hub.catalog.create_product("Enamel mug", [{"sku": "MUG-BLUE", "title": "Blue"}])
    hub.catalog.upsert_channel("shopify", name="Shopify", kind="shopify", feeds={"BKN": "ship", "WH": "ship"})
    hub.inventory.receive("MUG-BLUE", "WH", 8)
    hub.inventory.receive("MUG-BLUE", "BKN", 2)
    ids = []
    with TestClient(create_app(hub=hub), headers=bearer(issue_token(hub, "admin"))) as api:
        for _ in range(2):
            r = api.post("/api/v1/orders", json={
                "channel": "shopify", "lines": [{"sku": "MUG-BLUE", "quantity": 1}],
                "shipping_address": {"line1": "1 Main St", "country": "US", "lat": 40.71, "lng": -73.96}})
            assert r.status_code == 201 and r.json()["assignments"][0]["location"] == "BKN", r.text
            ids.append(r.json()["order_id"])
    person(hub, "olga@shop.example", "operator")
    with LiveServer(create_app(hub=hub)) as live:
        yield hub, live.url, ids


def test_the_sku_page_draws_stock_over_time(chromium, estate, artefacts):
    hub, base, _ = estate
    olga = Person(chromium, base, artefacts)
    olga.sign_in("olga@shop.example")
    olga.page.goto("/console/inventory/MUG-BLUE")
    chart = olga.page.locator("#stock-chart")
    chart.locator("canvas").wait_for()  # uPlot drew
    assert chart.get_attribute("data-drawn") == "120"  # 30 days, every six hours
    legend = chart.locator(".u-legend").inner_text()
    assert "On hand" in legend and "Reserved" in legend and "Available" in legend
    box = chart.locator("canvas").bounding_box()
    assert box and box["width"] > 300 and box["height"] > 150
    olga.shot("sku-stock-over-time")
    olga.page.get_by_label("Window", exact=True).select_option("7")
    olga.page.get_by_label("Location", exact=True).select_option("WH")
    olga.page.get_by_role("button", name="Show").click()
    olga.page.wait_for_url("**days=7**location=WH**")
    chart.locator("canvas").wait_for()
    assert chart.get_attribute("data-drawn") == "168"  # hourly
    olga.shot("sku-stock-over-time-week-at-wh")
    olga.close()


def test_a_routing_edit_is_previewed_before_it_is_saved(chromium, estate, artefacts):
    hub, base, ids = estate
    olga = Person(chromium, base, artefacts)
    olga.sign_in("olga@shop.example")
    olga.page.goto("/console/rules")
    rules = json.loads(olga.page.get_by_label("Rules (JSON)").input_value())
    rules["rules"][-1]["location_filter"]["kinds"] = ["warehouse"]
    olga.page.get_by_label("Rules (JSON)").fill(json.dumps(rules, indent=2))
    olga.page.locator("#preview-routing-button").click()
    summary = olga.page.locator("#preview-routing #preview-routing-summary")
    summary.wait_for()
    assert olga.page.locator("#preview-routing #preview-moved").inner_text() == "2"
    moved = olga.page.locator("#preview-routing #preview-orders tbody tr")
    assert moved.count() == 2
    first = moved.first.locator("td")
    assert "BKN" in first.nth(0).inner_text() and "BKN" in first.nth(1).inner_text()
    assert "WH" in first.nth(2).inner_text()
    assert olga.page.url.endswith("/console/rules")  # in place: the page did not change
    olga.shot("rules-routing-preview")
    assert hub.rules.get()["version"] == 0  # previewed, not saved
    olga.page.get_by_label("What changed, and why").fill("ship from the warehouse")
    olga.page.get_by_role("button", name="Save routing rules").click()
    assert "Saved" in olga.page.get_by_role("status").inner_text()
    assert hub.rules.get()["version"] == 1
    olga.close()


def test_an_order_is_routed_again_with_its_new_explanation(chromium, estate, artefacts):
    hub, base, ids = estate
    olga = Person(chromium, base, artefacts)
    olga.sign_in("olga@shop.example")
    olga.page.goto(f"/console/orders/{ids[0]}")
    assert "at BKN" in olga.page.locator("#lines").inner_text()
    rules = hub.rules.get()  # since it was placed, the rules send shipments to the warehouse
    rules.pop("version")
    rules["rules"][-1]["location_filter"]["kinds"] = ["warehouse"]
    hub.rules.save(rules)
    olga.page.get_by_role("button", name="Route again").click()
    assert "Routed again" in olga.page.get_by_role("status").inner_text()
    assert "1 at WH (reserved)" in olga.page.locator("#lines").inner_text()
    latest = olga.page.locator('section.routing[data-latest="true"]')
    assert "Decision 2" in latest.inner_text() and "rules version 1" in latest.inner_text()
    assert "Newark" in latest.inner_text() or "WH" in latest.inner_text()
    olga.shot("order-routed-again")
    olga.close()
