"""Documents are parsed and validated against the sandbox's schema; errors look like Shopify's."""

from __future__ import annotations

import pytest

from shopify_sandbox_harness import TOKEN


@pytest.fixture
def client(live_sandbox):
    client, _ = live_sandbox()
    return client


def test_unknown_token_is_401_with_shopifys_body(client):
    response = client.http.post("/admin/api/2026-10/graphql.json", json={"query": "{ shop { name } }"},
                                headers={"X-Shopify-Access-Token": "shpat_wrong"})
    assert response.status_code == 401
    assert response.json() == {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
    assert client.http.post("/admin/api/2026-10/graphql.json", json={"query": "{ shop { name } }"}).status_code == 401


def test_unknown_field_is_a_validation_error_in_shopify_shape(client):
    body = client.gql("{ shop { name inventoryMagic } }")
    [err] = body["errors"]
    assert set(err) >= {"message", "locations", "extensions"}
    assert err["extensions"]["code"] == "undefinedField"
    assert err["locations"] == [{"line": 1, "column": 15}]
    assert "data" not in body
    assert body["extensions"]["cost"]["requestedQueryCost"] == 0


def test_missing_required_argument_and_syntax_error(client):
    missing = client.gql("{ product { id } }")["errors"][0]
    assert missing["extensions"]["code"] == "missingRequiredArguments"
    broken = client.gql("{ shop { name ")["errors"][0]
    assert broken["extensions"]["code"] == "syntaxError" and broken["locations"]


def test_invalid_variable_value(client):
    body = client.gql("query($id: ID!) { product(id: $id) { id } }", {"id": None})
    assert body["errors"][0]["extensions"]["code"] == "INVALID_VARIABLE"


def test_input_arrays_over_250_items_are_rejected(client):
    ids = [f"gid://shopify/Product/{i}" for i in range(251)]
    body = client.gql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})
    assert body["errors"][0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"
    ok = client.gql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids[:250]})
    assert "errors" not in ok and len(ok["data"]["nodes"]) == 250


def test_a_query_over_the_single_query_cost_limit_never_runs(client):
    body = client.gql("{ products(first: 250) { nodes { variants(first: 10) { nodes { id } } } } }")
    [err] = body["errors"]
    assert err["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert err["extensions"]["cost"] == 2 + 250 * (1 + 2 + 10 * 1)
    assert body["extensions"]["cost"]["actualQueryCost"] is None


def test_connections_need_first_or_last_and_at_most_250(client):
    body = client.gql("{ products { nodes { id } } }")
    assert "first or last" in body["errors"][0]["message"]
    body = client.gql("{ products(first: 251) { nodes { id } } }")
    assert body["errors"][0]["extensions"]["code"] == "MAX_PAGE_SIZE_EXCEEDED"


def test_other_version_paths_are_served_by_the_same_handler(client):
    response = client.http.post("/admin/api/2024-10/graphql.json", json={"query": "{ shop { name } }"},
                                headers={"X-Shopify-Access-Token": TOKEN})
    assert response.status_code == 200 and response.headers["X-Shopify-API-Version"] == "2026-10"
