"""Telling Shopify that the hub shipped a parcel: `fulfillmentCreate` over the order's open
fulfillment orders, with the carrier and tracking number.

Shopify fulfils fulfillment-order line items, not order lines, so the order's fulfillment
orders are read first and the hub's lines (Shopify line item ids) are matched to them.
The same read makes the call idempotent: a fulfillment that already carries this
tracking number, or an order with nothing left to fulfil for these lines, means Shopify
was told before (an earlier attempt whose answer was lost) and nothing is sent again.
"""

from __future__ import annotations

from omnihub.adapters.channels.shopify import documents as docs
from omnihub.adapters.channels.shopify.admin_client import ShopifyError
from omnihub.domain.channel_fulfilment import NoticeRefused, ShipmentNotice, Told

OPEN_STATUSES = ("OPEN", "IN_PROGRESS")


def _numeric(gid: str | None) -> str:
    return (gid or "").rsplit("/", 1)[-1]


def fulfilment_input(notice: ShipmentNotice, order: dict) -> dict | None:
    """The FulfillmentInput for `notice`, or None when nothing is left to fulfil."""
    wanted = {}
    for line_id, units in notice.lines:
        wanted[str(line_id)] = wanted.get(str(line_id), 0) + int(units)
    groups: list[dict] = []
    for fo in (order.get("fulfillmentOrders") or {}).get("nodes") or []:
        if fo.get("status") not in OPEN_STATUSES:
            continue
        items = []
        for item in (fo.get("lineItems") or {}).get("nodes") or []:
            line_id = _numeric((item.get("lineItem") or {}).get("id"))
            take = min(wanted.get(line_id, 0), int(item.get("remainingQuantity") or 0))
            if take > 0:
                items.append({"id": item["id"], "quantity": take})
                wanted[line_id] -= take
        if items:
            groups.append({"fulfillmentOrderId": fo["id"], "fulfillmentOrderLineItems": items})
    if not groups:
        return None
    data: dict = {"lineItemsByFulfillmentOrder": groups, "notifyCustomer": True}
    tracking = {k: v for k, v in (("company", notice.carrier), ("number", notice.tracking_number)) if v}
    if tracking:
        data["trackingInfo"] = tracking
    return data


class ShopifyFulfilmentNotifier:
    def __init__(self, client) -> None:
        self.client = client

    def tell(self, notice: ShipmentNotice) -> Told:
        try:
            return self._tell(notice)
        except ShopifyError as exc:
            if exc.retryable:
                raise
            raise NoticeRefused(str(exc)) from exc  # auth or document errors: a retry cannot fix them

    def _tell(self, notice: ShipmentNotice) -> Told:
        if not notice.order_external_id.isdigit():
            raise NoticeRefused(f"Shopify order id {notice.order_external_id!r} is not numeric")
        data = self.client.execute(docs.ORDER_FULFILMENT_STATE, {"id": f"gid://shopify/Order/{notice.order_external_id}"})
        order = data.get("order")
        if not order:
            raise NoticeRefused(f"Shopify has no order {notice.order_external_id}")
        if notice.tracking_number:
            for f in order.get("fulfillments") or []:
                if any(t.get("number") == notice.tracking_number for t in f.get("trackingInfo") or []):
                    return Told(_numeric(f.get("id")), "already fulfilled with this tracking number")
        if order.get("cancelledAt"):
            raise NoticeRefused(f"Shopify order {notice.order_external_id} is cancelled")
        fulfillment = fulfilment_input(notice, order)
        if fulfillment is None:
            return Told(None, "nothing left to fulfil on Shopify for these lines")
        answer = self.client.execute(docs.FULFILLMENT_CREATE, {"fulfillment": fulfillment})["fulfillmentCreate"]
        if answer.get("userErrors"):
            raise NoticeRefused(f"fulfillmentCreate refused: {answer['userErrors'][:3]}")
        return Told(_numeric((answer.get("fulfillment") or {}).get("id")))
