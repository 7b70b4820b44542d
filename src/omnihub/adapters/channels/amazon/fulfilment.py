"""Telling Amazon that the hub shipped a parcel: Orders v0 `confirmShipment` with the
order items, carrier and tracking number.

Amazon answers 400 when the order is already Shipped; that answer after an earlier
attempt whose reply was lost is success, not failure, so a 400 is checked against
getOrder before it is reported. Amazon requires a tracking number and a carrier code:
a parcel without tracking is refused here, visibly, rather than sent half-filled.
"""

from __future__ import annotations

from datetime import UTC

from omnihub.adapters.channels.amazon.sp_api_client import SpApiError
from omnihub.domain.channel_fulfilment import NoticeRefused, ShipmentNotice, Told

# Amazon's own carrier codes for the common carriers; anything else is "Other" + its name.
CARRIER_CODES = {"ups": "UPS", "usps": "USPS", "fedex": "FedEx", "dhl": "DHL", "ontrac": "OnTrac", "lasership": "LaserShip"}


def confirmation_body(notice: ShipmentNotice, marketplace_id: str) -> dict:
    if not notice.tracking_number:
        raise NoticeRefused("Amazon needs a tracking number to confirm a shipment")
    carrier = (notice.carrier or "").strip()
    code = CARRIER_CODES.get(carrier.lower().replace(" ", ""), "Other")
    package = {"packageReferenceId": str(notice.reference or 1), "carrierCode": code,
               "trackingNumber": notice.tracking_number,
               "shipDate": notice.shipped_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
               "orderItems": [{"orderItemId": str(i), "quantity": int(q)} for i, q in notice.lines]}
    if code == "Other":
        package["carrierName"] = carrier or "Other"
    return {"marketplaceId": marketplace_id, "packageDetail": package}


class AmazonFulfilmentNotifier:
    def __init__(self, client) -> None:
        self.client = client

    def tell(self, notice: ShipmentNotice) -> Told:
        body = confirmation_body(notice, self.client.marketplace_id)
        try:
            self.client.confirm_shipment(notice.order_external_id, body)
        except SpApiError as exc:
            if exc.retryable or not 400 <= exc.status < 500:
                raise
            try:
                status = (self.client.get_order(notice.order_external_id) or {}).get("OrderStatus")
            except SpApiError:
                status = None
            if status == "Shipped":
                return Told(None, "already Shipped on Amazon")
            raise NoticeRefused(str(exc)) from exc
        return Told(None)
