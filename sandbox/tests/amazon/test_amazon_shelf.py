"""The sandbox keeps what Amazon cannot know, the seller's shelf, and counts the units it
sold beyond it (the hub sent too high a quantity); a cancellation puts units back. Its
orders list is Amazon's own count."""

from __future__ import annotations

from amazon_sandbox_harness import Seller


def test_units_sold_beyond_the_sellers_shelf_are_counted_by_the_sandbox(seller: Seller) -> None:
    seeded = seller.listings()[0]
    assert seeded["shelf"] == seeded["quantity"]  # a seeded seller has what it lists
    assert seller.http.put("/_sandbox/listings/OWN-1", json={"quantity": 3, "shelf": 1}).json()["shelf"] == 1
    first = seller.buy(("OWN-1", 2))
    assert first.status_code == 201, first.text
    report = seller.http.get("/_sandbox/oversells").json()
    assert (report["units"], report["events"], report["by_sku"]) == (1, 1, {"OWN-1": 1})
    seller.http.post(f"/_sandbox/orders/{first.json()['amazon_order_id']}/cancel").raise_for_status()
    assert {r["sku"]: r["shelf"] for r in seller.listings()}["OWN-1"] == 2  # back on the shelf, never shipped
    assert seller.http.put("/_sandbox/listings/NO-SHELF", json={"quantity": 2}).json()["shelf"] is None
    assert seller.buy(("NO-SHELF", 1)).status_code == 201
    assert seller.http.get("/_sandbox/oversells").json()["unchecked_units"] == 1
    orders = seller.http.get("/_sandbox/orders").json()
    assert sorted(o["status"] for o in orders["orders"]) == ["Canceled", "Pending"]
    assert orders["by_status"] == {"Canceled": 1, "Pending": 1}


def test_goods_received_grow_the_shelf_and_each_quantity_change_is_timed(seller: Seller, clock) -> None:
    sku = seller.listings()[0]["sku"]
    before = seller.http.get(f"/_sandbox/listings/{sku}").json()
    received = seller.http.post(f"/_sandbox/shelf/{sku}/receipts", json={"quantity": 2}).json()
    assert (received["shelf"], received["quantity"]) == (before["shelf"] + 2, before["quantity"])  # Amazon not told
    assert received["quantity_changed_at"] == before["quantity_changed_at"]
    clock.advance(5)
    assert seller.patch_quantity(sku, before["quantity"] + 2).status_code == 200  # the seller tells Amazon
    after = seller.http.get(f"/_sandbox/listings/{sku}").json()
    assert after["quantity"] == before["quantity"] + 2 and after["quantity_changed_at"] == clock()
    clock.advance(5)
    assert seller.buy((sku, 1)).status_code == 201
    assert seller.http.get(f"/_sandbox/listings/{sku}").json()["quantity_changed_at"] == clock()
    assert seller.http.get("/_sandbox/listings/NO-SUCH").status_code == 404
    assert seller.http.post("/_sandbox/shelf/NO-SUCH/receipts", json={"quantity": 1}).status_code == 404
