"""Inventory: named quantities, compare-and-swap, mandatory idempotency (2026 semantics)."""

from __future__ import annotations

import uuid

import pytest

SET = """
mutation($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id reason referenceDocumentUri createdAt
      changes { name delta quantityAfterChange item { id } location { id } } }
    userErrors { field message code }
  }
}"""
ADJUST = """
mutation($input: InventoryAdjustQuantitiesInput!, $key: String!) {
  inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id changes { name delta quantityAfterChange } }
    userErrors { field message code }
  }
}"""
LEVEL = """
query($item: ID!, $location: ID!) {
  inventoryItem(id: $item) { sku inventoryLevel(locationId: $location) { id
    quantities(names: ["available", "on_hand", "committed", "reserved", "incoming", "damaged", "quality_control", "safety_stock"]) { name quantity } } }
}"""


@pytest.fixture
def shop(live_sandbox):
    client, app = live_sandbox()
    catalog = client.control("GET", "/catalog").json()
    variant = catalog["variants"][0]
    location = catalog["locations"][0]
    return client, f"gid://shopify/InventoryItem/{variant['inventory_item_id']}", location["admin_graphql_api_id"], variant


def quantities(client, item, location) -> dict[str, int]:
    level = client.data(LEVEL, {"item": item, "location": location})["inventoryItem"]["inventoryLevel"]
    return {q["name"]: q["quantity"] for q in level["quantities"]}


def set_input(item, location, quantity, change_from, **extra):
    entry = {"inventoryItemId": item, "locationId": location, "quantity": quantity}
    if change_from != "absent":
        entry["changeFromQuantity"] = change_from
    return {"name": "available", "reason": "correction", "referenceDocumentUri": "omnihub://sync/1",
            "quantities": [entry], **extra}


def test_set_quantities_with_compare_and_swap(shop):
    client, item, location, _ = shop
    before = quantities(client, item, location)
    payload = client.data(SET, {"input": set_input(item, location, before["available"] + 5, before["available"]),
                                "key": str(uuid.uuid4())})["inventorySetQuantities"]
    assert payload["userErrors"] == []
    changes = {c["name"]: c for c in payload["inventoryAdjustmentGroup"]["changes"]}
    assert changes["available"]["delta"] == 5 and changes["available"]["quantityAfterChange"] == before["available"] + 5
    assert changes["on_hand"]["quantityAfterChange"] == before["on_hand"] + 5
    after = quantities(client, item, location)
    assert after["available"] == before["available"] + 5 and after["on_hand"] == before["on_hand"] + 5


def test_stale_change_from_quantity_changes_nothing(shop):
    client, item, location, _ = shop
    before = quantities(client, item, location)
    payload = client.data(SET, {"input": set_input(item, location, 3, before["available"] + 1),
                                "key": str(uuid.uuid4())})["inventorySetQuantities"]
    assert payload["inventoryAdjustmentGroup"] is None
    [error] = payload["userErrors"]
    assert error["code"] == "CHANGE_FROM_QUANTITY_STALE"
    assert error["field"] == ["input", "quantities", "0", "changeFromQuantity"]
    assert quantities(client, item, location) == before


def test_change_from_quantity_is_required_but_null_opts_out(shop):
    """Left out, Shopify refuses the document (INVALID_FIELD_ARGUMENTS), never with
    CHANGE_FROM_QUANTITY_STALE: a hub that re-reads and retries "stale" would loop for ever."""
    client, item, location, _ = shop
    before = quantities(client, item, location)
    missing = client.gql(SET, {"input": set_input(item, location, 3, "absent"), "key": str(uuid.uuid4())})
    [error] = missing["errors"]
    assert error["extensions"]["code"] == "INVALID_FIELD_ARGUMENTS"
    assert error["message"] == "InventoryQuantityInput must include the following argument: changeFromQuantity."
    assert error["path"] == ["inventorySetQuantities"] and error["locations"]
    assert missing["data"] == {"inventorySetQuantities": None}
    assert quantities(client, item, location) == before
    opted_out = client.data(SET, {"input": set_input(item, location, 3, None), "key": str(uuid.uuid4())})
    assert opted_out["inventorySetQuantities"]["userErrors"] == []
    assert quantities(client, item, location)["available"] == 3


def test_idempotent_retry_returns_the_first_result_and_moves_stock_once(shop):
    client, item, location, _ = shop
    before = quantities(client, item, location)["available"]
    key = str(uuid.uuid4())
    variables = {"input": {"name": "available", "reason": "received", "changes": [
        {"inventoryItemId": item, "locationId": location, "delta": 4, "changeFromQuantity": before}]}, "key": key}
    first = client.data(ADJUST, variables)
    retry = client.data(ADJUST, variables)
    assert retry == first
    assert first["inventoryAdjustQuantities"]["inventoryAdjustmentGroup"]["changes"][0]["quantityAfterChange"] == before + 4
    assert quantities(client, item, location)["available"] == before + 4
    # The same key with other parameters is refused, not applied.
    variables["input"]["changes"][0]["delta"] = 9
    other = client.data(ADJUST, variables)["inventoryAdjustQuantities"]
    assert other["userErrors"][0]["code"] == "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"
    assert quantities(client, item, location)["available"] == before + 4


def test_the_idempotent_directive_is_mandatory(shop):
    client, item, location, _ = shop
    body = client.gql("""mutation($input: InventorySetQuantitiesInput!) {
        inventorySetQuantities(input: $input) { userErrors { code } } }""",
                      {"input": set_input(item, location, 1, None)})
    assert "@idempotent" in body["errors"][0]["message"]
    assert body["data"] == {"inventorySetQuantities": None}


def test_adjust_other_named_quantities_and_validate_inputs(shop):
    client, item, location, _ = shop
    before = quantities(client, item, location)
    payload = client.data(ADJUST, {"input": {"name": "damaged", "reason": "damaged", "changes": [
        {"inventoryItemId": item, "locationId": location, "delta": 2, "changeFromQuantity": 0,
         "ledgerDocumentUri": "omnihub://damage-report/7"}]},
        "key": str(uuid.uuid4())})["inventoryAdjustQuantities"]
    assert payload["userErrors"] == []
    after = quantities(client, item, location)
    assert after["damaged"] == 2 and after["on_hand"] == before["on_hand"] + 2 and after["available"] == before["available"]
    bad = client.data(ADJUST, {"input": {"name": "sold", "reason": "because", "changes": [
        {"inventoryItemId": "gid://shopify/InventoryItem/1", "locationId": location, "delta": 1,
         "changeFromQuantity": None}]}, "key": str(uuid.uuid4())})["inventoryAdjustQuantities"]
    assert {e["code"] for e in bad["userErrors"]} == {"INVALID_QUANTITY_NAME", "INVALID_REASON", "INVALID_INVENTORY_ITEM"}


def test_inventory_level_by_id_and_unknown_quantity_names(shop):
    client, item, location, _ = shop
    level_id = client.data(LEVEL, {"item": item, "location": location})["inventoryItem"]["inventoryLevel"]["id"]
    by_id = client.data('query($id: ID!) { inventoryLevel(id: $id) { item { id } location { id } } }', {"id": level_id})
    assert by_id["inventoryLevel"] == {"item": {"id": item}, "location": {"id": location}}
    body = client.gql('query($id: ID!) { inventoryLevel(id: $id) { quantities(names: ["sold"]) { quantity } } }',
                      {"id": level_id})
    assert "Invalid quantity name" in body["errors"][0]["message"]


def _adjust(client, name, change, key=None):
    return client.data(ADJUST, {"input": {"name": name, "reason": "correction", "changes": [change]},
                                "key": key or str(uuid.uuid4())})["inventoryAdjustQuantities"]


def test_ledger_documents_are_required_except_for_available_and_refused_for_it(shop):
    client, item, location, _ = shop
    before = quantities(client, item, location)
    base = {"inventoryItemId": item, "locationId": location, "delta": 1, "changeFromQuantity": None}
    path = ["input", "changes", "0", "ledgerDocumentUri"]
    missing = _adjust(client, "quality_control", base)
    assert missing["inventoryAdjustmentGroup"] is None
    assert missing["userErrors"] == [{"field": path, "code": "INVALID_QUANTITY_DOCUMENT",
                                      "message": "A ledger document URI is required except when adjusting available."}]
    on_available = _adjust(client, "available", dict(base, ledgerDocumentUri="omnihub://po/42"))
    assert on_available["userErrors"] == [{"field": path, "code": "INVALID_AVAILABLE_DOCUMENT",
                                           "message": "A ledger document URI is not allowed when adjusting available."}]
    internal = _adjust(client, "reserved", dict(base, ledgerDocumentUri="gid://shopify/Order/1"))
    assert [e["code"] for e in internal["userErrors"]] == ["INTERNAL_LEDGER_DOCUMENT"]
    assert quantities(client, item, location) == before  # nothing moved
    ok = _adjust(client, "quality_control", dict(base, ledgerDocumentUri="omnihub://qc/1"))
    assert ok["userErrors"] == []
    assert quantities(client, item, location)["quality_control"] == before["quality_control"] + 1
    assert _adjust(client, "available", base)["userErrors"] == []


def test_adjust_without_change_from_quantity_is_a_document_error(shop):
    client, item, location, _ = shop
    before = quantities(client, item, location)
    body = client.gql(ADJUST, {"input": {"name": "available", "reason": "correction", "changes": [
        {"inventoryItemId": item, "locationId": location, "delta": 1}]}, "key": str(uuid.uuid4())})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INVALID_FIELD_ARGUMENTS"]
    assert body["errors"][0]["message"] == "InventoryChangeInput must include the following argument: changeFromQuantity."
    assert body["data"] == {"inventoryAdjustQuantities": None}
    assert quantities(client, item, location) == before
