"""Telling Shopify that the hub shipped a parcel: `fulfillmentCreate` over the order's open
fulfillment orders, with the carrier and tracking number.

Shopify fulfils fulfillment-order line items, not order lines, so the order's fulfillment
orders are read first and the hub's lines (Shopify line item ids) are matched to them.
The same read makes the call idempotent: a fulfillment that already carries this
tracking number, or an order with nothing left to fulfil for these lines, means Shopify
was told before (an earlier attempt whose answer was lost) and nothing is sent again.

Shopify assigns each fulfillment order to a location when the order is placed; the hub
routes on its own and may ship from another one. Units are taken first from fulfillment
orders already assigned to the shipping location; the rest are moved there
(`fulfillmentOrderMove`, only the units shipped) and the fulfillment is created on the
moved fulfillment orders, so Shopify's stock and reports see the parcel leave where it
really left. A retry after a lost answer finds the units already at that location and
does not move them again.
"""

from __future__ import annotations

from omnihub.adapters.channels.shopify import documents as docs
from omnihub.adapters.channels.shopify.admin_client import ShopifyError
from omnihub.domain.channel_fulfilment import NoticeRefused, ShipmentNotice, Told

OPEN_STATUSES = ("OPEN", "IN_PROGRESS")


def _numeric(gid: str | None) -> str:
    return (gid or "").rsplit("/", 1)[-1]


def _at(fo: dict, location_id: str | None) -> bool:
    """Is the fulfillment order assigned to `location_id` (None: any location will do)?"""
    if location_id is None:
        return True
    assigned = ((fo.get("assignedLocation") or {}).get("location") or {}).get("id")
    return _numeric(assigned) == _numeric(location_id)


def allocate(notice: ShipmentNotice, order: dict) -> list[tuple[dict, list[dict]]]:
    """(open fulfillment order, [{id, quantity}]) covering the notice's lines, taking from
    fulfillment orders at the shipping location first."""
    wanted: dict[str, int] = {}
    for line_id, units in notice.lines:
        wanted[str(line_id)] = wanted.get(str(line_id), 0) + int(units)
    nodes = [fo for fo in (order.get("fulfillmentOrders") or {}).get("nodes") or [] if fo.get("status") in OPEN_STATUSES]
    out: list[tuple[dict, list[dict]]] = []
    for fo in sorted(nodes, key=lambda fo: not _at(fo, notice.location_id)):  # stable: Shopify's order otherwise
        items = []
        for item in (fo.get("lineItems") or {}).get("nodes") or []:
            line_id = _numeric((item.get("lineItem") or {}).get("id"))
            take = min(wanted.get(line_id, 0), int(item.get("remainingQuantity") or 0))
            if take > 0:
                items.append({"id": item["id"], "quantity": take})
                wanted[line_id] -= take
        if items:
            out.append((fo, items))
    return out


def moves_needed(notice: ShipmentNotice, order: dict) -> list[tuple[str, list[dict]]]:
    """(fulfillment order id, units) to move to the shipping location before fulfilling."""
    return [(fo["id"], items) for fo, items in allocate(notice, order) if not _at(fo, notice.location_id)]


def fulfilment_input(notice: ShipmentNotice, order: dict) -> dict | None:
    """The FulfillmentInput for `notice`, or None when nothing is left to fulfil."""
    groups = [{"fulfillmentOrderId": fo["id"], "fulfillmentOrderLineItems": items} for fo, items in allocate(notice, order)]
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
        order = self._move_to_shipping_location(notice, order)
        fulfillment = fulfilment_input(notice, order)
        if fulfillment is None:
            return Told(None, "nothing left to fulfil on Shopify for these lines")
        answer = self.client.execute(docs.FULFILLMENT_CREATE, {"fulfillment": fulfillment})["fulfillmentCreate"]
        if answer.get("userErrors"):
            raise NoticeRefused(f"fulfillmentCreate refused: {answer['userErrors'][:3]}")
        return Told(_numeric((answer.get("fulfillment") or {}).get("id")))

    def _move_to_shipping_location(self, notice: ShipmentNotice, order: dict) -> dict:
        """Move the shipped units assigned elsewhere; the order as it stands after."""
        moves = moves_needed(notice, order)
        if not moves:
            return order
        nodes = list(order["fulfillmentOrders"]["nodes"])
        for fo_id, items in moves:
            answer = self.client.execute(docs.FULFILLMENT_ORDER_MOVE, {
                "id": fo_id, "newLocationId": notice.location_id, "items": items})["fulfillmentOrderMove"]
            if answer.get("userErrors"):
                raise NoticeRefused(f"fulfillmentOrderMove to {notice.location_id} refused: {answer['userErrors'][:3]}")
            moved = answer.get("movedFulfillmentOrder")
            if not moved:
                raise NoticeRefused(f"fulfillmentOrderMove of {fo_id} answered no moved fulfillment order")
            # The original keeps only what was not moved (or is the moved one): drop it from
            # this shipment's view so its units are not taken twice.
            nodes = [fo for fo in nodes if fo["id"] != fo_id] + [moved]
        return {**order, "fulfillmentOrders": {"nodes": nodes}}
