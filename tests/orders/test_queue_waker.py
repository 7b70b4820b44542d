"""Orders waiting in the brokering queue are routed as soon as their stock arrives, not
at the queue's next timed retry (five minutes later)."""

from __future__ import annotations

import time

from tests.orders.conftest import order, position, stock


def _until(check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    return check()


def test_a_receipt_routes_the_order_that_waited_for_it_at_once(estate, hub):
    """Given an online order for boots that no location has, queued; when the warehouse
    receives boots, then the order is allocated from that receipt with no one retrying
    the queue (its timed retry is five minutes away), and the unit is reserved there."""
    queued = order(estate, ("BOOT-42", 1), external_id="#5001")
    assert queued["state"] == "brokering", queued
    oid = queued["order_id"]
    assert estate.get(f"/api/v1/orders/{oid}").json()["brokering_queue"] is not None

    stock(estate, "BOOT-42", "WH-NJ", 3)
    got = _until(lambda: (lambda o: o if o["state"] == "allocated" else None)(estate.get(f"/api/v1/orders/{oid}").json()))
    assert got and got["state"] == "allocated", got
    assert got["brokering_queue"] is None
    assert [a["location"] for a in got["assignments"]] == ["WH-NJ"]
    assert position(estate, "BOOT-42", "WH-NJ")["reserved"] == 1


def test_a_receipt_of_another_sku_routes_nothing_and_reads_no_order(estate, hub):
    """Stock of a SKU no order waits for leaves the queued order where it is (the waker
    finds no demand for that SKU and reads no order document)."""
    queued = order(estate, ("BOOT-42", 1), external_id="#5002")
    stock(estate, "SHELL-M", "WH-NJ", 3)
    assert hub.queue_waker.waiting_for(["SHELL-M"]) == []
    assert hub.queue_waker.waiting_for(["BOOT-42"]) == [queued["order_id"]]
    assert estate.get(f"/api/v1/orders/{queued['order_id']}").json()["state"] == "brokering"
