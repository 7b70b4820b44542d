"""Listings Items: the quantity a seller sends is what buyers can buy."""

from __future__ import annotations

from amazon_sandbox_harness import MARKETPLACE, SELLER, Seller
from spapi_contract import assert_response, body_errors

M = "listingsItems_2021-08-01.json"


def _item(seller: Seller, sku: str, included: str = "attributes,summaries") -> dict:
    answer = seller.call("GET", f"/listings/2021-08-01/items/{SELLER}/{sku}",
                         params={"marketplaceIds": MARKETPLACE, "includedData": included})
    return assert_response(M, "getListingsItem", answer)


def _default_quantity(item: dict) -> int:
    (entry,) = [e for e in item["attributes"]["fulfillment_availability"] if e["fulfillment_channel_code"] == "DEFAULT"]
    return entry["quantity"]


def test_patch_quantity_then_read_it_back(seller: Seller) -> None:
    sku = seller.listings()[0]["sku"]
    request = {"productType": "PRODUCT", "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability",
                                                      "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 7}]}]}
    assert not body_errors(M, "patchListingsItem", request)
    body = assert_response(M, "patchListingsItem", seller.patch_quantity(sku, 7))
    assert body["sku"] == sku and body["status"] == "ACCEPTED" and body["issues"] == [] and body["submissionId"]
    item = _item(seller, sku)
    assert _default_quantity(item) == 7
    assert item["summaries"][0]["marketplaceId"] == MARKETPLACE and item["summaries"][0]["status"] == ["BUYABLE", "DISCOVERABLE"]
    assert _item(seller, sku, "fulfillmentAvailability")["fulfillmentAvailability"] == [{"fulfillmentChannelCode": "DEFAULT", "quantity": 7}]


def test_buyer_cannot_buy_beyond_amazons_quantity(seller: Seller) -> None:
    sku = seller.listings()[0]["sku"]
    assert seller.patch_quantity(sku, 3).status_code == 200
    assert seller.buy((sku, 2)).status_code == 201
    refused = seller.buy((sku, 2))
    assert refused.status_code == 409
    assert refused.json()["shortages"] == [{"sku": sku, "requested": 2, "available": 1, "listed": True}]
    assert seller.buy((sku, 1)).status_code == 201
    assert seller.buy((sku, 1)).status_code == 409
    assert _default_quantity(_item(seller, sku)) == 0
    assert _item(seller, sku)["summaries"][0]["status"] == ["DISCOVERABLE"]
    stats = seller.http.get("/_sandbox/stats").json()
    assert stats["orders_placed"] == 2 and stats["orders_refused"] == 2 and stats["units_sold"] == 3
    assert seller.buy(("NO-SUCH-SKU", 1)).status_code == 409


def test_processing_delay_before_a_quantity_applies(make_config, clock) -> None:
    from amazon_sandbox_harness import TestClient, create_app

    config = make_config(quantity_apply_delay_seconds=30)
    seller = Seller(TestClient(create_app(config), base_url="http://sandbox.test"), config)
    sku = seller.listings()[0]["sku"]
    seller.set_quantity(sku, 1)
    assert seller.patch_quantity(sku, 9).json()["status"] == "ACCEPTED"
    assert _default_quantity(_item(seller, sku)) == 1
    assert seller.buy((sku, 5)).status_code == 409
    clock.advance(30)
    assert _default_quantity(_item(seller, sku)) == 9
    assert seller.buy((sku, 5)).status_code == 201


def test_invalid_patches(seller: Seller, clock) -> None:
    sku = seller.listings()[0]["sku"]
    url = f"/listings/2021-08-01/items/{SELLER}/{sku}"
    negative = seller.call("PATCH", url, params={"marketplaceIds": MARKETPLACE}, json={"productType": "PRODUCT", "patches": [
        {"op": "replace", "path": "/attributes/fulfillment_availability", "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": -1}]}]})
    body = assert_response(M, "patchListingsItem", negative)
    assert body["status"] == "INVALID" and body["issues"][0]["severity"] == "ERROR"
    for bad in ({"patches": []}, {"productType": "PRODUCT"}, {"productType": "PRODUCT", "patches": [{"op": "move", "path": "/x"}]}):
        answer = seller.call("PATCH", url, params={"marketplaceIds": MARKETPLACE}, json=bad)
        assert answer.status_code == 400 and answer.json()["errors"][0]["code"] == "BAD_REQUEST"  # the Listings model's
        assert_response(M, "patchListingsItem", answer)
    no_marketplace = seller.call("PATCH", url, json={"productType": "PRODUCT", "patches": []})
    assert no_marketplace.status_code == 400 and no_marketplace.json()["errors"][0]["code"] == "BAD_REQUEST"
    clock.advance(1)  # patchListingsItem's burst is 5
    preview = seller.call("PATCH", url, params={"marketplaceIds": MARKETPLACE, "mode": "VALIDATION_PREVIEW",
                                                "includedData": "identifiers,issues"}, json={"productType": "PRODUCT", "patches": [
        {"op": "replace", "path": "/attributes/fulfillment_availability", "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 99}]}]})
    body = assert_response(M, "patchListingsItem", preview)
    assert body["status"] == "VALID" and body["identifiers"][0]["asin"].startswith("B0")
    assert _default_quantity(_item(seller, sku)) != 99
    missing = seller.call("GET", f"/listings/2021-08-01/items/{SELLER}/NOPE", params={"marketplaceIds": MARKETPLACE})
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == "NOT_FOUND"
    assert_response(M, "getListingsItem", missing)
    other_seller = seller.call("GET", f"/listings/2021-08-01/items/AOTHERSELLER/{sku}", params={"marketplaceIds": MARKETPLACE})
    assert other_seller.status_code == 403
