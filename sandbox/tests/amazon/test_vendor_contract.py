"""The Vendor sandbox held to the official models: the models' x-amzn-api-sandbox static
examples replayed as vectors, the sandbox's request-body models a true subset of the official
definitions, and the Sandbox Data API's test orders.

A vector's own response must validate against its model (proving the validator). 4xx
vectors are sent as they are and must get the same status in the model's error shape. 2xx
vectors name purchase orders and dates of Amazon's static sandbox, so the sandbox's own are
swapped in (the same filters over a window of today) and the answer must validate and carry
what the example carries. Amazon's catch-all mocks (a request with no values) only prove
the validator: there is nothing to replay.
"""

from __future__ import annotations

import typing

import pytest
from pydantic import BaseModel

from amazon_vendor_harness import (DF_INVENTORY, DF_ORDERS, DF_SANDBOX, DF_SHIPPING, RETAIL_ORDERS, RETAIL_SHIPMENTS,
                                   VENDOR, Vendor)
from omnihub_sandbox.amazon_vendor import (df_inventory, df_orders, df_sandbox_data, retail_orders, retail_shipments,
                                           shipping_bodies)
from omnihub_sandbox.spapi.clock import iso
from shared_contracts import shared_absent_param
from spapi_contract import amazon_contracts, find_operation, model, response_errors, sandbox_vectors

SERVED = [(DF_INVENTORY, "submitInventoryUpdate"), (RETAIL_ORDERS, "getPurchaseOrders"),
          (RETAIL_ORDERS, "getPurchaseOrder"), (RETAIL_ORDERS, "submitAcknowledgement"),
          (RETAIL_ORDERS, "getPurchaseOrdersStatus"), (RETAIL_SHIPMENTS, "SubmitShipmentConfirmations")]


#: Examples their own model contradicts (the model wins: the sandbox answers what it says).
#: Listed so that a model fixed upstream shows here as a failure to update, not silently.
CONTRADICTED = {
    "getPurchaseOrders-200-0": "unitOfMeasure 'CASES' where the model's enum is Cases | Eaches",
    "getPurchaseOrders-200-6": "a catch-all mock without the required purchaseOrderState",
    "getPurchaseOrder-200-1": "a catch-all mock without the required purchaseOrderState",
}


def _vectors():
    out = []
    for model_name, op in SERVED:
        for n, (status, params, response) in enumerate(sandbox_vectors(model_name, op)):
            out.append(pytest.param(model_name, op, status, params, response, id=f"{op}-{status}-{n}"))
    return out or [shared_absent_param(5)]


def _world(vendor: Vendor) -> dict[str, str]:
    """Purchase orders to stand in for the examples': one New, one acknowledged, one changed."""
    a, b, *_ = [item["sku"] for item in vendor.items()]
    made = []
    for _ in range(3):
        answer = vendor.http.post("/_sandbox/retail/purchase-orders", json={"lines": [
            {"sku": a, "amount": 2}, {"sku": b, "amount": 3}]})
        made.append(answer.json()["purchaseOrderNumber"])
    new, acknowledged, changed = made
    order = vendor.call("GET", f"/vendor/orders/v1/purchaseOrders/{acknowledged}").json()["payload"]
    vendor.call("POST", "/vendor/orders/v1/acknowledgements", json={"acknowledgements": [{
        "purchaseOrderNumber": acknowledged, "sellingParty": {"partyId": VENDOR}, "acknowledgementDate": iso(vendor.now()),
        "items": [{"itemSequenceNumber": i["itemSequenceNumber"], "orderedQuantity": i["orderedQuantity"],
                   "itemAcknowledgements": [{"acknowledgementCode": "Accepted", "acknowledgedQuantity":
                                             i["orderedQuantity"]}]} for i in order["orderDetails"]["items"]]}]})
    vendor.advance(3600)
    vendor.http.put(f"/_sandbox/retail/purchase-orders/{changed}/lines/2", json={"eaches": 0})
    vendor.advance(60)
    return {"new": new, "acknowledged": acknowledged, "changed": changed}


def _swap(params: dict, world: dict[str, str], now: float) -> dict:
    swapped = {}
    for name, value in params.items():
        if name.endswith(("After", "Before")):
            swapped[name] = iso(now - 86400) if name.endswith("After") else iso(now + 60)
        elif name == "purchaseOrderNumber":
            swapped[name] = world["changed"]
        elif name == "orderingVendorCode":
            swapped[name] = VENDOR
        elif name != "nextToken":
            swapped[name] = value
    return swapped


def _request(model_name: str, op_id: str, params: dict):
    path, verb, op = find_operation(model_name, op_id)
    url, query, body = path, {}, None
    for p in op["parameters"]:
        name = p.get("name")
        if name not in params or params[name] is None:
            continue
        if p["in"] == "path":
            url = url.replace("{" + name + "}", str(params[name]))
        elif p["in"] == "query":
            query[name] = params[name]
        elif p["in"] == "body":
            body = params[name]
    return verb.upper(), url.replace("{warehouseId}", "EAST1"), query, body


@pytest.mark.parametrize(("model_name", "op_id", "status", "params", "response"), _vectors())
def test_sandbox_example(request, vendor: Vendor, model_name, op_id, status, params, response) -> None:
    amazon_contracts()  # the models must be there (a skip with the reason, or CI's failure)
    contradicted = request.node.callspec.id in CONTRADICTED
    assert bool(response_errors(model_name, op_id, status, response)) == contradicted, \
        "the model's own example fails the validator" if not contradicted else "the model no longer contradicts it"
    _, _, op = find_operation(model_name, op_id)
    posts = any(p.get("in") == "body" for p in op["parameters"])
    if status < 300 and not any(v is not None for v in params.values()):
        return  # Amazon's catch-all mock: nothing to replay
    if status < 300 and posts and params.get("body") is None:
        return
    if status < 300 and not posts:
        params = _swap(params, _world(vendor), vendor.now())
    method, url, query, body = _request(model_name, op_id, params)
    answer = vendor.call(method, url, params=query, json=body) if body is not None else vendor.call(method, url,
                                                                                                     params=query)
    assert answer.status_code == status, (answer.status_code, answer.text)
    got = answer.json()
    assert not response_errors(model_name, op_id, status, got)
    if status >= 400:
        assert got["errors"][0]["code"] in ("InvalidInput", "InvalidRequest")
        return
    assert set(response) <= set(got)
    listed = {"getPurchaseOrders": "orders", "getPurchaseOrdersStatus": "ordersStatus"}.get(op_id)
    if listed and response["payload"].get(listed):
        assert got["payload"][listed], f"the sandbox's world has what {params} asks for"


# -- the sandbox's request bodies are a subset of the official definitions ------------------

BODIES = [
    (DF_ORDERS, "SubmitAcknowledgementRequest", df_orders.SubmitAcknowledgementRequest),
    (DF_INVENTORY, "SubmitInventoryUpdateRequest", df_inventory.SubmitInventoryUpdateRequest),
    (DF_SHIPPING, "SubmitShipmentConfirmationsRequest", shipping_bodies.SubmitShipmentConfirmationsRequest),
    (DF_SHIPPING, "SubmitShipmentStatusUpdatesRequest", shipping_bodies.SubmitShipmentStatusUpdatesRequest),
    (DF_SHIPPING, "SubmitShippingLabelsRequest", shipping_bodies.SubmitShippingLabelsRequest),
    (DF_SHIPPING, "CreateShippingLabelsRequest", shipping_bodies.CreateShippingLabelsRequest),
    (DF_SANDBOX, "GenerateOrderScenarioRequest", df_sandbox_data.GenerateOrderScenarioRequest),
    (RETAIL_ORDERS, "SubmitAcknowledgementRequest", retail_orders.SubmitAcknowledgementRequest),
    (RETAIL_SHIPMENTS, "SubmitShipmentConfirmationsRequest", retail_shipments.SubmitShipmentConfirmationsRequest),
]


def _pydantic_model(annotation) -> type[BaseModel] | None:
    """The body model inside an annotation (``X``, ``X | None``, ``list[X]``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        inner = _pydantic_model(arg)
        if inner is not None:
            return inner
    return None


def _definition(model_name: str, schema: dict) -> tuple[str, dict]:
    if "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        return name, model(model_name)["definitions"][name]
    if schema.get("type") == "array":
        return _definition(model_name, schema["items"])
    return "", schema


@pytest.mark.parametrize(("model_name", "definition", "ours"), [pytest.param(*b, id=f"{b[0][:-5]}.{b[1]}")
                                                               for b in BODIES])
def test_request_bodies_are_a_subset_of_the_official_definitions(model_name, definition, ours) -> None:
    amazon_contracts()
    checked = []

    def walk(name: str, official: dict, mine: type[BaseModel]) -> None:
        official_props = official.get("properties", {})
        for field_name, field in mine.model_fields.items():
            assert field_name in official_props, f"{mine.__name__}.{field_name} is not in {name}"
            assert field.is_required() == (field_name in official.get("required", [])), \
                f"{mine.__name__}.{field_name}: required {field.is_required()}, the model says otherwise"
            nested = _pydantic_model(field.annotation)
            if nested is not None:
                walk(*_definition(model_name, official_props[field_name]), nested)
        checked.append(mine.__name__)

    walk(definition, model(model_name)["definitions"][definition], ours)
    assert checked


# -- the Sandbox Data API: test orders by scenario ------------------------------------------------


def test_generated_scenarios_are_ordinary_orders_that_take_no_stock(vendor: Vendor) -> None:
    start = vendor.now()
    body = {"orders": [{"sellingParty": {"partyId": VENDOR}, "shipFromParty": {"partyId": "WEST1"}}]}
    from spapi_contract import assert_response, body_errors

    assert body_errors(DF_SANDBOX, "generateOrderScenarios", body) == []
    sent = vendor.call("POST", "/vendor/directFulfillment/sandbox/2021-10-28/orders", json=body)
    transaction_id = assert_response(DF_SANDBOX, "generateOrderScenarios", sent)["transactionId"]
    url = f"/vendor/directFulfillment/sandbox/2021-10-28/transactions/{transaction_id}"
    pending = assert_response(DF_SANDBOX, "getOrderScenarios", vendor.call("GET", url))["transactionStatus"]
    assert pending["status"] == "PROCESSING" and "testCaseData" not in pending
    vendor.advance(31)
    done = assert_response(DF_SANDBOX, "getOrderScenarios", vendor.call("GET", url))["transactionStatus"]
    assert done["status"] == "SUCCESS"
    scenarios = {s["scenarioId"]: [o["orderId"] for o in s["orders"]] for s in done["testCaseData"]["scenarios"]}
    assert set(scenarios) == {"SINGLE_ITEM", "MULTIPLE_ITEMS", "PRIORITY_SHIPMENT", "GIFT_WITH_PACKING_SLIP"}
    listed = assert_response(DF_ORDERS, "getOrders", vendor.orders(start, vendor.now() + 1))["orders"]
    assert sorted(o["purchaseOrderNumber"] for o in listed) == sorted(po for pos in scenarios.values() for po in pos)
    (priority,) = scenarios["PRIORITY_SHIPMENT"]
    assert vendor.order(priority)["orderDetails"]["shipmentDetails"]["isPriorityShipment"] is True
    (gift,) = scenarios["GIFT_WITH_PACKING_SLIP"]
    shipment = vendor.order(gift)["orderDetails"]["shipmentDetails"]
    assert shipment["isGift"] and shipment["isPslipRequired"]
    assert {o["orderDetails"]["shipFromParty"]["partyId"] for o in listed} == {"WEST1"}
    assert vendor.oversells()["units"] == 0  # test orders take no stock: nothing was declared, nothing oversold
    elsewhere = vendor.call("POST", "/vendor/directFulfillment/sandbox/2021-10-28/orders", json={"orders": [
        {"sellingParty": {"partyId": VENDOR}, "shipFromParty": {"partyId": "NOTOURS"}}]})
    assert elsewhere.status_code == 400 and assert_response(DF_SANDBOX, "generateOrderScenarios", elsewhere)
