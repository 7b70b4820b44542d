"""What a catalog export by bulk operation needs from the sandbox, as Shopify does it:
product media as child lines, a FAILED operation with its error code and partial data,
`currentBulkOperation` defaulting to QUERY, and `orderClose` taking an order out of
`status:open`."""

from __future__ import annotations

import json

from test_shopify_bulk import RUN_QUERY, wait_done

CATALOG_WITH_MEDIA = """
{ products { edges { node { id title
    variants { edges { node { id sku barcode inventoryItem { id } } } }
    media { edges { node { id mediaContentType ... on MediaImage { image { url altText } } } } } } } } }"""


def test_media_are_child_lines_of_their_product(live_sandbox):
    client, _ = live_sandbox(catalog_products=4, catalog_variants_per_product=2)
    assert client.data(RUN_QUERY, {"q": CATALOG_WITH_MEDIA})["bulkOperationRunQuery"]["userErrors"] == []
    op = wait_done(client)
    assert op["status"] == "COMPLETED"
    lines = [json.loads(line) for line in client.http.get(op["url"]).text.splitlines()]
    media = [line for line in lines if "/MediaImage/" in line.get("id", "")]
    images = {p["admin_graphql_api_id"]: p["images"] for p in client.control("GET", "/catalog").json()["products"]}
    assert len(media) == sum(len(urls) for urls in images.values()) > 4  # one to three images a product
    for gid, urls in images.items():
        assert [m["image"]["url"] for m in media if m["__parentId"] == gid] == urls
    assert all(m["mediaContentType"] == "IMAGE" and m["image"]["altText"] for m in media)
    assert int(op["objectCount"]) == len(lines) and op["rootObjectCount"] == "4"


def test_featured_media_is_the_first_image(live_sandbox):
    client, _ = live_sandbox(catalog_products=2)
    product = client.data("""{ products(first: 1) { nodes { id featuredMedia { id preview { image { url } } }
        media(first: 5) { nodes { id } } } } }""")["products"]["nodes"][0]
    assert product["featuredMedia"]["id"] == product["media"]["nodes"][0]["id"]
    assert product["featuredMedia"]["preview"]["image"]["url"].startswith("https://cdn.shopify.com/")


def test_a_failed_operation_has_an_error_code_no_url_and_partial_data(live_sandbox):
    client, _ = live_sandbox(catalog_products=4, bulk_operation_error="INTERNAL_SERVER_ERROR")
    client.data(RUN_QUERY, {"q": CATALOG_WITH_MEDIA})
    op = client.data("""query { currentBulkOperation { id } }""")["currentBulkOperation"]  # type defaults to QUERY
    done = wait_done(client)
    assert done["id"] == op["id"] and done["status"] == "FAILED" and done["errorCode"] == "INTERNAL_SERVER_ERROR"
    assert done["url"] is None
    partial = client.data('query($id: ID!) { node(id: $id) { ... on BulkOperation { partialDataUrl objectCount } } }',
                          {"id": op["id"]})["node"]
    lines = client.http.get(partial["partialDataUrl"]).text.splitlines()
    assert 0 < len(lines) == int(partial["objectCount"])
    # The fault is switched off at run time: the next operation completes.
    assert client.control("PUT", "/bulk/faults", json={"error_code": None}).json() == {"error_code": None}
    client.data(RUN_QUERY, {"q": CATALOG_WITH_MEDIA})
    assert wait_done(client)["status"] == "COMPLETED"


def test_order_close_takes_an_order_out_of_status_open(live_sandbox):
    client, _ = live_sandbox(catalog_products=2, initial_stock_max=20)
    sku = client.control("GET", "/catalog").json()["variants"][0]["sku"]
    placed = [client.control("POST", "/orders", json={"lines": [{"sku": sku, "quantity": 1}]}).json()
              for _ in range(2)]
    closed = client.data("""mutation($input: OrderCloseInput!) { orderClose(input: $input) {
        order { id closed closedAt } userErrors { field message } } }""", {"input": {"id": placed[0]["admin_graphql_api_id"]}})
    assert closed["orderClose"]["userErrors"] == [] and closed["orderClose"]["order"]["closed"] is True
    open_ids = [n["id"] for n in client.data('{ orders(first: 10, query: "status:open") { nodes { id } } }')["orders"]["nodes"]]
    assert open_ids == [placed[1]["admin_graphql_api_id"]]
    missing = client.data("""mutation { orderClose(input: {id: "gid://shopify/Order/1"}) { order { id }
        userErrors { field message } } }""")["orderClose"]
    assert missing["order"] is None and missing["userErrors"][0]["field"] == ["id"]
