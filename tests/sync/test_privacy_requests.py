"""Privacy requests erase what they say and export what they say, over real HTTP.

Shopify's mandatory webhooks (customers/data_request, customers/redact, shop/redact) come
from the Shopify sandbox, signed, to the hub's receiver, and are processed by the inbox.
The same service answers the API (`/api/v1/customers/...`) and the CLI
(`omnihub customers ...`). After an erasure, every text and JSON column of every table
of the hub (tables.metadata) and every stored payload and export file is searched for
the customer's e-mail, name, phone and street: none is left, while another customer's
data and the erased customer's order totals, lines and stock ledger remain.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import sqlalchemy as sa
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from omnihub.adapters.channels.credentials import CredentialVault
from omnihub.adapters.channels.shopify import documents as docs
from omnihub.adapters.db import tables as t
from tests.conftest import admin_app
from omnihub.services.customer_privacy import CustomerPrivacy
from tests.sync.conftest import shopify_secrets, wait_until
from tests.sync.shop_setup import connect_shopify

EMAIL = "Zelda.Quartermaine@example.org"
PHONE = "+1 415-555-0175"
FIRST, LAST = "Zelda", "Quartermaine"
STREET = "1428 Quillhaven Lane"
ADDRESS = {"first_name": FIRST, "last_name": LAST, "address1": STREET, "city": "Marrowby", "province": "California",
           "province_code": "CA", "country": "United States", "country_code": "US", "zip": "94105", "phone": PHONE,
           "latitude": 37.7936, "longitude": -122.3958}
OTHER_EMAIL, OTHER_PHONE, OTHER_NAME = "otto.brightwater@example.net", "+1 212-555-0199", "Otto Brightwater"
OTHER_ADDRESS = {"first_name": "Otto", "last_name": "Brightwater", "address1": "77 Lantern Row", "city": "Farrowgate",
                 "province_code": "NY", "country_code": "US", "zip": "10001", "phone": OTHER_PHONE}
# What must be gone: the e-mail in any case, the name, the phone however written, the street.
GONE = (EMAIL.lower(), FIRST, LAST, PHONE, "415-555-0175", "4155550175", "(415) 555-0175", STREET, "Quillhaven")


def _text_cells(hub) -> list[tuple[str, str, str]]:
    """(table, column, text) of every String, Text and JSON value in the hub's database."""
    cells = []
    with hub.engine.connect() as conn:
        for table in t.metadata.sorted_tables:
            cols = [c for c in table.columns if isinstance(c.type, (sa.String, sa.Text, sa.JSON))]
            if not cols:
                continue
            for row in conn.execute(sa.select(*cols)).all():
                for col, value in zip(cols, row):
                    if value is None:
                        continue
                    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                    cells.append((table.name, col.name, text))
    return cells


def _where(cells, needles) -> list[str]:
    out = []
    for table, column, text in cells:
        low = text.lower()
        for n in needles:
            if n.lower() in low:
                at = low.index(n.lower())
                out.append(f"{table}.{column} holds {n!r}: …{text[max(0, at - 60):at + 40]}")
    return out


def _tables_holding(cells, needle: str) -> set[str]:
    return {table for table, _, text in cells if needle.lower() in text.lower()}


def _files_holding(folder: Path, needles) -> list[str]:
    out = []
    for path in folder.rglob("*") if folder.exists() else ():
        if path.is_file():
            text = path.read_text(errors="replace").lower()
            out += [f"{path.name} holds {n!r}" for n in needles if n.lower() in text]
    return out


def _sales(hub) -> dict:
    """What an erasure must not touch: each order's value, lines and state, the ledger and positions."""
    o = t.orders
    with hub.engine.connect() as conn:
        orders = {}
        for oid, value, currency, state, doc in conn.execute(
                sa.select(o.c.id, o.c.order_value_minor, o.c.currency, o.c.state, o.c.document)):
            doc = doc if isinstance(doc, dict) else json.loads(doc)
            orders[oid] = (value, currency, state, [(ln["line_id"], ln["sku"], ln["quantity"], ln["unit_price_minor"],
                                                     len(ln["assignments"])) for ln in doc["lines"]])
        movements = [tuple(r) for r in conn.execute(sa.select(t.movements).order_by(t.movements.c.id))]
        positions = [tuple(r) for r in conn.execute(sa.select(t.positions).order_by(t.positions.c.sku,
                                                                                    t.positions.c.location))]
    return {"orders": orders, "movements": movements, "positions": positions}


def _inbox(hub, topic: str) -> list:
    ib = t.channel_inbox
    with hub.engine.connect() as conn:
        return conn.execute(sa.select(ib.c.id, ib.c.state, ib.c.error).where(ib.c.topic == topic)).all()


def _shop(hub, serve, shopify_sandbox, shopify_connector, tmp_path):
    """A hub connected to a Shopify sandbox whose privacy webhooks go to the hub's receiver."""
    hub.vault = CredentialVault(hub.engine, Fernet.generate_key().decode())
    hub.privacy = hub.inbox.privacy = CustomerPrivacy(hub.engine, tmp_path / "privacy-exports")
    api = serve(admin_app(hub))
    shop, _ = shopify_sandbox(compliance_webhook_url=api.url + "/webhooks/shopify", initial_stock_max=40)
    hub.vault.put("shopify", shopify_secrets(shop.url))
    connector = shopify_connector(shop.url)
    setup = connect_shopify(hub, connector)
    for topic in ("ORDERS_CREATE", "ORDERS_UPDATED"):
        data = connector.client.execute(docs.WEBHOOK_SUBSCRIBE, {"topic": topic, "uri": api.url + "/webhooks/shopify"})
        assert not data["webhookSubscriptionCreate"]["userErrors"], data
    stock: dict[str, int] = {}
    for (sku, _code), qty in setup["summary"].levels.items():
        stock[sku] = stock.get(sku, 0) + qty
    skus = sorted((s for s, q in stock.items() if q >= 6), key=lambda s: -stock[s])
    assert len(skus) >= 2, stock
    return api, shop, skus


def _control(shop, method, path, **kw):
    return httpx.request(method, shop.url + "/_sandbox" + path, timeout=30, **kw)


def _delivered(hub, topic: str, n: int) -> None:
    assert wait_until(lambda: len(_inbox(hub, topic)) >= n, 20), (topic, _inbox(hub, topic))
    hub.inbox.drain()


def _place_shopify_orders(hub, shop, skus) -> None:
    catalog = _control(shop, "GET", "/catalog").json()
    pos = next(loc["admin_graphql_api_id"] for loc in catalog["locations"] if loc["pos"])
    for i in range(2):
        r = _control(shop, "POST", "/orders", json={"lines": [{"sku": skus[i % 2], "quantity": 1}], "email": EMAIL,
                                                     "phone": PHONE, "customer_name": f"{FIRST} {LAST}",
                                                     "shipping_address": ADDRESS})
        assert r.status_code == 201, r.text
        r = _control(shop, "POST", "/orders", json={"lines": [{"sku": skus[(i + 1) % 2], "quantity": 2}],
                                                     "email": OTHER_EMAIL, "phone": OTHER_PHONE,
                                                     "customer_name": OTHER_NAME, "shipping_address": OTHER_ADDRESS})
        assert r.status_code == 201, r.text
    levels = _control(shop, "GET", "/inventory", params={"sku": skus[0], "location_id": pos}).json()
    if levels.get("available", 0) >= 1:  # a till sale with her e-mail, when that store has the unit
        r = _control(shop, "POST", "/pos-sales", json={"location_id": pos, "lines": [{"sku": skus[0], "quantity": 1}],
                                                        "email": EMAIL})
        assert r.status_code == 201, r.text
    expected = 4 + (levels.get("available", 0) >= 1)
    _delivered(hub, "orders/create", expected)
    assert sum(1 for r in _inbox(hub, "orders/create") if r.state == "done") == expected, _inbox(hub, "orders/create")


def _manual_order(api, external_id: str, sku: str, *, email=None, phone=None, address=None, notes="") -> dict:
    body = {"channel": "manual", "external_id": external_id, "lines": [{"sku": sku, "quantity": 1, "unit_price_minor": 2500}],
            "customer": {"email": email, "phone": phone}, "notes": notes}
    if address:
        body["shipping_address"] = address
    r = httpx.post(api.url + "/api/v1/orders", json=body, timeout=30)
    assert r.status_code == 201, r.text
    return r.json()


def test_shopify_customers_redact_erases_the_customer_everywhere_and_keeps_the_sales(
        hub, serve, shopify_sandbox, shopify_connector, tmp_path):
    api, shop, skus = _shop(hub, serve, shopify_sandbox, shopify_connector, tmp_path)
    _place_shopify_orders(hub, shop, skus)
    # The same person at the counter, known by her phone only (the unified profile joins it),
    # and the other customer, by phone and e-mail.
    _manual_order(api, "M-1", skus[0], phone=PHONE, notes=f"call {PHONE} before delivery",
                  address={"line1": STREET, "city": "Marrowby", "postal_code": "94105", "country": "US"})
    _manual_order(api, "M-2", skus[1], email=OTHER_EMAIL, phone=OTHER_PHONE,
                  address={"line1": "77 Lantern Row", "city": "Farrowgate", "postal_code": "10001", "country": "US"})
    assert _where(_text_cells(hub), [EMAIL.lower(), STREET, FIRST]), "the customer's data was never stored"

    # customers/data_request: her data, as a file for the merchant, served by the API.
    assert _control(shop, "POST", "/privacy/customers-data-request", json={"customer_email": EMAIL}).status_code == 200
    _delivered(hub, "customers/data_request", 1)
    assert [r.state for r in _inbox(hub, "customers/data_request")] == ["done"]
    listed = httpx.get(api.url + "/api/v1/customers/data-requests").json()["requests"]
    export = next(r for r in listed if r["kind"] == "data_request")
    record = httpx.get(f"{api.url}/api/v1/customers/data-requests/{export['id']}").json()
    assert record["state"] == "ready" and record["source"] == "shopify" and record["reference"]
    got = httpx.get(api.url + record["file_url"])
    assert got.status_code == 200 and got.headers["content-type"].startswith("application/json")
    data = got.json()
    assert {(o["channel"], o["external_id"]) for o in data["orders"]} >= {("manual", "M-1")}
    assert {o["channel"] for o in data["orders"]} >= {"shopify", "manual"}
    assert len(data["orders"]) == record["summary"]["orders"] >= 3
    assert EMAIL.lower() in got.text.lower() and STREET in got.text and FIRST in got.text
    assert OTHER_EMAIL not in got.text and "Lantern" not in got.text

    before = _sales(hub)
    # customers/redact, signed by the shop like every webhook.
    assert _control(shop, "POST", "/privacy/customers-redact", json={"customer_email": EMAIL}).status_code == 200
    _delivered(hub, "customers/redact", 1)
    assert [r.state for r in _inbox(hub, "customers/redact")] == ["done"]

    cells = _text_cells(hub)
    assert _where(cells, GONE) == []
    assert _files_holding(tmp_path / "privacy-exports", GONE) == []
    # The earlier export is a copy of what was erased: gone too, and the API says so.
    gone = httpx.get(api.url + record["file_url"])
    assert gone.status_code == 410 and gone.headers["content-type"].startswith("application/problem+json"), gone.text
    assert httpx.get(f"{api.url}/api/v1/customers/data-requests/{export['id']}").json()["state"] == "erased"
    # The sales stay: every order with its value, lines and assignments, the ledger and positions.
    assert _sales(hub) == before
    # The other customer is untouched: orders, profile keys, raw payloads.
    assert _tables_holding(cells, OTHER_EMAIL) >= {"orders", "customer_keys", "channel_inbox"}
    assert _where(cells, ["Lantern Row", "Brightwater", "212-555-0199"])
    # What the API serves of her orders now: nobody.
    with hub.engine.connect() as conn:
        ids = conn.execute(sa.select(t.orders.c.id).where(t.orders.c.external_id == "M-1")).scalars().all()
    served = httpx.get(f"{api.url}/api/v1/orders/{ids[0]}").json()
    assert "Quillhaven" not in json.dumps(served) and "415" not in json.dumps(served.get("customer", ""))


def test_shopify_shop_redact_erases_every_customer_of_the_shop(hub, serve, shopify_sandbox, shopify_connector, tmp_path):
    api, shop, skus = _shop(hub, serve, shopify_sandbox, shopify_connector, tmp_path)
    _place_shopify_orders(hub, shop, skus)
    _manual_order(api, "M-2", skus[1], email=OTHER_EMAIL, phone=OTHER_PHONE)  # he also buys elsewhere
    before = _sales(hub)
    assert _control(shop, "POST", "/privacy/shop-redact", json={}).status_code == 200
    _delivered(hub, "shop/redact", 1)
    assert [r.state for r in _inbox(hub, "shop/redact")] == ["done"]
    cells = _text_cells(hub)
    assert _where(cells, GONE) == []
    assert _where(cells, ["Lantern Row", "Farrowgate", OTHER_NAME]) == []  # his Shopify orders' name and address
    assert _where([c for c in cells if c[0] == "channel_inbox"], [OTHER_EMAIL, OTHER_PHONE, "Otto"]) == []
    # What he gave the hub outside the shop stays: that order and his profile's keys.
    assert _tables_holding(cells, OTHER_EMAIL) == {"orders", "customer_keys"}
    with hub.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.customer_channel_ids)
                            .where(t.customer_channel_ids.c.channel.in_(("shopify", "shopify_pos")))).scalar() == 0
    assert _sales(hub) == before


def test_api_redact_and_data_requests_with_problem_details(hub, serve, shopify_sandbox, shopify_connector, tmp_path):
    api, shop, skus = _shop(hub, serve, shopify_sandbox, shopify_connector, tmp_path)
    _place_shopify_orders(hub, shop, skus)
    _manual_order(api, "M-2", skus[1], email=OTHER_EMAIL)
    url = api.url + "/api/v1/customers"
    made = httpx.post(url + "/data-requests", json={"phones": ["(415) 555-0175"], "reference": "CCPA-17"})
    assert made.status_code == 201, made.text
    record = made.json()
    assert made.headers["location"].endswith(f"/data-requests/{record['id']}") and record["reference"] == "CCPA-17"
    data = httpx.get(api.url + record["file_url"]).json()
    assert data["orders"] and all(o["channel"] in ("shopify", "shopify_pos") for o in data["orders"])
    assert any(EMAIL.lower() in json.dumps(o).lower() for o in data["orders"])

    for bad, field in (({}, "email"), ({"emails": "x@example.com"}, "emails"), ({"emails": ["a@b.co"], "nick": 1}, "nick")):
        r = httpx.post(url + "/redact", json=bad)
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), r.text
        assert r.json()["errors"][0]["field"] == field, r.json()
    r = httpx.get(url + "/data-requests/999999")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")

    before = _sales(hub)
    done = httpx.post(url + "/redact", json={"emails": [EMAIL.upper()], "reference": "CCPA-18"})
    assert done.status_code == 200, done.text
    assert done.json()["orders"] >= 2 and done.json()["customers"] == 1 and done.json()["exports"] == 1
    assert _where(_text_cells(hub), GONE) == []
    assert _files_holding(tmp_path / "privacy-exports", GONE) == []
    assert httpx.get(api.url + record["file_url"]).status_code == 410
    assert _sales(hub) == before
    assert _where(_text_cells(hub), [OTHER_EMAIL])


def test_cli_exports_and_redacts_a_customer(hub, serve, shopify_sandbox, shopify_connector, tmp_path, clean_url,
                                           monkeypatch):
    from omnihub.entrypoints.cli.main import app
    from omnihub.settings import get_settings

    api, shop, skus = _shop(hub, serve, shopify_sandbox, shopify_connector, tmp_path)
    _place_shopify_orders(hub, shop, skus)
    monkeypatch.setenv("OMNIHUB_PRIVACY_EXPORT_DIR", str(tmp_path / "privacy-exports"))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        out = tmp_path / "for-the-customer.json"
        r = runner.invoke(app, ["customers", "export", "--email", EMAIL, "--out", str(out), "--database-url", clean_url])
        assert r.exit_code == 0, r.output
        assert EMAIL.lower() in out.read_text().lower() and STREET in out.read_text()
        r = runner.invoke(app, ["customers", "redact", "--database-url", clean_url])
        assert r.exit_code == 1 and "name the customer" in r.output, r.output
        r = runner.invoke(app, ["customers", "redact", "--email", EMAIL, "--yes", "--database-url", clean_url])
        assert r.exit_code == 0, r.output
        assert "earlier exports" in r.output
        out.unlink()  # the copy handed to the customer is theirs; the hub's own is gone
        assert _where(_text_cells(hub), GONE) == []
        assert _files_holding(tmp_path / "privacy-exports", GONE) == []
        r = runner.invoke(app, ["customers", "requests", "--database-url", clean_url])
        assert r.exit_code == 0 and "redact" in r.output and "data_request" in r.output, r.output
    finally:
        get_settings.cache_clear()
