"""The shop survives a restart; the seeded catalog is reproducible and its barcodes valid."""

from __future__ import annotations

import uuid

from omnihub_sandbox.shopify.app import create_app
from omnihub_sandbox.shopify.catalog import is_valid_upc_a, upc_a
from omnihub_sandbox.serving import SandboxServer
from shopify_sandbox_harness import AdminClient, sandbox_config

ADJUST = """mutation($input: InventoryAdjustQuantitiesInput!, $key: String!) {
  inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id changes { name quantityAfterChange } } userErrors { code } } }"""


def test_state_survives_a_restart(tmp_path):
    config = sandbox_config(tmp_path)
    key = str(uuid.uuid4())
    with SandboxServer(create_app(config)) as server:
        client = AdminClient(server.url)
        catalog = client.control("GET", "/catalog").json()
        variant, location = catalog["variants"][0], catalog["locations"][0]
        placed = client.control("POST", "/orders", json={"lines": [{"sku": variant["sku"], "quantity": 1}]}).json()
        variables = {"key": key, "input": {"name": "available", "reason": "correction", "changes": [{
            "inventoryItemId": f"gid://shopify/InventoryItem/{variant['inventory_item_id']}",
            "locationId": location["admin_graphql_api_id"], "delta": 3, "changeFromQuantity": None}]}}
        first = client.data(ADJUST, variables)
        client.data('mutation { webhookSubscriptionCreate(topic: ORDERS_CREATE, webhookSubscription: '
                    '{uri: "https://hub.example/hooks"}) { userErrors { message } } }')
        level_before = client.control("GET", "/inventory", params={"sku": variant["sku"],
                                                                   "location_id": location["id"]}).json()
        client.close()
    with SandboxServer(create_app(config)) as server:
        client = AdminClient(server.url)
        assert client.control("GET", "/catalog").json() == catalog
        order = client.data('query($id: ID!) { order(id: $id) { id lineItems(first: 5) { nodes { sku } } } }',
                            {"id": placed["admin_graphql_api_id"]})["order"]
        assert order["lineItems"]["nodes"] == [{"sku": variant["sku"]}]
        assert client.data(ADJUST, variables) == first  # the idempotency key outlives the process
        assert client.control("GET", "/inventory", params={"sku": variant["sku"],
                                                           "location_id": location["id"]}).json() == level_before
        subs = client.data("{ webhookSubscriptions(first: 5) { nodes { uri } } }")["webhookSubscriptions"]["nodes"]
        assert subs == [{"uri": "https://hub.example/hooks"}]
        client.close()


def test_same_seed_same_shop_and_valid_upc_a(tmp_path):
    from omnihub_sandbox.shopify.shop import SandboxShop

    one = SandboxShop(sandbox_config(tmp_path / "a", seed=42, catalog_products=20))
    two = SandboxShop(sandbox_config(tmp_path / "b", seed=42, catalog_products=20))
    other = SandboxShop(sandbox_config(tmp_path / "c", seed=43, catalog_products=20))
    try:
        rows = lambda shop: [tuple(r) for r in shop.store.all(  # noqa: E731
            "SELECT v.sku, v.barcode, l.location_id, l.available FROM variants v JOIN inventory_levels l"
            " ON l.inventory_item_id = v.inventory_item_id ORDER BY v.id, l.location_id")]
        assert rows(one) == rows(two) != rows(other)
        barcodes = [r["barcode"] for r in one.store.all("SELECT barcode FROM variants")]
        skus = [r["sku"] for r in one.store.all("SELECT sku FROM variants")]
        assert len(set(skus)) == len(skus) == 40 and len(set(barcodes)) == 40
        assert all(is_valid_upc_a(code) for code in barcodes)
        kinds = {(r["kind"], r["pos"]) for r in one.store.all("SELECT kind, pos FROM locations")}
        assert kinds == {("store", 1), ("warehouse", 0)}
    finally:
        for shop in (one, two, other):
            shop.close()


def test_upc_a_check_digit():
    assert upc_a("03600029145") == "036000291452"  # the classic example
    assert not is_valid_upc_a("036000291453")


def test_gtin_check_digits():
    from omnihub_sandbox.shopify.catalog import ean_13, gs1_check_digit, is_valid_gtin

    assert ean_13("400638133393") == "4006381333931"  # GS1's own EAN-13 example
    assert gs1_check_digit("03600029145") == "2"
    assert is_valid_gtin("4006381333931") and not is_valid_gtin("4006381333932") and not is_valid_gtin("40063813339")


def test_a_shop_of_100000_products_starts_with_valid_unique_barcodes(tmp_path):
    """200,000 variants: beyond one UPC company prefix (100,000 items), so the later ones are
    EAN-13s; every check digit is right, none repeats, and the shop answers over HTTP."""
    from omnihub_sandbox.shopify.catalog import is_valid_gtin

    config = sandbox_config(tmp_path, catalog_products=100_000, catalog_variants_per_product=2, catalog_stores=1,
                            catalog_warehouses=0)
    with SandboxServer(create_app(config)) as server:
        client = AdminClient(server.url)
        shop = server.app.state.shop
        barcodes = [r[0] for r in shop.store.all("SELECT barcode FROM variants")]
        assert len(barcodes) == len(set(barcodes)) == 200_000
        bad = [code for code in barcodes if not is_valid_gtin(code)]
        assert not bad, bad[:5]
        assert {len(code) for code in barcodes} == {12, 13}
        levels = shop.store.one("SELECT count(*) FROM inventory_levels")[0]
        assert levels == 200_000
        last = client.data("{ productVariants(first: 1, reverse: true) { nodes { sku barcode } } }")
        [node] = last["productVariants"]["nodes"]
        assert node["sku"] == "SB-100000-S" and is_valid_gtin(node["barcode"]) and len(node["barcode"]) == 13
        client.close()
