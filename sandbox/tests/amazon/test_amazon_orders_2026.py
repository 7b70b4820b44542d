"""Orders API 2026-01-01 (searchOrders, getOrder): the datasets asked for and no more, what
is withheld withheld as in v0, v0's window rules and stable paging; answers per the model and
its static examples replayed with the sandbox's own orders."""

from __future__ import annotations

import pytest

from amazon_sandbox_harness import Seller
from omnihub_sandbox.spapi.clock import iso
from shared_contracts import shared_absent_param
from spapi_contract import amazon_contracts, assert_response, response_errors, sandbox_vectors

M = "orders_2026-01-01.json"
SEARCH = "/orders/2026-01-01/orders"
EVERYTHING = "BUYER,RECIPIENT,PROCEEDS,FULFILLMENT,PACKAGES,CANCELLATION"


def _orders(seller: Seller, n: int) -> list[str]:
    sku = seller.listings()[0]["sku"]
    seller.set_quantity(sku, 100)
    placed = []
    for _ in range(n):
        answer = seller.http.post("/_sandbox/orders", json={"lines": [{"sku": sku, "quantity": 2}],
                                                             "buyer": {"name": "Ana Lima", "email": "ana@example.com"},
                                                             "ship_to": {"postal_code": "10001", "city": "New York",
                                                                         "state": "NY"}})
        placed.append(answer.json()["amazon_order_id"])
    return placed


def test_search_orders_shows_the_datasets_asked_for(seller: Seller, clock) -> None:
    start = clock() - 60
    (order_id,) = _orders(seller, 1)
    clock.advance(121)  # past the two-minute rule; the payment has cleared (60 s)
    bare = assert_response(M, "searchOrders", seller.call("GET", SEARCH, params={"createdAfter": iso(start)}))
    (order,) = bare["orders"]
    assert order["orderId"] == order_id and not {"buyer", "recipient", "proceeds", "fulfillment"} & set(order)
    assert bare["createdBefore"] == iso(clock() - 120)
    full = assert_response(M, "searchOrders", seller.call("GET", SEARCH, params={"createdAfter": iso(start),
                                                                                 "includedData": EVERYTHING}))
    (order,) = full["orders"]
    assert order["buyer"]["buyerEmail"].endswith("@marketplace.amazon.com") and "buyerName" not in order["buyer"]
    assert order["recipient"]["deliveryAddress"] == {"city": "New York", "stateOrRegion": "NY", "postalCode": "10001",
                                                     "countryCode": "US"}
    assert order["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED" and order["proceeds"]["grandTotal"]["amount"]
    (item,) = order["orderItems"]
    assert item["quantityOrdered"] == 2 and item["fulfillment"] == {"quantityFulfilled": 0, "quantityUnfulfilled": 2}
    token = seller.restricted_data_token("GET", SEARCH, ["buyerInfo", "shippingAddress"])
    opened = assert_response(M, "searchOrders", seller.call("GET", SEARCH, headers={"x-amz-access-token": token},
                                                            params={"createdAfter": iso(start), "includedData": EVERYTHING}))
    (order,) = opened["orders"]
    assert order["buyer"]["buyerName"] == "Ana Lima" and order["recipient"]["deliveryAddress"]["addressLine1"]


def test_a_pending_order_has_no_recipient_nor_proceeds(seller: Seller, clock) -> None:
    (order_id,) = _orders(seller, 1)
    answer = seller.call("GET", f"{SEARCH}/{order_id}", params={"includedData": EVERYTHING})
    order = assert_response(M, "getOrder", answer)["order"]
    assert order["fulfillment"]["fulfillmentStatus"] == "PENDING"
    assert "recipient" not in order and "proceeds" not in order and order["buyer"]["buyerEmail"]


def test_search_orders_refuses_what_v0_refuses_and_pages_stably(seller: Seller, clock) -> None:
    start = clock() - 60
    placed = _orders(seller, 7)
    clock.advance(121)
    for params in ({}, {"createdAfter": iso(start), "lastUpdatedAfter": iso(start)},
                   {"createdAfter": iso(start), "createdBefore": iso(clock() - 10)},
                   {"createdAfter": iso(start), "lastUpdatedBefore": iso(clock() - 200)},
                   {"createdAfter": "TEST_CASE_400"}, {"createdAfter": iso(start), "includedData": "EVERYTHING"},
                   {"createdAfter": iso(start), "maxResultsPerPage": "101"},
                   {"createdAfter": iso(start), "fulfillmentStatuses": "Unshipped"},
                   {"paginationToken": "bm90LWEtdG9rZW4"}):
        refused = seller.call("GET", SEARCH, params=params)
        assert refused.status_code == 400 and refused.json()["errors"][0]["code"] == "InvalidInput", params
        assert_response(M, "searchOrders", refused)
    seen, token = [], None
    while True:
        params = {"paginationToken": token} if token else {"createdAfter": iso(start), "maxResultsPerPage": "3",
                                                           "fulfillmentStatuses": "UNSHIPPED,PENDING"}
        body = assert_response(M, "searchOrders", seller.call("GET", SEARCH, params=params))
        seen += [o["orderId"] for o in body["orders"]]
        token = body.get("pagination", {}).get("nextToken")
        if not token:
            break
        clock.advance(120)  # the 2026 plan refills slowly (0.0056/s): the burst of 20 is plenty here
    assert sorted(seen) == sorted(placed) and len(seen) == len(set(seen))  # one instant: ordered by id
    shipped_only = seller.call("GET", SEARCH, params={"createdAfter": iso(start), "fulfillmentStatuses": "SHIPPED"})
    assert assert_response(M, "searchOrders", shipped_only)["orders"] == []


def test_get_order_answers_404_and_400_in_the_models_shape(seller: Seller) -> None:
    missing = seller.call("GET", f"{SEARCH}/111-0000000-0000000")
    assert missing.status_code == 404 and assert_response(M, "getOrder", missing)
    malformed = seller.call("GET", f"{SEARCH}/TEST_CASE_400")
    assert malformed.status_code == 400 and assert_response(M, "getOrder", malformed)


def _vectors():
    out = []
    for op in ("searchOrders", "getOrder"):
        for n, (status, params, response) in enumerate(sandbox_vectors(M, op)):
            out.append(pytest.param(op, status, params, response, id=f"{op}-{status}-{n}"))
    return out or [shared_absent_param(4)]


@pytest.mark.parametrize(("op_id", "status", "params", "response"), _vectors())
def test_sandbox_example(seller: Seller, clock, op_id, status, params, response) -> None:
    """The model's static examples: its 400s as they are; its 200s with the sandbox's own
    order and window, asking for the same datasets, carrying what the example carries."""
    amazon_contracts()
    assert not response_errors(M, op_id, status, response), "the model's own example fails the validator"
    if status >= 400:
        path = f"{SEARCH}/{params['orderId']}" if op_id == "getOrder" else SEARCH
        query = {k: v for k, v in params.items() if k != "orderId"}
        answer = seller.call("GET", path, params=query)
        assert answer.status_code == status and assert_response(M, op_id, answer)["errors"][0]["code"] == "InvalidInput"
        return
    start = clock() - 60
    (order_id,) = _orders(seller, 1)
    clock.advance(121)
    included = ",".join(v for v in params.get("includedData", []))
    if op_id == "getOrder":
        answer = seller.call("GET", f"{SEARCH}/{order_id}", params={"includedData": included})
        got = assert_response(M, op_id, answer)["order"]
        example = response["order"]
    else:
        answer = seller.call("GET", SEARCH, params={"createdAfter": iso(start), "includedData": included})
        got = assert_response(M, op_id, answer)["orders"][0]
        example = response["orders"][0]
    datasets = {"buyer", "recipient", "proceeds", "fulfillment"} & set(example)
    assert datasets <= set(got), (datasets, set(got))
