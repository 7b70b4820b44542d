"""Order pages over plain HTTP: the pipeline by state with its counts and filters, an
order's page with its routing explanation (the rule, every location considered, why the
others were passed over), and the actions (cancel units of a line, hold, release) as form
posts through the order services, refused without the session's CSRF token and for a
role that may not act; a store associate sees only its own store's orders."""

from __future__ import annotations

import re

import sqlalchemy as sa
from fastapi.testclient import TestClient

from omnihub.adapters.db import tables as t
from omnihub.entrypoints.api.app import create_app
from tests.conftest import add_location, add_skus, bearer, issue_token
from tests.console.pages_client import csrf_of, person, signed_in


def _orders(hub) -> list[int]:
    add_location(hub, "BKN", kind="store", lat=40.72, lng=-73.95)
    add_location(hub, "WH", kind="warehouse", capabilities=["ship"], lat=40.0, lng=-75.0)
    add_skus(hub, "MUG", "CAP")
    hub.inventory.receive("MUG", "WH", 5)
    hub.inventory.receive("MUG", "BKN", 1)
    hub.inventory.receive("CAP", "BKN", 4)
    ids = []
    with TestClient(create_app(hub=hub), headers=bearer(issue_token(hub, "admin"))) as api:
        for channel, sku, units, risk in (("shopify", "MUG", 2, None), ("manual", "CAP", 3, "high"),
                                          ("shopify", "CAP", 9, None)):
            r = api.post("/api/v1/orders", json={
                "channel": channel, "lines": [{"sku": sku, "quantity": units, "unit_price_minor": 1250}],
                **({"channel_risk": risk} if risk else {}),
                "customer": {"email": "ana@example.com"},
                "shipping_address": {"line1": "1 Main St", "country": "US", "lat": 40.7, "lng": -74.0}})
            assert r.status_code == 201, r.text
            ids.append(r.json()["order_id"])
    return ids


def test_the_pipeline_counts_orders_by_state_and_filters_them(hub):
    ids = _orders(hub)
    c = signed_in(hub, person(hub, "rita@shop.example", "read_only"))
    r = c.get("/console/orders")
    assert r.status_code == 200
    with hub.engine.connect() as conn:
        states = dict(conn.execute(sa.select(t.orders.c.state, sa.func.count()).group_by(t.orders.c.state)).all())
    for state, n in states.items():
        assert re.search(rf'id="state-{state}"[^>]*>[^<]*<span class="n">{n}</span>', r.text), state
    listed = [int(x) for x in re.findall(r'<a href="/console/orders/(\d+)">', r.text)]
    assert listed == sorted(ids, reverse=True)
    shopify = c.get("/console/orders", params={"channel": "shopify"})
    assert [int(x) for x in re.findall(r'<a href="/console/orders/(\d+)">', shopify.text)] == [ids[2], ids[0]]
    queued = c.get("/console/orders", params={"state": "backordered"})
    assert [int(x) for x in re.findall(r'<a href="/console/orders/(\d+)">', queued.text)] == (
        [ids[2]] if states.get("backordered") else [])


def test_an_order_page_explains_its_routing(hub):
    ids = _orders(hub)
    c = signed_in(hub, person(hub, "olga@shop.example", "operator"))
    r = c.get(f"/console/orders/{ids[0]}")
    assert r.status_code == 200
    routing = re.search(r'<section class="card routing"(.*?)</section>', r.text, re.S)[1]
    rule = hub.rules.get()
    assert "by rule <q class=\"rule\">ship-fewest-parcels</q>" in routing, routing[:500]
    considered = re.findall(r'<th scope="row">(\w+)</th>.*?<td>(<strong>chosen</strong>|<span class="passed-over">[^<]*</span>)',
                            routing, re.S)
    assert considered[0][0] == "WH" and "chosen" in considered[0][1]
    assert considered[1][0] == "BKN" and "passed over" in considered[1][1]
    assert "It applies when delivery method is express, same_day; this order's is standard" in routing
    assert "ana@example.com" in r.text and rule


def test_read_only_sees_the_customer_masked_and_no_actions(hub):
    ids = _orders(hub)
    c = signed_in(hub, person(hub, "rita@shop.example", "read_only"))
    r = c.get(f"/console/orders/{ids[0]}")
    assert r.status_code == 200 and "ana@example.com" not in r.text and "masked for your role" in r.text
    assert "/cancel" not in r.text and "/hold" not in r.text
    refused = c.post(f"/console/orders/{ids[0]}/hold", data={"csrf_token": csrf_of(c.get("/console/orders").text),
                                                             "reason": "fraud check"})
    assert refused.status_code == 403 and "orders.act" in refused.text


def test_cancel_hold_and_release_through_the_order_services(hub):
    ids = _orders(hub)
    c = signed_in(hub, person(hub, "olga@shop.example", "operator"))
    page = c.get(f"/console/orders/{ids[0]}")
    token = csrf_of(page.text)
    assert c.post(f"/console/orders/{ids[0]}/cancel", data={"line_id": "1", "units": "1"}).status_code == 403  # no token
    r = c.post(f"/console/orders/{ids[0]}/cancel", data={"csrf_token": token, "line_id": "1", "units": "1"})
    assert r.status_code == 303 and r.headers["location"] == f"/console/orders/{ids[0]}?done=cancelled"
    after = c.get(r.headers["location"])
    assert "Units cancelled" in after.text
    assert re.search(r'<th scope="row">1</th><td>MUG</td><td class="num">2</td><td class="num">1</td>', after.text)
    too_many = c.post(f"/console/orders/{ids[0]}/cancel", data={"csrf_token": token, "line_id": "1", "units": "5"})
    assert too_many.status_code == 409 and 'role="alert"' in too_many.text
    bad = c.post(f"/console/orders/{ids[0]}/cancel", data={"csrf_token": token, "line_id": "1", "units": "none"})
    assert bad.status_code == 422
    assert c.post(f"/console/orders/{ids[0]}/hold", data={"csrf_token": token, "reason": ""}).status_code == 422
    late = c.post(f"/console/orders/{ids[0]}/hold", data={"csrf_token": token, "reason": "address check"})
    assert late.status_code == 409 and "Hold the order" not in late.text  # allocated: past holding
    page = c.get(f"/console/orders/{ids[1]}")  # held by the screening: the channel rated it high risk
    assert re.search(r'id="order-state">held<', page.text) and "Release the hold" in page.text
    released = c.post(f"/console/orders/{ids[1]}/release", data={"csrf_token": token})
    assert released.status_code == 303 and released.headers["location"].endswith("?done=released")
    after = c.get(released.headers["location"])
    assert "Release the hold" not in after.text and not re.search(r'id="order-state">held<', after.text)
    items, _ = hub.audit.page(limit=50)
    done = {e["action"]: e for e in items}
    assert {"orders.cancel", "orders.release"} <= set(done)  # who did it, in the audit trail
    assert done["orders.release"]["actor"]["name"] == "olga@shop.example"
    assert done["orders.release"]["details"]["door"] == "console" and done["orders.release"]["target"] == f"order_id={ids[1]}"


def test_a_store_associate_sees_only_its_store_s_orders(hub):
    ids = _orders(hub)
    with hub.engine.connect() as conn:
        at_bkn = set(conn.execute(sa.select(t.order_assignments.c.order_id)
                                  .where(t.order_assignments.c.location == "BKN")).scalars())
    assert at_bkn and set(ids) - at_bkn
    c = signed_in(hub, person(hub, "sam@shop.example", "store_associate", ["BKN"]))
    listed = {int(x) for x in re.findall(r'<a href="/console/orders/(\d+)">', c.get("/console/orders").text)}
    assert listed == at_bkn
    elsewhere = next(iter(set(ids) - at_bkn))
    assert c.get(f"/console/orders/{elsewhere}").status_code == 403
    mine = c.get(f"/console/orders/{next(iter(at_bkn))}")
    assert mine.status_code == 200 and "ana@example.com" in mine.text  # the buyer, to hand the order over


def test_route_again_moves_a_reservation_to_stock_that_arrived_nearer_with_a_new_explanation(hub):
    ids = _orders(hub)
    c = signed_in(hub, person(hub, "olga@shop.example", "operator"))
    page = c.get(f"/console/orders/{ids[0]}")  # 2 mugs from WH: the store near the customer had 1
    assert 'id="route-again"' in page.text and "2 at WH (reserved)" in page.text
    hub.inventory.receive("MUG", "BKN", 5)  # now the nearer store holds enough
    assert c.post(f"/console/orders/{ids[0]}/route", data={}).status_code == 403  # a forged post: no CSRF token
    r = c.post(f"/console/orders/{ids[0]}/route", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 303 and r.headers["location"] == f"/console/orders/{ids[0]}?done=routed"
    after = c.get(r.headers["location"])
    assert "Routed again under the rules in force" in after.text and "2 at BKN (reserved)" in after.text
    latest = re.search(r'<section class="card routing"[^>]*data-latest="true">(.*?)</section>', after.text, re.S)[1]
    assert "Decision 2" in latest and "Placed: 2 × MUG at <strong>BKN</strong>" in latest
    positions = hub.queries.positions("MUG")
    assert (positions["WH"].reserved, positions["BKN"].reserved) == (0, 2)
    [event] = [e for e in hub.audit.page(limit=50)[0] if e["action"] == "orders.route"]
    assert event["details"]["door"] == "console" and event["actor"]["name"] == "olga@shop.example"


def test_route_again_is_refused_for_a_held_order_and_for_a_role_that_may_not_act(hub):
    ids = _orders(hub)
    olga = signed_in(hub, person(hub, "olga@shop.example", "operator"))
    held = olga.get(f"/console/orders/{ids[1]}")  # held by the screening
    assert 'id="route-again"' not in held.text
    r = olga.post(f"/console/orders/{ids[1]}/route", data={"csrf_token": csrf_of(held.text)})
    assert r.status_code == 409 and "release the hold" in r.text
    rita = signed_in(hub, person(hub, "rita@shop.example", "read_only"))
    page = rita.get(f"/console/orders/{ids[0]}")
    assert 'id="route-again"' not in page.text
    refused = rita.post(f"/console/orders/{ids[0]}/route", data={"csrf_token": csrf_of(rita.get("/console/orders").text)})
    assert refused.status_code == 403 and "orders.act" in refused.text
