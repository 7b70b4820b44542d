"""Retail procurement: Vendor Orders v1 (purchase orders, windows and paging, per-line
acknowledgements with accepted, backordered and rejected quantities, statuses) and Vendor
Shipments v1 (ASNs, received at the fulfilment centre, which closes the order)."""

from __future__ import annotations

from amazon_vendor_harness import RETAIL_ORDERS, RETAIL_SHIPMENTS, RETAIL_TRANSACTIONS, VENDOR, Vendor
from omnihub_sandbox.spapi.clock import iso
from spapi_contract import assert_response, body_errors

PO = "/vendor/orders/v1/purchaseOrders"
STATUS = "/vendor/orders/v1/purchaseOrdersStatus"
ACK = "/vendor/orders/v1/acknowledgements"
ASN = "/vendor/shipping/v1/shipmentConfirmations"


def _raise_po(vendor: Vendor, *lines: dict, ship_to: str = "ABE8") -> str:
    answer = vendor.http.post("/_sandbox/retail/purchase-orders", json={"ship_to": ship_to, "lines": list(lines)})
    assert answer.status_code == 201, answer.text
    return answer.json()["purchaseOrderNumber"]


def _po(vendor: Vendor, po_number: str) -> dict:
    return assert_response(RETAIL_ORDERS, "getPurchaseOrder", vendor.call("GET", f"{PO}/{po_number}"))["payload"]


def _settle(vendor: Vendor, answer, seconds: float = 901) -> dict:
    assert answer.status_code == 202, answer.text
    transaction_id = answer.json()["payload"]["transactionId"]
    vendor.advance(seconds)
    body = assert_response(RETAIL_TRANSACTIONS, "getTransaction",
                           vendor.call("GET", f"/vendor/transactions/v1/transactions/{transaction_id}"))
    return body["payload"]["transactionStatus"]


def _acknowledge(vendor: Vendor, po_number: str, answers: dict[str, list[tuple[str, int]]]) -> dict:
    """answers: itemSequenceNumber -> [(code, cases), ...]"""
    order = _po(vendor, po_number)
    body = {"acknowledgements": [{
        "purchaseOrderNumber": po_number, "sellingParty": {"partyId": VENDOR}, "acknowledgementDate": iso(vendor.now()),
        "items": [{"itemSequenceNumber": item["itemSequenceNumber"], "vendorProductIdentifier":
                   item["vendorProductIdentifier"], "orderedQuantity": item["orderedQuantity"],
                   "itemAcknowledgements": [
                       {"acknowledgementCode": code, "acknowledgedQuantity": {"amount": cases, "unitOfMeasure": "Cases",
                                                                              "unitSize": item["orderedQuantity"]["unitSize"]},
                        **({"rejectionReason": "TemporarilyUnavailable"} if code == "Rejected" else {})}
                       for code, cases in answers[item["itemSequenceNumber"]]]}
                  for item in order["orderDetails"]["items"] if item["itemSequenceNumber"] in answers]}]}
    assert body_errors(RETAIL_ORDERS, "submitAcknowledgement", body) == []
    sent = vendor.call("POST", ACK, json=body)
    assert_response(RETAIL_ORDERS, "submitAcknowledgement", sent)
    return _settle(vendor, sent)


def test_a_purchase_order_of_cartons_as_the_model_draws_it(vendor: Vendor) -> None:
    a, b, *_ = [item["sku"] for item in vendor.items()]
    po = _raise_po(vendor, {"sku": a, "amount": 100, "unit": "Cases", "unit_size": 12},
                   {"sku": b, "amount": 30, "unit": "Eaches", "backorder_allowed": True})
    order = _po(vendor, po)
    assert order["purchaseOrderState"] == "New"
    first, second = order["orderDetails"]["items"]
    assert first["orderedQuantity"] == {"amount": 100, "unitOfMeasure": "Cases", "unitSize": 12}
    assert second["orderedQuantity"] == {"amount": 30, "unitOfMeasure": "Eaches", "unitSize": 1}
    assert (first["isBackOrderAllowed"], second["isBackOrderAllowed"]) == (False, True)
    assert order["orderDetails"]["shipToParty"] == {"partyId": "ABE8"}
    assert order["orderDetails"]["sellingParty"] == {"partyId": VENDOR}
    start, end = order["orderDetails"]["shipWindow"].split("--")
    assert start < end
    for bad in ("null", "NOSUCHPO"):
        answer = vendor.call("GET", f"{PO}/{bad}")
        assert answer.status_code == (400 if bad == "null" else 404)
        assert_response(RETAIL_ORDERS, "getPurchaseOrder", answer)


def test_purchase_orders_by_window_state_and_page(vendor: Vendor) -> None:
    sku = vendor.items()[0]["sku"]
    start = vendor.now()
    pos = []
    for _ in range(7):
        pos.append(_raise_po(vendor, {"sku": sku, "amount": 5}))
        vendor.advance(60)
    seen, token = [], None
    while True:
        params = {"createdAfter": iso(start), "createdBefore": iso(vendor.now() + 1), "limit": 3, "sortOrder": "DESC"}
        body = assert_response(RETAIL_ORDERS, "getPurchaseOrders", vendor.call(
            "GET", PO, params={**params, **({"nextToken": token} if token else {})}))["payload"]
        seen += [o["purchaseOrderNumber"] for o in body["orders"]]
        token = body.get("pagination", {}).get("nextToken")
        if not token:
            break
    assert seen == list(reversed(pos))
    _acknowledge(vendor, pos[0], {"1": [("Accepted", 5)]})
    window = {"createdAfter": iso(start), "createdBefore": iso(vendor.now() + 1)}
    acknowledged = assert_response(RETAIL_ORDERS, "getPurchaseOrders", vendor.call(
        "GET", PO, params={**window, "purchaseOrderState": "Acknowledged", "includeDetails": "false"}))["payload"]
    assert acknowledged["orders"] == [{"purchaseOrderNumber": pos[0], "purchaseOrderState": "Acknowledged"}]
    other_vendor = vendor.call("GET", PO, params={**window, "orderingVendorCode": "SOMEONE"})
    assert assert_response(RETAIL_ORDERS, "getPurchaseOrders", other_vendor)["payload"]["orders"] == []
    for params in ({"createdAfter": iso(start - 8 * 86400), "createdBefore": iso(start)},
                   {"createdAfter": iso(start - 200 * 86400), "createdBefore": iso(start - 199 * 86400)},
                   {"createdAfter": "2019-09-2100:00:00", "createdBefore": iso(start)}):
        refused = vendor.call("GET", PO, params=params)
        assert refused.status_code == 400 and refused.json()["errors"][0]["code"] == "InvalidRequest", params
        assert_response(RETAIL_ORDERS, "getPurchaseOrders", refused)


def test_changed_purchase_orders_and_cancelled_lines(vendor: Vendor) -> None:
    a, b, *_ = [item["sku"] for item in vendor.items()]
    start = vendor.now()
    kept = _raise_po(vendor, {"sku": a, "amount": 2})
    changed = _raise_po(vendor, {"sku": a, "amount": 2}, {"sku": b, "amount": 3})
    vendor.advance(3600)
    assert vendor.http.put(f"/_sandbox/retail/purchase-orders/{changed}/lines/2", json={"eaches": 0}).status_code == 200
    window = {"changedAfter": iso(start), "changedBefore": iso(vendor.now() + 1)}
    by_change = assert_response(RETAIL_ORDERS, "getPurchaseOrders", vendor.call("GET", PO, params=window))["payload"]
    assert [o["purchaseOrderNumber"] for o in by_change["orders"]] == [changed]
    assert by_change["orders"][0]["orderDetails"]["purchaseOrderChangedDate"]
    created = {"createdAfter": iso(start), "createdBefore": iso(vendor.now() + 1)}
    flagged = vendor.call("GET", PO, params={**created, "isPOChanged": "true"})
    cancelled = vendor.call("GET", PO, params={**created, "poItemState": "Cancelled"})
    for answer in (flagged, cancelled):
        assert [o["purchaseOrderNumber"] for o in assert_response(
            RETAIL_ORDERS, "getPurchaseOrders", answer)["payload"]["orders"]] == [changed]
    assert kept != changed


def test_a_line_acknowledged_accepted_backordered_and_rejected(vendor: Vendor) -> None:
    a, b, c, *_ = [item["sku"] for item in vendor.items()]
    po = _raise_po(vendor, {"sku": a, "amount": 100, "unit_size": 12},
                   {"sku": b, "amount": 10, "unit_size": 6, "backorder_allowed": True},
                   {"sku": c, "amount": 4, "unit_size": 6})
    status = _acknowledge(vendor, po, {"1": [("Accepted", 100)], "2": [("Accepted", 6), ("Backordered", 2),
                                                                       ("Rejected", 2)], "3": [("Rejected", 4)]})
    assert status["status"] == "Success", status
    assert _po(vendor, po)["purchaseOrderState"] == "Acknowledged"
    body = assert_response(RETAIL_ORDERS, "getPurchaseOrdersStatus",
                           vendor.call("GET", STATUS, params={"purchaseOrderNumber": po}))["payload"]
    (po_status,) = body["ordersStatus"]
    assert po_status["purchaseOrderStatus"] == "OPEN" and po_status["shipToParty"] == {"partyId": "ABE8"}
    lines = {line["itemSequenceNumber"]: line for line in po_status["itemStatus"]}
    assert lines["1"]["acknowledgementStatus"]["confirmationStatus"] == "ACCEPTED"
    assert lines["1"]["acknowledgementStatus"]["acceptedQuantity"] == {"amount": 100, "unitOfMeasure": "Cases",
                                                                        "unitSize": 12}
    assert lines["2"]["acknowledgementStatus"]["confirmationStatus"] == "PARTIALLY_ACCEPTED"
    assert lines["2"]["acknowledgementStatus"]["acceptedQuantity"]["amount"] == 8  # 6 accepted + 2 backordered
    assert lines["2"]["acknowledgementStatus"]["rejectedQuantity"]["amount"] == 2
    assert lines["3"]["acknowledgementStatus"]["confirmationStatus"] == "REJECTED"
    assert {line["receivingStatus"]["receiveStatus"] for line in lines.values()} == {"NOT_RECEIVED"}
    unconfirmed = _raise_po(vendor, {"sku": a, "amount": 1})
    filtered = assert_response(RETAIL_ORDERS, "getPurchaseOrdersStatus", vendor.call("GET", STATUS, params={
        "itemConfirmationStatus": "UNCONFIRMED"}))["payload"]["ordersStatus"]
    assert [s["purchaseOrderNumber"] for s in filtered] == [unconfirmed]


def test_an_acknowledgement_never_exceeds_the_order_nor_backorders_where_not_allowed(vendor: Vendor) -> None:
    a, b, *_ = [item["sku"] for item in vendor.items()]
    po = _raise_po(vendor, {"sku": a, "amount": 10}, {"sku": b, "amount": 5})
    over = _acknowledge(vendor, po, {"1": [("Accepted", 11)], "2": [("Accepted", 5)]})
    assert over["status"] == "Failure" and "never more than ordered" in over["errors"][0]["message"]
    backorder = _acknowledge(vendor, po, {"1": [("Backordered", 10)], "2": [("Accepted", 5)]})
    assert backorder["status"] == "Failure" and "does not allow backorders" in backorder["errors"][0]["message"]
    missing = _acknowledge(vendor, po, {"1": [("Accepted", 10)]})
    assert missing["status"] == "Failure" and "leaves out line(s) 2" in missing["errors"][0]["message"]
    assert _po(vendor, po)["purchaseOrderState"] == "New"
    rejected = _acknowledge(vendor, po, {"1": [("Rejected", 10)], "2": [("Rejected", 5)]})
    assert rejected["status"] == "Success" and _po(vendor, po)["purchaseOrderState"] == "Closed"  # nothing to ship


def _asn(vendor: Vendor, po_number: str, cases: dict[str, int], identifier: str = "ASN-1", kind: str = "Original",
         ship_to: str = "ABE8") -> dict:
    order = _po(vendor, po_number)
    body = {"shipmentConfirmations": [{
        "shipmentIdentifier": identifier, "shipmentConfirmationType": kind, "shipmentConfirmationDate": iso(vendor.now()),
        "sellingParty": {"partyId": VENDOR}, "shipFromParty": {"partyId": "EAST1"}, "shipToParty": {"partyId": ship_to},
        "shippedItems": [{"itemSequenceNumber": f"{n:03d}", "vendorProductIdentifier": item["vendorProductIdentifier"],
                          "shippedQuantity": {"amount": cases[item["itemSequenceNumber"]], "unitOfMeasure": "Cases",
                                              "unitSize": item["orderedQuantity"]["unitSize"]},
                          "itemDetails": {"purchaseOrderNumber": po_number}}
                         for n, item in enumerate(order["orderDetails"]["items"], start=1)
                         if item["itemSequenceNumber"] in cases]}]}
    assert body_errors(RETAIL_SHIPMENTS, "SubmitShipmentConfirmations", body) == []
    sent = vendor.call("POST", ASN, json=body)
    assert_response(RETAIL_SHIPMENTS, "SubmitShipmentConfirmations", sent)
    return _settle(vendor, sent)


def test_an_asn_ships_the_accepted_cartons_and_the_centre_receives_them(vendor: Vendor) -> None:
    a, b, *_ = [item["sku"] for item in vendor.items()]
    po = _raise_po(vendor, {"sku": a, "amount": 100, "unit_size": 12}, {"sku": b, "amount": 10, "unit_size": 6})
    _acknowledge(vendor, po, {"1": [("Accepted", 100)], "2": [("Accepted", 4), ("Rejected", 6)]})
    too_many = _asn(vendor, po, {"1": 100, "2": 5})
    assert too_many["status"] == "Failure" and "24 accepted unit(s) left" in too_many["errors"][0]["message"]
    elsewhere = _asn(vendor, po, {"1": 100}, ship_to="ONT8")
    assert elsewhere["status"] == "Failure" and "ships to ABE8" in elsewhere["errors"][0]["message"]
    assert _asn(vendor, po, {"1": 60}, identifier="ASN-1")["status"] == "Success"
    duplicate = _asn(vendor, po, {"1": 40}, identifier="ASN-1")
    assert duplicate["status"] == "Failure" and "send Replace" in duplicate["errors"][0]["message"]
    assert _asn(vendor, po, {"1": 100, "2": 4}, identifier="ASN-1", kind="Replace")["status"] == "Success"
    vendor.advance(2 * 86400)  # retail_receive_seconds
    (status,) = assert_response(RETAIL_ORDERS, "getPurchaseOrdersStatus", vendor.call(
        "GET", STATUS, params={"purchaseOrderNumber": po}))["payload"]["ordersStatus"]
    assert status["purchaseOrderStatus"] == "CLOSED" and _po(vendor, po)["purchaseOrderState"] == "Closed"
    received = {line["itemSequenceNumber"]: line["receivingStatus"] for line in status["itemStatus"]}
    assert received["1"]["receiveStatus"] == "RECEIVED" and received["1"]["receivedQuantity"]["amount"] == 100
    assert received["2"]["receivedQuantity"] == {"amount": 4, "unitOfMeasure": "Cases", "unitSize": 6}


def test_an_asn_for_an_order_not_acknowledged_fails(vendor: Vendor) -> None:
    sku = vendor.items()[0]["sku"]
    po = _raise_po(vendor, {"sku": sku, "amount": 3})
    failed = _asn(vendor, po, {"1": 3})
    assert failed["status"] == "Failure" and "only an acknowledged order ships" in failed["errors"][0]["message"]
