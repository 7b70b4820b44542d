"""Bulk operations: JSONL with __parentId, staged uploads, polling, the finish webhook, the limit of 5."""

from __future__ import annotations

import json
import time
import uuid

RUN_QUERY = """
mutation($q: String!) { bulkOperationRunQuery(query: $q) {
  bulkOperation { id status type } userErrors { field message code } } }"""
CURRENT = """
query($type: BulkOperationType) { currentBulkOperation(type: $type) {
  id status type errorCode objectCount rootObjectCount fileSize url createdAt completedAt } }"""
CATALOG_DUMP = """
{ products { edges { node { id title
    variants { edges { node { id sku inventoryItem { id } } } } } } } }"""


def wait_done(client, kind: str = "QUERY", timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        op = client.data(CURRENT, {"type": kind})["currentBulkOperation"]
        if op and op["status"] in ("COMPLETED", "FAILED", "CANCELED"):
            return op
        time.sleep(0.02)
    raise AssertionError("bulk operation did not finish")


def test_bulk_query_writes_jsonl_with_parent_ids(live_sandbox, webhook_receiver):
    client, _ = live_sandbox()
    client.data("""mutation($uri: String!) { webhookSubscriptionCreate(topic: BULK_OPERATIONS_FINISH,
        webhookSubscription: {uri: $uri}) { userErrors { message } } }""", {"uri": webhook_receiver.url + "/bulk"})
    started = client.data(RUN_QUERY, {"q": CATALOG_DUMP})["bulkOperationRunQuery"]
    assert started["userErrors"] == [] and started["bulkOperation"]["type"] == "QUERY"
    op = wait_done(client)
    assert op["status"] == "COMPLETED" and op["objectCount"] == "18" and op["rootObjectCount"] == "6"
    by_node = client.data('query($id: ID!) { node(id: $id) { ... on BulkOperation { status url } } }',
                          {"id": op["id"]})["node"]
    assert by_node == {"status": "COMPLETED", "url": op["url"]}
    download = client.http.get(op["url"])
    assert download.status_code == 200 and int(op["fileSize"]) == len(download.content)
    lines = [json.loads(line) for line in download.text.splitlines()]
    products = [line for line in lines if "__parentId" not in line]
    variants = [line for line in lines if "__parentId" in line]
    assert len(products) == 6 and len(variants) == 12
    product_ids = {p["id"] for p in products}
    assert all(v["__parentId"] in product_ids and v["inventoryItem"]["id"] for v in variants)
    position = {line["id"]: i for i, line in enumerate(lines)}
    assert all(position[v["__parentId"]] < position[v["id"]] for v in variants)  # children follow their parent
    [hook] = webhook_receiver.wait_for(1)
    body = json.loads(hook["body"])
    assert hook["headers"]["x-shopify-topic"] == "bulk_operations/finish"
    assert body["admin_graphql_api_id"] == op["id"] and body["status"] == "completed" and body["type"] == "query"


def test_bulk_query_must_hold_a_connection_and_be_valid(live_sandbox):
    client, _ = live_sandbox()
    errors = client.data(RUN_QUERY, {"q": "{ shop { name } }"})["bulkOperationRunQuery"]["userErrors"]
    assert errors[0]["code"] == "INVALID"
    errors = client.data(RUN_QUERY, {"q": "{ products { edges { node { nope } } } }"})["bulkOperationRunQuery"]["userErrors"]
    assert errors[0]["code"] == "INVALID"


def test_staged_upload_then_bulk_mutation(live_sandbox):
    client, _ = live_sandbox()
    catalog = client.control("GET", "/catalog").json()
    location = catalog["locations"][0]["admin_graphql_api_id"]
    items = [f"gid://shopify/InventoryItem/{v['inventory_item_id']}" for v in catalog["variants"][:3]]
    staged = client.data("""mutation { stagedUploadsCreate(input: [{resource: BULK_MUTATION_VARIABLES,
        filename: "bulk_op_vars.jsonl", mimeType: "text/jsonl", httpMethod: POST}]) {
        stagedTargets { url resourceUrl parameters { name value } } userErrors { field message } } }""")
    [target] = staged["stagedUploadsCreate"]["stagedTargets"]
    params = {p["name"]: p["value"] for p in target["parameters"]}
    lines = "".join(json.dumps({"key": str(uuid.uuid4()), "input": {
        "name": "available", "reason": "correction", "changes": [
            {"inventoryItemId": item, "locationId": location, "delta": 5, "changeFromQuantity": None}]}}) + "\n"
        for item in items)
    upload = client.http.post(target["url"], data=params, files={"file": ("bulk_op_vars.jsonl", lines, "text/jsonl")})
    assert upload.status_code == 201 and params["key"] in upload.text
    before = [client.control("GET", "/inventory", params={"inventory_item_id": i.rsplit("/", 1)[1],
                                                          "location_id": catalog["locations"][0]["id"]}).json()["available"]
              for i in items]
    run = client.data("""mutation($m: String!, $path: String!) { bulkOperationRunMutation(mutation: $m,
        stagedUploadPath: $path) { bulkOperation { id type } userErrors { code message } } }""", {
        "m": """mutation($input: InventoryAdjustQuantitiesInput!, $key: String!) {
            inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {
              inventoryAdjustmentGroup { id } userErrors { code message } } }""",
        "path": params["key"]})["bulkOperationRunMutation"]
    assert run["userErrors"] == [] and run["bulkOperation"]["type"] == "MUTATION"
    op = wait_done(client, "MUTATION")
    assert op["status"] == "COMPLETED" and op["objectCount"] == "3"
    results = [json.loads(line) for line in client.http.get(op["url"]).text.splitlines()]
    assert [r["__lineNumber"] for r in results] == [0, 1, 2]
    assert all(r["data"]["inventoryAdjustQuantities"]["userErrors"] == [] for r in results)
    after = [client.control("GET", "/inventory", params={"inventory_item_id": i.rsplit("/", 1)[1],
                                                         "location_id": catalog["locations"][0]["id"]}).json()["available"]
             for i in items]
    assert after == [b + 5 for b in before]
    missing = client.data("""mutation { bulkOperationRunMutation(mutation: "mutation { shop }", stagedUploadPath: "tmp/none")
        { userErrors { code } } }""")
    assert missing["bulkOperationRunMutation"]["userErrors"][0]["code"] in ("INVALID_MUTATION", "NO_SUCH_FILE")


def test_at_most_five_bulk_operations_at_once(live_sandbox):
    client, _ = live_sandbox(bulk_operation_min_duration_s=3600, time_scale=0.01)  # each runs >= 36 s
    ids = []
    for _ in range(5):
        payload = client.data(RUN_QUERY, {"q": CATALOG_DUMP})["bulkOperationRunQuery"]
        assert payload["userErrors"] == []
        ids.append(payload["bulkOperation"]["id"])
    sixth = client.data(RUN_QUERY, {"q": CATALOG_DUMP})["bulkOperationRunQuery"]
    assert sixth["bulkOperation"] is None and sixth["userErrors"][0]["code"] == "OPERATION_IN_PROGRESS"
    for bid in ids:
        cancel = client.data('mutation($id: ID!) { bulkOperationCancel(id: $id) { bulkOperation { status } userErrors { message } } }',
                             {"id": bid})["bulkOperationCancel"]
        assert cancel["userErrors"] == [] and cancel["bulkOperation"]["status"] in ("CANCELING", "CANCELED")
    assert wait_done(client)["status"] == "CANCELED"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        statuses = [client.data('query($id: ID!) { node(id: $id) { ... on BulkOperation { status } } }',
                                {"id": bid})["node"]["status"] for bid in ids]
        if set(statuses) == {"CANCELED"}:
            break
        time.sleep(0.02)
    assert client.data(RUN_QUERY, {"q": CATALOG_DUMP})["bulkOperationRunQuery"]["userErrors"] == []


SET_AVAILABLE = """mutation($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) { userErrors { field code message } } }"""
RUN_MUTATION = """mutation($m: String!, $path: String!) { bulkOperationRunMutation(mutation: $m, stagedUploadPath: $path) {
  bulkOperation { id } userErrors { field code message } } }"""


def _stage(client, text: str) -> str:
    staged = client.data("""mutation { stagedUploadsCreate(input: [{resource: BULK_MUTATION_VARIABLES,
        filename: "vars.jsonl", mimeType: "text/jsonl", httpMethod: POST}]) {
        stagedTargets { url parameters { name value } } } }""")
    [target] = staged["stagedUploadsCreate"]["stagedTargets"]
    params = {p["name"]: p["value"] for p in target["parameters"]}
    assert client.http.post(target["url"], data=params, files={"file": ("vars.jsonl", text, "text/jsonl")}).status_code == 201
    return params["key"]


def _set_line(item: str, location: str, quantity: int, change_from) -> dict:
    return {"key": str(uuid.uuid4()), "input": {"name": "available", "reason": "correction", "quantities": [
        {"inventoryItemId": item, "locationId": location, "quantity": quantity, "changeFromQuantity": change_from}]}}


def test_each_line_of_a_bulk_mutation_is_checked_and_answered_as_its_own_call(live_sandbox):
    client, _ = live_sandbox()
    catalog = client.control("GET", "/catalog").json()
    location = catalog["locations"][0]
    items = [f"gid://shopify/InventoryItem/{v['inventory_item_id']}" for v in catalog["variants"][:3]]

    def available(item):
        return client.control("GET", "/inventory", params={"inventory_item_id": item.rsplit("/", 1)[1],
                                                          "location_id": location["id"]}).json()["available"]

    before = [available(i) for i in items]
    too_many = _set_line(items[2], location["admin_graphql_api_id"], 1, before[2])
    too_many["input"]["quantities"] *= 251
    lines = [
        _set_line(items[0], location["admin_graphql_api_id"], before[0] + 4, before[0]),  # applies
        _set_line(items[1], location["admin_graphql_api_id"], 9, before[1] + 1),  # stale base: refused
        {"key": str(uuid.uuid4()), "input": {"name": "available", "quantities": []}},  # no reason: not the variables
        too_many,
    ]
    path = _stage(client, "".join(json.dumps(line) + "\n" for line in lines))
    run = client.data(RUN_MUTATION, {"m": SET_AVAILABLE, "path": path})["bulkOperationRunMutation"]
    assert run["userErrors"] == []
    op = wait_done(client, "MUTATION")
    assert op["status"] == "COMPLETED"
    results = {r["__lineNumber"]: r for r in map(json.loads, client.http.get(op["url"]).text.splitlines())}
    assert results[0]["data"]["inventorySetQuantities"]["userErrors"] == []
    [stale] = results[1]["data"]["inventorySetQuantities"]["userErrors"]
    assert stale["code"] == "CHANGE_FROM_QUANTITY_STALE" and stale["field"] == ["input", "quantities", "0", "changeFromQuantity"]
    assert "data" not in results[2] and results[2]["errors"][0]["extensions"]["code"] == "INVALID_VARIABLE"
    assert "reason" in results[2]["errors"][0]["message"]
    assert results[3]["errors"][0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"
    assert [available(i) for i in items] == [before[0] + 4, before[1], before[2]]


def test_a_file_that_is_not_jsonl_is_refused_before_any_line_runs(live_sandbox):
    client, _ = live_sandbox()
    path = _stage(client, '{"key": "a", "input": {}}\nnot json\n')
    run = client.data(RUN_MUTATION, {"m": SET_AVAILABLE, "path": path})["bulkOperationRunMutation"]
    assert run["bulkOperation"] is None and run["userErrors"][0]["code"] == "INVALID_STAGED_UPLOAD_FILE"
    assert "line 1" in run["userErrors"][0]["message"]
