"""The caller does not choose the secret a webhook is verified with. A Shopify delivery is
verified with the client secret of the connected shop it names (X-Shopify-Shop-Domain)
and no other; `?channel=` cannot point verification at another channel's secret; an
unknown shop is 401. Amazon notifications are verified with the Amazon channel's
notification secret only. Tested as an attacker would, over real HTTP against the hub."""

from __future__ import annotations

import json

import httpx
import sqlalchemy as sa
from cryptography.fernet import Fernet

from omnihub.adapters.channels.amazon import notification_signature as amazon_signature
from omnihub.adapters.channels.credentials import CredentialVault
from omnihub.adapters.channels.shopify.webhook_signature import sign
from omnihub.adapters.db import tables as t
from omnihub.entrypoints.api.app import create_app
from tests.sync.conftest import SHOPIFY_SECRET

SHOP = "acme-test.myshopify.com"
LWA_SECRET = "amzn1.oa2-cs.v1.lwa-client-secret"  # the Amazon channel's LWA client secret
NOTIFY_SECRET = "forwarder-secret"


def _hub_api(hub, serve, *, extra: dict | None = None):
    hub.vault = CredentialVault(hub.engine, Fernet.generate_key().decode())
    hub.vault.put("shopify", {"shop_url": f"https://{SHOP}", "access_token": "x", "client_secret": SHOPIFY_SECRET})
    hub.vault.put("amazon_seller", {"endpoint": "http://unused", "lwa_url": "http://unused/auth/o2/token",
                                    "client_id": "amzn1.application-oa2-client.x", "client_secret": LWA_SECRET,
                                    "refresh_token": "Atzr|x", "seller_id": "S", "marketplace_id": "ATVPDKIKX0DER",
                                    "notification_secret": NOTIFY_SECRET})
    for channel, secrets in (extra or {}).items():
        hub.vault.put(channel, secrets)
    return serve(create_app(hub=hub))


def _order(order_id: int = 9101) -> bytes:
    return json.dumps({"id": order_id, "updated_at": "2026-11-01T10:00:00+00:00", "created_at": "2026-11-01T10:00:00+00:00",
                       "source_name": "web", "currency": "USD", "email": "ana@example.com",
                       "line_items": [{"id": 1, "sku": "A", "quantity": 1, "current_quantity": 1, "price": "9.99"}],
                       "shipping_address": {"zip": "10001", "country_code": "US", "city": "New York"}}).encode()


def _shopify(url, body: bytes, *, secret: str, shop: str | None = SHOP, query: str = "", webhook_id: str = "w-1",
             content_type: str = "application/json"):
    headers = {"X-Shopify-Hmac-Sha256": sign(body, secret), "X-Shopify-Webhook-Id": webhook_id,
               "X-Shopify-Topic": "orders/create", "Content-Type": content_type}
    if shop is not None:
        headers["X-Shopify-Shop-Domain"] = shop
    return httpx.post(url + "/webhooks/shopify" + query, content=body, headers=headers)


def _inbox(hub, source: str) -> list[str]:
    ib = t.channel_inbox
    with hub.engine.connect() as conn:
        return list(conn.execute(sa.select(ib.c.delivery_id).where(ib.c.source == source).order_by(ib.c.id)).scalars())


def _orders(hub) -> list[str]:
    with hub.engine.connect() as conn:
        return list(conn.execute(sa.select(t.orders.c.external_id)).scalars())


def _refused(answer) -> None:
    assert answer.status_code == 401, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "bad_signature"


def test_amazons_secret_cannot_sign_a_shopify_delivery_whatever_the_channel_parameter(stocked, serve):
    hub = stocked
    api = _hub_api(hub, serve)
    body = _order()
    for query in ("?channel=amazon_seller", "", "?channel=shopify"):
        for shop in (SHOP, None, "amazon_seller"):
            _refused(_shopify(api.url, body, secret=LWA_SECRET, shop=shop, query=query))
            _refused(_shopify(api.url, body, secret=NOTIFY_SECRET, shop=shop, query=query))
    assert _inbox(hub, "shopify") == []
    hub.inbox.drain()
    assert _orders(hub) == []
    # The shop itself, signing with its own secret, is taken (a stray ?channel= changes nothing).
    assert _shopify(api.url, body, secret=SHOPIFY_SECRET, query="?channel=amazon_seller").json() == {"status": "accepted"}
    assert _inbox(hub, "shopify") == ["w-1"]
    hub.inventory.receive("A", "WH", 5)
    assert hub.inbox.drain() == 1
    assert _orders(hub) == ["9101"]


def test_a_delivery_is_verified_with_the_secret_of_the_shop_it_names_and_no_other(stocked, serve):
    hub = stocked
    other = {"shop_url": "https://other-shop.myshopify.com", "access_token": "y", "client_secret": "shpss_other"}
    api = _hub_api(hub, serve, extra={"shopify_other": other})
    body = _order(9102)
    # An unknown shop, even signed with a secret the hub holds, is 401.
    _refused(_shopify(api.url, body, secret=SHOPIFY_SECRET, shop="evil.myshopify.com"))
    _refused(_shopify(api.url, body, secret=SHOPIFY_SECRET, shop="evil.myshopify.com", query="?channel=shopify"))
    _refused(_shopify(api.url, body, secret=SHOPIFY_SECRET, shop=None))
    _refused(_shopify(api.url, body, secret=SHOPIFY_SECRET, shop=""))
    # Another connected shop's secret does not vouch for this shop's deliveries.
    _refused(_shopify(api.url, body, secret="shpss_other", shop=SHOP))
    _refused(_shopify(api.url, body, secret="shpss_other", shop=SHOP, query="?channel=shopify_other"))
    assert "no Shopify shop connected" in _shopify(api.url, body, secret=SHOPIFY_SECRET, shop="evil.myshopify.com").json()["detail"]
    assert _inbox(hub, "shopify") == []
    # The right shop (its domain as Shopify writes it, in any case) with its own secret: 200 and stored.
    assert _shopify(api.url, body, secret=SHOPIFY_SECRET, shop="Acme-Test.myshopify.com").json() == {"status": "accepted"}
    assert _shopify(api.url, _order(9103), secret="shpss_other", shop="other-shop.myshopify.com",
                    webhook_id="w-2").json() == {"status": "accepted"}
    assert _inbox(hub, "shopify") == ["w-1", "w-2"]
    hub.inventory.receive("A", "WH", 5)
    assert hub.inbox.drain() == 2
    assert "9102" in _orders(hub)


def test_a_shop_reached_under_another_address_is_known_by_its_stored_shop_domain(stocked, serve):
    """A sandbox on loopback (or a proxy): `shop_domain` in the vault names the shop."""
    hub = stocked
    api = _hub_api(hub, serve, extra={"shopify": {"shop_url": "http://127.0.0.1:9", "access_token": "x",
                                                  "client_secret": SHOPIFY_SECRET, "shop_domain": SHOP}})
    body = _order(9104)
    _refused(_shopify(api.url, body, secret=SHOPIFY_SECRET, shop="evil.myshopify.com"))
    assert _shopify(api.url, body, secret=SHOPIFY_SECRET, shop=SHOP).json() == {"status": "accepted"}


def test_webhook_bodies_must_be_declared_json(stocked, serve):
    hub = stocked
    api = _hub_api(hub, serve)
    body = _order(9105)
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        r = _shopify(api.url, body, secret=SHOPIFY_SECRET, content_type=content_type)
        assert r.status_code == 415 and r.headers["content-type"] == "application/problem+json", r.text
        note = json.dumps({"NotificationType": "ANY_OFFER_CHANGED", "NotificationMetadata": {"NotificationId": "n-9"}}).encode()
        r = httpx.post(api.url + "/webhooks/amazon", content=note, headers={
            "Content-Type": content_type, amazon_signature.HEADER: amazon_signature.sign(note, NOTIFY_SECRET)})
        assert r.status_code == 415 and r.headers["content-type"] == "application/problem+json", r.text
    assert _inbox(hub, "shopify") == [] and _inbox(hub, "amazon") == []


def test_amazon_notifications_are_verified_with_the_amazon_channels_secret_only(stocked, serve):
    hub = stocked
    # Another channel whose vault entry also holds a notification secret (or a Shopify shop's
    # client secret): the caller must not be able to point verification at it.
    api = _hub_api(hub, serve, extra={"amazon_eu": {"endpoint": "http://unused", "notification_secret": "eu-secret"}})
    note = json.dumps({"NotificationVersion": "1.0", "NotificationType": "LISTINGS_ITEM_MFN_QUANTITY_CHANGE",
                       "PayloadVersion": "1.0", "EventTime": "2026-11-01T10:00:00Z",
                       "Payload": {"SellerId": "S", "FulfillmentChannelCode": "DEFAULT", "Sku": "A", "Quantity": 3},
                       "NotificationMetadata": {"NotificationId": "n-1"}}).encode()

    def post(secret: str, query: str = ""):
        return httpx.post(api.url + "/webhooks/amazon" + query, content=note, headers={
            "Content-Type": "application/json", amazon_signature.HEADER: amazon_signature.sign(note, secret)})

    for secret, query in (("eu-secret", "?channel=amazon_eu"), ("eu-secret", ""), (SHOPIFY_SECRET, "?channel=shopify"),
                          (LWA_SECRET, "?channel=amazon_seller")):
        _refused(post(secret, query))
    assert _inbox(hub, "amazon") == []
    assert post(NOTIFY_SECRET, "?channel=amazon_eu").json() == {"status": "accepted"}
    assert _inbox(hub, "amazon") == ["n-1"]


def test_the_shopify_sandboxs_deliveries_are_taken_and_an_impostors_are_not(stocked, serve, shopify_sandbox,
                                                                            shopify_connector, tmp_path):
    """Over the wire from the sandboxes, which send X-Shopify-Shop-Domain as Shopify does:
    the connected shop's webhooks land; a second "shop" that signs with the Amazon
    channel's secret, claims the connected shop's domain and subscribed with
    ?channel=amazon_seller is refused on every attempt."""
    from omnihub.adapters.channels.shopify import documents as docs
    from tests.sync.conftest import SHOPIFY_DOMAIN, shopify_secrets

    hub = stocked
    shop, _ = shopify_sandbox(catalog_products=1, catalog_variants_per_product=1, initial_stock_max=10)
    impostor, _ = shopify_sandbox(state_path=tmp_path / "impostor.sqlite3", client_secret=LWA_SECRET, webhook_retries=2,
                                  catalog_products=1, catalog_variants_per_product=1, initial_stock_max=10)
    api = _hub_api(hub, serve, extra={"shopify": shopify_secrets(shop.url)})
    for sandbox, query in ((shop, ""), (impostor, "?channel=amazon_seller")):
        client = shopify_connector(sandbox.url).client
        data = client.execute(docs.WEBHOOK_SUBSCRIBE, {"topic": "ORDERS_CREATE", "uri": api.url + "/webhooks/shopify" + query})
        assert not data["webhookSubscriptionCreate"]["userErrors"], data
        sku = httpx.get(sandbox.url + "/_sandbox/catalog").json()["variants"][0]["sku"]
        assert httpx.post(sandbox.url + "/_sandbox/orders", json={"lines": [{"sku": sku, "quantity": 1}]}).status_code == 201
    for sandbox in (shop, impostor):
        httpx.post(sandbox.url + "/_sandbox/webhooks/wait-idle", params={"timeout": 20}, timeout=30)
    honest = httpx.get(shop.url + "/_sandbox/webhooks/stats").json()
    refused = httpx.get(impostor.url + "/_sandbox/webhooks/stats").json()
    assert honest["delivered"] >= 1 and honest["failed_attempts"] == 0, honest
    assert refused["delivered"] == 0 and refused["failed_attempts"] >= 1, refused
    ib = t.channel_inbox
    with hub.engine.connect() as conn:
        kept = list(conn.execute(sa.select(ib.c.headers).where(ib.c.source == "shopify")).scalars())
    assert kept and all(SHOPIFY_DOMAIN in str(h) for h in kept), kept
