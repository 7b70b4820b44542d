"""Inventory pages over plain HTTP: a SKU found by SKU, barcode (as a UPC or an EAN-13) or
title; its page shows every location's states, ATP per channel with the engine's
explanation, and the ledger a page at a time; a store associate may not open it."""

from __future__ import annotations

import re

from tests.conftest import add_location
from tests.console.pages_client import person, signed_in

UPC = "036000291452"


def _catalog(hub) -> None:
    add_location(hub, "BKN", kind="store", lat=40.72, lng=-73.95)
    add_location(hub, "WH", kind="warehouse", capabilities=["ship"])
    hub.catalog.create_product("Enamel mug", [{"sku": "MUG-BLUE", "title": "Blue", "gtin": UPC},
                                              {"sku": "MUG-RED", "title": "Red"}])
    hub.catalog.create_product("Canvas tote", [{"sku": "TOTE"}])
    hub.catalog.upsert_channel("amazon", name="Amazon", kind="amazon", share_pct=50, buffer=1, feeds={"WH": "ship"})
    hub.catalog.set_policy(sku="MUG-BLUE", location="BKN", safety_stock=2)
    hub.inventory.receive("MUG-BLUE", "WH", 10)
    hub.inventory.receive("MUG-BLUE", "BKN", 5)


def test_a_sku_is_found_by_sku_barcode_or_title(hub):
    _catalog(hub)
    c = signed_in(hub, person(hub, "rita@shop.example", "read_only"))
    for code in ("MUG-BLUE", UPC, "0" + UPC):
        r = c.get("/console/inventory", params={"q": code})
        assert r.status_code == 303 and r.headers["location"] == "/console/inventory/MUG-BLUE", code
    words = c.get("/console/inventory", params={"q": "enamel MUG"})
    assert words.status_code == 200
    assert re.findall(r'<a href="/console/inventory/([^"]+)">', words.text) == ["MUG-BLUE", "MUG-RED"]
    none = c.get("/console/inventory", params={"q": "teapot"})
    assert none.status_code == 200 and "Nothing matches" in none.text
    assert c.get("/console/inventory/NOPE").status_code == 404


def test_the_sku_page_shows_states_atp_per_channel_and_why(hub):
    _catalog(hub)
    c = signed_in(hub, person(hub, "olga@shop.example", "operator"))
    r = c.get("/console/inventory/MUG-BLUE")
    assert r.status_code == 200
    online = hub.queries.explain("MUG-BLUE")
    amazon = hub.queries.explain("MUG-BLUE", "amazon")
    assert online["atp"] == 13 and amazon["atp"] == 4  # 5 - 2 safety + 10; half of WH's 10, less a buffer of 1
    assert re.search(r'id="atp-online">(\d+)<', r.text)[1] == "13"
    assert re.search(r'id="atp-amazon">(\d+)<', r.text)[1] == "4"
    why = re.search(r'<details id="why-amazon">(.*?)</details>', r.text, re.S)[1]
    assert "50% share" in why and "buffer 1" in why and "does not feed this channel" in why
    bkn = re.search(r'<details id="why-online">.*?<th scope="row">BKN</th>(.*?)</tr>', r.text, re.S)[1]
    scope = online["locations"][0]["safety_stock_from"]
    assert online["locations"][0]["location"] == "BKN" and scope != "default"
    assert f'<td class="num">2 <span class="hint">({scope})</span></td>' in bkn  # its safety stock, and from where
    positions = re.search(r'<table id="positions">(.*?)</table>', r.text, re.S)[1]
    assert re.search(r'<th scope="row">WH</th><td class="num">10</td>', positions)


def test_the_ledger_is_paged(hub):
    _catalog(hub)
    for _ in range(30):
        hub.inventory.receive("TOTE", "WH", 1)
    c = signed_in(hub, person(hub, "olga@shop.example", "operator"))
    first = c.get("/console/inventory/TOTE")
    rows = re.findall(r'<tr><td class="num">(\d+)</td>', re.search(r'<table id="ledger">(.*?)</table>', first.text, re.S)[1])
    assert len(rows) == 25
    nxt = re.search(r'href="(/console/inventory/TOTE\?after_id=\d+)" rel="next"', first.text)[1]
    second = c.get(nxt)
    more = re.findall(r'<tr><td class="num">(\d+)</td>', re.search(r'<table id="ledger">(.*?)</table>', second.text, re.S)[1])
    assert len(more) == 5 and int(more[0]) > int(rows[-1]) and 'rel="next"' not in second.text


def test_a_store_associate_may_not_open_inventory(hub):
    _catalog(hub)
    c = signed_in(hub, person(hub, "sam@shop.example", "store_associate", ["BKN"]))
    for path in ("/console/inventory", "/console/inventory/MUG-BLUE"):
        r = c.get(path)
        assert r.status_code == 403 and "stock.read" in r.text, path
