"""Replay the models' x-amzn-api-sandbox static examples against the sandbox.

Each example's own response must validate against the model (proving the validator);
then the example's request is sent. 4xx examples are replayed verbatim and must get the
same status and an SP-API error body. 2xx examples name ids that only exist in
Amazon's static sandbox, so the sandbox's own ids are swapped in and the answer must
validate against the model and carry the same top-level fields as the example.
"""

from __future__ import annotations

import json

import pytest

from amazon_sandbox_harness import MARKETPLACE, SELLER, Seller
from omnihub_sandbox.spapi.clock import iso
from shared_contracts import shared_absent_param
from spapi_contract import amazon_contracts, find_operation, response_errors, sandbox_vectors

SERVED = [
    ("ordersV0.json", "getOrders"), ("ordersV0.json", "getOrder"), ("ordersV0.json", "getOrderItems"),
    ("ordersV0.json", "confirmShipment"), ("listingsItems_2021-08-01.json", "getListingsItem"),
    ("listingsItems_2021-08-01.json", "patchListingsItem"), ("feeds_2021-06-30.json", "createFeedDocument"),
    ("feeds_2021-06-30.json", "createFeed"), ("feeds_2021-06-30.json", "getFeed"),
    ("feeds_2021-06-30.json", "getFeedDocument"),
]


def _vectors():
    out = []
    for model_name, op in SERVED:
        for n, (status, params, response) in enumerate(sandbox_vectors(model_name, op)):
            out.append(pytest.param(model_name, op, status, params, response, id=f"{op}-{status}-{n}"))
    return out or [shared_absent_param(5)]


def _world(seller: Seller, clock) -> dict:
    """Sandbox ids to stand in for the example's: an Unshipped order, a SKU, a feed."""
    sku = seller.listings()[0]["sku"]
    seller.set_quantity(sku, 10)
    order_id = seller.buy((sku, 1)).json()["amazon_order_id"]
    doc = seller.call("POST", "/feeds/2021-06-30/documents", json={"contentType": "application/json"}).json()
    seller.http.put(doc["url"], content=json.dumps({"header": {"sellerId": SELLER, "version": "2.0"},
                                                    "messages": [{"messageId": 1, "sku": sku, "operationType": "DELETE"}]}),
                    headers={"content-type": "application/json"})
    feed_id = seller.call("POST", "/feeds/2021-06-30/feeds", json={
        "feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [MARKETPLACE], "inputFeedDocumentId": doc["feedDocumentId"]}).json()["feedId"]
    clock.advance(600)
    item_id = seller.call("GET", f"/orders/v0/orders/{order_id}/orderItems").json()["payload"]["OrderItems"][0]["OrderItemId"]
    return {"sku": seller.listings()[0]["sku"], "order_id": order_id, "item_id": item_id, "feed_id": feed_id,
            "document_id": doc["feedDocumentId"]}


def _request(model_name: str, op_id: str, params: dict, world: dict | None, clock, response):
    path, verb, op = find_operation(model_name, op_id)
    params = dict(params)
    body_param = next((p["name"] for p in op["parameters"] if p.get("in") == "body"), None)
    if "body" in params and body_param and body_param != "body":
        params[body_param] = params.pop("body")
    if world:  # swap Amazon's static-sandbox ids for the sandbox's own
        swaps = {"orderId": world["order_id"], "sku": world["sku"], "feedId": world["feed_id"],
                 "feedDocumentId": world["document_id"], "sellerId": SELLER}
        for name in swaps:
            if any(p.get("name") == name and p.get("in") == "path" for p in op["parameters"]):
                params[name] = swaps[name]
        if op_id == "getOrders":
            params["CreatedAfter"] = iso(clock() - 86400)
            params.pop("NextToken", None)
        if op_id in ("getListingsItem", "patchListingsItem"):
            params.setdefault("marketplaceIds", [MARKETPLACE])
        if op_id == "getListingsItem":  # ask for the sections the example shows
            params["includedData"] = [k for k in response if k != "sku"]
        if op_id == "patchListingsItem" and not params.get("body"):
            params["body"] = {"productType": "PRODUCT", "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability",
                                                                     "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 3}]}]}
        if op_id == "patchListingsItem":
            params["sku"] = world["sku"]
        if op_id == "confirmShipment":
            body = json.loads(json.dumps(params[body_param]))
            body["packageDetail"]["orderItems"] = [{"orderItemId": world["item_id"], "quantity": 1}]
            params[body_param] = body
        if op_id == "createFeed":
            params["body"] = {**params["body"], "feedType": "JSON_LISTINGS_FEED", "inputFeedDocumentId": world["document_id"],
                              "marketplaceIds": [MARKETPLACE]}
    url, query, body = path, {}, None
    for p in op["parameters"]:
        name = p.get("name")
        if name not in params:
            continue
        if p["in"] == "path":
            url = url.replace("{" + name + "}", str(params[name]))
        elif p["in"] == "query":
            value = params[name]
            query[name] = ",".join(value) if isinstance(value, list) else value
        elif p["in"] == "body":
            body = params[name]
    url = url.replace("{sellerId}", SELLER).replace("{sku}", "BadSKU")
    return verb.upper(), url, query, body


@pytest.mark.parametrize(("model_name", "op_id", "status", "params", "response"), _vectors())
def test_sandbox_example(seller: Seller, clock, model_name, op_id, status, params, response) -> None:
    amazon_contracts()  # the models must be there (a skip with the reason, or CI's failure)
    example_problems = response_errors(model_name, op_id, status, response if response != {} else None)
    assert not example_problems, f"the model's own example fails the validator: {example_problems}"

    world = _world(seller, clock) if status < 300 else None
    seller.login()
    method, url, query, body = _request(model_name, op_id, params, world, clock, response)
    answer = seller.call(method, url, params=query, json=body) if body is not None else seller.call(method, url, params=query)
    if status >= 400:
        assert answer.status_code == status, (answer.status_code, answer.text)
        assert set(answer.json()) == {"errors"} and answer.json()["errors"][0]["code"]
        if model_name.startswith("listingsItems"):  # its examples name its codes (Orders' and Feeds' say "400")
            assert answer.json()["errors"][0]["code"] == response["errors"][0]["code"], (op_id, answer.json())
    else:
        assert answer.status_code == status, (answer.status_code, answer.text)
        got = answer.json() if answer.content else None
        problems = response_errors(model_name, op_id, answer.status_code, got)
        assert not problems, problems
        if isinstance(response, dict) and response:
            expected_keys = set(response) - {"identifiers"} if op_id == "patchListingsItem" else set(response)
            if op_id == "getOrders":
                expected_keys = {"payload"}
            assert expected_keys <= set(got), (expected_keys, set(got))
