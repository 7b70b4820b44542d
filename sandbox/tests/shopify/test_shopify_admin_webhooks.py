"""The merchant's admin and the webhooks it fires, signed like every other and with the keys
of Shopify's published sample payloads: products/delete, inventory_items/create|update|delete,
inventory_levels/connect, locations/create|update|deactivate|activate|delete,
fulfillment_orders/moved, app/uninstalled (after which the app's token answers 401 and its
subscriptions are gone)."""

from __future__ import annotations

import json

import pytest

from shopify_sandbox_harness import SECRET
from test_shopify_fulfillment_moves import MOVE
from test_shopify_sales_and_oversell import ORDER, set_available
from test_shopify_webhooks import shopify_hmac_ok, subscribe

LOCATION_KEYS = {"id", "name", "address1", "address2", "city", "zip", "province", "country", "phone", "created_at",
                 "updated_at", "country_code", "country_name", "province_code", "legacy", "active", "admin_graphql_api_id"}
ITEM_KEYS = {"id", "sku", "created_at", "updated_at", "requires_shipping", "cost", "country_code_of_origin",
             "province_code_of_origin", "harmonized_system_code", "tracked", "country_harmonized_system_codes",
             "weight_value", "weight_unit", "admin_graphql_api_id"}
ITEM_DELETE_KEYS = {"id", "country_code_of_origin", "province_code_of_origin", "harmonized_system_code",
                    "country_harmonized_system_codes", "admin_graphql_api_id"}
UNINSTALLED_KEYS = {
    "id", "name", "email", "domain", "province", "country", "address1", "zip", "city", "source", "phone", "latitude",
    "longitude", "primary_locale", "address2", "created_at", "updated_at", "country_code", "country_name", "currency",
    "customer_email", "timezone", "iana_timezone", "shop_owner", "money_format", "money_with_currency_format",
    "weight_unit", "province_code", "taxes_included", "auto_configure_tax_inclusivity", "tax_shipping", "county_taxes",
    "plan_display_name", "plan_name", "has_discounts", "has_gift_cards", "myshopify_domain", "google_apps_domain",
    "google_apps_login_enabled", "money_in_emails_format", "money_with_currency_in_emails_format",
    "eligible_for_payments", "requires_extra_payments_agreement", "password_enabled", "has_storefront", "finances",
    "primary_location_id", "checkout_api_supported", "multi_location_enabled", "setup_required", "pre_launch_enabled",
    "enabled_presentment_currencies", "marketing_sms_consent_enabled_at_checkout", "transactional_sms_disabled"}
MOVED_KEYS = {"original_fulfillment_order", "moved_fulfillment_order", "destination_location_id",
              "fulfillment_order_line_items_requested", "source_location"}


def received(receiver, count: int) -> list[tuple[str, dict]]:
    hooks = receiver.wait_for(count)
    assert len(hooks) >= count
    assert all(shopify_hmac_ok(h["body"], h["headers"]["x-shopify-hmac-sha256"], SECRET) for h in hooks)
    return [(h["headers"]["x-shopify-topic"], json.loads(h["body"])) for h in hooks]


def test_products_and_inventory_items_created_edited_and_deleted(live_sandbox, webhook_receiver):
    client, app = live_sandbox(catalog_stores=1, catalog_warehouses=1)
    for topic in ("PRODUCTS_DELETE", "INVENTORY_ITEMS_CREATE", "INVENTORY_ITEMS_UPDATE", "INVENTORY_ITEMS_DELETE",
                  "INVENTORY_LEVELS_CONNECT"):
        subscribe(client, topic, webhook_receiver.url + "/hooks/catalog")
    made = client.control("POST", "/products", json={"title": "Rain Shell", "variants": [{"sku": "RS-1"}, {"sku": "RS-2"}]})
    assert made.status_code == 201, made.text
    product = made.json()
    items = [v["inventory_item_id"] for v in product["variants"]]
    first_variant = product["variants"][0]["id"]
    assert client.control("POST", f"/variants/{first_variant}/updates", json={"sku": "RS-1B"}).status_code == 200
    deleted = client.control("DELETE", f"/products/{product['id']}")
    assert deleted.status_code == 200 and deleted.json()["deleted_inventory_item_ids"] == items
    assert client.control("DELETE", f"/products/{product['id']}").status_code == 404
    assert client.data('query($id: ID!) { product(id: $id) { id } }', {"id": product["admin_graphql_api_id"]}) == {
        "product": None}
    # 2 items created, 2 items x 2 locations connected, 1 item updated, product deleted, 2 items deleted
    hooks = received(webhook_receiver, 2 + 4 + 1 + 1 + 2)
    by_topic: dict[str, list[dict]] = {}
    for topic, body in hooks:
        by_topic.setdefault(topic, []).append(body)
    assert [b["id"] for b in by_topic["inventory_items/create"]] == items
    assert all(set(b) == ITEM_KEYS for b in by_topic["inventory_items/create"] + by_topic["inventory_items/update"])
    assert by_topic["inventory_items/update"][0]["sku"] == "RS-1B"
    assert len(by_topic["inventory_levels/connect"]) == 4
    assert by_topic["products/delete"] == [{"id": product["id"]}]
    assert [b["id"] for b in by_topic["inventory_items/delete"]] == items
    assert all(set(b) == ITEM_DELETE_KEYS for b in by_topic["inventory_items/delete"])


def test_locations_created_edited_deactivated_activated_and_deleted(live_sandbox, webhook_receiver):
    client, app = live_sandbox(catalog_stores=1, catalog_warehouses=1)
    for topic in ("LOCATIONS_CREATE", "LOCATIONS_UPDATE", "LOCATIONS_DEACTIVATE", "LOCATIONS_ACTIVATE", "LOCATIONS_DELETE"):
        subscribe(client, topic, webhook_receiver.url + "/hooks/locations")
    created = client.control("POST", "/locations", json={"name": "Pop-up", "kind": "store", "city": "Austin",
                                                         "province": "Texas", "province_code": "TX", "zip": "78701"})
    assert created.status_code == 201
    location = created.json()
    assert client.control("PATCH", f"/locations/{location['id']}", json={"name": "Pop-up South"}).json()["name"] == \
        "Pop-up South"
    assert client.control("DELETE", f"/locations/{location['id']}").status_code == 409  # deactivate it first
    assert client.control("POST", f"/locations/{location['id']}/deactivate").json()["active"] is False
    listed = client.data('{ locations(first: 10) { nodes { id } } }')["locations"]["nodes"]
    assert location["admin_graphql_api_id"] not in [n["id"] for n in listed]
    assert client.control("POST", f"/locations/{location['id']}/activate").json()["active"] is True
    assert client.control("POST", f"/locations/{location['id']}/deactivate").status_code == 200
    assert client.control("DELETE", f"/locations/{location['id']}").json() == {"deleted_location_id": location["id"]}
    assert client.control("PATCH", f"/locations/{location['id']}", json={"name": "x"}).status_code == 404
    hooks = received(webhook_receiver, 6)
    assert [t for t, _ in hooks] == ["locations/create", "locations/update", "locations/deactivate",
                                     "locations/activate", "locations/deactivate", "locations/delete"]
    assert all(set(body) == LOCATION_KEYS for _, body in hooks[:-1])
    assert hooks[0][1]["country"] == "US" and hooks[0][1]["country_name"] == "United States"
    assert hooks[1][1]["name"] == "Pop-up South" and hooks[2][1]["active"] is False
    assert hooks[-1][1] == {"id": location["id"]}


def test_a_location_with_unfulfilled_orders_cannot_be_deactivated_and_a_deleted_one_stays_in_history(live_sandbox):
    client, app = live_sandbox(catalog_stores=1, catalog_warehouses=1, initial_stock_max=10)
    catalog = client.control("GET", "/catalog").json()
    warehouse = next(loc for loc in catalog["locations"] if not loc["pos"])
    sku = catalog["variants"][0]["sku"]
    set_available(client, sku, warehouse["id"], 5)
    placed = client.control("POST", "/orders", json={"lines": [{"sku": sku, "quantity": 1}]}).json()
    assert client.control("POST", f"/locations/{warehouse['id']}/deactivate").status_code == 409
    [fo] = client.data(ORDER, {"id": placed["admin_graphql_api_id"]})["order"]["fulfillmentOrders"]["nodes"]
    client.data("""mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) { userErrors { message } } }""",
                {"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"]}]}})
    assert client.control("POST", f"/locations/{warehouse['id']}/deactivate").status_code == 200
    assert client.control("DELETE", f"/locations/{warehouse['id']}").status_code == 200
    history = client.data("""query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 5) { nodes { status
        assignedLocation { name location { id } } } } fulfillments { location { id } } } }""",
                          {"id": placed["admin_graphql_api_id"]})["order"]
    [closed] = history["fulfillmentOrders"]["nodes"]
    assert closed["assignedLocation"] == {"name": warehouse["name"], "location": None}
    assert history["fulfillments"] == [{"location": None}]


def test_moving_a_fulfillment_order_sends_fulfillment_orders_moved(live_sandbox, webhook_receiver):
    client, app = live_sandbox(catalog_stores=1, catalog_warehouses=1, initial_stock_max=10)
    subscribe(client, "FULFILLMENT_ORDERS_MOVED", webhook_receiver.url + "/hooks/moved")
    catalog = client.control("GET", "/catalog").json()
    store = next(loc for loc in catalog["locations"] if loc["pos"])
    warehouse = next(loc for loc in catalog["locations"] if not loc["pos"])
    sku = catalog["variants"][0]["sku"]
    set_available(client, sku, warehouse["id"], 10)
    set_available(client, sku, store["id"], 10)
    placed = client.control("POST", "/orders", json={"lines": [{"sku": sku, "quantity": 3}]}).json()
    [fo] = client.data(ORDER, {"id": placed["admin_graphql_api_id"]})["order"]["fulfillmentOrders"]["nodes"]
    item = fo["lineItems"]["nodes"][0]
    out = client.data(MOVE, {"id": fo["id"], "to": store["admin_graphql_api_id"],
                             "items": [{"id": item["id"], "quantity": 1}]})["fulfillmentOrderMove"]
    assert out["userErrors"] == []
    [(topic, body)] = received(webhook_receiver, 1)
    assert topic == "fulfillment_orders/moved" and set(body) == MOVED_KEYS
    assert body["original_fulfillment_order"] == {"id": fo["id"], "status": "open",
                                                  "assigned_location_id": warehouse["admin_graphql_api_id"]}
    assert body["moved_fulfillment_order"]["id"] == out["movedFulfillmentOrder"]["id"]
    assert body["moved_fulfillment_order"]["assigned_location_id"] == store["admin_graphql_api_id"]
    assert body["destination_location_id"] == store["admin_graphql_api_id"]
    assert body["fulfillment_order_line_items_requested"] == [{"id": item["id"], "quantity": 1}]
    assert body["source_location"] == {"id": warehouse["admin_graphql_api_id"]}


def test_uninstalling_the_app_sends_app_uninstalled_then_revokes_the_token(live_sandbox, webhook_receiver):
    client, app = live_sandbox()
    subscribe(client, "APP_UNINSTALLED", webhook_receiver.url + "/hooks/app")
    subscribe(client, "ORDERS_CREATE", webhook_receiver.url + "/hooks/orders")
    gone = client.control("POST", "/app/uninstall")
    assert gone.status_code == 200
    [(topic, body)] = received(webhook_receiver, 1)
    assert topic == "app/uninstalled" and set(body) == UNINSTALLED_KEYS
    assert body["id"] == app.state.shop.shop_id
    refused = client.post("{ shop { name } }")
    assert refused.status_code == 401 and refused.json()["errors"].startswith("[API] Invalid API key or access token")
    assert client.control("POST", "/app/uninstall").status_code == 409
    sku = client.control("GET", "/catalog").json()["variants"][0]["sku"]
    client.control("POST", "/orders", json={"lines": [{"sku": sku, "quantity": 1}]})
    assert app.state.shop.dispatcher.wait_idle(5)
    assert len(webhook_receiver.received) == 1  # its subscriptions went with it
    assert client.control("POST", "/app/install").status_code == 200
    assert client.data('{ webhookSubscriptions(first: 5) { nodes { id } } }') == {"webhookSubscriptions": {"nodes": []}}


@pytest.mark.parametrize("topic", ["PRODUCTS_DELETE", "APP_UNINSTALLED", "RETURNS_PROCESS", "INVENTORY_LEVELS_DISCONNECT"])
def test_the_new_topics_can_be_subscribed(live_sandbox, topic):
    client, _ = live_sandbox()
    created = subscribe(client, topic, "https://hub.example/hooks/" + topic.lower())
    assert created["topic"] == topic
