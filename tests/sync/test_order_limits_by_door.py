"""One set of limits for every way an order comes in (domain/limits.py, checked by the
pipeline's ingest, which every door goes through): the API, Shopify webhooks, Shopify
polling and the set-up's import, Amazon polling and notifications. The same orders are
refused at each door for the same reason (the API answers 422; a channel's order is
parked with its reason), and the order at the limit goes in everywhere. An Amazon
notification for an order Amazon does not know (404) is parked at once, not retried.

Where the sandboxes (faithful channels) never send such an order, a thin wrapper edits
the client's answer, as a channel with a bug would send it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from omnihub.adapters.channels.connectors import AmazonConnector
from omnihub.adapters.channels.credentials import CredentialVault
from omnihub.adapters.channels.shopify import documents as docs
from omnihub.adapters.channels.shopify.order_mapping import numeric_id
from omnihub.adapters.channels.shopify.webhook_signature import sign
from omnihub.adapters.db import tables as t
from omnihub.domain.ledger import LedgerError
from omnihub.domain.limits import MAX_LINE_QUANTITY
from omnihub.domain.orders import Order, OrderLine
from tests.conftest import admin_app
from omnihub.services.channel_polling import AmazonPoller, ShopifyPoller
from omnihub.services.order_history import import_open_orders
from tests.sync.conftest import SHOPIFY_SECRET
from tests.sync.test_polled_order_failures import EditedAnswers, _let_time_pass, _place, _seller

#: case → (quantity, unit price in dollars, lines?) and what its refusal names: (field, code)
CASES = {
    "quantity 10^9": ((10**9, "1.00", True), ("quantity", "out_of_range")),
    "quantity over the limit": ((MAX_LINE_QUANTITY + 1, "1.00", True), ("quantity", "out_of_range")),
    "quantity 0": ((0, "1.00", True), ("quantity", "positive")),
    "no lines": ((1, "1.00", False), ("lines", "no_lines")),
    "price 10^20": ((1, "100000000000000000000.00", True), ("unit_price_minor", "out_of_range")),
}
AT_THE_LIMIT = (MAX_LINE_QUANTITY, "1.00", True)


def _hub_orders(hub) -> set[str]:
    with hub.engine.connect() as conn:
        return set(conn.execute(sa.select(t.orders.c.external_id)).scalars())


def _refusals(hub) -> dict[str, str]:
    """Refused orders' external id → reason (the inbox's parked list)."""
    return {row["delivery_id"].rsplit(":", 1)[-1]: row["error"] for row in hub.inbox.failures(1000)
            if row["topic"] == "order/refused" and row["state"] == "parked"}


def _assert_refused_as_told(hub, ids: dict[str, str]) -> None:
    refused = _refusals(hub)
    for case, external_id in ids.items():
        field, code = CASES[case][1]
        assert external_id in refused, (case, refused)
        assert field in refused[external_id] and code in refused[external_id], (case, refused[external_id])
    assert not set(ids.values()) & _hub_orders(hub)


# -- the API, and the pipeline every door goes through ---------------------------------------------
def test_the_api_and_the_pipeline_refuse_the_same_orders(stocked):
    hub = stocked
    api = TestClient(admin_app(hub))
    for case, ((quantity, price, has_lines), (field, _)) in CASES.items():
        lines = [{"sku": "A", "quantity": quantity, "unit_price_minor": int(float(price) * 100)
                  if float(price) < 1e15 else 10**22}] if has_lines else []
        answer = api.post("/api/v1/orders", json={"channel": "manual", "external_id": f"api-{case}", "lines": lines})
        assert answer.status_code == 422, (case, answer.text)
        assert field in json.dumps(answer.json()["errors"]), (case, answer.json())
        order = Order(channel="manual", external_id=f"domain-{case}", channel_updated_at=datetime.now(UTC),
                      lines=tuple([OrderLine("1", "A", quantity, int(float(price) * 100) if float(price) < 1e15
                                             else 10**22)] if has_lines else ()))
        with pytest.raises(LedgerError) as refused:
            hub.orders.ingest(order)
        assert field in (refused.value.field or ""), (case, refused.value)
    answer = api.post("/api/v1/orders", json={"channel": "manual", "external_id": "api-limit",
                                              "lines": [{"sku": "A", "quantity": MAX_LINE_QUANTITY}]})
    assert answer.status_code == 201, answer.text
    hub.orders.ingest(Order(channel="manual", external_id="domain-limit", channel_updated_at=datetime.now(UTC),
                            lines=(OrderLine("1", "A", MAX_LINE_QUANTITY),)))
    assert _hub_orders(hub) == {"api-limit", "domain-limit"}


# -- Shopify webhooks -------------------------------------------------------------------------------
def test_shopify_webhooks_are_held_to_the_same_limits(stocked, serve):
    hub = stocked
    shop = "omnihub-limits.myshopify.com"
    hub.vault = CredentialVault(hub.engine, Fernet.generate_key().decode())
    hub.vault.put("shopify", {"shop_url": f"https://{shop}", "access_token": "x", "client_secret": SHOPIFY_SECRET})
    api = serve(admin_app(hub))
    ids = {}
    for n, (case, spec) in enumerate([*((c, spec) for c, (spec, _) in CASES.items()), ("limit", AT_THE_LIMIT)]):
        quantity, price, has_lines = spec
        number = 7000 + n
        body = json.dumps({"id": number, "updated_at": "2026-11-01T10:00:00+00:00", "source_name": "web",
                           "line_items": [{"id": 1, "sku": "A", "quantity": quantity, "current_quantity": quantity,
                                           "price": price}] if has_lines else []}).encode()
        answer = httpx.post(api.url + "/webhooks/shopify", content=body, headers={
            "X-Shopify-Hmac-Sha256": sign(body, SHOPIFY_SECRET), "X-Shopify-Webhook-Id": f"w-{number}",
            "X-Shopify-Topic": "orders/create", "X-Shopify-Shop-Domain": shop, "Content-Type": "application/json"})
        assert answer.json() == {"status": "accepted"}
        ids[case] = str(number)
    hub.inbox.drain()
    limit = ids.pop("limit")
    _assert_refused_as_told(hub, ids)
    assert _hub_orders(hub) == {limit}


# -- Shopify polling and the set-up's import -----------------------------------------------------------
class EditedShopify:
    """The Admin API client, but the order nodes the poll reads are edited by `edits`."""

    def __init__(self, client, edits: dict) -> None:
        self.client, self.edits = client, edits

    def __getattr__(self, name):
        return getattr(self.client, name)

    def execute(self, document: str, variables: dict | None = None, **kw) -> dict:
        data = self.client.execute(document, variables, **kw)
        if document == docs.ORDERS_UPDATED:
            for node in data["orders"]["nodes"]:
                if (edit := self.edits.get(numeric_id(node["id"]))) is not None:
                    edit(node)
        return data


def _edit_node(spec):
    quantity, price, has_lines = spec

    def edit(node):
        items = node["lineItems"]["nodes"]
        if not has_lines:
            items.clear()
        for item in items:
            item["quantity"] = item["currentQuantity"] = quantity
            item["originalUnitPriceSet"]["shopMoney"]["amount"] = price
    return edit


def _shop_orders(hub, shopify_sandbox):
    shop, _ = shopify_sandbox()
    catalog = httpx.get(shop.url + "/_sandbox/catalog").json()
    skus = [v["sku"] for v in catalog["variants"]]
    hub.catalog.create_product("Shop", [{"sku": s} for s in skus])
    placed = {}
    for case in [*CASES, "limit"]:
        for sku in skus:  # a variant with stock online
            answer = httpx.post(shop.url + "/_sandbox/orders", json={"lines": [{"sku": sku, "quantity": 1}],
                                                                     "shipping_address": {"zip": "10001"}})
            if answer.status_code == 201:
                placed[case] = str(answer.json()["order_id"])
                break
        assert case in placed, "the sandbox sold nothing"
    edits = {placed[c]: _edit_node(spec) for c, (spec, _) in CASES.items()}
    edits[placed["limit"]] = _edit_node(AT_THE_LIMIT)
    return shop, placed, edits


def test_shopify_polling_is_held_to_the_same_limits(hub, shopify_sandbox, shopify_connector):
    shop, placed, edits = _shop_orders(hub, shopify_sandbox)
    client = EditedShopify(shopify_connector(shop.url).client, edits)
    report = ShopifyPoller(hub.engine, client, hub.orders.ingest_many).poll_orders(
        since=datetime.now(UTC) - timedelta(days=1))
    assert (report.ingested, report.refused) == (1, len(CASES)), report
    limit = placed.pop("limit")
    _assert_refused_as_told(hub, placed)
    assert _hub_orders(hub) == {limit}


def test_the_shopify_import_is_held_to_the_same_limits(hub, shopify_sandbox, shopify_connector):
    shop, placed, edits = _shop_orders(hub, shopify_sandbox)
    client = EditedShopify(shopify_connector(shop.url).client, edits)
    report = import_open_orders(hub.engine, client, hub.orders.ingest_many, months=1)
    assert report.new == 1, report
    limit = placed.pop("limit")
    _assert_refused_as_told(hub, placed)
    assert _hub_orders(hub) == {limit}


# -- Amazon polling and notifications ------------------------------------------------------------------
def _edit_items(spec):
    quantity, price, has_lines = spec
    return lambda items: [{**i, "QuantityOrdered": quantity,
                           "ItemPrice": {"CurrencyCode": "USD", "Amount": price}} for i in items] if has_lines else []


def _amazon_orders(hub, amazon_sandbox):
    amazon, cfg, control, skus = _seller(hub, amazon_sandbox)
    placed = {case: _place(control, skus[n % len(skus)]) for n, case in enumerate([*CASES, "limit"])}
    _let_time_pass(control)
    edits = {placed[c]: _edit_items(spec) for c, (spec, _) in CASES.items()}
    edits[placed["limit"]] = _edit_items(AT_THE_LIMIT)
    return amazon, cfg, placed, edits


def test_amazon_polling_is_held_to_the_same_limits(hub, amazon_sandbox, amazon_connector):
    amazon, cfg, placed, edits = _amazon_orders(hub, amazon_sandbox)
    client = EditedAnswers(amazon_connector(amazon.url, cfg).client, edits=edits)
    report = AmazonPoller(hub.engine, client, hub.orders.ingest_many).poll_orders(
        since=datetime.now(UTC) - timedelta(days=1))
    assert (report.ingested, report.refused) == (1, len(CASES)), report
    limit = placed.pop("limit")
    _assert_refused_as_told(hub, placed)
    assert _hub_orders(hub) == {limit}


def test_amazon_notifications_are_held_to_the_same_limits_and_a_404_is_parked(hub, amazon_sandbox, amazon_connector):
    amazon, cfg, placed, edits = _amazon_orders(hub, amazon_sandbox)
    real = amazon_connector(amazon.url, cfg)
    hub.inbox.fetch_amazon_order = AmazonConnector(real.channel, EditedAnswers(real.client, edits=edits),
                                                   real.pusher).fetch_order
    unknown = "902-0000000-0000000"  # an order Amazon does not know (getOrder answers 404)
    for n, order_id in enumerate([*placed.values(), unknown]):
        note = {"NotificationType": "ORDER_CHANGE", "NotificationMetadata": {"NotificationId": f"n-{n}"},
                "Payload": {"OrderChangeNotification": {"AmazonOrderId": order_id}}}
        assert hub.inbox.accept("amazon", f"n-{n}", "ORDER_CHANGE", {}, json.dumps(note).encode()) == "accepted"
    assert hub.inbox.drain() == len(placed) + 1
    limit = placed.pop("limit")
    _assert_refused_as_told(hub, placed)
    assert _hub_orders(hub) == {limit}
    [lost] = [row for row in hub.inbox.failures(1000) if row["topic"] == "ORDER_CHANGE"]
    assert lost["state"] == "parked" and lost["attempts"] == 1, lost  # permanent: not tried again and again
    assert "404" in lost["error"] and lost["next_attempt_at"] is None
    hub.inbox.clock = lambda: datetime.now(UTC) + timedelta(hours=1)
    assert hub.inbox.drain() == 0  # nothing comes round again
