"""fulfillmentOrderHold and fulfillmentOrderReleaseHold as Shopify documents them: a held
fulfillment order (ON_HOLD) cannot be fulfilled or moved and keeps its units committed;
holding some line items splits off the rest; holds stack by handle; releasing the last one
opens it again; the placed_on_hold and hold_released webhooks carry Shopify's sample shapes."""

from __future__ import annotations

import json

import pytest

from shopify_sandbox_harness import SECRET
from test_shopify_fulfillment_moves import MOVE
from test_shopify_sales_and_oversell import ORDER, level, set_available
from test_shopify_webhooks import shopify_hmac_ok, subscribe

HOLD = """
mutation($id: ID!, $hold: FulfillmentOrderHoldInput!) {
  fulfillmentOrderHold(id: $id, fulfillmentHold: $hold) {
    fulfillmentHold { id reason reasonNotes handle displayReason heldByRequestingApp }
    fulfillmentOrder { id status fulfillmentHolds { id handle } lineItems(first: 5) { nodes { id sku remainingQuantity } } }
    remainingFulfillmentOrder { id status assignedLocation { location { id } }
      lineItems(first: 5) { nodes { sku remainingQuantity } } }
    userErrors { field message code }
  }
}"""
RELEASE = """
mutation($id: ID!, $holds: [ID!]) { fulfillmentOrderReleaseHold(id: $id, holdIds: $holds) {
  fulfillmentOrder { id status fulfillmentHolds { id } } userErrors { field message code } } }"""
FULFIL = """mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) { userErrors { message } } }"""
DOCUMENTS = [HOLD, RELEASE, FULFIL]


@pytest.fixture
def shop(live_sandbox):
    client, _ = live_sandbox(catalog_stores=1, catalog_warehouses=1, initial_stock_max=10)
    catalog = client.control("GET", "/catalog").json()
    store = next(loc for loc in catalog["locations"] if loc["pos"])
    warehouse = next(loc for loc in catalog["locations"] if not loc["pos"])
    return client, catalog, store, warehouse


def _order(client, warehouse, units: dict[str, int]) -> dict:
    for sku in units:
        set_available(client, sku, warehouse["id"], 10)
    placed = client.control("POST", "/orders", json={"lines": [{"sku": s, "quantity": q} for s, q in units.items()]})
    [fo] = client.data(ORDER, {"id": placed.json()["admin_graphql_api_id"]})["order"]["fulfillmentOrders"]["nodes"]
    return fo


def test_a_held_fulfillment_order_is_not_fulfilled_or_moved_until_released(shop, webhook_receiver):
    client, catalog, store, warehouse = shop
    for topic in ("FULFILLMENT_ORDERS_PLACED_ON_HOLD", "FULFILLMENT_ORDERS_HOLD_RELEASED"):
        subscribe(client, topic, webhook_receiver.url + "/hooks/holds")
    sku = catalog["variants"][0]["sku"]
    fo = _order(client, warehouse, {sku: 2})
    held = client.data(HOLD, {"id": fo["id"], "hold": {"reason": "AWAITING_PAYMENT", "reasonNotes": "bank transfer",
                                                       "handle": "payment"}})["fulfillmentOrderHold"]
    assert held["userErrors"] == [] and held["remainingFulfillmentOrder"] is None
    assert held["fulfillmentOrder"]["status"] == "ON_HOLD"
    assert held["fulfillmentHold"]["reason"] == "AWAITING_PAYMENT" and held["fulfillmentHold"]["handle"] == "payment"
    assert held["fulfillmentHold"]["displayReason"] == "Awaiting payment"
    assert level(client, sku, warehouse["id"])["committed"] == 2  # the units stay committed where they are
    refused = client.data(FULFIL, {"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"]}]}})
    assert "on_hold" in refused["fulfillmentCreate"]["userErrors"][0]["message"]
    moved = client.data(MOVE, {"id": fo["id"], "to": store["admin_graphql_api_id"]})["fulfillmentOrderMove"]
    assert moved["movedFulfillmentOrder"] is None and moved["userErrors"]

    duplicate = client.data(HOLD, {"id": fo["id"], "hold": {"reason": "OTHER", "handle": "payment"}})["fulfillmentOrderHold"]
    assert duplicate["userErrors"][0]["code"] == "DUPLICATE_FULFILLMENT_HOLD_HANDLE"
    second = client.data(HOLD, {"id": fo["id"], "hold": {"reason": "INCORRECT_ADDRESS", "handle": "address"}})
    assert second["fulfillmentOrderHold"]["userErrors"] == []
    assert len(second["fulfillmentOrderHold"]["fulfillmentOrder"]["fulfillmentHolds"]) == 2
    split = client.data(HOLD, {"id": fo["id"], "hold": {"reason": "OTHER", "handle": "split", "fulfillmentOrderLineItems": [
        {"id": fo["lineItems"]["nodes"][0]["id"], "quantity": 1}]}})["fulfillmentOrderHold"]
    assert split["userErrors"][0]["code"] == "FULFILLMENT_ORDER_NOT_SPLITTABLE"

    first_hold = held["fulfillmentHold"]["id"]
    partly = client.data(RELEASE, {"id": fo["id"], "holds": [first_hold]})["fulfillmentOrderReleaseHold"]
    assert partly["userErrors"] == [] and partly["fulfillmentOrder"]["status"] == "ON_HOLD"  # one hold is left
    released = client.data(RELEASE, {"id": fo["id"]})["fulfillmentOrderReleaseHold"]
    assert released["fulfillmentOrder"] == {"id": fo["id"], "status": "OPEN", "fulfillmentHolds": []}
    assert client.data(FULFIL, {"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"]}]}}) == {
        "fulfillmentCreate": {"userErrors": []}}
    unknown = client.data(RELEASE, {"id": "gid://shopify/FulfillmentOrder/1"})["fulfillmentOrderReleaseHold"]
    assert unknown["userErrors"][0]["code"] == "FULFILLMENT_ORDER_NOT_FOUND"

    hooks = webhook_receiver.wait_for(4)
    assert all(shopify_hmac_ok(h["body"], h["headers"]["x-shopify-hmac-sha256"], SECRET) for h in hooks)
    placed = [json.loads(h["body"]) for h in hooks if h["headers"]["x-shopify-topic"] == "fulfillment_orders/placed_on_hold"]
    released_hooks = [json.loads(h["body"]) for h in hooks
                      if h["headers"]["x-shopify-topic"] == "fulfillment_orders/hold_released"]
    assert len(placed) == 2 and len(released_hooks) == 2
    first = placed[0]
    assert set(first) == {"fulfillment_order", "remaining_fulfillment_order", "held_fulfillment_order_line_items",
                          "created_fulfillment_hold"}
    assert first["fulfillment_order"]["status"] == "on_hold" and first["fulfillment_order"]["id"] == fo["id"]
    assert set(first["created_fulfillment_hold"]) == {"id", "reason", "reason_notes", "held_by_requesting_app", "handle",
                                                      "held_by_app"}
    assert first["created_fulfillment_hold"]["reason"] == "awaiting_payment"
    assert released_hooks[-1] == {"fulfillment_order": {"id": fo["id"], "status": "open"}}


def test_holding_some_line_items_splits_off_the_rest(shop):
    client, catalog, store, warehouse = shop
    first, second = catalog["variants"][0]["sku"], catalog["variants"][1]["sku"]
    fo = _order(client, warehouse, {first: 3, second: 1})
    item = next(i for i in fo["lineItems"]["nodes"] if i["sku"] == first)
    bad = client.data(HOLD, {"id": fo["id"], "hold": {"reason": "OTHER", "fulfillmentOrderLineItems": [
        {"id": item["id"], "quantity": 4}]}})["fulfillmentOrderHold"]
    assert bad["userErrors"][0]["code"] == "INVALID_LINE_ITEM_QUANTITY"
    zero = client.data(HOLD, {"id": fo["id"], "hold": {"reason": "OTHER", "fulfillmentOrderLineItems": [
        {"id": item["id"], "quantity": 0}]}})["fulfillmentOrderHold"]
    assert zero["userErrors"][0]["code"] == "GREATER_THAN_ZERO"
    held = client.data(HOLD, {"id": fo["id"], "hold": {"reason": "INVENTORY_OUT_OF_STOCK", "fulfillmentOrderLineItems": [
        {"id": item["id"], "quantity": 2}]}})["fulfillmentOrderHold"]
    assert held["userErrors"] == []
    assert [(i["sku"], i["remainingQuantity"]) for i in held["fulfillmentOrder"]["lineItems"]["nodes"]] == [(first, 2)]
    rest = held["remainingFulfillmentOrder"]
    assert rest["status"] == "OPEN" and rest["assignedLocation"]["location"]["id"] == warehouse["admin_graphql_api_id"]
    assert sorted((i["sku"], i["remainingQuantity"]) for i in rest["lineItems"]["nodes"]) == sorted([(first, 1), (second, 1)])
    assert level(client, first, warehouse["id"])["committed"] == 3  # nothing moved: only the orders split
    missing = client.data(HOLD, {"id": "gid://shopify/FulfillmentOrder/1", "hold": {"reason": "OTHER"}})
    assert missing["fulfillmentOrderHold"]["userErrors"][0]["code"] == "FULFILLMENT_ORDER_NOT_FOUND"


def test_cancelling_an_order_cancels_its_held_fulfillment_orders_and_releases_their_units(shop):
    client, catalog, store, warehouse = shop
    sku = catalog["variants"][2]["sku"]
    fo = _order(client, warehouse, {sku: 2})
    held = client.data(HOLD, {"id": fo["id"], "hold": {"reason": "HIGH_RISK_OF_FRAUD"}})["fulfillmentOrderHold"]
    assert held["userErrors"] == []
    order_id = client.data("""query($id: ID!) { fulfillmentOrder(id: $id) { orderId } }""", {"id": fo["id"]})
    cancel = client.data("""mutation($id: ID!) { orderCancel(orderId: $id, reason: FRAUD, restock: true, refund: true) {
        orderCancelUserErrors { message } } }""", {"id": order_id["fulfillmentOrder"]["orderId"]})
    assert cancel["orderCancel"]["orderCancelUserErrors"] == []
    after = level(client, sku, warehouse["id"])
    assert (after["available"], after["committed"]) == (10, 0)
