"""Vendor Direct Fulfillment Orders 2021-12-28: the required window, filters, keyset paging,
release after the orderDate, and acknowledgements under Amazon's rules (whole order, in full
or rejected, never raised, within 24 hours); every answer validated against the model."""

from __future__ import annotations

import pytest

from amazon_vendor_harness import DF_ORDERS, VENDOR, Vendor
from omnihub_sandbox.spapi.clock import iso
from spapi_contract import assert_response, body_errors

ORDERS = "/vendor/directFulfillment/orders/2021-12-28/purchaseOrders"


def _stocked(vendor: Vendor, units: int = 100) -> list[str]:
    skus = [item["sku"] for item in vendor.items()]
    for warehouse in vendor.config.warehouses:
        vendor.settle(vendor.declare(warehouse, {sku: units for sku in skus}).json()["payload"]["transactionId"], 120)
    return skus


def _place(vendor: Vendor, *lines: tuple[str, int], **kw) -> str:
    answer = vendor.shop(*lines, **kw)
    assert answer.status_code == 201, answer.text
    return answer.json()["purchaseOrderNumber"]


def _all_pages(vendor: Vendor, after: float, before: float, **params) -> list[str]:
    seen, token = [], None
    while True:
        query = {**params, **({"nextToken": token} if token else {})}
        body = assert_response(DF_ORDERS, "getOrders", vendor.orders(after, before, **query))
        seen += [o["purchaseOrderNumber"] for o in body["orders"]]
        token = body.get("pagination", {}).get("nextToken")
        if not token:
            return seen


def test_an_order_reaches_the_vendor_after_its_release_delay(vendor: Vendor) -> None:
    (sku, *_) = _stocked(vendor)
    start = vendor.now()
    po = _place(vendor, (sku, 2))
    assert assert_response(DF_ORDERS, "getOrders", vendor.orders(start, start + 3600))["orders"] == []
    missing = vendor.call("GET", f"{ORDERS}/{po}")
    assert missing.status_code == 404 and assert_response(DF_ORDERS, "getOrder", missing)
    vendor.advance(121)  # release_seconds is (30, 120)
    (order,) = assert_response(DF_ORDERS, "getOrders", vendor.orders(start, start + 3600))["orders"]
    assert order["purchaseOrderNumber"] == po
    details = order["orderDetails"]
    assert details["orderStatus"] == "NEW" and details["sellingParty"] == {"partyId": VENDOR}
    assert details["shipFromParty"]["partyId"] in vendor.config.warehouses
    assert details["items"] == [{**details["items"][0], "itemSequenceNumber": "00001", "vendorProductIdentifier": sku,
                                 "orderedQuantity": {"amount": 2, "unitOfMeasure": "Each"}}]
    assert details["shipToParty"]["addressLine1"] and details["shipToParty"]["countryCode"] == "US"
    assert assert_response(DF_ORDERS, "getOrder", vendor.call("GET", f"{ORDERS}/{po}")) == order


def test_get_orders_refuses_what_the_model_refuses(vendor: Vendor) -> None:
    now = vendor.now()
    for params in ({}, {"createdAfter": iso(now - 60)}, {"createdBefore": iso(now)},
                   {"createdAfter": iso(now), "createdBefore": iso(now - 60)},
                   {"createdAfter": "yesterday", "createdBefore": iso(now)},
                   {"createdAfter": iso(now - 60), "createdBefore": iso(now), "limit": "101"},
                   {"createdAfter": iso(now - 60), "createdBefore": iso(now), "limit": "0"},
                   {"createdAfter": iso(now - 60), "createdBefore": iso(now), "status": "LOST"},
                   {"createdAfter": iso(now - 60), "createdBefore": iso(now), "sortOrder": "UP"},
                   {"createdAfter": iso(now - 60), "createdBefore": iso(now), "nextToken": "bm90LWEtdG9rZW4="}):
        answer = vendor.call("GET", ORDERS, params=params)
        assert answer.status_code == 400, params
        assert answer.json()["errors"][0]["code"] == "InvalidRequest"
        assert_response(DF_ORDERS, "getOrders", answer)
    bad_number = vendor.call("GET", f"{ORDERS}/not-a-po!")
    assert bad_number.status_code == 400 and assert_response(DF_ORDERS, "getOrder", bad_number)


@pytest.mark.parametrize("sort_order", ["ASC", "DESC"])
def test_paging_is_complete_and_stable_while_orders_keep_arriving(vendor: Vendor, sort_order: str) -> None:
    skus = _stocked(vendor)
    start = vendor.now()
    placed = []
    for n in range(23):
        placed.append(_place(vendor, (skus[n % len(skus)], 1)))
        vendor.advance(7)
    vendor.advance(200)
    first = assert_response(DF_ORDERS, "getOrders", vendor.orders(start, start + 7200, limit=5, sortOrder=sort_order))
    _place(vendor, (skus[0], 1))  # arrives while the client pages (and is released later than the window's end)
    seen = [o["purchaseOrderNumber"] for o in first["orders"]]
    seen += _all_pages(vendor, start, start + 7200, nextToken=first["pagination"]["nextToken"])
    assert sorted(seen) == sorted(placed) and len(seen) == len(set(seen))
    dates = [vendor.order(po)["orderDetails"]["orderDate"] for po in seen]
    assert dates == sorted(dates, reverse=sort_order == "DESC")


def test_overlapping_windows_find_every_order_once_deduplicated(vendor: Vendor) -> None:
    skus = _stocked(vendor)
    start = vendor.now()
    placed, seen = [], set()
    for poll in range(6):  # a client polling every 5 minutes over the last 15
        placed += [_place(vendor, (skus[(poll + n) % len(skus)], 1)) for n in range(3)]
        vendor.advance(300)
        now = vendor.now()
        seen |= set(_all_pages(vendor, max(start, now - 900), now + 1, limit=2))
    vendor.advance(300)
    seen |= set(_all_pages(vendor, vendor.now() - 900, vendor.now() + 1))
    assert seen == set(placed)


def test_filters_by_warehouse_and_status_and_numbers_only(vendor: Vendor) -> None:
    (sku, *_) = _stocked(vendor)
    start = vendor.now()
    east = [_place(vendor, (sku, 1), warehouse="EAST1") for _ in range(3)]
    west = [_place(vendor, (sku, 1), warehouse="WEST1") for _ in range(2)]
    vendor.advance(200)
    assert sorted(_all_pages(vendor, start, start + 3600, shipFromPartyId="WEST1")) == sorted(west)
    accepted = vendor.acknowledge(vendor.order(east[0]))
    vendor.settle(accepted.json()["transactionId"], 901)
    assert _all_pages(vendor, start, start + 3600, status="ACCEPTED") == [east[0]]
    assert sorted(_all_pages(vendor, start, start + 3600, status="NEW")) == sorted(east[1:] + west)
    bare = assert_response(DF_ORDERS, "getOrders", vendor.orders(start, start + 3600, includeDetails="false"))
    assert all(set(o) == {"purchaseOrderNumber"} for o in bare["orders"]) and len(bare["orders"]) == 5


def test_an_acknowledgement_accepts_or_rejects_the_whole_order(vendor: Vendor) -> None:
    skus = _stocked(vendor)
    pos = [_place(vendor, (skus[0], 2), (skus[1], 1)) for _ in range(2)]
    vendor.advance(200)
    accept, reject = (vendor.order(po) for po in pos)
    sent = vendor.acknowledge(accept)
    assert sent.status_code == 202 and assert_response(DF_ORDERS, "submitAcknowledgement", sent)["transactionId"]
    rejected = vendor.acknowledge(reject, code="03", quantities={"00001": 0, "00002": 0})
    assert vendor.transaction(sent.json()["transactionId"]).json()["transactionStatus"]["status"] == "Processing"
    assert vendor.settle(sent.json()["transactionId"], 901)["status"] == "Success"
    assert vendor.settle(rejected.json()["transactionId"], 1)["status"] == "Success"
    assert vendor.order(pos[0])["orderDetails"]["orderStatus"] == "ACCEPTED"
    assert vendor.order(pos[1])["orderDetails"]["orderStatus"] == "CANCELLED"
    again = vendor.acknowledge(vendor.order(pos[0]))
    failed = vendor.settle(again.json()["transactionId"], 901)
    assert failed["status"] == "Failure" and "can no longer be acknowledged" in failed["errors"]["errors"][0]["message"]


@pytest.mark.parametrize(("case", "expected"), [
    ("partial", "accepted in full or rejected"),
    ("raised", "cannot raise it"),
    ("missing line", "leaves out item(s) 00002"),
    ("other warehouse", "ships from"),
    ("unknown order", "was not found"),
    ("not a code", "two-digit code"),
])
def test_an_acknowledgement_that_breaks_the_rules_fails_its_transaction(vendor: Vendor, case: str, expected: str) -> None:
    skus = _stocked(vendor)
    po = _place(vendor, (skus[0], 2), (skus[1], 1), warehouse="EAST1")
    vendor.advance(200)
    order = vendor.order(po)
    if case == "partial":
        sent = vendor.acknowledge(order, quantities={"00001": 1})
    elif case == "raised":
        sent = vendor.acknowledge(order, code="03", quantities={"00001": 3})
    elif case == "missing line":
        order["orderDetails"]["items"] = order["orderDetails"]["items"][:1]
        sent = vendor.acknowledge(order)
    elif case == "other warehouse":
        sent = vendor.acknowledge(order, shipFromParty={"partyId": "WEST1"})
    elif case == "unknown order":
        sent = vendor.acknowledge(order, purchaseOrderNumber="NOSUCHPO")
    else:
        sent = vendor.acknowledge(order, acknowledgementStatus={"code": "OK"})
    assert sent.status_code == 202
    status = vendor.settle(sent.json()["transactionId"], 901)
    assert status["status"] == "Failure" and expected in status["errors"]["errors"][0]["message"], status
    assert vendor.order(po)["orderDetails"]["orderStatus"] == "NEW"


def test_the_24_hour_rule(vendor: Vendor) -> None:
    (sku, *_) = _stocked(vendor)
    late, forgotten, in_time = (_place(vendor, (sku, 1)) for _ in range(3))
    vendor.advance(200)
    orders = {po: vendor.order(po) for po in (late, forgotten, in_time)}
    vendor.advance(86_400 - 300)  # 23 h 58 min after the orders
    on_time = vendor.acknowledge(orders[in_time])  # submitted in time, processed after the window ends
    vendor.advance(200)
    assert vendor.order(forgotten)["orderDetails"]["orderStatus"] == "CANCELLED"
    assert vendor.order(late)["orderDetails"]["orderStatus"] == "CANCELLED"
    too_late = vendor.acknowledge(orders[late])
    assert vendor.settle(on_time.json()["transactionId"], 901)["status"] == "Success"
    assert vendor.order(in_time)["orderDetails"]["orderStatus"] == "ACCEPTED"
    failed = vendor.settle(too_late.json()["transactionId"], 1)
    messages = [e["message"] for e in failed["errors"]["errors"]]
    assert failed["status"] == "Failure" and any("had to be acknowledged by" in m for m in messages)


def test_a_malformed_acknowledgement_is_a_400_in_the_models_shape(vendor: Vendor) -> None:
    url = "/vendor/directFulfillment/orders/2021-12-28/acknowledgements"
    for body in ({"orderAcknowledgements": []}, {"orderAcknowledgements": [{"purchaseOrderNumber": "X"}]},
                 {"orderAcknowledgements": [{"purchaseOrderNumber": "X", "vendorOrderNumber": "V", "acknowledgementDate":
                                             "soon", "acknowledgementStatus": {"code": "00"}, "sellingParty":
                                             {"partyId": VENDOR}, "shipFromParty": {"partyId": "EAST1"},
                                             "itemAcknowledgements": []}]}):
        answer = vendor.call("POST", url, json=body)
        assert answer.status_code == 400 and answer.json()["errors"][0]["code"] == "InvalidInput", body
        assert_response(DF_ORDERS, "submitAcknowledgement", answer)
    not_json = vendor.call("POST", url, content=b"<xml/>", headers={"content-type": "application/xml"})
    assert not_json.status_code == 415 and assert_response(DF_ORDERS, "submitAcknowledgement", not_json)


def test_the_acknowledgements_the_tests_send_are_valid_requests(vendor: Vendor) -> None:
    (sku, *_) = _stocked(vendor)
    po = _place(vendor, (sku, 1))
    vendor.advance(200)
    captured = {}
    real = vendor.call

    def capture(method, url, **kw):
        captured["body"] = kw.get("json")
        return real(method, url, **kw)

    vendor.call = capture  # type: ignore[method-assign]
    vendor.acknowledge(vendor.order(po))
    assert body_errors(DF_ORDERS, "submitAcknowledgement", captured["body"]) == []
