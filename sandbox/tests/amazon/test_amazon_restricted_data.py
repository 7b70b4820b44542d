"""What Amazon withholds: a Pending order has no shipping address, BuyerEmail is the
anonymised relay address, and the name, street and phone come only through a Restricted Data
Token (Tokens API) for exactly the resources it was asked for; on Vendor Central the
purchase orders, labels and packing slips need one outright."""

from __future__ import annotations

from amazon_sandbox_harness import MARKETPLACE, SELLER, Seller
from amazon_vendor_harness import DF_ORDERS, DF_SHIPPING, Vendor
from omnihub_sandbox.spapi.clock import iso
from spapi_contract import assert_response

M = "ordersV0.json"
TOKENS = "/tokens/2021-03-01/restrictedDataToken"


def _order(seller: Seller, email: str = "ana@example.com") -> str:
    sku = seller.listings()[0]["sku"]
    seller.set_quantity(sku, 10)
    placed = seller.http.post("/_sandbox/orders", json={
        "lines": [{"sku": sku, "quantity": 1}], "buyer": {"name": "Ana Lima", "email": email},
        "ship_to": {"postal_code": "10001", "city": "New York", "state": "NY", "address_line1": "12 Mercer St",
                    "phone": "+1 555 0100"}})
    assert placed.status_code == 201, placed.text
    return placed.json()["amazon_order_id"]


def _get(seller: Seller, path: str, token: str | None = None):
    headers = {"x-amz-access-token": token} if token else {}
    return seller.call("GET", path, headers=headers)


def test_a_pending_order_has_no_address_and_the_buyer_is_anonymised(seller: Seller, clock) -> None:
    order_id = _order(seller)
    pending = assert_response(M, "getOrder", _get(seller, f"/orders/v0/orders/{order_id}"))["payload"]
    assert pending["OrderStatus"] == "Pending" and "ShippingAddress" not in pending
    relay = pending["BuyerInfo"]["BuyerEmail"]
    assert relay.endswith("@marketplace.amazon.com") and "ana" not in relay and "BuyerName" not in pending["BuyerInfo"]
    clock.advance(61)  # payment authorised
    unshipped = assert_response(M, "getOrder", _get(seller, f"/orders/v0/orders/{order_id}"))["payload"]
    assert unshipped["ShippingAddress"] == {"City": "New York", "StateOrRegion": "NY", "PostalCode": "10001",
                                            "CountryCode": "US"}
    assert unshipped["BuyerInfo"] == {"BuyerEmail": relay}
    clock.advance(121)
    by_relay = seller.call("GET", "/orders/v0/orders", params={"MarketplaceIds": MARKETPLACE, "CreatedAfter":
                                                               iso(clock() - 3600), "BuyerEmail": relay})
    assert [o["AmazonOrderId"] for o in assert_response(M, "getOrders", by_relay)["payload"]["Orders"]] == [order_id]


def test_a_restricted_data_token_opens_the_personal_data_it_was_asked_for(seller: Seller, clock) -> None:
    order_id = _order(seller)
    clock.advance(61)
    path = f"/orders/v0/orders/{order_id}"
    token = seller.restricted_data_token("GET", path, ["buyerInfo", "shippingAddress"])
    full = assert_response(M, "getOrder", _get(seller, path, token))["payload"]
    assert full["ShippingAddress"]["Name"] == "Ana Lima" and full["ShippingAddress"]["AddressLine1"] == "12 Mercer St"
    assert full["ShippingAddress"]["Phone"] == "+1 555 0100" and full["BuyerInfo"]["BuyerName"] == "Ana Lima"
    assert full["BuyerInfo"]["BuyerEmail"].endswith("@marketplace.amazon.com")  # relayed even with the token
    address_only = seller.restricted_data_token("GET", "/orders/v0/orders/{orderId}", ["shippingAddress"])
    partial = assert_response(M, "getOrder", _get(seller, path, address_only))["payload"]
    assert "AddressLine1" in partial["ShippingAddress"] and "BuyerName" not in partial["BuyerInfo"]


def test_a_restricted_data_token_opens_nothing_else(seller: Seller, clock) -> None:
    first, second = _order(seller), _order(seller)
    clock.advance(61)
    token = seller.restricted_data_token("GET", f"/orders/v0/orders/{first}", ["shippingAddress"])
    for path in (f"/orders/v0/orders/{second}", f"/orders/v0/orders/{first}/orderItems", "/orders/v0/orders"):
        refused = seller.http.get(path, headers={"x-amz-access-token": token},
                                  params={"MarketplaceIds": MARKETPLACE, "CreatedAfter": iso(clock() - 3600)})
        assert refused.status_code == 403 and "does not cover" in refused.json()["errors"][0]["details"], path
    listing = seller.http.get(f"/listings/2021-08-01/items/{SELLER}/X", headers={"x-amz-access-token": token},
                              params={"marketplaceIds": MARKETPLACE})
    assert listing.status_code == 403  # an RDT is for restricted operations only
    clock.advance(3601)
    expired = seller.http.get(f"/orders/v0/orders/{first}", headers={"x-amz-access-token": token})
    assert expired.status_code == 403 and "expired" in expired.json()["errors"][0]["details"]


def test_the_address_and_buyer_operations_need_a_restricted_data_token(seller: Seller, clock) -> None:
    order_id = _order(seller)
    for suffix, operation in (("address", "getOrderAddress"), ("buyerInfo", "getOrderBuyerInfo")):
        refused = _get(seller, f"/orders/v0/orders/{order_id}/{suffix}")
        assert refused.status_code == 403 and "Restricted Data Token" in refused.json()["errors"][0]["details"]
        assert_response(M, operation, refused)
    address_path = f"/orders/v0/orders/{order_id}/address"
    token = seller.restricted_data_token("GET", address_path)
    pending = assert_response(M, "getOrderAddress", _get(seller, address_path, token))["payload"]
    assert pending == {"AmazonOrderId": order_id}  # Pending: no address even with the token
    clock.advance(61)
    full = assert_response(M, "getOrderAddress", _get(seller, address_path, token))["payload"]
    assert full["ShippingAddress"]["AddressLine1"] == "12 Mercer St"
    buyer_path = f"/orders/v0/orders/{order_id}/buyerInfo"
    buyer = assert_response(M, "getOrderBuyerInfo", _get(seller, buyer_path,
                                                         seller.restricted_data_token("GET", buyer_path)))["payload"]
    assert buyer["BuyerName"] == "Ana Lima" and buyer["BuyerEmail"].endswith("@marketplace.amazon.com")


def test_the_tokens_api_refuses_what_is_not_a_restricted_resource(seller: Seller) -> None:
    for resources in ([], [{"method": "GET", "path": "/listings/2021-08-01/items/X/Y"}],
                      [{"method": "GET", "path": "/orders/v0/orders/{orderId}", "dataElements": ["buyerTaxInformation"]}],
                      [{"method": "PATCH", "path": "/orders/v0/orders"}], ["/orders/v0/orders"]):
        answer = seller.call("POST", TOKENS, json={"restrictedResources": resources})
        assert answer.status_code == 400 and answer.json()["errors"][0]["code"] == "InvalidInput", resources
    anonymous = seller.http.post(TOKENS, json={"restrictedResources": [{"method": "GET", "path": "/orders/v0/orders"}]})
    assert anonymous.status_code == 403


def test_vendor_purchase_orders_labels_and_slips_need_a_restricted_data_token(vendor: Vendor) -> None:
    sku = vendor.items()[0]["sku"]
    vendor.settle(vendor.declare("EAST1", {sku: 5}).json()["payload"]["transactionId"], 61)
    po = vendor.shop((sku, 1)).json()["purchaseOrderNumber"]
    vendor.advance(121)
    lwa = vendor.login()
    window = {"createdAfter": iso(vendor.now() - 3600), "createdBefore": iso(vendor.now() + 1)}
    base = "/vendor/directFulfillment"
    for path, model_name, operation in (
            (f"{base}/orders/2021-12-28/purchaseOrders", DF_ORDERS, "getOrders"),
            (f"{base}/orders/2021-12-28/purchaseOrders/{po}", DF_ORDERS, "getOrder"),
            (f"{base}/shipping/2021-12-28/shippingLabels", DF_SHIPPING, "getShippingLabels"),
            (f"{base}/shipping/2021-12-28/packingSlips/{po}", DF_SHIPPING, "getPackingSlip")):
        refused = vendor.http.get(path, params=window, headers={"x-amz-access-token": lwa})
        assert refused.status_code == 403 and "Restricted Data Token" in refused.json()["errors"][0]["details"], path
        assert_response(model_name, operation, refused)
    one_order = vendor.call("POST", TOKENS, json={"restrictedResources": [
        {"method": "GET", "path": f"{base}/orders/2021-12-28/purchaseOrders/{po}"}]}).json()["restrictedDataToken"]
    opened = vendor.http.get(f"{base}/orders/2021-12-28/purchaseOrders/{po}", headers={"x-amz-access-token": one_order})
    assert assert_response(DF_ORDERS, "getOrder", opened)["orderDetails"]["shipToParty"]["addressLine1"]
    listing = vendor.http.get(f"{base}/orders/2021-12-28/purchaseOrders", params=window,
                              headers={"x-amz-access-token": one_order})
    assert listing.status_code == 403
    assert vendor.order(po)["purchaseOrderNumber"] == po  # the harness asks for the generic path's token itself
