"""Every 202 settles through a transaction: Processing for a time drawn within its kind's
configured range, then Success or Failure; the Direct Fulfillment Transactions API and the
Vendor Transaction Status API each find their own, in their models' shapes."""

from __future__ import annotations

import pytest

from amazon_vendor_harness import DF_TRANSACTIONS, RETAIL_TRANSACTIONS, TestClient, Vendor, create_app
from omnihub_sandbox.amazon_vendor.config import DEFAULT_TRANSACTION_SECONDS
from omnihub_sandbox.amazon_vendor.lifecycle import PROCESSORS
from spapi_contract import assert_response

DF = "/vendor/directFulfillment/transactions/2021-12-28/transactions/{}"
RETAIL = "/vendor/transactions/v1/transactions/{}"


def test_every_kind_of_transaction_has_a_processor_and_a_delay() -> None:
    assert set(PROCESSORS) == set(DEFAULT_TRANSACTION_SECONDS)


def _vendor(make_vendor_config, **overrides) -> Vendor:
    config = make_vendor_config(**overrides)
    return Vendor(TestClient(create_app(config), base_url="http://vendor.test"), config)


def _status(vendor: Vendor, transaction_id: str) -> str:
    return assert_response(DF_TRANSACTIONS, "getTransactionStatus", vendor.transaction(transaction_id))[
        "transactionStatus"]["status"]


def test_processing_lasts_a_time_within_the_configured_range(make_vendor_config) -> None:
    vendor = _vendor(make_vendor_config, transaction_seconds={"inventory": (20.0, 40.0)})
    sku = vendor.items()[0]["sku"]
    ids = [vendor.declare("EAST1", {sku: n}).json()["payload"]["transactionId"] for n in range(20)]
    assert len(set(ids)) == 20
    vendor.advance(19.9)
    assert {_status(vendor, t) for t in ids} == {"Processing"}
    ended_by = []
    for second in range(20, 41):
        vendor.advance(1 if second > 20 else 0.1)
        ended_by.append(sum(_status(vendor, t) != "Processing" for t in ids))
    assert ended_by[-1] == 20 and 0 < ended_by[len(ended_by) // 2] < 20  # spread over the range, all done by 40 s
    assert {_status(vendor, t) for t in ids} == {"Success"}


def test_time_scale_shortens_every_delay(make_vendor_config) -> None:
    vendor = _vendor(make_vendor_config, time_scale=0.01)  # the default ranges, a hundred times faster
    sku = vendor.items()[0]["sku"]
    transaction_id = vendor.declare("EAST1", {sku: 1}).json()["payload"]["transactionId"]
    assert _status(vendor, transaction_id) == "Processing"
    vendor.advance(DEFAULT_TRANSACTION_SECONDS["inventory"][1] * 0.01 + 0.01)
    assert _status(vendor, transaction_id) == "Success"


def test_the_same_seed_draws_the_same_delays(make_vendor_config, tmp_path) -> None:
    def dues(path_name: str) -> list[float]:
        vendor = _vendor(make_vendor_config, state_path=tmp_path / path_name)
        sku = vendor.items()[0]["sku"]
        for n in range(5):
            vendor.declare("EAST1", {sku: n})
        return [t["due_at"] for t in vendor.http.get("/_sandbox/transactions").json()["transactions"]]

    assert dues("a.db") == dues("b.db")


def test_an_unknown_transaction_is_a_404_in_each_models_shape(vendor: Vendor) -> None:
    df = vendor.call("GET", DF.format("20260101000000-unknown"))
    assert df.status_code == 404 and df.json()["errors"][0]["code"] == "NotFound"
    assert_response(DF_TRANSACTIONS, "getTransactionStatus", df)  # the model's single Error object, and errors[]
    retail = vendor.call("GET", RETAIL.format("20260101000000-unknown"))
    assert retail.status_code == 404 and assert_response(RETAIL_TRANSACTIONS, "getTransaction", retail)
    sku = vendor.items()[0]["sku"]
    inventory = vendor.declare("EAST1", {sku: 1}).json()["payload"]["transactionId"]
    elsewhere = vendor.call("GET", RETAIL.format(inventory))  # a direct-fulfilment transaction is not a retail one
    assert elsewhere.status_code == 404


def test_a_retail_transaction_settles_in_the_vendor_transaction_status_shape(vendor: Vendor) -> None:
    sent = vendor.call("POST", "/vendor/orders/v1/acknowledgements", json={"acknowledgements": [{
        "purchaseOrderNumber": "NOSUCHPO", "sellingParty": {"partyId": "OMNIV"}, "acknowledgementDate":
            "2026-01-01T00:00:00Z", "items": [{"vendorProductIdentifier": "X", "orderedQuantity": {"amount": 1},
                                              "itemAcknowledgements": [{"acknowledgementCode": "Accepted",
                                                                        "acknowledgedQuantity": {"amount": 1}}]}]}]})
    assert sent.status_code == 202
    transaction_id = sent.json()["payload"]["transactionId"]
    answer = vendor.call("GET", RETAIL.format(transaction_id))
    assert assert_response(RETAIL_TRANSACTIONS, "getTransaction", answer)["payload"]["transactionStatus"]["status"] \
        == "Processing"
    vendor.advance(901)
    done = assert_response(RETAIL_TRANSACTIONS, "getTransaction", vendor.call("GET", RETAIL.format(transaction_id)))
    status = done["payload"]["transactionStatus"]
    assert status["status"] == "Failure" and "NOSUCHPO was not found" in status["errors"][0]["message"]


@pytest.mark.parametrize("kinds", [{"inventory": (-1.0, 5.0)}, {"inventory": (9.0, 5.0)}, {"no_such_kind": (1.0, 2.0)}])
def test_a_delay_range_must_make_sense(make_vendor_config, kinds) -> None:
    with pytest.raises(ValueError):
        make_vendor_config(transaction_seconds=kinds)
