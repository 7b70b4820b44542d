"""inventoryMoveQuantities (between named quantities at one location, both ends with
compare-and-swap and ledger documents, all or nothing, @idempotent) and
inventoryActivate/inventoryDeactivate (a level appears or goes; inventory_levels/connect
and disconnect), as Shopify documents them."""

from __future__ import annotations

import json
import uuid

import pytest

from shopify_sandbox_harness import SECRET
from test_shopify_inventory import LEVEL, quantities
from test_shopify_webhooks import shopify_hmac_ok, subscribe

MOVE = """
mutation($input: InventoryMoveQuantitiesInput!, $key: String!) {
  inventoryMoveQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id reason referenceDocumentUri changes { name delta quantityAfterChange ledgerDocumentUri } }
    userErrors { field message code }
  }
}"""
ACTIVATE = """
mutation($item: ID!, $location: ID!, $available: Int, $onHand: Int, $key: String!) {
  inventoryActivate(inventoryItemId: $item, locationId: $location, available: $available, onHand: $onHand)
    @idempotent(key: $key) {
    inventoryLevel { id canDeactivate quantities(names: ["available", "on_hand"]) { name quantity } location { id } }
    userErrors { field message }
  }
}"""
DEACTIVATE = """
mutation($id: ID!) { inventoryDeactivate(inventoryLevelId: $id) { userErrors { field message } } }"""
DOCUMENTS = [MOVE, ACTIVATE, DEACTIVATE]


@pytest.fixture
def shop(live_sandbox):
    client, app = live_sandbox()
    catalog = client.control("GET", "/catalog").json()
    variant = catalog["variants"][0]
    item = f"gid://shopify/InventoryItem/{variant['inventory_item_id']}"
    return client, catalog, item, catalog["locations"][0]["admin_graphql_api_id"]


def end(location, name, change_from=None, document=None, **extra):
    out = {"locationId": location, "name": name, "changeFromQuantity": change_from, **extra}
    if document:
        out["ledgerDocumentUri"] = document
    return out


def move(client, changes, key=None, reason="quality_control"):
    return client.data(MOVE, {"input": {"reason": reason, "referenceDocumentUri": "omnihub://inspection/1",
                                        "changes": changes}, "key": key or str(uuid.uuid4())})["inventoryMoveQuantities"]


def test_moving_available_to_damaged_and_receiving_incoming(shop):
    client, catalog, item, location = shop
    before = quantities(client, item, location)
    key = str(uuid.uuid4())
    changes = [{"inventoryItemId": item, "quantity": 2,
                "from": end(location, "available", before["available"]),
                "to": end(location, "damaged", before["damaged"], "omnihub://inspection/1/damaged")}]
    moved = move(client, changes, key)
    assert moved["userErrors"] == []
    group = moved["inventoryAdjustmentGroup"]
    assert group["referenceDocumentUri"] == "omnihub://inspection/1"
    assert {(c["name"], c["delta"]) for c in group["changes"]} == {("available", -2), ("damaged", 2)}
    after = quantities(client, item, location)
    assert after["available"] == before["available"] - 2 and after["damaged"] == before["damaged"] + 2
    assert after["on_hand"] == before["on_hand"]  # both are on hand
    assert move(client, changes, key) == moved and quantities(client, item, location) == after  # retried, not re-applied

    adjust = client.data("""mutation($input: InventoryAdjustQuantitiesInput!, $key: String!) {
        inventoryAdjustQuantities(input: $input) @idempotent(key: $key) { userErrors { code } } }""", {
        "input": {"name": "incoming", "reason": "received", "changes": [
            {"inventoryItemId": item, "locationId": location, "delta": 5, "changeFromQuantity": None,
             "ledgerDocumentUri": "omnihub://po/9"}]}, "key": str(uuid.uuid4())})
    assert adjust["inventoryAdjustQuantities"]["userErrors"] == []
    received = move(client, [{"inventoryItemId": item, "quantity": 5,
                              "from": end(location, "incoming", 5, "omnihub://po/9"),
                              "to": end(location, "available")}], reason="received")
    assert received["userErrors"] == []
    assert ("on_hand", 5) in {(c["name"], c["delta"]) for c in received["inventoryAdjustmentGroup"]["changes"]}
    final = quantities(client, item, location)
    assert final["incoming"] == 0 and final["available"] == after["available"] + 5 and final["on_hand"] == after["on_hand"] + 5


def test_move_refusals_change_nothing(shop):
    client, catalog, item, location = shop
    other = catalog["locations"][1]["admin_graphql_api_id"]
    before = quantities(client, item, location)

    def codes(changes):
        out = move(client, changes)
        assert out["inventoryAdjustmentGroup"] is None
        return [e["code"] for e in out["userErrors"]]

    base = {"inventoryItemId": item, "quantity": 1}
    assert codes([dict(base, **{"from": end(location, "available"), "to": end(other, "damaged", document="x://1")})]) == [
        "DIFFERENT_LOCATIONS"]
    assert codes([dict(base, **{"from": end(location, "available"), "to": end(location, "available")})]) == [
        "SAME_QUANTITY_NAME"]
    assert codes([dict(base, **{"from": end(location, "available"), "to": end(location, "damaged")})]) == [
        "INVALID_QUANTITY_DOCUMENT"]
    assert codes([dict(base, **{"from": end(location, "available", document="x://1"),
                                "to": end(location, "damaged", document="x://2")})]) == ["INVALID_AVAILABLE_DOCUMENT"]
    assert codes([dict(base, **{"from": end(location, "damaged", document="x://1"),
                                "to": end(location, "available")})]) == ["INVALID_QUANTITY_NEGATIVE"]  # none damaged
    assert codes([dict(base, **{"from": end(location, "available", before["available"] + 1),
                                "to": end(location, "reserved", document="x://2")})]) == ["CHANGE_FROM_QUANTITY_STALE"]
    assert codes([dict(base, quantity=0, **{"from": end(location, "available"),
                                            "to": end(location, "reserved", document="x://2")})]) == [
        "INVALID_QUANTITY_NEGATIVE"]
    # one bad change and the good one beside it does not move either
    good = dict(base, **{"from": end(location, "available"), "to": end(location, "reserved", document="x://2")})
    assert codes([good, dict(base, **{"from": end(location, "available"), "to": end(location, "available")})]) == [
        "SAME_QUANTITY_NAME"]
    assert quantities(client, item, location) == before
    missing = client.gql(MOVE, {"input": {"reason": "correction", "referenceDocumentUri": "x://1", "changes": [
        dict(base, **{"from": {"locationId": location, "name": "available"}, "to": end(location, "reserved", document="x://2")})]},
        "key": str(uuid.uuid4())})
    assert missing["errors"][0]["extensions"]["code"] == "INVALID_FIELD_ARGUMENTS"
    assert missing["errors"][0]["message"] == (
        "InventoryMoveQuantityTerminalInput must include the following argument: changeFromQuantity.")
    assert missing["data"] == {"inventoryMoveQuantities": None}


def test_activating_and_deactivating_an_item_at_a_new_location(shop, webhook_receiver):
    client, catalog, item, _ = shop
    for topic in ("INVENTORY_LEVELS_CONNECT", "INVENTORY_LEVELS_DISCONNECT"):
        subscribe(client, topic, webhook_receiver.url + "/hooks/levels")
    created = client.control("POST", "/locations", json={"name": "Outlet", "kind": "store", "city": "Reno"})
    assert created.status_code == 201, created.text
    location = created.json()["admin_graphql_api_id"]
    assert client.data(LEVEL, {"item": item, "location": location})["inventoryItem"]["inventoryLevel"] is None

    key = str(uuid.uuid4())
    activated = client.data(ACTIVATE, {"item": item, "location": location, "available": 4, "key": key})["inventoryActivate"]
    assert activated["userErrors"] == []
    level = activated["inventoryLevel"]
    assert {q["name"]: q["quantity"] for q in level["quantities"]} == {"available": 4, "on_hand": 4}
    assert level["location"]["id"] == location and level["canDeactivate"] is True
    assert client.data(ACTIVATE, {"item": item, "location": location, "available": 4, "key": key}) == {
        "inventoryActivate": activated}
    shelf = client.control("GET", "/inventory", params={"inventory_item_id": item.rsplit("/", 1)[1],
                                                        "location_id": location.rsplit("/", 1)[1]}).json()
    assert shelf["available"] == 4 and shelf["physical_shelf"] == 0  # the app's number, not goods on a shelf
    again = client.data(ACTIVATE, {"item": item, "location": location, "key": str(uuid.uuid4())})["inventoryActivate"]
    assert again["userErrors"] == [] and again["inventoryLevel"]["id"] == level["id"]  # already active: as it is
    overwrite = client.data(ACTIVATE, {"item": item, "location": location, "available": 9,
                                       "key": str(uuid.uuid4())})["inventoryActivate"]
    assert overwrite["inventoryLevel"] is None and overwrite["userErrors"][0]["field"] == ["available"]
    unknown = client.data(ACTIVATE, {"item": "gid://shopify/InventoryItem/1", "location": location,
                                     "key": str(uuid.uuid4())})["inventoryActivate"]
    assert unknown["userErrors"][0]["field"] == ["inventoryItemId"]

    gone = client.data(DEACTIVATE, {"id": level["id"]})["inventoryDeactivate"]
    assert gone["userErrors"] == []
    assert client.data(LEVEL, {"item": item, "location": location})["inventoryItem"]["inventoryLevel"] is None
    assert client.data(DEACTIVATE, {"id": level["id"]})["inventoryDeactivate"]["userErrors"][0]["field"] == [
        "inventoryLevelId"]
    hooks = webhook_receiver.wait_for(2)
    assert all(shopify_hmac_ok(h["body"], h["headers"]["x-shopify-hmac-sha256"], SECRET) for h in hooks)
    bodies = {h["headers"]["x-shopify-topic"]: json.loads(h["body"]) for h in hooks}
    item_id, location_id = int(item.rsplit("/", 1)[1]), int(location.rsplit("/", 1)[1])
    assert set(bodies["inventory_levels/connect"]) == {"inventory_item_id", "location_id", "available", "updated_at",
                                                       "admin_graphql_api_id"}
    assert bodies["inventory_levels/connect"]["available"] == 4
    assert bodies["inventory_levels/disconnect"] == {"inventory_item_id": item_id, "location_id": location_id}


def test_a_level_with_committed_units_cannot_be_deactivated(shop):
    client, catalog, item, _ = shop
    sku = catalog["variants"][0]["sku"]
    placed = client.control("POST", "/orders", json={"lines": [{"sku": sku, "quantity": 1}]})
    assert placed.status_code == 201, placed.text
    order = client.data("""query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 1) {
        nodes { assignedLocation { location { id } } } } } }""", {"id": placed.json()["admin_graphql_api_id"]})
    location = order["order"]["fulfillmentOrders"]["nodes"][0]["assignedLocation"]["location"]["id"]
    level = client.data(LEVEL, {"item": item, "location": location})["inventoryItem"]["inventoryLevel"]
    refused = client.data(DEACTIVATE, {"id": level["id"]})["inventoryDeactivate"]
    assert "committed" in refused["userErrors"][0]["message"]
    assert client.data(LEVEL, {"item": item, "location": location})["inventoryItem"]["inventoryLevel"] is not None
