"""The rules page's preview over plain HTTP: an edit of a safety stock, a channel's
allocation or the routing rules shows, before it is saved, what each channel may sell of
a few SKUs before → after and how the last routed orders would route under it, beside
how they did; nothing is written (no rule, no order, no movement, no audit entry). A
read-only user previews but cannot save; routing rules are saved as a new version."""

from __future__ import annotations

import json
import re

import sqlalchemy as sa
from fastapi.testclient import TestClient

from omnihub.adapters.db import tables as t
from omnihub.entrypoints.api.app import create_app
from tests.conftest import add_location, bearer, issue_token
from tests.console.pages_client import csrf_of, person, signed_in


def _estate(hub) -> list[int]:
    """A store near the customers and a warehouse far off, both holding mugs: the rules
    in force send every order to the store (one parcel, nearest)."""
    add_location(hub, "NEAR", kind="store", lat=40.72, lng=-73.95)
    add_location(hub, "FAR", kind="warehouse", capabilities=["ship"], lat=40.0, lng=-75.0)
    hub.catalog.create_product("Enamel mug", [{"sku": "MUG"}])
    hub.catalog.upsert_channel("amazon", name="Amazon", kind="amazon", feeds={"FAR": "ship"})
    hub.inventory.receive("MUG", "NEAR", 10)
    hub.inventory.receive("MUG", "FAR", 10)
    ids = []
    with TestClient(create_app(hub=hub), headers=bearer(issue_token(hub, "admin"))) as api:
        for _ in range(3):
            r = api.post("/api/v1/orders", json={
                "channel": "manual", "lines": [{"sku": "MUG", "quantity": 1}],
                "shipping_address": {"line1": "1 Main St", "country": "US", "lat": 40.7, "lng": -74.0}})
            assert r.status_code == 201 and r.json()["assignments"][0]["location"] == "NEAR", r.text
            ids.append(r.json()["order_id"])
    return ids


def warehouses_only(hub) -> str:
    rules = hub.rules.get()
    rules.pop("version")
    ship = rules["rules"][-1]
    ship["location_filter"]["kinds"] = ["warehouse"]
    return json.dumps(rules)


def _written(hub) -> tuple:
    with hub.engine.connect() as conn:
        return tuple(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
                     for table in (t.movements, t.routing_decisions, t.routing_rule_sets, t.stock_policies))


def test_a_routing_edit_previews_the_orders_it_moves_and_writes_nothing(hub):
    ids = _estate(hub)
    c = signed_in(hub, person(hub, "olga@shop.example", "operator"))
    page = c.get("/console/rules")
    assert page.status_code == 200 and 'id="routing-json"' in page.text and 'id="save-routing"' in page.text
    before, audited = _written(hub), len(hub.audit.page(limit=100)[0])
    r = c.post("/console/rules/preview", headers={"HX-Request": "true"},
               data={"csrf_token": csrf_of(page.text), "preview_of": "routing", "rules": warehouses_only(hub)})
    assert r.status_code == 200 and "<html" not in r.text  # the preview alone, for htmx to put under the form
    assert re.search(r'<strong id="preview-moved">3</strong> of the last 3 routed orders', r.text), r.text
    rows = re.findall(r'<tr><th scope="row"><a href="/console/orders/(\d+)">\d+</a></th><td>(.*?)</td><td>(.*?)</td>'
                      r'<td class="changed">(.*?)</td></tr>', r.text)
    assert sorted(int(x[0]) for x in rows) == sorted(ids)
    for _, did, now, edited in rows:
        assert "at <strong>NEAR</strong>" in did and "at <strong>NEAR</strong>" in now and "at <strong>FAR</strong>" in edited
    assert "they do not change what any channel may sell" in r.text
    assert _written(hub) == before and len(hub.audit.page(limit=100)[0]) == audited  # a what-if: nothing recorded


def test_a_safety_stock_edit_previews_atp_per_channel_before_and_after(hub):
    _estate(hub)
    c = signed_in(hub, person(hub, "olga@shop.example", "operator"))
    token = csrf_of(c.get("/console/rules").text)
    before = _written(hub)
    r = c.post("/console/rules/preview", headers={"HX-Request": "true"},
               data={"csrf_token": token, "preview_of": "policy", "sku": "MUG", "location": "FAR", "safety_stock": "4"})
    assert r.status_code == 200
    row = re.search(r'<tr><th scope="row">MUG</th>(.*?)</tr>', r.text)[1]
    cells = dict(re.findall(r'data-channel="(\w+)">([^<]*)</td>', row))
    # 10 + 10 on hand less the 3 reserved at NEAR; FAR alone feeds Amazon
    assert cells == {"online": "17 → 13", "amazon": "10 → 6"}, cells
    assert re.search(r'<strong id="preview-moved">0</strong>', r.text)  # 6 left at FAR: nothing moves
    bad = c.post("/console/rules/preview", headers={"HX-Request": "true"},
                 data={"csrf_token": token, "preview_of": "policy", "sku": "TEAPOT", "safety_stock": "-1"})
    assert bad.status_code == 200 and "Nothing to preview" in bad.text and "There is no SKU" in bad.text
    assert _written(hub) == before and hub.catalog.list_policies() == []


def test_a_channel_edit_previews_its_atp_and_the_page_works_without_scripts(hub):
    _estate(hub)
    c = signed_in(hub, person(hub, "olga@shop.example", "operator"))
    token = csrf_of(c.get("/console/rules").text)
    r = c.post("/console/rules/preview", data={"csrf_token": token, "preview_of": "channel", "channel_code": "amazon",
                                               "share_pct": "50", "fixed_allocation": "", "buffer": "1"})
    assert r.status_code == 200 and "<html" in r.text  # a plain form post: the whole page, the preview in it
    assert 'value="50"' in r.text  # the form keeps what was typed
    cells = dict(re.findall(r'data-channel="(\w+)">([^<]*)</td>', re.search(r'id="preview-channel-amazon"(.*?)</section>',
                                                                            r.text, re.S)[1]))
    assert cells == {"online": "17", "amazon": "10 → 4"}, cells
    assert hub.catalog.get_channel("amazon")["share_pct"] == 100


def test_a_read_only_user_previews_but_cannot_save_routing_rules(hub):
    _estate(hub)
    c = signed_in(hub, person(hub, "rita@shop.example", "read_only"))
    page = c.get("/console/rules")
    assert 'id="preview-routing-button"' in page.text and 'id="save-routing"' not in page.text
    token = csrf_of(page.text)
    r = c.post("/console/rules/preview", headers={"HX-Request": "true"},
               data={"csrf_token": token, "preview_of": "routing", "rules": warehouses_only(hub)})
    assert r.status_code == 200 and re.search(r'<strong id="preview-moved">3</strong>', r.text)
    refused = c.post("/console/rules/routing", data={"csrf_token": token, "rules": warehouses_only(hub), "based_on": "0"})
    assert refused.status_code == 403 and "rules.write" in refused.text
    assert hub.rules.get()["version"] == 0


def test_an_operator_saves_routing_rules_as_a_new_version_with_validation(hub):
    _estate(hub)
    c = signed_in(hub, person(hub, "olga@shop.example", "operator"))
    token = csrf_of(c.get("/console/rules").text)
    broken = c.post("/console/rules/routing", data={"csrf_token": token, "rules": '{"rules": [\n  {"name": }]}',
                                                    "based_on": "0"})
    assert broken.status_code == 422 and "Not JSON: line 2, column 12: Expecting value" in broken.text
    wrong = c.post("/console/rules/routing", data={"csrf_token": token, "based_on": "0",
                                                   "rules": json.dumps({"rules": [{"name": "x", "sort": ["cheapest"]}]})})
    assert wrong.status_code == 422 and "rules[0].sort" in wrong.text
    saved = c.post("/console/rules/routing", data={"csrf_token": token, "rules": warehouses_only(hub), "based_on": "0",
                                                   "comment": "ship from warehouses only"})
    assert saved.status_code == 303 and saved.headers["location"] == "/console/rules?done=routing"
    assert hub.rules.get()["version"] == 1 and hub.rules.history()[0]["created_by"]
    stale = c.post("/console/rules/routing", data={"csrf_token": token, "rules": warehouses_only(hub), "based_on": "0"})
    assert stale.status_code == 409 and "someone saved in between" in stale.text
    [event] = [e for e in hub.audit.page(limit=50)[0] if e["action"] == "orders.put_rules"]
    assert event["details"]["door"] == "console" and event["after"]["version"] == 1
