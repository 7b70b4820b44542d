"""Orders v0: the two-minute rule, stable paging, the order life cycle, all per the model."""

from __future__ import annotations

import json

from amazon_sandbox_harness import MARKETPLACE, Seller
from omnihub_sandbox.spapi.clock import iso
from spapi_contract import assert_response, body_errors

M = "ordersV0.json"
ORDERS = "/orders/v0/orders"


def _skus(seller: Seller, n: int, quantity: int = 1000) -> list[str]:
    skus = [row["sku"] for row in seller.listings()[:n]]
    for sku in skus:
        seller.set_quantity(sku, quantity)
    return skus


def _get_orders(seller: Seller, **params) -> dict:
    answer = seller.call("GET", ORDERS, params={"MarketplaceIds": MARKETPLACE, **params})
    return assert_response(M, "getOrders", answer)


def test_orders_appear_only_two_minutes_after_they_are_placed(seller: Seller, clock) -> None:
    start = iso(clock() - 300)
    (sku,) = _skus(seller, 1)
    assert seller.buy((sku, 2)).status_code == 201
    body = _get_orders(seller, CreatedAfter=start)
    assert body["payload"]["Orders"] == [] and body["payload"]["CreatedBefore"] == iso(clock() - 120)
    clock.advance(121)
    (order,) = _get_orders(seller, CreatedAfter=start)["payload"]["Orders"]
    assert order["OrderStatus"] == "Unshipped" and order["NumberOfItemsUnshipped"] == 2  # payment cleared after 60 s


def test_get_orders_rejects_what_amazon_rejects(seller: Seller, clock) -> None:
    after = iso(clock() - 3600)
    cases = [
        {},  # neither CreatedAfter nor LastUpdatedAfter
        {"CreatedAfter": after, "LastUpdatedAfter": after},
        {"CreatedAfter": after, "CreatedBefore": iso(clock() - 60)},  # not two minutes before now
        {"LastUpdatedAfter": after, "LastUpdatedBefore": iso(clock())},
        {"CreatedAfter": iso(clock() - 300), "CreatedBefore": iso(clock() - 600)},
        {"CreatedAfter": "yesterday"},
        {"CreatedAfter": after, "MaxResultsPerPage": "101"},
        {"CreatedAfter": after, "MaxResultsPerPage": "0"},
        {"CreatedAfter": after, "OrderStatuses": "Lost"},
        {"CreatedAfter": after, "NextToken": "not-a-token"},
    ]
    for params in cases:
        answer = seller.call("GET", ORDERS, params={"MarketplaceIds": MARKETPLACE, **params})
        assert answer.status_code == 400, params
        assert answer.json()["errors"][0]["code"] == "InvalidInput"
        assert_response(M, "getOrders", answer)
    missing_marketplace = seller.call("GET", ORDERS, params={"CreatedAfter": after})
    assert missing_marketplace.status_code == 400
    ok = seller.call("GET", ORDERS, params={"MarketplaceIds": MARKETPLACE, "CreatedAfter": after,
                                            "CreatedBefore": iso(clock() - 120)})
    assert ok.status_code == 200


def test_next_token_paging_is_complete_and_stable_while_orders_arrive(make_config, clock) -> None:
    from amazon_sandbox_harness import TestClient, create_app

    config = make_config(rate_multiplier=100)  # getOrders is 0.0167/s; paging 23 pages needs a bigger plan
    seller = Seller(TestClient(create_app(config), base_url="http://sandbox.test"), config)
    start = iso(clock() - 300)
    skus = _skus(seller, 5)
    placed = []
    for n in range(47):
        answer = seller.buy((skus[n % 5], 1 + n % 3))
        placed.append(answer.json()["amazon_order_id"])
        clock.advance(1 if n % 4 else 0)  # several orders share a second
    clock.advance(180)

    seen: list[str] = []
    body = _get_orders(seller, CreatedAfter=start, MaxResultsPerPage="10")
    pages = 1
    while True:
        seen.extend(o["AmazonOrderId"] for o in body["payload"]["Orders"])
        token = body["payload"].get("NextToken")
        if not token:
            break
        seller.buy((skus[0], 1))  # a new order between pages must not shift the pages
        clock.advance(200)
        body = _get_orders(seller, CreatedAfter=start, NextToken=token)
        pages += 1
    assert pages == 5
    assert seen == sorted(set(seen), key=seen.index) and sorted(seen) == sorted(placed)
    purchase = [o for o in seen]
    assert len(purchase) == 47

    # LastUpdatedAfter paging sees the same orders (all updated when placed, then cleared).
    by_update = _get_orders(seller, LastUpdatedAfter=start, MaxResultsPerPage="100")["payload"]
    assert "LastUpdatedBefore" in by_update and len(by_update["Orders"]) >= 47


def test_pending_becomes_unshipped_then_shipped_by_confirmation(seller: Seller, clock) -> None:
    (sku,) = _skus(seller, 1)
    order_id = seller.buy((sku, 3)).json()["amazon_order_id"]
    order = assert_response(M, "getOrder", seller.call("GET", f"{ORDERS}/{order_id}"))["payload"]
    assert order["OrderStatus"] == "Pending" and "OrderTotal" not in order
    clock.advance(seller.config.pending_to_unshipped_seconds)
    order = assert_response(M, "getOrder", seller.call("GET", f"{ORDERS}/{order_id}"))["payload"]
    assert order["OrderStatus"] == "Unshipped" and order["OrderTotal"]["CurrencyCode"] == "USD"
    items = assert_response(M, "getOrderItems", seller.call("GET", f"{ORDERS}/{order_id}/orderItems"))["payload"]
    (item,) = items["OrderItems"]
    assert item["SellerSKU"] == sku and item["QuantityOrdered"] == 3 and item["QuantityShipped"] == 0

    def confirm(qty: int):
        body = {"marketplaceId": MARKETPLACE, "packageDetail": {
            "packageReferenceId": "1", "carrierCode": "UPS", "trackingNumber": "1Z999", "shipDate": iso(clock()),
            "orderItems": [{"orderItemId": item["OrderItemId"], "quantity": qty}]}}
        assert not body_errors(M, "confirmShipment", body)
        return seller.call("POST", f"{ORDERS}/{order_id}/shipmentConfirmation", json=body)

    first = confirm(1)
    assert first.status_code == 204 and first.content == b""
    assert seller.call("GET", f"{ORDERS}/{order_id}").json()["payload"]["OrderStatus"] == "PartiallyShipped"
    too_many = confirm(3)
    assert too_many.status_code == 400
    assert_response(M, "confirmShipment", too_many)
    assert confirm(2).status_code == 204
    order = seller.call("GET", f"{ORDERS}/{order_id}").json()["payload"]
    assert order["OrderStatus"] == "Shipped" and order["NumberOfItemsShipped"] == 3 and order["NumberOfItemsUnshipped"] == 0


def test_pending_orders_cannot_be_shipped_and_unknown_orders_are_404(seller: Seller, clock) -> None:
    (sku,) = _skus(seller, 1)
    order_id = seller.buy((sku, 1)).json()["amazon_order_id"]
    body = {"marketplaceId": MARKETPLACE, "packageDetail": {
        "packageReferenceId": "1", "carrierCode": "UPS", "trackingNumber": "1Z", "shipDate": iso(clock()),
        "orderItems": [{"orderItemId": "1", "quantity": 1}]}}
    assert seller.call("POST", f"{ORDERS}/{order_id}/shipmentConfirmation", json=body).status_code == 400
    missing = seller.call("GET", f"{ORDERS}/111-0000000-0000000")
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == "NotFound"
    assert_response(M, "getOrder", missing)
    assert seller.call("GET", f"{ORDERS}/nonsense").status_code == 400


def test_buyer_cancels_pending_or_unshipped_and_units_return(seller: Seller, clock) -> None:
    (sku,) = _skus(seller, 1, quantity=5)
    order_id = seller.buy((sku, 2)).json()["amazon_order_id"]
    assert {r["sku"]: r["quantity"] for r in seller.listings()}[sku] == 3
    clock.advance(seller.config.pending_to_unshipped_seconds)
    assert seller.http.post(f"/_sandbox/orders/{order_id}/cancel").json()["status"] == "Canceled"
    assert {r["sku"]: r["quantity"] for r in seller.listings()}[sku] == 5
    order = assert_response(M, "getOrder", seller.call("GET", f"{ORDERS}/{order_id}"))["payload"]
    assert order["OrderStatus"] == "Canceled"
    assert seller.http.post(f"/_sandbox/orders/{order_id}/cancel").status_code == 409
    clock.advance(180)
    canceled = _get_orders(seller, LastUpdatedAfter=iso(clock() - 3600), OrderStatuses="Canceled")["payload"]["Orders"]
    assert [o["AmazonOrderId"] for o in canceled] == [order_id]
    notes = seller.http.get("/_sandbox/notifications", params={"type": "ORDER_CHANGE"}).json()["notifications"]
    reasons = [n["notification"]["Payload"]["OrderChangeNotification"]["OrderChangeTrigger"]["ChangeReason"] for n in notes]
    assert reasons == ["New Order", "Payment Authorized", "Buyer Requested Cancel"]
    json.dumps(notes)
