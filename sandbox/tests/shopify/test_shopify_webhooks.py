"""Webhooks: signed like Shopify's, REST-shaped bodies, at-least-once with measured faults."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from omnihub_sandbox.shopify.events import Event
from shopify_sandbox_harness import SECRET

SUBSCRIBE = """
mutation($topic: WebhookSubscriptionTopic!, $uri: String!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: {uri: $uri, format: JSON}) {
    webhookSubscription { id topic uri format apiVersion { handle } }
    userErrors { field message }
  }
}"""
HEADERS = ("x-shopify-topic", "x-shopify-hmac-sha256", "x-shopify-shop-domain", "x-shopify-api-version",
           "x-shopify-webhook-id", "x-shopify-event-id", "x-shopify-triggered-at")


def subscribe(client, topic: str, uri: str) -> dict:
    payload = client.data(SUBSCRIBE, {"topic": topic, "uri": uri})["webhookSubscriptionCreate"]
    assert payload["userErrors"] == []
    return payload["webhookSubscription"]


def shopify_hmac_ok(body: bytes, header: str, secret: str) -> bool:
    """Shopify's documented verification, verbatim."""
    digest = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(digest, header.encode())


@pytest.mark.shared
def test_orders_create_is_signed_and_shaped_like_the_rest_fixture(live_sandbox, webhook_receiver, fixtures_dir):
    client, _ = live_sandbox()
    subscribe(client, "ORDERS_CREATE", webhook_receiver.url + "/hooks/orders")
    sku = client.control("GET", "/catalog").json()["variants"][0]["sku"]
    placed = client.control("POST", "/orders", json={"lines": [{"sku": sku, "quantity": 1}], "email": "ada@example.com"})
    [hook] = webhook_receiver.wait_for(1)
    headers, body = hook["headers"], hook["body"]
    assert all(h in headers for h in HEADERS)
    assert headers["x-shopify-topic"] == "orders/create"
    assert headers["x-shopify-api-version"] == "2026-10"
    assert headers["x-shopify-shop-domain"].endswith(".myshopify.com")
    assert shopify_hmac_ok(body, headers["x-shopify-hmac-sha256"], SECRET)
    assert not shopify_hmac_ok(body, headers["x-shopify-hmac-sha256"], "another-secret")
    order = json.loads(body)
    fixture = json.loads((fixtures_dir / "order.json").read_text())["order"]
    assert set(fixture) <= set(order), set(fixture) - set(order)
    assert set(fixture["line_items"][0]) <= set(order["line_items"][0])
    assert set(fixture["shipping_address"]) <= set(order["shipping_address"])
    assert order["id"] == placed.json()["order_id"] and order["admin_graphql_api_id"].startswith("gid://shopify/Order/")
    assert order["line_items"][0]["sku"] == sku and isinstance(order["total_price"], str)


def test_inventory_levels_update_on_a_merchant_edit(live_sandbox, webhook_receiver):
    client, _ = live_sandbox()
    subscribe(client, "INVENTORY_LEVELS_UPDATE", webhook_receiver.url + "/hooks/levels")
    catalog = client.control("GET", "/catalog").json()
    variant, location = catalog["variants"][0], catalog["locations"][0]
    client.control("POST", "/inventory/admin-edits", json={"sku": variant["sku"], "location_id": location["id"],
                                                           "available": 17})
    [hook] = webhook_receiver.wait_for(1)
    body = json.loads(hook["body"])
    assert set(body) == {"inventory_item_id", "location_id", "available", "updated_at", "admin_graphql_api_id"}
    assert (body["inventory_item_id"], body["location_id"], body["available"]) == (
        variant["inventory_item_id"], location["id"], 17)
    assert shopify_hmac_ok(hook["body"], hook["headers"]["x-shopify-hmac-sha256"], SECRET)


def test_subscriptions_list_delete_and_reject_bad_addresses(live_sandbox):
    client, _ = live_sandbox()
    created = subscribe(client, "PRODUCTS_UPDATE", "https://hub.example/hooks")
    assert created["apiVersion"]["handle"] == "2026-10" and created["format"] == "JSON"
    dup = client.data(SUBSCRIBE, {"topic": "PRODUCTS_UPDATE", "uri": "https://hub.example/hooks"})
    assert dup["webhookSubscriptionCreate"]["userErrors"]
    bad = client.data(SUBSCRIBE, {"topic": "PRODUCTS_UPDATE", "uri": "ftp://nope"})
    assert bad["webhookSubscriptionCreate"]["userErrors"][0]["message"] == "Address is invalid"
    listed = client.data('{ webhookSubscriptions(first: 10, topics: [PRODUCTS_UPDATE]) { nodes { id uri } } }')
    assert listed["webhookSubscriptions"]["nodes"] == [{"id": created["id"], "uri": "https://hub.example/hooks"}]
    deleted = client.data('mutation($id: ID!) { webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId } }',
                          {"id": created["id"]})
    assert deleted["webhookSubscriptionDelete"]["deletedWebhookSubscriptionId"] == created["id"]
    assert client.data('{ webhookSubscriptions(first: 10) { nodes { id } } }')["webhookSubscriptions"]["nodes"] == []


def test_privacy_topics_go_to_the_compliance_url(live_sandbox, webhook_receiver):
    client, _ = live_sandbox(compliance_webhook_url=webhook_receiver.url + "/privacy")
    for topic in ("customers-data-request", "customers-redact", "shop-redact"):
        assert client.control("POST", f"/privacy/{topic}", json={"customer_email": "ada@example.com"}).status_code == 200
    hooks = webhook_receiver.wait_for(3)
    assert sorted(h["headers"]["x-shopify-topic"] for h in hooks) == [
        "customers/data_request", "customers/redact", "shop/redact"]
    assert all(shopify_hmac_ok(h["body"], h["headers"]["x-shopify-hmac-sha256"], SECRET) for h in hooks)


def test_failed_deliveries_are_retried_with_backoff_then_given_up(live_sandbox, webhook_receiver):
    # Back-off base 60 s x time scale 0.0005 = 30 ms, doubling: 8 retries within ~8 s of real time is too long,
    # so this shop retries from a 1 s base (0.5 ms scaled): 9 attempts in well under a second.
    client, app = live_sandbox(time_scale=0.0005, webhook_backoff_base_s=1.0)
    shop = app.state.shop
    webhook_receiver.status = 500
    subscribe(client, "ORDERS_UPDATED", webhook_receiver.url + "/hooks/fail")
    shop.publish([Event("orders/updated", {"id": 1}, "2026-10-01T12:00:00Z")])
    hooks = webhook_receiver.wait_for(9)
    assert shop.dispatcher.wait_idle(5)
    stats = shop.dispatcher.stats()
    assert len(hooks) == 9 and stats["retries"] == 8 and stats["gave_up"] == 1 and stats["delivered"] == 0
    assert len({h["headers"]["x-shopify-webhook-id"] for h in hooks}) == 1
    gaps = [b["at"] - a["at"] for a, b in zip(hooks, hooks[1:])]
    assert gaps[-1] > gaps[0]  # exponential back-off
    webhook_receiver.status = 200
    shop.publish([Event("orders/updated", {"id": 2}, "2026-10-01T12:00:00Z")])
    webhook_receiver.wait_for(10)
    assert shop.dispatcher.wait_idle(5) and shop.dispatcher.stats()["delivered"] == 1


@pytest.mark.parametrize("loss,duplicate,reorder", [(0.05, 0.03, 0.04)])
def test_fault_rates_over_2000_deliveries_match_the_configuration(live_sandbox, webhook_receiver, loss, duplicate,
                                                                  reorder):
    from omnihub_sandbox.shopify.config import WebhookFaults

    faults = WebhookFaults(loss_rate=loss, duplicate_rate=duplicate, reorder_rate=reorder, reorder_window_s=50.0)
    client, app = live_sandbox(webhook_faults=faults, webhook_senders=1, time_scale=0.001, seed=11)
    shop = app.state.shop
    subscribe(client, "INVENTORY_LEVELS_UPDATE", webhook_receiver.url + "/hooks/levels")
    total = 2000
    shop.publish([Event("inventory_levels/update", {"seq": i}, "2026-10-01T12:00:00Z") for i in range(total)])
    assert shop.dispatcher.wait_idle(60)
    received = webhook_receiver.received
    seqs = [json.loads(h["body"])["seq"] for h in received]
    unique = set(seqs)
    lost = (total - len(unique)) / total
    duplicated = (len(seqs) - len(unique)) / len(unique)
    highest, late = -1, set()
    for seq in seqs:
        if seq < highest:
            late.add(seq)
        highest = max(highest, seq)
    reordered = len(late) / len(unique)
    assert abs(lost - loss) <= 0.015, lost
    assert abs(duplicated - duplicate) <= 0.015, duplicated
    assert abs(reordered - reorder) <= 0.015, reordered
    # Duplicates are the same delivery: same webhook and event ids.
    ids = {}
    for h in received:
        ids.setdefault(json.loads(h["body"])["seq"], set()).add(h["headers"]["x-shopify-webhook-id"])
    assert all(len(v) == 1 for v in ids.values())
    stats = shop.dispatcher.stats()
    assert stats["planned"] == total and stats["lost"] == total - len(unique)


def test_late_deliveries_arrive_later_but_arrive(live_sandbox, webhook_receiver):
    from omnihub_sandbox.shopify.config import WebhookFaults

    faults = WebhookFaults(delay_rate=0.5, max_delay_s=200.0)  # up to 200 s, scaled to 0.2 s
    client, app = live_sandbox(webhook_faults=faults, time_scale=0.001)
    subscribe(client, "ORDERS_UPDATED", webhook_receiver.url + "/late")
    shop = app.state.shop
    shop.publish([Event("orders/updated", {"seq": i}, "2026-10-01T12:00:00Z") for i in range(60)])
    assert shop.dispatcher.wait_idle(10)
    hooks = webhook_receiver.wait_for(60)
    stats = shop.dispatcher.stats()
    assert len(hooks) == 60 and stats["delivered"] == 60 and 15 <= stats["delayed"] <= 45
    spread = hooks[-1]["at"] - hooks[0]["at"]
    assert spread > 0.05
