"""Acting on orders: acknowledge, ship with tracking (per line, partial), deliver, cancel with a
reason, refund, Walmart's own auto-cancellation; and what each does to stock and shelf."""

from __future__ import annotations

from omnihub_sandbox.walmart.contract import problems
from walmart_sandbox_harness import Seller

SKU, OTHER = "WM-00001", "WM-00002"


def _statuses(order: dict, line: int = 1) -> list[tuple[str, str]]:
    entry = order["orderLines"]["orderLine"][line - 1]
    return [(s["status"], s["statusQuantity"]["amount"]) for s in entry["orderLineStatuses"]["orderLineStatus"]]


def _order_of(answer) -> dict:
    assert answer.status_code == 200, answer.text
    assert problems("OrderResponse", answer.json()) == []
    return dict(answer.json()["order"])


def _setup(seller: Seller) -> str:
    seller.set_item(SKU, **{"10001": {"quantity": 10, "shelf": 10}})
    seller.set_item(OTHER, **{"10001": {"quantity": 10, "shelf": 10}})
    return seller.bought((SKU, 3), (OTHER, 1), ship_node="10001")


def test_acknowledge_ship_in_parts_and_deliver(seller: Seller, clock) -> None:
    po = _setup(seller)
    assert _statuses(_order_of(seller.acknowledge(po))) == [("Acknowledged", "3")]
    assert seller.acknowledge(po).status_code == 200  # again: harmless
    shipped = _order_of(seller.ship(po, (1, 2), tracking="1Z1"))
    assert _statuses(shipped) == [("Acknowledged", "1"), ("Shipped", "2")]
    tracking = shipped["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"][1]["trackingInfo"]
    assert tracking["carrierName"] == {"carrier": "UPS"} and tracking["trackingNumber"] == "1Z1"
    assert seller.item(SKU)["nodes"]["10001"] == {"input_qty": 8, "reserved": 1, "avail_to_sell": 7, "shelf": 7}
    both = _order_of(seller.ship(po, (1, 1), (2, 1), carrier="FedEx", tracking="7777"))
    assert _statuses(both) == [("Shipped", "2"), ("Shipped", "1")] and _statuses(both, 2) == [("Shipped", "1")]
    clock.advance(3 * 86400)
    delivered = seller.order(po)
    assert _statuses(delivered) == [("Delivered", "2"), ("Delivered", "1")]
    listed = seller.call("GET", "/v3/orders", params={"status": "Delivered"}).json()["list"]["elements"]["order"]
    assert [o["purchaseOrderId"] for o in listed] == [po]


def test_shipping_refusals_change_nothing(seller: Seller) -> None:
    po = _setup(seller)
    before = seller.order(po)
    not_acknowledged = seller.ship(po, (1, 1))
    assert not_acknowledged.status_code == 400 and "acknowledged" in not_acknowledged.json()["errors"][0]["description"]
    seller.acknowledge(po)
    before = seller.order(po)
    for answer in (seller.ship(po, (1, 4)), seller.ship(po, (9, 1)), seller.ship(po, (1, 1), carrier="Pony Express"),
                   seller.ship(po, (1, 1), carrierName={"otherCarrier": "Local Courier"}, trackingURL=None),
                   seller.ship(po, (1, 1), methodCode="Teleport"), seller.ship(po, (1, 0))):
        assert answer.status_code == 400, answer.text
        assert problems("ErrorResponse", answer.json()) == []
    assert seller.order(po) == before
    other = seller.ship(po, (1, 1), carrierName={"otherCarrier": "Local Courier"}, trackingURL="https://courier.test/1")
    assert _order_of(other)["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"][-1]["trackingInfo"][
        "carrierName"] == {"otherCarrier": "Local Courier"}


def test_cancel_with_a_reason_frees_the_units(seller: Seller) -> None:
    po = _setup(seller)
    missing_reason = seller.call("POST", f"/v3/orders/{po}/cancel", json={"orderCancellation": {"orderLines": {"orderLine": [
        {"lineNumber": "1", "orderLineStatuses": {"orderLineStatus": [
            {"status": "Cancelled", "statusQuantity": {"unitOfMeasurement": "EACH", "amount": "1"}}]}}]}}})
    assert missing_reason.status_code == 400
    cancelled = _order_of(seller.cancel(po, (1, 2), reason="CUSTOMER_REQUESTED_SELLER_TO_CANCEL"))
    entries = cancelled["orderLines"]["orderLine"][0]["orderLineStatuses"]["orderLineStatus"]
    assert [(e["status"], e["statusQuantity"]["amount"], e.get("cancellationReason")) for e in entries] == [
        ("Created", "1", None), ("Cancelled", "2", "CUSTOMER_REQUESTED_SELLER_TO_CANCEL")]
    assert seller.item(SKU)["nodes"]["10001"] == {"input_qty": 10, "reserved": 1, "avail_to_sell": 9, "shelf": 9}
    seller.acknowledge(po)
    seller.ship(po, (1, 1))
    assert seller.cancel(po, (1, 1)).status_code == 400  # shipped units cannot be cancelled
    assert seller.http.get("/_sandbox/stats").json()["cancellations"] == 1


def test_refunds_need_a_shipment_and_stay_within_the_charge(seller: Seller) -> None:
    po = _setup(seller)

    def refund(amount: str, reason: str = "DamagedItem"):
        return seller.call("POST", f"/v3/orders/{po}/refund", json={"orderRefund": {"purchaseOrderId": po, "orderLines": {
            "orderLine": [{"lineNumber": "1", "refunds": {"refund": [{"refundComments": "damaged box", "refundCharges": {
                "refundCharge": [{"refundReason": reason, "charge": {
                    "chargeType": "PRODUCT", "chargeName": "Item Price",
                    "chargeAmount": {"currency": "USD", "amount": amount},
                    "tax": {"taxName": "Item Price Tax", "taxAmount": {"currency": "USD", "amount": "-0.50"}}}}]}}]}}]}}})

    assert refund("-5.00").status_code == 400  # not shipped
    seller.acknowledge(po)
    seller.ship(po, (1, 3))
    charged = seller.order(po)["orderLines"]["orderLine"][0]["charges"]["charge"][0]["chargeAmount"]["amount"]
    done = _order_of(refund("-5.00"))
    line = done["orderLines"]["orderLine"][0]
    assert line["refund"]["refundCharges"]["refundCharge"][0]["charge"]["chargeAmount"] == {"currency": "USD", "amount": -5.0}
    assert line["refund"]["refundComments"] == "damaged box"
    assert refund("5.00").status_code == 400  # refunds are negative amounts
    assert refund("-5.00", reason="Because").status_code == 400
    assert refund(f"-{charged:.2f}").status_code == 400  # 5.00 already refunded: this would exceed the charge
    assert seller.order(po)["orderLines"]["orderLine"][0]["refund"] == line["refund"]


def test_walmart_cancels_lines_not_shipped_in_time(seller: Seller, clock) -> None:
    po = _setup(seller)
    seller.acknowledge(po)
    seller.ship(po, (2, 1))
    clock.advance(2 * 86400 + 4 * 86400 - 1)  # estimated ship date (2 days) + 4 days of grace
    assert _statuses(seller.order(po)) == [("Acknowledged", "3")]
    clock.advance(1)
    order = seller.order(po)
    assert _statuses(order) == [("Cancelled", "3")] and _statuses(order, 2)[0][0] in ("Shipped", "Delivered")
    assert seller.item(SKU)["nodes"]["10001"]["reserved"] == 0 and seller.item(SKU)["nodes"]["10001"]["shelf"] == 10
    assert seller.http.get("/_sandbox/stats").json()["lines_autocancelled"] == 1


def test_acknowledgements_are_counted_on_time_or_late(seller: Seller, clock) -> None:
    first = _setup(seller)
    second = seller.bought((SKU, 1))
    seller.acknowledge(first)
    clock.advance(4 * 3600 + 1)
    seller.acknowledge(second)
    seller.acknowledge(second)
    stats = seller.http.get("/_sandbox/stats").json()
    assert (stats["acknowledged_on_time"], stats["acknowledged_late"]) == (1, 1)


def test_actions_on_unknown_orders_or_with_broken_bodies(seller: Seller) -> None:
    assert seller.acknowledge("1234567890123").status_code == 404
    po = _setup(seller)
    broken = seller.call("POST", f"/v3/orders/{po}/shipping", content=b"{", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.json()["errors"][0]["code"].startswith("MALFORMED_REQUEST_CONTENT")
    wrong_po = seller.call("POST", f"/v3/orders/{po}/refund", json={"orderRefund": {"purchaseOrderId": "1", "orderLines": {
        "orderLine": [{"lineNumber": "1", "refunds": {"refund": [{"refundCharges": {"refundCharge": [{
            "refundReason": "Others", "charge": {"chargeType": "PRODUCT", "chargeName": "x",
                                                 "chargeAmount": {"currency": "USD", "amount": -1}}}]}}]}}]}}})
    assert wrong_po.status_code == 400 and wrong_po.json()["errors"][0]["field"] == "purchaseOrderId"
