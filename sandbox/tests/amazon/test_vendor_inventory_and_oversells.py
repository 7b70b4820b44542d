"""Vendor Direct Fulfillment Inventory v1 and the stock Amazon sells from: partial and full
updates (a full update marks every item left out unavailable), updates that fail with the
model's error shape, Amazon selling from the old number while an update is Processing, and
the sandbox's own count of units sold that the vendor had not declared available."""

from __future__ import annotations

from amazon_vendor_harness import DF_INVENTORY, DF_TRANSACTIONS, VENDOR, Vendor
from spapi_contract import assert_response, body_errors

INVENTORY = "/vendor/directFulfillment/inventory/v1/warehouses/{}/items"


def _transaction(answer) -> str:
    assert answer.status_code == 202, answer.text
    return assert_response(DF_INVENTORY, "submitInventoryUpdate", answer)["payload"]["transactionId"]


def _settled(vendor: Vendor, transaction_id: str, seconds: float = 120) -> dict:
    vendor.advance(seconds)
    return assert_response(DF_TRANSACTIONS, "getTransactionStatus", vendor.transaction(transaction_id))["transactionStatus"]


def test_a_partial_update_sets_what_it_names_and_keeps_the_rest(vendor: Vendor) -> None:
    a, b, c, *_ = [item["sku"] for item in vendor.items()]
    assert _settled(vendor, _transaction(vendor.declare("EAST1", {a: 5, b: 7, c: 9})))["status"] == "Success"
    assert _settled(vendor, _transaction(vendor.declare("EAST1", {b: 1})))["status"] == "Success"
    east = vendor.stock()["EAST1"]
    assert (east[a]["sellable"], east[b]["sellable"], east[c]["sellable"]) == (5, 1, 9)
    assert all(row["sellable"] == 0 for row in vendor.stock()["WEST1"].values())  # per warehouse


def test_a_full_update_marks_every_item_left_out_as_unavailable(vendor: Vendor) -> None:
    skus = [item["sku"] for item in vendor.items()]
    _settled(vendor, _transaction(vendor.declare("EAST1", {sku: 4 for sku in skus})))
    _settled(vendor, _transaction(vendor.declare("WEST1", {sku: 4 for sku in skus})))
    _settled(vendor, _transaction(vendor.declare("EAST1", {skus[0]: 2}, full=True)))
    east = vendor.stock()["EAST1"]
    assert east[skus[0]] == {"sellable": 2, "declared": 2}
    assert all(east[sku] == {"sellable": 0, "declared": 0} for sku in skus[1:])
    assert all(row["sellable"] == 4 for row in vendor.stock()["WEST1"].values())  # the other warehouse is untouched
    refused = vendor.shop((skus[1], 1), warehouse="EAST1")
    assert refused.status_code == 409 and refused.json()["error"] == "insufficient_quantity"
    empty = _transaction(vendor.declare("WEST1", {}, full=True))  # a full update of nothing: nothing is available
    _settled(vendor, empty)
    assert all(row["sellable"] == 0 for row in vendor.stock()["WEST1"].values())


def test_obsolete_items_become_unavailable(vendor: Vendor) -> None:
    sku = vendor.items()[0]["sku"]
    _settled(vendor, _transaction(vendor.declare("EAST1", {sku: 6})))
    obsolete = vendor.call("POST", INVENTORY.format("EAST1"), json={"inventory": {
        "sellingParty": {"partyId": VENDOR}, "isFullUpdate": False, "items": [
            {"vendorProductIdentifier": sku, "availableQuantity": {"amount": 6, "unitOfMeasure": "Each"},
             "isObsolete": True}]}})
    _settled(vendor, _transaction(obsolete))
    assert vendor.stock()["EAST1"][sku]["sellable"] == 0


def test_an_update_that_names_an_unknown_item_or_a_foreign_warehouse_fails_whole(vendor: Vendor) -> None:
    items = vendor.items()
    known = items[0]["sku"]
    _settled(vendor, _transaction(vendor.declare("EAST1", {known: 3})))
    unknown = _transaction(vendor.declare("EAST1", {known: 8, "NOT-OURS": 2}))
    foreign = _transaction(vendor.declare("ELSEWHERE9", {known: 5}))
    by_asin = vendor.call("POST", INVENTORY.format("EAST1"), json={"inventory": {
        "sellingParty": {"partyId": VENDOR}, "isFullUpdate": False, "items": [
            {"vendorProductIdentifier": known, "buyerProductIdentifier": items[1]["asin"],
             "availableQuantity": {"amount": 1, "unitOfMeasure": "Each"}}]}})
    mismatch = _transaction(by_asin)
    assert vendor.stock()["EAST1"][known]["declared"] == 3  # failures declare nothing
    for transaction_id, expected in ((unknown, "NOT-OURS is not an item"), (foreign, "ELSEWHERE9 is not a warehouse"),
                                     (mismatch, "name different items")):
        status = _settled(vendor, transaction_id)
        assert status["status"] == "Failure", status
        assert any(expected in e["message"] for e in status["errors"]["errors"]), status
    assert vendor.stock()["EAST1"][known] == {"sellable": 3, "declared": 3}


def test_a_malformed_update_is_a_400(vendor: Vendor) -> None:
    url = INVENTORY.format("EAST1")
    for body in ({}, {"inventory": {"sellingParty": {"partyId": VENDOR}, "items": []}},
                 {"inventory": {"sellingParty": {"partyId": VENDOR}, "isFullUpdate": "yes", "items": []}},
                 {"inventory": {"sellingParty": {"partyId": VENDOR}, "isFullUpdate": False,
                                "items": [{"vendorProductIdentifier": "X", "availableQuantity": {"amount": 1}}]}},
                 {"inventory": {"sellingParty": {"partyId": VENDOR}, "isFullUpdate": False,
                                "items": [{"vendorProductIdentifier": "X",
                                           "availableQuantity": {"amount": "1", "unitOfMeasure": "Each"}}]}}):
        answer = vendor.call("POST", url, json=body)
        assert answer.status_code == 400, (body, answer.text)
        assert assert_response(DF_INVENTORY, "submitInventoryUpdate", answer)["errors"][0]["code"] == "InvalidInput"
    missing = vendor.call("POST", url)
    assert missing.status_code == 400 and assert_response(DF_INVENTORY, "submitInventoryUpdate", missing)


def test_amazon_sells_from_the_old_number_while_an_update_is_processing(make_vendor_config, clock) -> None:
    """Declared 5, the vendor lowers it to 1: until that update is processed Amazon sells
    from 5; the units beyond the vendor's 1 are oversold, and the sandbox counts them."""
    from amazon_vendor_harness import TestClient, create_app

    config = make_vendor_config(transaction_seconds={"inventory": (30.0, 30.0)})
    vendor = Vendor(TestClient(create_app(config), base_url="http://vendor.test"), config)
    sku = vendor.items()[0]["sku"]
    _settled(vendor, _transaction(vendor.declare("EAST1", {sku: 5})), 31)
    lowered = _transaction(vendor.declare("EAST1", {sku: 1}))
    assert vendor.stock()["EAST1"][sku] == {"sellable": 5, "declared": 1}
    placed = [vendor.shop((sku, 1), warehouse="EAST1") for _ in range(3)]
    assert [p.status_code for p in placed] == [201, 201, 201]
    assert [p.json()["oversold_units"] for p in placed] == [0, 1, 1]
    report = vendor.oversells()
    assert (report["units"], report["events"], report["by_sku"], report["by_warehouse"]) == (2, 2, {sku: 2}, {"EAST1": 2})
    assert _settled(vendor, lowered, 31)["status"] == "Success"
    assert vendor.stock()["EAST1"][sku] == {"sellable": 1, "declared": -2}  # Amazon applies the vendor's absolute 1
    assert vendor.shop((sku, 1), warehouse="EAST1").json()["oversold_units"] == 1
    assert vendor.oversells()["units"] == 3
    assert vendor.shop((sku, 1), warehouse="EAST1").status_code == 409  # never beyond what it holds as sellable


def test_a_vendor_that_keeps_amazon_told_is_never_oversold(vendor: Vendor) -> None:
    """The vendor's number, lowered after each order it sees and processed before the next
    shopper comes, is exactly what Amazon sells: nothing oversold, the last unit sold once."""
    sku = vendor.items()[0]["sku"]
    on_hand = 4
    _settled(vendor, _transaction(vendor.declare("WEST1", {sku: on_hand})))
    while True:
        answer = vendor.shop((sku, 1), warehouse="WEST1")
        if answer.status_code == 409:
            break
        on_hand -= 1
        _settled(vendor, _transaction(vendor.declare("WEST1", {sku: on_hand})))
    assert on_hand == 0 and vendor.oversells()["units"] == 0


def test_a_later_update_is_never_undone_by_an_earlier_one_processed_after_it(make_vendor_config) -> None:
    from amazon_vendor_harness import TestClient, create_app

    config = make_vendor_config(transaction_seconds={"inventory": (10.0, 100.0)}, seed=3)
    vendor = Vendor(TestClient(create_app(config), base_url="http://vendor.test"), config)
    sku = vendor.items()[0]["sku"]
    for n in range(12):
        _transaction(vendor.declare("EAST1", {sku: n}))
        vendor.advance(1)
    vendor.advance(200)
    assert vendor.stock()["EAST1"][sku] == {"sellable": 11, "declared": 11}


def test_the_updates_the_tests_send_are_valid_requests(vendor: Vendor) -> None:
    sent = {}
    real = vendor.call

    def capture(method, url, **kw):
        sent["body"] = kw.get("json")
        return real(method, url, **kw)

    vendor.call = capture  # type: ignore[method-assign]
    vendor.declare("EAST1", {vendor.items()[0]["sku"]: 1}, full=True)
    assert body_errors(DF_INVENTORY, "submitInventoryUpdate", sent["body"]) == []
