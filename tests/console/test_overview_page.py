"""The overview over plain HTTP and over a real socket: the figures come from the hub's
own rows (orders placed this minute per channel, oversell incidents, intents waiting and
parked per channel, the brokering queue), and the live stream sends them again as server-
sent events while the session lasts."""

from __future__ import annotations

import re

import httpx
import sqlalchemy as sa
from fastapi.testclient import TestClient

from omnihub.adapters.db import tables as t
from omnihub.entrypoints.api.app import create_app
from omnihub.entrypoints.console.pages import CSP
from tests.conftest import add_location, add_skus, bearer, issue_token
from tests.console.pages_client import PASSWORD, csrf_of, person, signed_in
from tests.live_server import LiveServer


def _estate(hub) -> None:
    add_location(hub, "BKN", kind="store", lat=40.72, lng=-73.95)
    add_skus(hub, "MUG", "CAP")
    hub.catalog.upsert_channel("shopify", name="Shopify", kind="shopify")
    hub.catalog.upsert_channel("amazon", name="Amazon", kind="amazon")
    hub.inventory.receive("MUG", "BKN", 3)
    with TestClient(create_app(hub=hub), headers=bearer(issue_token(hub, "admin"))) as api:
        for channel, sku in (("shopify", "MUG"), ("shopify", "MUG"), ("amazon", "CAP")):  # CAP has no stock: queued
            r = api.post("/api/v1/orders", json={"channel": channel, "lines": [{"sku": sku, "quantity": 1}],
                                                 "shipping_address": {"country": "US", "lat": 40.7, "lng": -74.0}})
            assert r.status_code == 201, r.text
    hub.inventory.record_sale("MUG", "BKN", 4)  # a till sale of more than the ledger held: an oversell
    hub.sync.request("amazon", "MUG", "", 0)  # an aggregate channel: one figure per SKU
    hub.sync.request("amazon", "CAP", "", 0)
    hub.sync.flush()
    with hub.engine.begin() as conn:  # one of them failed its last attempt: parked
        conn.execute(t.sync_intents.update().where(t.sync_intents.c.sku == "CAP").values(state="dead"))


def _cell(html: str, table: str, row: str) -> list[str]:
    body = re.search(rf'<table id="{table}">(.*?)</table>', html, re.S)[1]
    found = re.search(rf'<tr><th scope="row">{row}</th>(.*?)</tr>', body, re.S)
    assert found, (row, body)
    return re.findall(r"<td[^>]*>([^<]*)</td>", found[1])


def test_the_overview_shows_the_estate_s_figures(hub):
    _estate(hub)
    c = signed_in(hub, person(hub, "olga@shop.example", "operator"))
    r = c.get("/console/")
    assert r.status_code == 200 and r.headers["content-security-policy"] == CSP
    html = r.text
    recorded = sum(i["units"] for i in hub.queries.oversells())  # the till sold units promised to two orders
    assert recorded > 0 and re.search(r'id="oversold-units">(\d+)<', html)[1] == str(recorded)
    assert re.search(r'id="dead-letters">(\d+)<', html)[1] == "1"
    assert re.search(r'id="brokering-queue">(\d+)<', html)[1] == "1"
    shopify, amazon = _cell(html, "orders-per-minute", "shopify"), _cell(html, "orders-per-minute", "amazon")
    assert shopify[-1] == "2" and amazon[-1] == "1" and shopify[-2] == "2"  # this minute's column, then the total
    lag, waiting, dead, _ = _cell(html, "channel-sync", "amazon")
    assert (waiting, dead) == ("1", "1") and lag.endswith("s")
    assert _cell(html, "channel-sync", "shopify")[:3] == ["0 s", "0", "0"]
    assert 'sse-connect="/console/overview/live"' in html and 'hx-ext="sse"' in html


def test_a_store_associate_is_refused_the_overview(hub):
    add_location(hub, "BKN", kind="store")
    c = signed_in(hub, person(hub, "sam@shop.example", "store_associate", ["BKN"]))
    r = c.get("/console/")
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    assert "may not use sync.read" in r.text and "<nav" in r.text


def test_the_live_figures_arrive_as_server_sent_events_while_the_session_lasts(hub):
    _estate(hub)
    person(hub, "olga@shop.example", "operator")
    with LiveServer(create_app(hub=hub)) as live, httpx.Client(base_url=live.url, timeout=10) as http:
        r = http.post("/console/login", data={"email": "olga@shop.example", "password": PASSWORD})
        assert r.status_code == 303
        session = r.cookies.get("omnihub_session") or r.headers["set-cookie"].split(";")[0].split("=", 1)[1]
        cookies = {"Cookie": f"omnihub_session={session}"}  # Secure: httpx keeps it for https
        with http.stream("GET", "/console/overview/live", headers=cookies) as stream:
            assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
            lines = []
            for line in stream.iter_lines():
                lines.append(line)
                if line == "" and any(x.startswith("event: figures") for x in lines):
                    break
        assert "event: figures" in lines and any('id="dead-letters">1<' in x for x in lines)
        page = http.get("/console/", headers=cookies)
        http.post("/console/logout", data={"csrf_token": csrf_of(page.text)}, headers=cookies)
        with http.stream("GET", "/console/overview/live", headers=cookies) as stream:
            assert stream.status_code == 303  # signed out: no stream


def test_the_overview_reads_its_figures_without_writing(hub):
    _estate(hub)
    c = signed_in(hub, person(hub, "olga@shop.example", "operator"))
    with hub.engine.connect() as conn:
        before = conn.execute(sa.select(sa.func.count()).select_from(t.movements)).scalar()
    assert c.get("/console/").status_code == 200
    with hub.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.movements)).scalar() == before
