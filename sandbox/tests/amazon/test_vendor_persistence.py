"""The Vendor sandbox is a world of its own file: a restarted sandbox carries on where it was
(orders, stock, transactions, its clock), and while served, time passes by itself."""

from __future__ import annotations

import sqlite3
import time

import httpx

from amazon_vendor_harness import TestClient, Vendor, create_app


def test_a_restarted_sandbox_carries_on(make_vendor_config) -> None:
    config = make_vendor_config(transaction_seconds={"inventory": (50.0, 50.0)})
    app = create_app(config)
    vendor = Vendor(TestClient(app, base_url="http://vendor.test"), config)
    sku = vendor.items()[0]["sku"]
    vendor.settle(vendor.declare("EAST1", {sku: 3}).json()["payload"]["transactionId"], 51)
    po = vendor.shop((sku, 1)).json()["purchaseOrderNumber"]
    pending = vendor.declare("EAST1", {sku: 9}).json()["payload"]["transactionId"]
    vendor.advance(200)  # the order is released; the update is done
    before = vendor.now()
    items = vendor.items()
    app.state.sandbox.store.close()

    again = create_app(config)
    restarted = Vendor(TestClient(again, base_url="http://vendor.test"), config)
    assert restarted.now() >= before  # the clock offset survived
    assert restarted.order(po)["orderDetails"]["orderStatus"] == "NEW"
    assert restarted.transaction(pending).json()["transactionStatus"]["status"] == "Success"
    assert restarted.stock()["EAST1"][sku] == {"sellable": 9, "declared": 9}
    assert restarted.items() == items  # seeded once, not twice
    again.state.sandbox.store.close()


def test_while_served_transactions_settle_by_themselves(make_vendor_config, serve) -> None:
    config = make_vendor_config(clock=time.time, tick_seconds=0.05, transaction_seconds={"inventory": (0.2, 0.3)})
    with serve(create_app(config)) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        vendor = Vendor(client, config)
        transaction_id = vendor.declare("WEST1", {vendor.items()[0]["sku"]: 2}).json()["payload"]["transactionId"]
        deadline = time.monotonic() + 20
        status = "Processing"
        while status == "Processing" and time.monotonic() < deadline:
            time.sleep(0.1)
            # read the file itself: any call to the sandbox would catch up on its own
            with sqlite3.connect(config.state_path) as db:
                (status,) = db.execute("SELECT status FROM transactions WHERE transaction_id = ?",
                                       (transaction_id,)).fetchone()
        assert status == "Success"
        assert vendor.transaction(transaction_id).json()["transactionStatus"]["status"] == "Success"
