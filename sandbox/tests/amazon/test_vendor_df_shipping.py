"""Vendor Direct Fulfillment Shipping 2021-12-28: labels (asynchronous and at once), packing
slips, shipment confirmations (SHIPPED in one or several, FLOOR_DENIAL) and status updates,
each answer validated against the model."""

from __future__ import annotations

import base64

from amazon_vendor_harness import DF_SHIPPING, VENDOR, Vendor
from spapi_contract import assert_response, body_errors

BASE = "/vendor/directFulfillment/shipping/2021-12-28"


def _accepted_order(vendor: Vendor, lines=((0, 2), (1, 1)), accept: bool = True, **shop) -> dict:
    skus = [item["sku"] for item in vendor.items()]
    for n, _ in lines:
        vendor.settle(vendor.declare("EAST1", {skus[n]: 50}).json()["payload"]["transactionId"], 61)
    placed = vendor.shop(*[(skus[n], q) for n, q in lines], warehouse="EAST1", **shop)
    assert placed.status_code == 201, placed.text
    vendor.advance(121)
    order = vendor.order(placed.json()["purchaseOrderNumber"])
    if accept:
        assert vendor.settle(vendor.acknowledge(order).json()["transactionId"], 901)["status"] == "Success"
    return vendor.order(order["purchaseOrderNumber"])


def _confirmation(order: dict, status: str = "SHIPPED", quantities: dict[int, int] | None = None,
                  tracking: str = "1ZTRACK0001") -> dict:
    items = order["orderDetails"]["items"]
    shipped = [{"itemSequenceNumber": int(item["itemSequenceNumber"]), "vendorProductIdentifier":
                item["vendorProductIdentifier"], "shippedQuantity": {"amount": (quantities or {}).get(
                    int(item["itemSequenceNumber"]), item["orderedQuantity"]["amount"]), "unitOfMeasure": "Each"}}
               for item in items if (quantities is None or int(item["itemSequenceNumber"]) in quantities)]
    return {"purchaseOrderNumber": order["purchaseOrderNumber"],
            "shipmentDetails": {"shippedDate": "2026-01-02T10:00:00Z", "shipmentStatus": status},
            "sellingParty": {"partyId": VENDOR}, "shipFromParty": {"partyId": "EAST1"}, "items": shipped,
            "containers": [{"containerType": "Carton", "containerIdentifier": "BOX1", "trackingNumber": tracking,
                            "weight": {"unitOfMeasure": "LB", "value": "2.5"},
                            "packedItems": [{"itemSequenceNumber": s["itemSequenceNumber"],
                                             "packedQuantity": s["shippedQuantity"]} for s in shipped]}]}


def _submit(vendor: Vendor, path: str, operation: str, body: dict) -> str:
    assert body_errors(DF_SHIPPING, operation, body) == []
    answer = vendor.call("POST", f"{BASE}/{path}", json=body)
    assert answer.status_code == 202, answer.text
    return assert_response(DF_SHIPPING, operation, answer)["transactionId"]


def test_a_shipment_confirmation_ships_the_order(vendor: Vendor) -> None:
    order = _accepted_order(vendor)
    transaction_id = _submit(vendor, "shipmentConfirmations", "submitShipmentConfirmations",
                             {"shipmentConfirmations": [_confirmation(order)]})
    assert vendor.order(order["purchaseOrderNumber"])["orderDetails"]["orderStatus"] == "ACCEPTED"  # still Processing
    assert vendor.settle(transaction_id, 601)["status"] == "Success"
    assert vendor.order(order["purchaseOrderNumber"])["orderDetails"]["orderStatus"] == "SHIPPED"


def test_lines_may_ship_in_several_confirmations_but_never_beyond_the_order(vendor: Vendor) -> None:
    order = _accepted_order(vendor)
    po = order["purchaseOrderNumber"]
    first = _submit(vendor, "shipmentConfirmations", "submitShipmentConfirmations",
                    {"shipmentConfirmations": [_confirmation(order, quantities={1: 1})]})
    assert vendor.settle(first, 601)["status"] == "Success"
    assert vendor.order(po)["orderDetails"]["orderStatus"] == "ACCEPTED"
    too_many = _submit(vendor, "shipmentConfirmations", "submitShipmentConfirmations",
                       {"shipmentConfirmations": [_confirmation(order, quantities={1: 2, 2: 1})]})
    failed = vendor.settle(too_many, 601)
    assert failed["status"] == "Failure" and "1 unit(s) left to ship" in failed["errors"]["errors"][0]["message"]
    rest = _submit(vendor, "shipmentConfirmations", "submitShipmentConfirmations",
                   {"shipmentConfirmations": [_confirmation(order, quantities={1: 1, 2: 1})]})
    assert vendor.settle(rest, 601)["status"] == "Success"
    assert vendor.order(po)["orderDetails"]["orderStatus"] == "SHIPPED"


def test_an_order_not_accepted_does_not_ship(vendor: Vendor) -> None:
    order = _accepted_order(vendor, accept=False)
    transaction_id = _submit(vendor, "shipmentConfirmations", "submitShipmentConfirmations",
                             {"shipmentConfirmations": [_confirmation(order)]})
    failed = vendor.settle(transaction_id, 601)
    assert failed["status"] == "Failure" and "only an accepted order ships" in failed["errors"]["errors"][0]["message"]


def test_a_floor_denial_cancels_the_order(vendor: Vendor) -> None:
    order = _accepted_order(vendor)
    transaction_id = _submit(vendor, "shipmentConfirmations", "submitShipmentConfirmations",
                             {"shipmentConfirmations": [_confirmation(order, status="FLOOR_DENIAL")]})
    assert vendor.settle(transaction_id, 601)["status"] == "Success"
    assert vendor.order(order["purchaseOrderNumber"])["orderDetails"]["orderStatus"] == "CANCELLED"
    assert vendor.http.get("/_sandbox/stats").json()["df_floor_denials"] == 1


def test_status_updates_follow_a_shipped_package_by_its_tracking_number(vendor: Vendor) -> None:
    order = _accepted_order(vendor)
    po = order["purchaseOrderNumber"]
    vendor.settle(_submit(vendor, "shipmentConfirmations", "submitShipmentConfirmations",
                          {"shipmentConfirmations": [_confirmation(order, tracking="1ZKNOWN")]}), 601)

    def update(tracking: str) -> dict:
        return {"shipmentStatusUpdates": [{
            "purchaseOrderNumber": po, "sellingParty": {"partyId": VENDOR}, "shipFromParty": {"partyId": "EAST1"},
            "statusUpdateDetails": {"trackingNumber": tracking, "statusCode": "D1", "reasonCode": "NS",
                                    "statusDateTime": "2026-01-03T15:00:00Z", "statusLocationAddress": {
                                        "name": "Depot", "addressLine1": "1 Depot Rd", "countryCode": "US"}}}]}

    known = _submit(vendor, "shipmentStatusUpdates", "submitShipmentStatusUpdates", update("1ZKNOWN"))
    unknown = _submit(vendor, "shipmentStatusUpdates", "submitShipmentStatusUpdates", update("1ZNOPE"))
    assert vendor.settle(known, 601)["status"] == "Success"
    failed = vendor.settle(unknown, 1)
    assert failed["status"] == "Failure" and "1ZNOPE is not a package" in failed["errors"]["errors"][0]["message"]


def test_labels_asked_for_asynchronously_appear_in_the_label_list(vendor: Vendor) -> None:
    start = vendor.now()
    order = _accepted_order(vendor)
    po = order["purchaseOrderNumber"]
    missing = vendor.call("GET", f"{BASE}/shippingLabels/{po}")
    assert missing.status_code == 404 and assert_response(DF_SHIPPING, "getShippingLabel", missing)
    transaction_id = _submit(vendor, "shippingLabels", "submitShippingLabelRequest", {"shippingLabelRequests": [{
        "purchaseOrderNumber": po, "sellingParty": {"partyId": VENDOR}, "shipFromParty": {"partyId": "EAST1"}}]})
    assert vendor.settle(transaction_id, 61)["status"] == "Success"
    label = assert_response(DF_SHIPPING, "getShippingLabel", vendor.call("GET", f"{BASE}/shippingLabels/{po}"))
    (data,) = label["labelData"]
    assert label["labelFormat"] == "ZPL" and data["trackingNumber"].startswith("1Z")
    zpl = base64.b64decode(data["content"]).decode()
    assert zpl.startswith("^XA") and data["trackingNumber"] in zpl and order["orderDetails"]["shipToParty"]["name"] in zpl
    listed = assert_response(DF_SHIPPING, "getShippingLabels", vendor.call("GET", f"{BASE}/shippingLabels", params={
        "createdAfter": _iso(start), "createdBefore": _iso(vendor.now() + 1), "shipFromPartyId": "EAST1"}))
    assert [x["purchaseOrderNumber"] for x in listed["shippingLabels"]] == [po]
    # the label's tracking number is one a status update may name, once shipped
    shipped = _submit(vendor, "shipmentConfirmations", "submitShipmentConfirmations",
                      {"shipmentConfirmations": [_confirmation(order, tracking=data["trackingNumber"])]})
    assert vendor.settle(shipped, 601)["status"] == "Success"


def test_labels_at_once_for_one_order_and_only_for_an_accepted_one(vendor: Vendor) -> None:
    new = _accepted_order(vendor, accept=False)
    body = {"sellingParty": {"partyId": VENDOR}, "shipFromParty": {"partyId": "EAST1"}, "containers": [
        {"containerType": "Carton", "containerIdentifier": c, "weight": {"unitOfMeasure": "KG", "value": "1"},
         "packedItems": [{"itemSequenceNumber": 1, "packedQuantity": {"amount": 1, "unitOfMeasure": "Each"}}]}
        for c in ("BOX1", "BOX2")]}
    assert body_errors(DF_SHIPPING, "createShippingLabels", body) == []
    refused = vendor.call("POST", f"{BASE}/shippingLabels/{new['purchaseOrderNumber']}", json=body)
    assert refused.status_code == 400 and assert_response(DF_SHIPPING, "createShippingLabels", refused)
    order = _accepted_order(vendor)
    made = vendor.call("POST", f"{BASE}/shippingLabels/{order['purchaseOrderNumber']}", json=body)
    label = assert_response(DF_SHIPPING, "createShippingLabels", made)
    assert [d["packageIdentifier"] for d in label["labelData"]] == ["BOX1", "BOX2"]
    again = vendor.call("POST", f"{BASE}/shippingLabels/{order['purchaseOrderNumber']}", json=body)
    assert again.json() == label  # asking again returns the labels it has
    unknown = vendor.call("POST", f"{BASE}/shippingLabels/NOSUCHPO", json=body)
    assert unknown.status_code == 404 and assert_response(DF_SHIPPING, "createShippingLabels", unknown)


def test_packing_slips_for_the_orders_that_need_one(vendor: Vendor) -> None:
    start = vendor.now()
    gift = _accepted_order(vendor, lines=((0, 1),), accept=False, gift_message="For you")
    listed = assert_response(DF_SHIPPING, "getPackingSlips", vendor.call("GET", f"{BASE}/packingSlips", params={
        "createdAfter": _iso(start), "createdBefore": _iso(vendor.now() + 1)}))
    assert gift["purchaseOrderNumber"] in [s["purchaseOrderNumber"] for s in listed["packingSlips"]]
    slip = assert_response(DF_SHIPPING, "getPackingSlip",
                           vendor.call("GET", f"{BASE}/packingSlips/{gift['purchaseOrderNumber']}"))
    pdf = base64.b64decode(slip["content"])
    assert slip["contentType"] == "application/pdf" and pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    assert b"Gift message: For you" in pdf
    skus = [item["sku"] for item in vendor.items()]
    none_needed = [po for po in _released_orders(vendor, start) if not vendor.order(po)["orderDetails"]["shipmentDetails"]
                   ["isPslipRequired"]]
    while not none_needed:  # orders draw whether they need a slip (30%): place until one does not
        vendor.shop((skus[0], 1), warehouse="EAST1")
        vendor.advance(121)
        none_needed = [po for po in _released_orders(vendor, start)
                       if not vendor.order(po)["orderDetails"]["shipmentDetails"]["isPslipRequired"]]
    absent = vendor.call("GET", f"{BASE}/packingSlips/{none_needed[0]}")
    assert absent.status_code == 404 and assert_response(DF_SHIPPING, "getPackingSlip", absent)


def test_document_lists_take_a_window_of_at_most_seven_days(vendor: Vendor) -> None:
    now = vendor.now()
    for path, operation in (("shippingLabels", "getShippingLabels"), ("packingSlips", "getPackingSlips")):
        wide = vendor.call("GET", f"{BASE}/{path}", params={"createdAfter": _iso(now - 8 * 86400),
                                                             "createdBefore": _iso(now)})
        assert wide.status_code == 400 and "7 days" in wide.json()["errors"][0]["details"]
        assert_response(DF_SHIPPING, operation, wide)
        unbounded = vendor.call("GET", f"{BASE}/{path}")
        assert unbounded.status_code == 400 and assert_response(DF_SHIPPING, operation, unbounded)


def test_label_lists_page_completely(vendor: Vendor) -> None:
    start = vendor.now()
    pos = [_accepted_order(vendor, lines=((n % 3, 1),))["purchaseOrderNumber"] for n in range(7)]
    transaction_id = _submit(vendor, "shippingLabels", "submitShippingLabelRequest", {"shippingLabelRequests": [
        {"purchaseOrderNumber": po, "sellingParty": {"partyId": VENDOR}, "shipFromParty": {"partyId": "EAST1"}}
        for po in pos]})
    vendor.settle(transaction_id, 61)
    seen, token = [], None
    while True:
        params = {"createdAfter": _iso(start), "createdBefore": _iso(vendor.now() + 1), "limit": 3}
        body = assert_response(DF_SHIPPING, "getShippingLabels", vendor.call(
            "GET", f"{BASE}/shippingLabels", params={**params, **({"nextToken": token} if token else {})}))
        seen += [label["purchaseOrderNumber"] for label in body["shippingLabels"]]
        token = body.get("pagination", {}).get("nextToken")
        if not token:
            break
    assert sorted(seen) == sorted(pos)


def _iso(ts: float) -> str:
    from omnihub_sandbox.spapi.clock import iso

    return iso(ts)


def _released_orders(vendor: Vendor, start: float) -> list[str]:
    body = vendor.orders(start, vendor.now() + 1, limit=100).json()
    return [o["purchaseOrderNumber"] for o in body["orders"]]
