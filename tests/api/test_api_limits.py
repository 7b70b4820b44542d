"""The API's limits (domain/limits.py, used by every schema and route parameter): what
the database cannot hold is a 4xx problem+json naming the field, never a 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import admin_app

PROBLEM = "application/problem+json"
HUGE = 2**64


@pytest.fixture
def api(hub):
    with TestClient(admin_app(hub)) as client:
        assert client.post("/api/v1/locations", json={"code": "WH", "name": "Warehouse", "kind": "warehouse",
                                                       "capabilities": ["ship"]}).status_code == 201
        assert client.post("/api/v1/products", json={"title": "Tee", "variants": [{"sku": "A"}]}).status_code == 201
        yield client


def refused(r, status=422, field=None):
    assert r.status_code == status, (r.request.method, r.request.url, r.status_code, r.text)
    assert r.headers["content-type"].startswith(PROBLEM)
    if field is not None:
        assert any(field in e["field"] for e in r.json().get("errors", [])), r.json()


@pytest.mark.parametrize("method, path", [
    ("get", f"/api/v1/orders/{HUGE}"),
    ("get", f"/api/v1/orders/{-HUGE}"),
    ("get", f"/api/v1/products/{HUGE}"),
    ("get", f"/api/v1/products/{-HUGE}"),
    ("get", f"/api/v1/reconciliation/runs/{HUGE}"),
    ("get", f"/api/v1/orders?after_id={HUGE}"),
    ("get", f"/api/v1/orders?customer_id={HUGE}"),
    ("get", f"/api/v1/products?after_id={HUGE}"),
    ("get", f"/api/v1/products/{2**63 - 2}"),  # the catalog's ids are 32-bit (PostgreSQL refused the comparison)
    ("get", f"/api/v1/products?after_id={2**31}"),
    ("get", f"/api/v1/oversells?after_id={2**31}"),
    ("get", f"/api/v1/orders?customer_id={2**31}"),
    ("get", f"/api/v1/ledger/A?after_id={HUGE}"),
    ("get", f"/api/v1/oversells?after_id={HUGE}"),
    ("post", f"/api/v1/orders/{HUGE}/release"),
    ("post", f"/api/v1/orders/{HUGE}/pickup"),
    ("post", f"/api/v1/sync/dead-letters/{HUGE}/retry"),
    ("post", f"/api/v1/sync/fulfilments/{HUGE}/retry"),
    ("get", "/api/v1/positions/A%00"),
    ("get", "/api/v1/atp/A?channel=x%00"),
    ("get", "/api/v1/variants/A%00"),
    ("get", "/api/v1/locations/W%00"),
    ("get", "/api/v1/orders?channel=%00"),
])
def test_ids_beyond_64_bits_and_nul_in_the_url_are_refused(api, method, path):
    refused(getattr(api, method)(path))


@pytest.mark.parametrize("method, path, body, field", [
    ("put", "/api/v1/stock-policies", {"sku": "A", "threshold": False}, "threshold"),
    ("put", "/api/v1/stock-policies", {"sku": "A", "safety_stock": HUGE}, "safety_stock"),
    ("put", "/api/v1/stock-policies", {"sku": "A", "safety_stock": 2**31}, "safety_stock"),
    ("put", "/api/v1/channels/web", {"name": "Web", "kind": "shopify", "fixed_allocation": HUGE}, "fixed_allocation"),
    ("put", "/api/v1/channels/web", {"name": "Web", "kind": "shopify", "buffer": True}, "buffer"),
    ("post", "/api/v1/stock/counts", {"sku": "A", "location": "WH", "counted": HUGE}, "counted"),
    ("post", "/api/v1/stock/receive", {"sku": "A", "location": "WH", "quantity": HUGE}, "quantity"),
    ("post", "/api/v1/stock/receive", {"sku": "A", "location": "WH", "quantity": 1.5}, "quantity"),
    ("post", "/api/v1/stock/receive", {"sku": "A", "location": "WH", "quantity": 1, "reference": "a\x00b"}, "reference"),
    ("post", "/api/v1/stock/receive", {"sku": "A", "location": "WH", "quantity": 1, "reference": "x" * 201}, "reference"),
    ("post", "/api/v1/movements", {"sku": "A", "location": "WH", "quantity": 1, "from_state": "received",
                                   "to_state": "on_hand", "reason": "receipt", "expected_version": HUGE}, "expected_version"),
    ("post", "/api/v1/locations", {"code": "X", "name": "X", "kind": "store", "priority": HUGE}, "priority"),
    ("post", "/api/v1/locations", {"code": "X", "name": "X", "kind": "store", "cost_per_shipment_minor": 2**40},
     "cost_per_shipment_minor"),
    ("post", "/api/v1/orders", {"lines": [{"sku": "A", "quantity": 1, "unit_price_minor": HUGE}]}, "unit_price_minor"),
    ("post", "/api/v1/orders", {"lines": [{"sku": "A", "quantity": True}]}, "quantity"),
    ("post", "/api/v1/orders", {"lines": [{"sku": "A", "quantity": 1}], "notes": "a\x00"}, "notes"),
    ("post", "/api/v1/orders", {"lines": [{"sku": "A", "quantity": 1}], "external_id": "x\x00"}, "external_id"),
    ("post", f"/api/v1/orders/{HUGE}/cancel", {}, "order_id"),
    ("post", "/api/v1/orders/1/cancel", {"lines": {"1": HUGE}}, "lines"),
    ("post", "/api/v1/orders/1/hold", {"reason": "a\x00"}, "reason"),
    ("patch", "/api/v1/locations/WH", {"daily_order_capacity": HUGE}, "daily_order_capacity"),
    ("patch", "/api/v1/locations/WH", {"priority": False}, "priority"),
    ("patch", "/api/v1/locations/WH", {"online_selling": 0}, "online_selling"),
    ("post", "/api/v1/locations", {"code": "X", "name": "X", "kind": "store", "processing_hours": False}, "processing_hours"),
    ("put", "/api/v1/channels/web", {"name": "Web", "kind": "shopify", "per_location": 1}, "per_location"),
    ("post", "/api/v1/orders", {"lines": [{"sku": "A", "quantity": 1}], "shipping_address": {"lat": True, "lng": 1}},
     "shipping_address.lat"),
    ("post", "/api/v1/orders", {"lines": [{"sku": "A", "quantity": 1}], "channel_updated_at": 1700000000},
     "channel_updated_at"),
])
def test_json_integers_are_strict_and_bounded_and_texts_hold_no_nul(api, method, path, body, field):
    refused(getattr(api, method)(path, json=body), 422, field)


def test_an_empty_patch_changes_nothing(api):
    r = api.patch("/api/v1/locations/WH", json={})
    assert r.status_code == 200, r.text
    assert r.json()["code"] == "WH" and r.json()["name"] == "Warehouse"
    refused(api.patch("/api/v1/locations/NOPE", json={}), 404)


@pytest.mark.parametrize("path", ["/webhooks/shopify", "/webhooks/amazon"])
def test_a_chunked_body_over_the_limit_is_413_problem_json(api, hub, path):
    limit = hub.settings.max_request_bytes

    def chunks():
        sent = 0
        while sent <= limit:
            yield b" " * 65536
            sent += 65536

    r = api.post(path, content=chunks(), headers={"Content-Type": "application/json"})
    refused(r, 413)
