"""fulfillmentOrderMove behaves as Shopify documents it: a whole fulfillment order moves
(same id, new location); a subset goes to a new fulfillment order while the original
keeps the rest; committed stock follows the move; a closed fulfillment order, an unknown
location or the same location answer user errors and change nothing. The mutation the
sandbox accepts is the official one."""

from __future__ import annotations

import pytest
from graphql import parse, validate

from test_shopify_sales_and_oversell import ORDER, level, set_available

MOVE = """
mutation($id: ID!, $to: ID!, $items: [FulfillmentOrderLineItemInput!]) {
  fulfillmentOrderMove(id: $id, newLocationId: $to, fulfillmentOrderLineItems: $items) {
    movedFulfillmentOrder { id status assignedLocation { location { id } }
      lineItems(first: 10) { nodes { id sku remainingQuantity totalQuantity } } }
    originalFulfillmentOrder { id status assignedLocation { location { id } }
      lineItems(first: 10) { nodes { id sku remainingQuantity totalQuantity } } }
    userErrors { field message }
  }
}"""


@pytest.fixture
def shop(live_sandbox):
    client, _ = live_sandbox(catalog_stores=1, catalog_warehouses=1, initial_stock_max=10)
    catalog = client.control("GET", "/catalog").json()
    store = next(loc for loc in catalog["locations"] if loc["pos"])
    warehouse = next(loc for loc in catalog["locations"] if not loc["pos"])
    return client, catalog, store, warehouse


def _order_at_warehouse(client, catalog, warehouse, store, units: dict[str, int]) -> dict:
    for sku in units:
        set_available(client, sku, warehouse["id"], 10)
        set_available(client, sku, store["id"], 10)
    placed = client.control("POST", "/orders", json={"lines": [{"sku": s, "quantity": q} for s, q in units.items()]}).json()
    order = client.data(ORDER, {"id": placed["admin_graphql_api_id"]})["order"]
    [fo] = order["fulfillmentOrders"]["nodes"]
    assert fo["assignedLocation"]["location"]["id"] == warehouse["admin_graphql_api_id"]  # warehouses first
    return fo


def test_moving_a_whole_fulfillment_order_reassigns_it_and_its_commitment(shop):
    client, catalog, store, warehouse = shop
    sku = catalog["variants"][0]["sku"]
    fo = _order_at_warehouse(client, catalog, warehouse, store, {sku: 2})
    out = client.data(MOVE, {"id": fo["id"], "to": store["admin_graphql_api_id"]})["fulfillmentOrderMove"]
    assert out["userErrors"] == []
    moved, original = out["movedFulfillmentOrder"], out["originalFulfillmentOrder"]
    assert moved["id"] == original["id"] == fo["id"]
    assert moved["assignedLocation"]["location"]["id"] == store["admin_graphql_api_id"]
    assert (level(client, sku, warehouse["id"])["available"], level(client, sku, warehouse["id"])["committed"]) == (10, 0)
    assert (level(client, sku, store["id"])["available"], level(client, sku, store["id"])["committed"]) == (8, 2)


def test_moving_a_subset_opens_a_new_fulfillment_order_and_the_original_keeps_the_rest(shop):
    client, catalog, store, warehouse = shop
    first, second = catalog["variants"][0]["sku"], catalog["variants"][1]["sku"]
    fo = _order_at_warehouse(client, catalog, warehouse, store, {first: 3, second: 1})
    item = next(i for i in fo["lineItems"]["nodes"] if i["sku"] == first)
    out = client.data(MOVE, {"id": fo["id"], "to": store["admin_graphql_api_id"],
                             "items": [{"id": item["id"], "quantity": 2}]})["fulfillmentOrderMove"]
    assert out["userErrors"] == []
    moved, original = out["movedFulfillmentOrder"], out["originalFulfillmentOrder"]
    assert moved["id"] != fo["id"] and original["id"] == fo["id"]
    assert moved["assignedLocation"]["location"]["id"] == store["admin_graphql_api_id"]
    assert [(i["sku"], i["remainingQuantity"]) for i in moved["lineItems"]["nodes"]] == [(first, 2)]
    assert sorted((i["sku"], i["remainingQuantity"]) for i in original["lineItems"]["nodes"]) == sorted([(first, 1), (second, 1)])
    assert original["status"] == "OPEN"
    assert level(client, sku := first, store["id"])["committed"] == 2 and level(client, sku, warehouse["id"])["committed"] == 1


def test_refusals_change_nothing(shop):
    client, catalog, store, warehouse = shop
    sku = catalog["variants"][0]["sku"]
    fo = _order_at_warehouse(client, catalog, warehouse, store, {sku: 1})
    for target, field in (("gid://shopify/Location/999999", "newLocationId"), (warehouse["admin_graphql_api_id"], "newLocationId")):
        out = client.data(MOVE, {"id": fo["id"], "to": target})["fulfillmentOrderMove"]
        assert out["movedFulfillmentOrder"] is None and out["userErrors"][0]["field"] == [field]
    fulfil = client.data("""mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) { userErrors { message } } }""",
                         {"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"]}]}})
    assert fulfil["fulfillmentCreate"]["userErrors"] == []
    closed = client.data(MOVE, {"id": fo["id"], "to": store["admin_graphql_api_id"]})["fulfillmentOrderMove"]
    assert closed["movedFulfillmentOrder"] is None and "closed" in closed["userErrors"][0]["message"]
    assert level(client, sku, store["id"])["committed"] == 0


def test_the_move_mutation_is_the_official_one(official_admin_schema):
    assert [e.message for e in validate(official_admin_schema, parse(MOVE))] == []
