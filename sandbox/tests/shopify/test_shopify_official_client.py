"""Shopify's own Python client (ShopifyAPI), unmodified, talks to the sandbox over HTTP.

The client builds its site from a shop name: ``https://<name>.<myshopify_domain>[:port]``.
``Session.setup`` sets those class attributes (``protocol``, ``myshopify_domain``, ``port``),
which is how the library itself is pointed at a non-production host; version "2026-10" is
accepted because the client creates a Release for any YYYY-MM it does not know.
"""

from __future__ import annotations

import json

import pytest

from shopify_sandbox_harness import TOKEN

shopify = pytest.importorskip("shopify")


@pytest.fixture
def restore_shopify_session():
    saved = {k: getattr(shopify.Session, k) for k in ("protocol", "myshopify_domain", "port")}
    yield
    shopify.ShopifyResource.clear_session()
    shopify.Session.setup(**saved)


def test_official_client_runs_a_graphql_query(live_sandbox, restore_shopify_session):
    client, _ = live_sandbox()
    port = client.base_url.rsplit(":", 1)[1]
    # "127" + "." + "0.0.1" + ":" + port == "127.0.0.1:<port>"
    shopify.Session.setup(protocol="http", myshopify_domain="0.0.1", port=int(port))
    session = shopify.Session("127", "2026-10", TOKEN)
    shopify.ShopifyResource.activate_session(session)
    raw = shopify.GraphQL().execute(
        "query($n: Int!) { shop { name myshopifyDomain } products(first: $n) { nodes { id title } } }", {"n": 3})
    body = json.loads(raw)
    assert body["data"]["shop"]["myshopifyDomain"].endswith(".myshopify.com")
    assert len(body["data"]["products"]["nodes"]) == 3
    assert body["extensions"]["cost"]["requestedQueryCost"] == 1 + 2 + 3


def test_official_client_with_set_site(live_sandbox, restore_shopify_session):
    client, _ = live_sandbox()
    shopify.ShopifyResource.set_site(client.base_url + "/admin/api/2026-10")
    shopify.ShopifyResource.set_headers({"X-Shopify-Access-Token": TOKEN})
    body = json.loads(shopify.GraphQL().execute("{ locations(first: 5) { nodes { name isActive } } }"))
    assert {n["isActive"] for n in body["data"]["locations"]["nodes"]} == {True}


def test_official_client_sees_search_warnings_and_document_errors(live_sandbox, restore_shopify_session):
    """What was found with the official client against the sandbox, now as Shopify answers:
    an unknown search field comes back as `extensions.search`, a missing changeFromQuantity as
    INVALID_FIELD_ARGUMENTS (not a CHANGE_FROM_QUANTITY_STALE user error)."""
    client, _ = live_sandbox()
    shopify.ShopifyResource.set_site(client.base_url + "/admin/api/2026-10")
    shopify.ShopifyResource.set_headers({"X-Shopify-Access-Token": TOKEN})
    body = json.loads(shopify.GraphQL().execute('{ products(first: 2, query: "colour:red") { nodes { id } } }'))
    assert len(body["data"]["products"]["nodes"]) == 2
    assert body["extensions"]["search"][0]["warnings"][0]["code"] == "invalid_field"
    variant = client.control("GET", "/catalog").json()["variants"][0]
    location = client.control("GET", "/catalog").json()["locations"][0]
    raw = shopify.GraphQL().execute(
        """mutation($input: InventoryAdjustQuantitiesInput!) {
             inventoryAdjustQuantities(input: $input) @idempotent(key: "official-client-1") { userErrors { code } } }""",
        {"input": {"name": "available", "reason": "correction", "changes": [
            {"inventoryItemId": f"gid://shopify/InventoryItem/{variant['inventory_item_id']}",
             "locationId": location["admin_graphql_api_id"], "delta": 1}]}})
    body = json.loads(raw)
    assert body["errors"][0]["extensions"]["code"] == "INVALID_FIELD_ARGUMENTS"
    assert body["data"] == {"inventoryAdjustQuantities": None}
