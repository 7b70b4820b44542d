"""The whole seller journey over real HTTP: uvicorn on loopback, httpx as the client."""

from __future__ import annotations

import json
import time

import httpx

from amazon_sandbox_harness import MARKETPLACE, SELLER, Seller
from omnihub_sandbox.amazon.app import create_app
from omnihub_sandbox.spapi.clock import iso
from spapi_contract import assert_response


def test_seller_journey_over_loopback(make_config, serve, clock) -> None:
    config = make_config(rate_multiplier=10, feed_queue_seconds=1, feed_processing_seconds=1)
    with serve(create_app(config)) as sandbox, httpx.Client(base_url=sandbox.url, timeout=10) as http:
        seller = Seller(http, config)
        sku = seller.listings()[0]["sku"]

        # The hub pushes a quantity, a buyer buys, the hub sees the order and ships it.
        assert_response("listingsItems_2021-08-01.json", "patchListingsItem", seller.patch_quantity(sku, 4))
        assert seller.buy((sku, 3), postal_code="94105").status_code == 201
        assert seller.buy((sku, 2)).status_code == 409
        clock.advance(180)
        orders = assert_response("ordersV0.json", "getOrders", seller.call("GET", "/orders/v0/orders", params={
            "MarketplaceIds": MARKETPLACE, "LastUpdatedAfter": iso(clock() - 3600), "OrderStatuses": "Unshipped"}))
        (order,) = orders["payload"]["Orders"]
        assert order["ShippingAddress"]["PostalCode"] == "94105"
        items = seller.call("GET", f"/orders/v0/orders/{order['AmazonOrderId']}/orderItems").json()["payload"]["OrderItems"]
        shipped = seller.call("POST", f"/orders/v0/orders/{order['AmazonOrderId']}/shipmentConfirmation", json={
            "marketplaceId": MARKETPLACE, "packageDetail": {
                "packageReferenceId": "1", "carrierCode": "USPS", "trackingNumber": "9400", "shipDate": iso(clock()),
                "orderItems": [{"orderItemId": items[0]["OrderItemId"], "quantity": 3}]}})
        assert shipped.status_code == 204 and shipped.headers["x-amzn-RequestId"]

        # Restock by feed, uploaded to the presigned URL.
        doc = seller.call("POST", "/feeds/2021-06-30/documents", json={"contentType": "application/json"}).json()
        assert doc["url"].startswith(sandbox.url)
        feed = {"header": {"sellerId": SELLER, "version": "2.0"}, "messages": [{
            "messageId": 1, "sku": sku, "operationType": "PATCH", "productType": "PRODUCT",
            "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability",
                         "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 40}]}]}]}
        assert httpx.put(doc["url"], content=json.dumps(feed), headers={"content-type": "application/json"}).status_code == 200
        feed_id = seller.call("POST", "/feeds/2021-06-30/feeds", json={
            "feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [MARKETPLACE], "inputFeedDocumentId": doc["feedDocumentId"]}).json()["feedId"]
        clock.advance(2)
        time.sleep(1.2)  # the served app's background tick finishes the feed without anyone polling
        assert {r["sku"]: r["quantity"] for r in seller.listings()}[sku] == 40
        result = seller.call("GET", f"/feeds/2021-06-30/feeds/{feed_id}").json()
        assert result["processingStatus"] == "DONE"
        report_url = seller.call("GET", f"/feeds/2021-06-30/documents/{result['resultFeedDocumentId']}").json()["url"]
        assert httpx.get(report_url).json()["summary"]["messagesAccepted"] == 1
        stats = http.get("/_sandbox/stats").json()
        assert stats["orders_placed"] == 1 and stats["orders_refused"] == 1 and stats["orders_by_status"] == {"Shipped": 1}
