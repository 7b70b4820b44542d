"""Inbound: webhooks are verified (401 on a bad HMAC), de-duplicated on their id, stored
raw in the inbox and processed later; a payload that cannot be parsed is kept with its
error and does not block the others. Over real HTTP against the hub's API. (Amazon's
notifications: test_amazon_notification_auth.py.)"""

from __future__ import annotations

import json

import httpx
from cryptography.fernet import Fernet

from omnihub.adapters.channels.credentials import CredentialVault
from omnihub.adapters.channels.shopify.webhook_signature import sign
from tests.conftest import admin_app
from tests.sync.conftest import SHOPIFY_SECRET


SHOP = "omnihub-test.myshopify.com"


def _hub_api(hub, serve):
    hub.vault = CredentialVault(hub.engine, Fernet.generate_key().decode())
    hub.vault.put("shopify", {"shop_url": f"https://{SHOP}", "access_token": "x", "client_secret": SHOPIFY_SECRET})
    return serve(admin_app(hub))


def _post(url, body: bytes, *, secret=SHOPIFY_SECRET, webhook_id="w-1", topic="orders/create", shop=SHOP, path=""):
    return httpx.post(url + "/webhooks/shopify" + path, content=body, headers={
        "X-Shopify-Hmac-Sha256": sign(body, secret), "X-Shopify-Webhook-Id": webhook_id, "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": shop, "Content-Type": "application/json"})


def test_signature_dedup_and_a_poison_payload(stocked, serve):
    hub = stocked
    api = _hub_api(hub, serve)
    order = {"id": 9001, "updated_at": "2026-11-01T10:00:00+00:00", "created_at": "2026-11-01T10:00:00+00:00",
             "source_name": "web", "currency": "USD", "email": "ana@example.com",
             "line_items": [{"id": 1, "sku": "A", "quantity": 1, "current_quantity": 1, "price": "9.99"}],
             "shipping_address": {"zip": "10001", "country_code": "US", "city": "New York"}}
    body = json.dumps(order).encode()
    assert _post(api.url, body, secret="wrong-secret").status_code == 401
    assert _post(api.url, body).json() == {"status": "accepted"}
    assert _post(api.url, body).json() == {"status": "duplicate"}
    poison = b'{"id": 9002, "line_items": "not a list"'
    assert _post(api.url, poison, webhook_id="w-2").status_code == 200
    hub.inventory.receive("A", "WH", 5)
    assert hub.inbox.drain() == 2
    failures = httpx.get(api.url + "/api/v1/sync/inbox/failures").json()["failures"]
    assert [f["delivery_id"] for f in failures] == ["w-2"]
    # the good order went through the pipeline
    import sqlalchemy as sa

    from omnihub.adapters.db import tables as t
    with hub.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.orders).where(t.orders.c.external_id == "9001")).scalar() == 1
    metrics = httpx.get(api.url + "/metrics").text
    assert 'omnihub_webhook_deliveries_total{outcome="rejected",source="shopify"}' in metrics
    assert 'omnihub_webhook_deliveries_total{outcome="duplicate",source="shopify"}' in metrics


def test_dead_letters_api(stocked, serve):
    hub = stocked
    api = _hub_api(hub, serve)

    class Refuses:
        per_location = False
        max_batch = 10

        def push(self, items, mapping):
            from omnihub.domain.channel_sync import PushOutcome, PushStatus
            return [PushOutcome(i.intent_id, PushStatus.FAILED, error="unmapped") for i in items]

    hub.sync.register("amazon", Refuses())
    hub.sync.request("amazon", "A", "", 4)
    hub.sync.flush()
    hub.sync.run_channel_once("amazon")
    letters = httpx.get(api.url + "/api/v1/sync/dead-letters").json()["dead_letters"]
    assert [(d["sku"], d["target"], d["last_error"]) for d in letters] == [("A", 4, "unmapped")]
    r = httpx.post(api.url + f"/api/v1/sync/dead-letters/{letters[0]['id']}/retry")
    assert r.status_code == 200
    assert httpx.post(api.url + "/api/v1/sync/dead-letters/999999/retry").headers["content-type"] == "application/problem+json"
    assert httpx.get(api.url + "/api/v1/sync/status").json()["channels"]["amazon"]["pending"] == 1
