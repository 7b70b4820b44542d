"""The store associate's pick list, hand-over and Store Mode over plain HTTP: the store's
ship-from-store and pickup orders are listed with their lines; a pick is confirmed, a
short pick routes the missing units elsewhere with the reason in the order's history; a
parcel leaves with its carrier and tracking; a pickup order is handed over with its
code (a wrong one refused with the tries left, the code never shown to the store); an
associate cannot open or post to another store's pick list or hand-over, page nor API;
Store Mode finds the stores near a ZIP code with the product ready for pickup."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from omnihub.adapters.bus.in_process import _events_of
from omnihub.adapters.db import tables as t
from omnihub.entrypoints.api.app import create_app
from tests.conftest import add_location, bearer, issue_token
from tests.console.pages_client import csrf_of, person, signed_in

UPC = "036000291452"
NEAR_BKN = {"country": "US", "lat": 40.7140, "lng": -73.9610}


@pytest.fixture
def stores(hub):
    add_location(hub, "BKN", name="Brooklyn", kind="store", lat=40.7145, lng=-73.9612,
                 capabilities=["ship", "pickup", "curbside"])
    add_location(hub, "SOHO", name="SoHo", kind="store", lat=40.7233, lng=-74.0030)
    hub.catalog.create_product("Enamel mug", [{"sku": "MUG", "title": "Blue", "gtin": UPC}])
    hub.catalog.create_product("Enamel bowl", [{"sku": "BOWL"}])
    hub.inventory.receive("MUG", "BKN", 3)
    hub.inventory.receive("MUG", "SOHO", 5)
    hub.inventory.receive("BOWL", "BKN", 2)
    person(hub, "sam@shop.example", "store_associate", ["BKN"])
    with TestClient(create_app(hub=hub), headers=bearer(issue_token(hub, "admin"))) as api:
        api.hub = hub
        yield api


def _order(api, *lines, **kw) -> int:
    body = {"channel": "shopify", "lines": [{"sku": s, "quantity": q} for s, q in lines],
            "shipping_address": NEAR_BKN, **kw}
    r = api.post("/api/v1/orders", json=body)
    assert r.status_code == 201, r.text
    return r.json()["order_id"]


def _assigned(hub, order_id: int) -> list[tuple[str, str, int]]:
    a = t.order_assignments
    with hub.engine.connect() as c:
        return sorted((r.location, r.state, r.quantity) for r in c.execute(
            sa.select(a.c.location, a.c.state, a.c.quantity).where(a.c.order_id == order_id)))


def _reasons(hub, order_id: int) -> list[str]:
    with hub.engine.connect() as c:
        rows = c.execute(sa.select(t.outbox.c.payload).where(t.outbox.c.topic == "order.state_changed")).scalars().all()
    return [e["reason"] for p in rows for e in _events_of(p) if e["order_id"] == order_id]


def test_the_pick_list_shows_the_store_s_orders_and_a_pick_is_confirmed(stores):
    hub = stores.hub
    ship = _order(stores, ("MUG", 2), external_id="#1001")
    pickup = _order(stores, ("BOWL", 1), external_id="#1002", delivery_method="pickup_in_store", pickup_location="BKN")
    sam = signed_in(hub, "sam@shop.example")
    page = sam.get("/console/store/BKN/picks")
    assert page.status_code == 200
    assert 'id="pick-%d"' % ship in page.text and 'id="pick-%d"' % pickup in page.text
    assert "Enamel mug / Blue" in page.text and 'class="tag ship"' in page.text and 'class="tag pickup"' in page.text
    assert 'inputmode="numeric"' in page.text and 'for="found-%d-1">Found of MUG' % ship in page.text
    r = sam.post(f"/console/store/BKN/picks/{ship}", data={"csrf_token": csrf_of(page.text), "found-1": "2"})
    assert r.status_code == 303 and r.headers["location"] == f"/console/store/BKN/picks?done=picked&order={ship}"
    done = sam.get(r.headers["location"])
    assert "Picked: the units are in the tote." in done.text and 'id="ship-%d"' % ship in done.text
    assert _assigned(hub, ship) == [("BKN", "picked", 2)]
    [event] = [e for e in hub.audit.page(limit=20)[0] if e["action"] == "orders.pick"]
    assert event["target"] == f"order_id={ship} location=BKN" and event["actor"]["name"] == "sam@shop.example"


def test_a_short_pick_routes_the_missing_units_elsewhere(stores):
    hub = stores.hub
    oid = _order(stores, ("MUG", 3))
    assert _assigned(hub, oid) == [("BKN", "reserved", 3)]
    sam = signed_in(hub, "sam@shop.example")
    token = csrf_of(sam.get("/console/store/BKN/picks").text)
    too_many = sam.post(f"/console/store/BKN/picks/{oid}", data={"csrf_token": token, "found-1": "4"})
    assert too_many.status_code == 409 and "4 found, only 3 to pick at BKN" in too_many.text
    bad = sam.post(f"/console/store/BKN/picks/{oid}", data={"csrf_token": token, "found-1": "two"})
    assert bad.status_code == 422 and "a whole number from 0 up" in bad.text
    r = sam.post(f"/console/store/BKN/picks/{oid}", data={"csrf_token": token, "found-1": "1", "reason": "broken box"})
    assert r.status_code == 303 and "done=short" in r.headers["location"]
    assert "Short pick recorded" in sam.get(r.headers["location"]).text
    assert _assigned(hub, oid) == [("BKN", "picked", 1), ("BKN", "rejected", 2), ("SOHO", "reserved", 2)]
    assert "short pick at BKN: 2 × MUG not found (broken box)" in _reasons(hub, oid)
    assert hub.queries.positions("MUG")["BKN"].quality_control == 2


def test_a_picked_parcel_leaves_with_its_carrier_and_tracking(stores):
    hub = stores.hub
    oid = _order(stores, ("MUG", 1))
    sam = signed_in(hub, "sam@shop.example")
    token = csrf_of(sam.get("/console/store/BKN/picks").text)
    assert sam.post(f"/console/store/BKN/picks/{oid}", data={"csrf_token": token, "found-1": "1"}).status_code == 303
    missing = sam.post(f"/console/store/BKN/shipments/{oid}", data={"csrf_token": token, "carrier": "UPS"})
    assert missing.status_code == 422 and "tracking number" in missing.text
    r = sam.post(f"/console/store/BKN/shipments/{oid}", data={"csrf_token": token, "carrier": "UPS",
                                                             "tracking": "1Z999AA10123456784"})
    assert r.status_code == 303 and "done=shipped" in r.headers["location"]
    a = t.order_assignments
    with hub.engine.connect() as c:
        row = c.execute(sa.select(a.c.state, a.c.carrier, a.c.tracking_number).where(a.c.order_id == oid)).one()
    assert tuple(row) == ("shipped", "UPS", "1Z999AA10123456784")
    assert hub.queries.positions("MUG")["BKN"].on_hand == 2


def _ready(stores, sam, **kw) -> int:
    oid = _order(stores, ("BOWL", 1), delivery_method=kw.pop("delivery_method", "pickup_in_store"),
                 pickup_location="BKN", **kw)
    token = csrf_of(sam.get("/console/store/BKN/picks").text)
    assert sam.post(f"/console/store/BKN/picks/{oid}", data={"csrf_token": token}).status_code == 303
    return oid


def test_a_pickup_is_handed_over_with_its_code_and_a_wrong_one_is_refused(stores):
    hub = stores.hub
    sam = signed_in(hub, "sam@shop.example")
    oid = _ready(stores, sam, external_id="#2001")
    code = stores.get(f"/api/v1/orders/{oid}/pickup").json()["code"]  # as the customer's message gives it
    listed = sam.get("/console/store/BKN/pickups")
    assert listed.status_code == 200 and f'href="/console/store/BKN/pickups/{oid}"' in listed.text
    page = sam.get(f"/console/store/BKN/pickups/{oid}")
    assert page.status_code == 200 and "Pickup code" in page.text and code not in page.text  # never shown to the store
    assert 'data-scan-for="code"' in page.text and 'data-scan-formats="qr_code"' in page.text
    wrong = "000000" if code != "000000" else "111111"
    refused = sam.post(f"/console/store/BKN/pickups/{oid}", data={"csrf_token": csrf_of(page.text), "code": wrong})
    assert refused.status_code == 422 and "That is not this order&#39;s pickup code. 4 tries left" in refused.text
    assert 'aria-invalid="true" aria-describedby="code-error' in refused.text
    assert _assigned(hub, oid) == [("BKN", "picked", 1)]
    r = sam.post(f"/console/store/BKN/pickups/{oid}", data={"csrf_token": csrf_of(page.text), "code": code})
    assert r.status_code == 303 and r.headers["location"] == f"/console/store/BKN/pickups?done={oid}"
    assert "Order handed over" in sam.get(r.headers["location"]).text
    assert _assigned(hub, oid) == [("BKN", "picked_up", 1)]
    assert "collected by the customer" in _reasons(hub, oid)
    again = sam.post(f"/console/store/BKN/pickups/{oid}", data={"csrf_token": csrf_of(page.text), "code": code})
    assert again.status_code == 409 and "already handed over" in again.text


def test_curbside_orders_are_marked_and_the_customer_s_arrival_puts_them_first(stores):
    hub = stores.hub
    sam = signed_in(hub, "sam@shop.example")
    first = _ready(stores, sam)
    curbside = _ready(stores, sam, delivery_method="curbside")
    shop_app = bearer(issue_token(hub, "integration", scopes=["orders.ingest:shopify"]))
    told = stores.post(f"/api/v1/orders/{curbside}/pickup/arrival", json={"channel": "shopify", "note": "red van, bay 2"},
                       headers=shop_app)
    assert told.status_code == 200 and told.json()["arrival_note"] == "red van, bay 2" and "code" not in told.json()
    page = sam.get("/console/store/BKN/pickups").text
    assert page.index(f"pickups/{curbside}") < page.index(f"pickups/{first}")
    assert "Customer here: red van, bay 2" in page and 'class="tag curbside"' in page


def test_the_api_takes_picks_and_the_pickup_code_and_shows_the_code_only_off_the_shop_floor(stores):
    hub = stores.hub
    associate = bearer(issue_token(hub, "store_associate", locations=["BKN"]))
    oid = _order(stores, ("BOWL", 1), delivery_method="pickup_in_store", pickup_location="BKN")
    listed = stores.get("/api/v1/stores/BKN/pick-list", headers=associate).json()
    assert [(o["order_id"], o["lines"][0]["sku"]) for o in listed["to_pick"]] == [(oid, "BOWL")]
    not_ready = stores.post(f"/api/v1/orders/{oid}/pickup", json={"code": "123456"}, headers=associate)
    assert not_ready.status_code == 409 and not_ready.json()["code"] == "not_ready"
    picked = stores.post(f"/api/v1/orders/{oid}/picks", json={"location": "BKN"}, headers=associate)
    assert picked.status_code == 200 and picked.json()["state"] == "picked"
    mine = stores.get(f"/api/v1/orders/{oid}/pickup", headers=associate).json()
    assert "code" not in mine and mine["location"] == "BKN"
    code = stores.get(f"/api/v1/orders/{oid}/pickup").json()["code"]
    wrong = stores.post(f"/api/v1/orders/{oid}/pickup", json={"code": "x"}, headers=associate)
    assert wrong.status_code == 422 and wrong.json()["code"] == "wrong_pickup_code"
    assert stores.get("/api/v1/stores/BKN/pickups", headers=associate).json()["items"][0]["order_id"] == oid
    done = stores.post(f"/api/v1/orders/{oid}/pickup", json={"code": code}, headers=associate)
    assert done.status_code == 200 and done.json()["state"] == "picked_up"


def test_an_associate_cannot_open_nor_post_to_another_store_s_pick_list_or_hand_over(stores):
    hub = stores.hub
    soho = _order(stores, ("MUG", 1), shipping_address={"country": "US", "lat": 40.7233, "lng": -74.0030})
    assert _assigned(hub, soho) == [("SOHO", "reserved", 1)]
    sam = signed_in(hub, "sam@shop.example")
    token = csrf_of(sam.get("/console/store/BKN/picks").text)
    for path in ("/console/store/SOHO/picks", "/console/store/SOHO/pickups", f"/console/store/SOHO/pickups/{soho}"):
        r = sam.get(path)
        assert r.status_code == 403 and "Not for your role" in r.text, path
    for path, form in ((f"/console/store/SOHO/picks/{soho}", {"found-1": "0"}),
                       (f"/console/store/SOHO/shipments/{soho}", {"carrier": "UPS", "tracking": "1Z"}),
                       (f"/console/store/SOHO/pickups/{soho}", {"code": "123456"})):
        assert sam.post(path, data={"csrf_token": token, **form}).status_code == 403, path
    # its own store's path names only its own units: SoHo's order is not there to pick
    own = sam.post(f"/console/store/BKN/picks/{soho}", data={"csrf_token": token, "found-1": "0"})
    assert own.status_code == 409 and "nothing to pick at BKN" in own.text
    api = {"X-CSRF-Token": token}
    assert sam.get("/api/v1/stores/SOHO/pick-list").status_code == 403
    assert sam.post(f"/api/v1/orders/{soho}/picks", json={"location": "SOHO", "lines": {"1": 0}},
                    headers=api).status_code == 403
    assert sam.post(f"/api/v1/orders/{soho}/pickup", json={"code": "123456"}, headers=api).status_code == 403
    assert sam.get(f"/api/v1/orders/{soho}/pickup").status_code == 403
    assert _assigned(hub, soho) == [("SOHO", "reserved", 1)]  # untouched
    assert hub.queries.positions("MUG")["SOHO"].quality_control == 0


def test_store_mode_finds_the_stores_near_a_zip_code_with_pickup_stock(stores):
    hub = stores.hub
    sam = signed_in(hub, "sam@shop.example")
    assert 'href="/console/store-mode"' in sam.get("/console/store").text
    page = sam.get("/console/store-mode", params={"q": UPC, "near": "11211"})
    assert page.status_code == 200, page.text
    rows = re.findall(r'<tr id="store-(\w+)">(.*?)</tr>', page.text, re.S)
    assert [code for code, _ in rows] == ["BKN", "SOHO"]  # nearest first
    units = {code: re.search(r'class="num units">(\d+)<', row)[1] for code, row in rows}
    assert units == {"BKN": "3", "SOHO": "5"}
    assert all(re.search(r'class="ready">\w{3} \d\d:\d\d<', row) for _, row in rows)
    assert 'class="tag curbside"' in dict(rows)["BKN"]
    several = sam.get("/console/store-mode", params={"q": "enamel", "near": "11211"})
    assert several.status_code == 200 and "Which product?" in several.text and "sku=BOWL" in several.text
    bad = sam.get("/console/store-mode", params={"q": "MUG", "near": "00000"})
    assert bad.status_code == 422 and "not a known US ZIP code" in bad.text
    unknown = sam.get("/console/store-mode", params={"q": "TEAPOT", "near": "11211"})
    assert unknown.status_code == 422 and "No product matches" in unknown.text
