"""The /_sandbox control plane validates its input and plays the parts Shopify's API does not."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from omnihub_sandbox.cli import app as sandbox_app


def subscribe(client, topic, uri):
    client.data("""mutation($t: WebhookSubscriptionTopic!, $u: String!) { webhookSubscriptionCreate(topic: $t,
        webhookSubscription: {uri: $u}) { userErrors { message } } }""", {"t": topic, "u": uri})


def test_inputs_are_validated(live_sandbox):
    client, _ = live_sandbox()
    assert client.control("POST", "/orders", json={"lines": []}).status_code == 422
    assert client.control("POST", "/orders", json={"lines": [{"sku": "X", "quantity": 0}]}).status_code == 422
    assert client.control("POST", "/orders", json={"lines": [{"quantity": 1}]}).status_code == 422
    assert client.control("POST", "/orders", json={"lines": [{"sku": "NOPE", "quantity": 1}]}).status_code == 404
    assert client.control("POST", "/inventory/admin-edits", json={"sku": "X", "location_id": 1}).status_code == 422
    assert client.control("POST", "/pos-sales", json={"location_id": "gid://shopify/Order/1",
                                                      "lines": [{"sku": "X", "quantity": 1}]}).status_code == 422
    assert client.control("PUT", "/faults", json={"loss_rate": 2}).status_code == 422


def test_refund_edit_and_product_update_fire_their_webhooks(live_sandbox, webhook_receiver):
    client, _ = live_sandbox(initial_stock_max=30)
    for topic in ("REFUNDS_CREATE", "ORDERS_EDITED", "PRODUCTS_UPDATE"):
        subscribe(client, topic, webhook_receiver.url + "/hooks")
    catalog = client.control("GET", "/catalog").json()
    store = next(loc for loc in catalog["locations"] if loc["pos"])
    sku = catalog["variants"][0]["sku"]
    client.control("POST", "/inventory/admin-edits", json={"sku": sku, "location_id": store["id"], "available": 10,
                                                           "shelf_too": True})
    sale = client.control("POST", "/pos-sales", json={"location_id": store["id"], "lines": [{"sku": sku, "quantity": 2}]})
    order = client.control("GET", f"/orders/{sale.json()['order_id']}").json()["order"]
    refund = client.control("POST", f"/orders/{order['id']}/refunds", json={
        "lines": [{"line_item_id": order["line_items"][0]["id"], "quantity": 1}], "restock": True})
    assert refund.status_code == 201
    level = client.control("GET", "/inventory", params={"sku": sku, "location_id": store["id"]}).json()
    assert (level["available"], level["physical_shelf"]) == (9, 9)
    online = client.control("POST", "/orders", json={"lines": [{"sku": catalog["variants"][1]["sku"], "quantity": 3}]})
    online_order = client.control("GET", f"/orders/{online.json()['order_id']}").json()["order"]
    edit = client.control("POST", f"/orders/{online_order['id']}/edits",
                          json={"line_item_id": online_order["line_items"][0]["id"], "quantity": 1})
    assert edit.status_code == 200
    product_id = catalog["variants"][0]["product_id"]
    assert client.control("POST", f"/products/{product_id}/updates", params={"title": "Renamed Tee"}).status_code == 200
    hooks = webhook_receiver.wait_for(3)
    topics = {h["headers"]["x-shopify-topic"]: json.loads(h["body"]) for h in hooks}
    assert topics["refunds/create"]["refund_line_items"][0]["quantity"] == 1
    assert topics["orders/edited"]["order_edit"]["line_items"]["removals"][0]["delta"] == 2
    assert topics["products/update"]["title"] == "Renamed Tee"


def test_reset_reseeds_the_shop(live_sandbox):
    client, _ = live_sandbox()
    client.control("POST", "/orders", json={"lines": [{"sku": client.control("GET", "/catalog").json()["variants"][0]["sku"],
                                                       "quantity": 1}]})
    assert client.control("POST", "/reset", json={"seed": 99, "products": 3}).status_code == 200
    catalog = client.control("GET", "/catalog").json()
    assert len(catalog["variants"]) == 6
    assert client.data("{ orders(first: 5) { nodes { id } } }")["orders"]["nodes"] == []


def test_cli_traffic_against_a_live_sandbox(live_sandbox):
    client, _ = live_sandbox(initial_stock_max=30)
    result = CliRunner().invoke(sandbox_app, ["traffic", "--orders-per-s", "20", "--duration", "0.5",
                                              "--shopify-url", client.base_url])
    assert result.exit_code == 0, result.output
    assert "traffic summary" in result.output and "Shopify POS" in result.output


def test_an_outage_fails_the_admin_api_then_ends(live_sandbox):
    client, _ = live_sandbox()
    shop = "{ shop { name } }"
    assert client.post(shop).status_code == 200
    assert client.control("PUT", "/outage", json={"seconds": 60, "timeout_share": 0, "seed": 1}).status_code == 200
    down = client.post(shop)
    assert down.status_code == 503 and down.json() == {"errors": "Service Unavailable"}
    assert client.control("GET", "/catalog").status_code == 200  # the shop itself still sells
    client.control("PUT", "/outage", json={"seconds": 60, "timeout_share": 1, "hold_s": 0.1})
    held = client.post(shop)
    assert held.status_code == 504
    client.control("PUT", "/outage", json={"seconds": 0})
    assert client.post(shop).status_code == 200
    assert client.control("PUT", "/outage", json={"seconds": 1, "timeout_share": 2}).status_code == 422


def test_inventory_levels_lists_every_level_with_its_shelf(live_sandbox):
    client, _ = live_sandbox()
    levels = client.control("GET", "/inventory/levels").json()["levels"]
    catalog = client.control("GET", "/catalog").json()
    assert len(levels) == len(catalog["variants"]) * len(catalog["locations"])
    one = levels[0]
    single = client.control("GET", "/inventory", params={"sku": one["sku"], "location_id": one["location_id"]}).json()
    assert (one["available"], one["physical_shelf"]) == (single["available"], single["physical_shelf"])
