"""Payload mapping and webhook verification, on the channels' own published examples:
Shopify's REST order fixture (shopify_python_api) and the SP-API sandbox vectors."""

from __future__ import annotations

import json

import pytest

from omnihub.adapters.channels.amazon.order_mapping import order_from_sp_api
from omnihub.adapters.channels.shopify.order_mapping import (
    ShopifyPayloadError,
    inventory_level_update,
    order_from_rest,
)
from omnihub.adapters.channels.shopify.webhook_signature import is_authentic, sign
from omnihub.domain.orders import SHOPIFY, SHOPIFY_POS, DeliveryMethod
from tests.conftest import require_shared


def test_shopify_fixture_order_maps_onto_the_hub_order():
    body = json.loads(require_shared("contracts", "shopify", "fixtures", "order.json").read_text())["order"]
    order = order_from_rest(body, lambda ext: None)
    assert order.channel == SHOPIFY and order.external_id == str(body["id"])
    assert [(line.sku, line.quantity) for line in order.lines] == [(li["sku"], li["quantity"]) for li in body["line_items"]]
    assert order.channel_updated_at.utcoffset() is not None
    assert order.lines[0].unit_price_minor == round(float(body["line_items"][0]["price"]) * 100)


def test_pos_orders_need_a_mapped_register_location():
    body = {"id": 5, "updated_at": "2026-11-01T10:00:00+00:00", "source_name": "pos", "location_id": 77,
            "line_items": [{"id": 1, "sku": "A", "quantity": 2, "current_quantity": 1, "price": "3.50"}]}
    order = order_from_rest(body, lambda ext: 12 if ext == "77" else None)
    assert order.channel == SHOPIFY_POS and order.origin_location_id == 12
    assert order.delivery_method is DeliveryMethod.PICKUP_IN_STORE
    assert order.lines[0].cancelled_quantity == 1  # an edit or refund removed one unit
    with pytest.raises(ShopifyPayloadError):
        order_from_rest({**body, "location_id": 78}, lambda ext: None)


def test_inventory_level_webhook_and_bad_bodies():
    assert inventory_level_update({"inventory_item_id": 271878346596884015, "location_id": 48752903, "available": 6,
                                   "updated_at": "2026-11-01T10:00:00-04:00"}) == ("271878346596884015", "48752903", 6)
    with pytest.raises(ShopifyPayloadError):
        inventory_level_update({"inventory_item_id": 1})
    with pytest.raises(ShopifyPayloadError):
        order_from_rest({"id": 1, "updated_at": "yesterday", "line_items": []}, lambda e: None)


def test_hmac_is_checked_on_the_raw_bytes():
    body = b'{"id": 1, "note": "caf\\u00e9"}'
    assert is_authentic(body, "secret", sign(body, "secret"))
    assert not is_authentic(body + b" ", "secret", sign(body, "secret"))
    assert not is_authentic(body, "other", sign(body, "secret"))
    assert not is_authentic(body, "secret", None)


def test_sp_api_sandbox_vectors_map_onto_the_hub_order():
    from spapi_contract import amazon_contracts, sandbox_vectors

    amazon_contracts()  # a skip with the reason (CI: a failure) when the models are absent
    orders = [o for status, _, resp in sandbox_vectors("ordersV0.json", "getOrders") if status == 200
              for o in (resp.get("payload") or {}).get("Orders", [])]
    items = [i for status, _, resp in sandbox_vectors("ordersV0.json", "getOrderItems") if status == 200
             for i in (resp.get("payload") or {}).get("OrderItems", []) if i.get("SellerSKU")]
    assert orders and items
    mapped = order_from_sp_api(orders[0], items[:1])
    assert mapped.external_id == orders[0]["AmazonOrderId"]
    assert mapped.lines[0].sku == items[0]["SellerSKU"] and mapped.lines[0].quantity == items[0]["QuantityOrdered"]
