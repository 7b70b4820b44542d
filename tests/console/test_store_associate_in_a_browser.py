"""The store associate's fulfilment screens in a real browser (Debian's Chromium through
Playwright, the hub served by uvicorn on a socket), phone-sized: the pick list is
picked (once short) and a parcel shipped, a pickup handed over with its code after a
wrong one is refused; an associate of one store cannot open another's pick list nor post
to it (page and API); Store Mode answers for a ZIP code. Screenshots of every screen go
to OMNIHUB_ARTEFACTS. (The camera's Scan button: test_camera_scan_in_a_browser.py.)"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from omnihub.adapters.db import tables as t
from omnihub.entrypoints.api.app import create_app
from tests.conftest import add_location, bearer, issue_token
from tests.console.pages_client import person
from tests.console.test_console_in_a_browser import Person
from tests.live_server import LiveServer

UPC = "036000291452"
NEAR_BKN = {"country": "US", "lat": 40.7140, "lng": -73.9610}


@pytest.fixture
def estate(hub):
    add_location(hub, "BKN", name="Brooklyn", kind="store", lat=40.7145, lng=-73.9612,
                 capabilities=["ship", "pickup", "curbside"])
    add_location(hub, "SOHO", name="SoHo", kind="store", lat=40.7233, lng=-74.0030)
    hub.catalog.create_product("Enamel mug", [{"sku": "MUG-BLUE", "title": "Blue", "gtin": UPC}])
    hub.catalog.create_product("Enamel bowl", [{"sku": "BOWL"}])
    for sku, store, units in (("MUG-BLUE", "BKN", 4), ("MUG-BLUE", "SOHO", 4), ("BOWL", "BKN", 3)):
        hub.inventory.receive(sku, store, units)
    person(hub, "sam@shop.example", "store_associate", ["BKN"])
    with LiveServer(create_app(hub=hub)) as live:
        yield hub, live.url


def _order(hub, *lines, **kw) -> int:
    with TestClient(create_app(hub=hub), headers=bearer(issue_token(hub, "admin"))) as api:
        r = api.post("/api/v1/orders", json={"channel": "shopify", "shipping_address": NEAR_BKN,
                                             "lines": [{"sku": s, "quantity": q} for s, q in lines], **kw})
    assert r.status_code == 201, r.text
    return r.json()["order_id"]


def _states(hub, order_id: int) -> list[tuple[str, str]]:
    a = t.order_assignments
    with hub.engine.connect() as c:
        return sorted((r.location, r.state) for r in c.execute(
            sa.select(a.c.location, a.c.state).where(a.c.order_id == order_id)))


def _ready_pickup(hub, sam: Person, **kw) -> int:
    oid = _order(hub, ("BOWL", 1), delivery_method=kw.pop("delivery_method", "pickup_in_store"), pickup_location="BKN",
                 **kw)
    sam.page.goto("/console/store/BKN/picks")
    sam.page.locator(f"#pick-{oid}").get_by_role("button", name="Confirm the pick").click()
    assert "Picked" in sam.page.locator("#pick-done").inner_text()
    return oid


def _fits(who: Person) -> None:
    width = who.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width  # no sideways scrolling on the phone


def test_pick_ship_and_hand_over_with_the_code(chromium, estate, artefacts):
    hub, base = estate
    ship = _order(hub, ("MUG-BLUE", 2), external_id="#1001")
    short = _order(hub, ("MUG-BLUE", 2), external_id="#1002")  # BKN holds 4: two orders of 2
    sam = Person(chromium, base, artefacts, phone=True)
    sam.sign_in("sam@shop.example")
    sam.page.get_by_role("link", name="Pick list").click()
    assert sam.page.locator(f"#pick-{ship}").is_visible() and sam.page.locator(f"#pick-{short}").is_visible()
    _fits(sam)
    sam.shot("picks-phone")
    sam.page.locator(f"#pick-{ship}").get_by_role("button", name="Confirm the pick").click()
    assert "Picked" in sam.page.locator("#pick-done").inner_text()
    card = sam.page.locator(f"#pick-{short}")
    card.get_by_label("Found of MUG-BLUE").fill("1")
    card.get_by_label("If you found fewer: why (optional)").fill("one chipped")
    card.get_by_role("button", name="Confirm the pick").click()
    assert "Short pick recorded" in sam.page.locator("#pick-done").inner_text()
    assert ("SOHO", "reserved") in _states(hub, short)  # the missing unit routed to the other store
    parcel = sam.page.locator(f"#ship-{ship}")
    parcel.get_by_label("Carrier").fill("UPS")
    parcel.get_by_label("Tracking number").fill("1Z999AA10123456784")
    sam.shot("picks-to-ship-phone")
    parcel.get_by_role("button", name="Mark shipped").click()
    assert "Shipped" in sam.page.locator("#pick-done").inner_text()
    assert _states(hub, ship) == [("BKN", "shipped")]
    _fits(sam)

    pickup = _ready_pickup(hub, sam, external_id="#2001")
    code = hub.pickups.status(pickup)["code"]
    sam.page.get_by_role("link", name="Hand over", exact=True).click()
    sam.shot("pickups-phone")
    sam.page.locator(f"#pickup-{pickup}").click()
    wrong = "000000" if code != "000000" else "111111"
    sam.page.get_by_label("Pickup code").fill(wrong)
    sam.page.get_by_role("button", name="Hand over").click()
    assert "4 tries left" in sam.page.locator("#code-error").inner_text()
    assert _states(hub, pickup) == [("BKN", "picked")]
    sam.shot("pickup-wrong-code-phone")
    sam.problems.clear()  # the 422 of the refused code, reported by the browser as a failed load
    sam.page.get_by_label("Pickup code").fill(code)
    sam.page.get_by_role("button", name="Hand over").click()
    assert "Order handed over" in sam.page.locator("#handed-over").inner_text()
    assert _states(hub, pickup) == [("BKN", "picked_up")]
    _fits(sam)
    sam.shot("handed-over-phone")
    sam.close()


def test_an_associate_cannot_open_nor_post_to_another_store_s_pick_list(chromium, estate, artefacts):
    hub, base = estate
    soho = _order(hub, ("MUG-BLUE", 1), shipping_address={"country": "US", "lat": 40.7233, "lng": -74.0030})
    assert _states(hub, soho) == [("SOHO", "reserved")]
    sam = Person(chromium, base, artefacts, phone=True)
    sam.sign_in("sam@shop.example")
    sam.page.goto("/console/store/BKN/picks")
    token = sam.csrf()
    answer = sam.page.goto("/console/store/SOHO/picks")
    assert answer.status == 403 and sam.page.get_by_role("heading", name="Not for your role").is_visible()
    sam.problems.clear()  # the 403 shown, reported as a failed load
    post = sam.page.request.post(f"/console/store/SOHO/picks/{soho}", form={"csrf_token": token, "found-1": "0"})
    assert post.status == 403
    listed = sam.page.request.get("/api/v1/stores/SOHO/pick-list")
    assert listed.status == 403 and listed.json()["code"] == "forbidden"
    api = sam.page.request.post(f"/api/v1/orders/{soho}/picks", data={"location": "SOHO", "lines": {"1": 0}},
                                headers={"X-CSRF-Token": token})
    assert api.status == 403 and api.json()["code"] == "forbidden"
    own = sam.page.request.get("/api/v1/stores/BKN/pick-list")
    assert own.status == 200  # the same session at its own store
    assert _states(hub, soho) == [("SOHO", "reserved")] and hub.queries.positions("MUG-BLUE")["SOHO"].quality_control == 0
    sam.close()


def test_store_mode_answers_for_a_zip_code(chromium, estate, artefacts):
    hub, base = estate
    sam = Person(chromium, base, artefacts, phone=True)
    sam.sign_in("sam@shop.example")
    sam.page.get_by_role("link", name="Store Mode").click()
    sam.page.get_by_label("Product: SKU, barcode or title").fill(UPC)
    sam.page.get_by_label("Customer's ZIP code").fill("11211")
    sam.page.get_by_role("button", name="Find stores").click()
    rows = sam.page.locator("#stores tbody tr")
    assert rows.count() == 2 and rows.nth(0).get_attribute("id") == "store-BKN"
    assert sam.page.locator("#store-SOHO .units").inner_text() == "4"
    assert re.fullmatch(r"\w{3} \d\d:\d\d", sam.page.locator("#store-BKN .ready").inner_text())
    _fits(sam)
    sam.shot("store-mode-phone")
    sam.close()
