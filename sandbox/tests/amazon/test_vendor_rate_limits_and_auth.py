"""The Vendor sandbox's usage plans (the published ones, 10/s burst 10, getTransaction 10/20),
its 429s with the right headers in each model's shape, its buckets per operation, and LWA as
the Seller sandbox's: the same shared code, the vendor's own credentials."""

from __future__ import annotations

import re

import pytest

from amazon_vendor_harness import (DF_INVENTORY, DF_ORDERS, DF_SANDBOX, DF_SHIPPING, DF_TRANSACTIONS, RETAIL_ORDERS,
                                   RETAIL_SHIPMENTS, RETAIL_TRANSACTIONS, VENDOR, TestClient, Vendor, create_app)
from omnihub_sandbox.amazon_vendor.usage_plans import USAGE_PLANS
from omnihub_sandbox.spapi.clock import iso
from spapi_contract import assert_response, find_operation

QUOTA = {"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource.", "details": ""}
MODEL_FILES = {name.removesuffix(".json"): name for name in (
    DF_ORDERS, DF_INVENTORY, DF_SHIPPING, DF_TRANSACTIONS, RETAIL_ORDERS, RETAIL_SHIPMENTS, RETAIL_TRANSACTIONS)}


@pytest.mark.parametrize("key", sorted(USAGE_PLANS))
def test_usage_plans_are_the_published_ones(key: str) -> None:
    model_name, operation_id = key.split(":")
    _, _, op = find_operation(MODEL_FILES[model_name], operation_id)
    rate, burst = re.search(r"\|\s*([\d.]+)\s*\|\s*(\d+)\s*\|", op["description"]).groups()
    assert (USAGE_PLANS[key].rate, USAGE_PLANS[key].burst) == (float(rate), int(burst))


@pytest.fixture
def throttled(make_vendor_config) -> Vendor:
    config = make_vendor_config(rate_multiplier=1.0)
    return Vendor(TestClient(create_app(config), base_url="http://vendor.test"), config)


def _call_for(vendor: Vendor, key: str):
    """A cheap request of each operation (a 400 or 404 spends a token as a 200 does)."""
    now = vendor.now()
    window = {"createdAfter": iso(now - 3600), "createdBefore": iso(now)}
    calls = {
        f"{DF_ORDERS[:-5]}:getOrders": ("GET", "/vendor/directFulfillment/orders/2021-12-28/purchaseOrders",
                                        {"params": window}),
        f"{DF_ORDERS[:-5]}:getOrder": ("GET", "/vendor/directFulfillment/orders/2021-12-28/purchaseOrders/X", {}),
        f"{DF_ORDERS[:-5]}:submitAcknowledgement": ("POST", "/vendor/directFulfillment/orders/2021-12-28/acknowledgements",
                                                    {"json": {}}),
        f"{DF_INVENTORY[:-5]}:submitInventoryUpdate": ("POST", "/vendor/directFulfillment/inventory/v1/warehouses/EAST1/items",
                                                       {"json": {}}),
        f"{DF_TRANSACTIONS[:-5]}:getTransactionStatus": (
            "GET", "/vendor/directFulfillment/transactions/2021-12-28/transactions/X", {}),
        f"{RETAIL_ORDERS[:-5]}:getPurchaseOrders": ("GET", "/vendor/orders/v1/purchaseOrders", {}),
        f"{RETAIL_ORDERS[:-5]}:submitAcknowledgement": ("POST", "/vendor/orders/v1/acknowledgements", {"json": {}}),
        f"{RETAIL_SHIPMENTS[:-5]}:SubmitShipmentConfirmations": ("POST", "/vendor/shipping/v1/shipmentConfirmations",
                                                                 {"json": {}}),
        f"{RETAIL_TRANSACTIONS[:-5]}:getTransaction": ("GET", "/vendor/transactions/v1/transactions/X", {}),
    }
    base = "/vendor/directFulfillment/shipping/2021-12-28"
    for op, (method, path, kw) in {
        "submitShipmentConfirmations": ("POST", "shipmentConfirmations", {"json": {}}),
        "submitShipmentStatusUpdates": ("POST", "shipmentStatusUpdates", {"json": {}}),
        "submitShippingLabelRequest": ("POST", "shippingLabels", {"json": {}}),
        "getShippingLabels": ("GET", "shippingLabels", {"params": window}),
        "getShippingLabel": ("GET", "shippingLabels/X", {}),
        "createShippingLabels": ("POST", "shippingLabels/X", {"json": {}}),
        "getPackingSlips": ("GET", "packingSlips", {"params": window}),
        "getPackingSlip": ("GET", "packingSlips/X", {}),
    }.items():
        calls[f"{DF_SHIPPING[:-5]}:{op}"] = (method, f"{base}/{path}", kw)
    calls[f"{RETAIL_ORDERS[:-5]}:getPurchaseOrder"] = ("GET", "/vendor/orders/v1/purchaseOrders/X", {})
    calls[f"{RETAIL_ORDERS[:-5]}:getPurchaseOrdersStatus"] = ("GET", "/vendor/orders/v1/purchaseOrdersStatus", {})
    method, url, kw = calls[key]
    return lambda: vendor.call(method, url, **kw)


@pytest.mark.parametrize("key", sorted(USAGE_PLANS))
def test_a_burst_beyond_the_bucket_is_429_with_the_headers_and_the_models_shape(throttled: Vendor, key: str) -> None:
    plan = USAGE_PLANS[key]
    call = _call_for(throttled, key)
    statuses = [call().status_code for _ in range(plan.burst)]
    assert 429 not in statuses, statuses
    answer = call()
    assert answer.status_code == 429 and answer.json()["errors"] == [QUOTA]
    assert answer.headers["x-amzn-RateLimit-Limit"] == "10.0" and answer.headers["x-amzn-RequestId"]
    model_name, operation_id = key.split(":")
    assert_response(MODEL_FILES[model_name], operation_id, answer)
    throttled.advance(0.11)  # one token back at 10/s (and a little: the clock is floating point)
    assert call().status_code != 429
    assert call().status_code == 429


@pytest.mark.parametrize("key", [f"{DF_INVENTORY[:-5]}:submitInventoryUpdate",
                                 f"{RETAIL_TRANSACTIONS[:-5]}:getTransaction"])
def test_the_sustained_rate_is_the_plans_within_5_percent(throttled: Vendor, key: str) -> None:
    plan = USAGE_PLANS[key]
    call = _call_for(throttled, key)
    burst = 0
    while call().status_code != 429:
        burst += 1
    assert burst == plan.burst
    allowed = 0
    for _ in range(400):  # 20 simulated seconds in steps of 50 ms: at most one token a step
        throttled.advance(0.05)
        allowed += call().status_code != 429
    assert abs(allowed / 20 - plan.rate) <= 0.05 * plan.rate, allowed


def test_buckets_are_per_operation_even_when_two_models_name_it_alike(throttled: Vendor) -> None:
    df = _call_for(throttled, f"{DF_ORDERS[:-5]}:submitAcknowledgement")
    retail = _call_for(throttled, f"{RETAIL_ORDERS[:-5]}:submitAcknowledgement")
    for _ in range(10):
        df()
    assert df().status_code == 429
    assert retail().status_code == 400  # its own bucket is full


def test_the_sandbox_data_api_publishes_no_plan_and_is_not_throttled(throttled: Vendor) -> None:
    url = "/vendor/directFulfillment/sandbox/2021-10-28/orders"
    body = {"orders": [{"sellingParty": {"partyId": VENDOR}, "shipFromParty": {"partyId": "EAST1"}}]}
    answers = [throttled.call("POST", url, json=body) for _ in range(25)]
    assert {a.status_code for a in answers} == {202}
    assert "x-amzn-RateLimit-Limit" not in answers[-1].headers
    assert_response(DF_SANDBOX, "generateOrderScenarios", answers[-1])


def test_a_call_without_a_valid_token_is_403_before_any_usage_plan(throttled: Vendor) -> None:
    url = "/vendor/directFulfillment/orders/2021-12-28/purchaseOrders/X"
    for headers in ({}, {"x-amz-access-token": "Atza|forged"}):
        answer = throttled.http.get(url, headers=headers)
        assert answer.status_code == 403 and answer.json()["errors"][0]["code"] == "Unauthorized"
        assert "x-amzn-RateLimit-Limit" not in answer.headers and answer.headers["x-amzn-RequestId"]
        assert_response(DF_ORDERS, "getOrder", answer)
    transaction = throttled.http.get("/vendor/directFulfillment/transactions/2021-12-28/transactions/X")
    assert transaction.status_code == 403 and assert_response(DF_TRANSACTIONS, "getTransactionStatus", transaction)
    token = throttled.login()
    throttled.advance(3601)
    expired = throttled.http.get(url, headers={"x-amz-access-token": token})
    assert expired.status_code == 403 and "expired" in expired.json()["errors"][0]["details"]


def test_lwa_takes_the_vendors_own_credentials(vendor: Vendor) -> None:
    from omnihub_sandbox.amazon.config import AmazonSandboxConfig

    seller = AmazonSandboxConfig.model_fields
    form = {"grant_type": "refresh_token", "refresh_token": seller["lwa_refresh_token"].default,
            "client_id": seller["lwa_client_id"].default, "client_secret": seller["lwa_client_secret"].default}
    refused = vendor.http.post("/auth/o2/token", data=form)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    token = vendor.login()
    assert token.startswith("Atza|")


def test_a_throttle_storm_refuses_every_vendor_call(vendor: Vendor) -> None:
    call = _call_for(vendor, f"{DF_ORDERS[:-5]}:getOrders")
    assert call().status_code == 200
    assert vendor.http.put("/_sandbox/throttle-storm", json={"seconds": 5}).status_code == 200
    assert call().status_code == 429
    vendor.advance(5.1)
    assert call().status_code == 200
