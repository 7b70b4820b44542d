"""Everything the connectors send is what the channels' own published contracts accept:
every Shopify document (and the variables the pusher builds) validates against Shopify's
official Admin schema (2025-09 + the 2026 changes, as sandbox/tests/shopify applies
them); every Amazon request body validates against the official SP-API models and the
JSON_LISTINGS_FEED schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from omnihub.adapters.channels.amazon.inventory_push import AmazonInventoryPusher
from omnihub.adapters.channels.amazon.sp_api_client import quantity_patch
from omnihub.adapters.channels.mapping import ChannelMapping
from omnihub.adapters.channels.shopify import documents as docs
from omnihub.adapters.channels.shopify.inventory_push import ShopifyInventoryPusher
from omnihub.domain.channel_sync import PushItem
from tests.conftest import require_shared

pytestmark = pytest.mark.shared
CHANGES_2026 = Path(__file__).resolve().parents[2] / "sandbox" / "tests" / "shopify" / "admin_2026_changes.graphql"


@pytest.fixture(scope="module")
def official_schema():
    from graphql import build_schema, extend_schema, parse

    sdl = require_shared("contracts", "shopify", "admin_schema_2025-09.graphql").read_text()
    schema = build_schema(sdl, assume_valid=True)
    schema = extend_schema(schema, parse(CHANGES_2026.read_text()), assume_valid=True)
    schema.type_map["InventoryQuantityInput"].fields.pop("compareQuantity", None)
    schema.type_map["InventorySetQuantitiesInput"].fields.pop("ignoreCompareQuantity", None)
    return schema


def _problems(schema, document: str, variables: dict | None = None) -> list[str]:
    from graphql import parse, validate
    from graphql.execution.values import get_variable_values

    ast = parse(document)
    errors = [e.message for e in validate(schema, ast)]
    if variables is not None and not errors:
        op = ast.definitions[0]
        coerced = get_variable_values(schema, op.variable_definitions or [], variables)
        if isinstance(coerced, list):
            errors += [e.message for e in coerced]
    return errors


@pytest.mark.parametrize("name", sorted(docs.ALL))
def test_every_shopify_document_validates_against_the_official_schema(official_schema, name):
    assert _problems(official_schema, docs.ALL[name]) == []


def test_shopify_documents_validate_against_the_sandbox_schema_too():
    from graphql import build_schema

    from omnihub_sandbox.shopify.graphql_schema import SCHEMA_PATH

    sdl = SCHEMA_PATH.read_text()
    schema = build_schema(sdl)
    for name, document in docs.ALL.items():
        assert _problems(schema, document) == [], name


class _Capture:
    def __init__(self):
        self.calls = []

    def execute(self, document, variables=None, *, cost=None):
        self.calls.append((document, variables))
        if "inventorySetQuantities" in document:
            return {"inventorySetQuantities": {"inventoryAdjustmentGroup": {"id": "gid://shopify/InventoryAdjustmentGroup/1"},
                                               "userErrors": []}}
        return {"nodes": []}


def test_the_push_the_engine_sends_validates_with_its_variables(official_schema):
    client = _Capture()
    pusher = ShopifyInventoryPusher(client)
    mapping = ChannelMapping("shopify", items={"A": "gid://shopify/InventoryItem/1", "B": "gid://shopify/InventoryItem/2"},
                             locations={"ST": "gid://shopify/Location/9"})
    out = pusher.push([PushItem(1, "A", "ST", 4, 6), PushItem(2, "B", "ST", 0, None)], mapping)
    assert [o.status for o in out] == ["ok", "ok"]
    for document, variables in client.calls:
        assert _problems(official_schema, document, variables) == [], document
    sent = [v for d, v in client.calls if "inventorySetQuantities" in d][0]
    quantities = sent["input"]["quantities"]
    assert all("changeFromQuantity" in q for q in quantities)  # 2026-04: required (null opts out)
    assert sent["key"]  # @idempotent(key:)
    # The same input gives the same key: a retry after a lost answer is answered, not re-applied.
    pusher.push([PushItem(1, "A", "ST", 4, 6), PushItem(2, "B", "ST", 0, None)], mapping)
    keys = [v["key"] for d, v in client.calls if "inventorySetQuantities" in d]
    assert keys[0] == keys[-1]


def test_amazon_requests_validate_against_the_official_models():
    from spapi_contract import body_errors, find_operation, json_schema

    require_shared("contracts", "amazon")
    patch = {"productType": "PRODUCT", "patches": [quantity_patch(7)]}
    assert body_errors("listingsItems_2021-08-01.json", "patchListingsItem", patch) == []
    assert body_errors("feeds_2021-06-30.json", "createFeedDocument", {"contentType": "application/json; charset=UTF-8"}) == []
    assert body_errors("feeds_2021-06-30.json", "createFeed", {"feedType": "JSON_LISTINGS_FEED",
                                                             "marketplaceIds": ["ATVPDKIKX0DER"],
                                                             "inputFeedDocumentId": "amzn1.tortuga.4.na.x"}) == []
    _, _, op = find_operation("ordersV0.json", "getOrders")
    documented = {p["name"] for p in op["parameters"]}
    assert {"MarketplaceIds", "LastUpdatedAfter", "CreatedAfter", "NextToken", "MaxResultsPerPage", "OrderStatuses"} <= documented
    statuses = next(p for p in op["parameters"] if p["name"] == "OrderStatuses")
    assert "`Unshipped`" in statuses["description"]  # what reconciliation asks for (AmazonReader.unshipped)

    class _Client:
        seller_id = "A2SANDBOXSELLER1"

    pusher = AmazonInventoryPusher(_Client())
    doc = pusher.feed_document([(PushItem(1, "A", "", 3, None), "A"), (PushItem(2, "B", "", 0, None), "B")])
    from jsonschema import Draft7Validator

    errors = [e.message for e in Draft7Validator(json_schema("listings-feed-schema-v2.json")).iter_errors(doc)]
    assert errors == []


class _BulkShop:
    """Stands in for Shopify for the bulk road alone: answers each call as the contract
    says, and keeps what the connector sent (documents, variables, the uploaded form)."""

    def __init__(self):
        self.calls = []
        self.form = None
        self.http = self

    def execute(self, document, variables=None, *, cost=None):
        import orjson

        self.calls.append((document, variables))
        if "stagedUploadsCreate" in document:
            return {"stagedUploadsCreate": {"userErrors": [], "stagedTargets": [{
                "url": "https://shopify-staged-uploads.storage.googleapis.com/", "resourceUrl": None,
                "parameters": [{"name": "key", "value": "tmp/1/bulk/abc/vars.jsonl"}, {"name": "policy", "value": "p"}]}]}}
        if "bulkOperationRunMutation" in document:
            return {"bulkOperationRunMutation": {"userErrors": [], "bulkOperation": {
                "id": "gid://shopify/BulkOperation/7", "status": "CREATED"}}}
        if "node(id:" in document:
            lines = self.form["files"]["file"][1].splitlines()
            self.result = b"".join(orjson.dumps({"data": {"inventorySetQuantities": {
                "inventoryAdjustmentGroup": None, "userErrors": []}}, "__lineNumber": n}) + b"\n" for n in range(len(lines)))
            return {"node": {"id": "gid://shopify/BulkOperation/7", "status": "COMPLETED", "objectCount": str(len(lines)),
                             "rootObjectCount": str(len(lines)), "url": "https://storage.example/result.jsonl"}}
        raise AssertionError(document)

    def post(self, url, *, data, files, timeout):
        self.form = {"url": url, "data": data, "files": files}
        return type("R", (), {"status_code": 201})()

    def stream(self, method, url, headers=None, timeout=None):
        import contextlib

        shop = self

        class _Response:
            status_code = 200

            def iter_bytes(self):
                yield shop.result

        return contextlib.nullcontext(_Response())


def test_the_bulk_road_sends_what_the_official_schema_accepts(official_schema):
    import orjson

    from omnihub.adapters.channels.shopify.bulk_inventory_push import ShopifyBulkInventoryPush
    from omnihub.domain.push_policy import PushPolicy

    shop = _BulkShop()
    pusher = ShopifyInventoryPusher(shop)
    bulk = ShopifyBulkInventoryPush(pusher, policy=PushPolicy(bulk_from=1), first_poll_s=0)
    mapping = ChannelMapping("shopify", items={f"S{n}": f"gid://shopify/InventoryItem/{n}" for n in range(600)},
                             locations={"ST": "gid://shopify/Location/9"})
    folded = []
    left = bulk.push([PushItem(n, f"S{n}", "ST", n % 7, 3) for n in range(600)], mapping, folded.extend)
    assert left == [] and len(folded) == 600 and {o.status for o in folded} == {"ok"}
    for document, variables in shop.calls:
        assert _problems(official_schema, document, variables) == [], document
    run = next(v for d, v in shop.calls if "bulkOperationRunMutation" in d)
    assert _problems(official_schema, run["mutation"]) == []
    assert run["stagedUploadPath"] == "tmp/1/bulk/abc/vars.jsonl"  # the target's key
    # The upload is the target's parameters as form fields, then the file.
    assert shop.form["data"] == {"key": "tmp/1/bulk/abc/vars.jsonl", "policy": "p"}
    lines = [orjson.loads(line) for line in shop.form["files"]["file"][1].splitlines()]
    assert len(lines) == 3  # 250 levels a line
    for line in lines:  # each line: the mutation's variables, as Shopify coerces them
        assert _problems(official_schema, run["mutation"], line) == []
        assert all("changeFromQuantity" in q for q in line["input"]["quantities"]) and line["key"]
