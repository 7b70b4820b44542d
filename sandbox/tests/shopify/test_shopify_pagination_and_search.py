"""Cursor pagination is complete and stable, and ``query:`` filters select what they say."""

from __future__ import annotations

from omnihub_sandbox.shopify.clock import ManualClock

ORDERS_PAGE = """
query($first: Int, $after: String, $last: Int, $before: String, $query: String, $reverse: Boolean) {
  orders(first: $first, after: $after, last: $last, before: $before, query: $query, reverse: $reverse) {
    edges { cursor node { id name updatedAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


def place_orders(client, count: int) -> list[str]:
    catalog = client.control("GET", "/catalog").json()
    skus = [v["sku"] for v in catalog["variants"]]
    ids = []
    for i in range(count):
        response = client.control("POST", "/orders", json={"lines": [{"sku": skus[i % len(skus)], "quantity": 1}]})
        assert response.status_code == 201, response.text
        ids.append(response.json()["admin_graphql_api_id"])
    return ids


def test_every_order_exactly_once_across_pages_even_with_inserts(live_sandbox):
    client, _ = live_sandbox(initial_stock_max=60)
    original = place_orders(client, 23)
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = client.data(ORDERS_PAGE, {"first": 5, "after": after})["orders"]
        seen += [e["node"]["id"] for e in page["edges"]]
        pages += 1
        place_orders(client, 2)  # shoppers keep buying while the hub reads
        if not page["pageInfo"]["hasNextPage"]:
            break
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        after = page["pageInfo"]["endCursor"]
        assert pages < 50
    assert len(seen) == len(set(seen)), "an order was read twice"
    assert set(original) <= set(seen)
    assert pages >= 5


def test_backward_pagination_reads_the_same_set(live_sandbox):
    client, _ = live_sandbox(initial_stock_max=60)
    original = place_orders(client, 12)
    backwards: list[str] = []
    before = None
    while True:
        page = client.data(ORDERS_PAGE, {"last": 5, "before": before})["orders"]
        backwards = [e["node"]["id"] for e in page["edges"]] + backwards
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert backwards == original
    forward = client.data(ORDERS_PAGE, {"first": 5})["orders"]
    assert forward["pageInfo"] == {**forward["pageInfo"], "hasNextPage": True, "hasPreviousPage": False}
    second = client.data(ORDERS_PAGE, {"first": 5, "after": forward["pageInfo"]["endCursor"]})["orders"]
    assert second["pageInfo"]["hasPreviousPage"] is True
    reverse = client.data(ORDERS_PAGE, {"first": 12, "reverse": True})["orders"]
    assert [e["node"]["id"] for e in reverse["edges"]] == original[::-1]


def test_cursors_are_opaque_and_checked(live_sandbox):
    client, _ = live_sandbox()
    body = client.gql(ORDERS_PAGE, {"first": 2, "after": "not-a-cursor"})
    assert body["errors"][0]["message"].startswith("Invalid cursor")


def test_updated_at_filter_with_an_injected_clock(live_sandbox):
    clock = ManualClock()
    client, _ = live_sandbox(clock=clock, initial_stock_max=60)
    early = place_orders(client, 3)
    clock.advance(60)
    late = place_orders(client, 2)
    since = "2026-10-01T12:00:30Z"
    page = client.data(ORDERS_PAGE, {"first": 50, "query": f"updated_at:>'{since}'"})["orders"]
    assert [e["node"]["id"] for e in page["edges"]] == late
    page = client.data(ORDERS_PAGE, {"first": 50, "query": f"updated_at:<='{since}' AND status:open"})["orders"]
    assert [e["node"]["id"] for e in page["edges"]] == early
    page = client.data(ORDERS_PAGE, {"first": 50, "query": f"created_at:>='{since}'"})["orders"]
    assert [e["node"]["id"] for e in page["edges"]] == late


def test_status_filter_sees_cancellations(live_sandbox):
    client, _ = live_sandbox(initial_stock_max=60)
    first, second = place_orders(client, 2)
    cancel = client.data("""mutation($id: ID!) { orderCancel(orderId: $id, reason: CUSTOMER, restock: true, refund: true) {
        job { done } orderCancelUserErrors { code message } } }""", {"id": first})
    assert cancel["orderCancel"]["orderCancelUserErrors"] == []
    cancelled = client.data(ORDERS_PAGE, {"first": 10, "query": "status:cancelled"})["orders"]["edges"]
    still_open = client.data(ORDERS_PAGE, {"first": 10, "query": "status:open"})["orders"]["edges"]
    assert [e["node"]["id"] for e in cancelled] == [first]
    assert [e["node"]["id"] for e in still_open] == [second]


def test_sku_filters_on_items_variants_and_products(live_sandbox):
    client, _ = live_sandbox()
    sku = client.control("GET", "/catalog").json()["variants"][3]["sku"]
    items = client.data('query($q: String) { inventoryItems(first: 10, query: $q) { nodes { sku } } }',
                        {"q": f"sku:{sku}"})["inventoryItems"]["nodes"]
    assert items == [{"sku": sku}]
    variants = client.data('query($q: String) { productVariants(first: 10, query: $q) { nodes { sku product { id } } } }',
                           {"q": f"sku:'{sku}'"})["productVariants"]["nodes"]
    assert [v["sku"] for v in variants] == [sku]
    products = client.data('query($q: String) { products(first: 10, query: $q) { nodes { id } } }',
                           {"q": f"sku:{sku}"})["products"]["nodes"]
    assert products == [variants[0]["product"]]
    none = client.data('{ inventoryItems(first: 10, query: "sku:NOPE-0") { nodes { sku } } }')
    assert none["inventoryItems"]["nodes"] == []


PRODUCTS_SEARCH = """
query($q: String) {
  products(first: 20, query: $q) { nodes { id } }
  matching: productVariants(first: 20, query: $q) { nodes { sku } }
}"""


def test_an_unknown_search_field_answers_the_results_with_an_extensions_search_warning(live_sandbox):
    """As Shopify answers it: not an error, the results filtered by what it could read, and
    an `extensions.search` entry per connection (path = response key, alias included)."""
    client, _ = live_sandbox()
    sku = client.control("GET", "/catalog").json()["variants"][2]["sku"]
    everything = client.data(PRODUCTS_SEARCH, {"q": None})
    body = client.gql(PRODUCTS_SEARCH, {"q": "colour:red"})
    assert "errors" not in body
    assert body["data"] == everything  # the unknown term is dropped: every product and variant
    warning = {"field": "colour", "message": "Invalid search field for this query.", "code": "invalid_field"}
    assert body["extensions"]["search"] == [
        {"path": ["products"], "query": "colour:red", "parsed": {"field": "colour", "match_all": "red"},
         "warnings": [warning]},
        {"path": ["matching"], "query": "colour:red", "parsed": {"field": "colour", "match_all": "red"},
         "warnings": [warning]}]
    assert body["extensions"]["cost"]["requestedQueryCost"] > 0  # the cost is still there

    mixed = client.gql(PRODUCTS_SEARCH, {"q": f"colour:'dark red' sku:{sku}"})
    assert [v["sku"] for v in mixed["data"]["matching"]["nodes"]] == [sku]  # the known term still filters
    [entry, _] = mixed["extensions"]["search"]
    assert entry["parsed"] == {"and": [{"field": "colour", "match_phrase": "dark red"}, {"field": "sku", "match_all": sku}]}
    assert entry["warnings"] == [warning]

    clean = client.gql(PRODUCTS_SEARCH, {"q": f"sku:{sku}"})
    assert "search" not in clean["extensions"]


def test_search_warnings_echo_comparators_negations_and_or():
    from omnihub_sandbox.shopify.search_warnings import parsed

    assert parsed("updated_at:>'2026-10-01T00:00:00Z' OR -vendor:acme") == {"or": [
        {"field": "updated_at", "range_gt": "2026-10-01T00:00:00Z"}, {"not": {"field": "vendor", "match_all": "acme"}}]}
    assert parsed("shirt") == {"match_all": "shirt"}
