"""SP-API orders (getOrders `Order` + getOrderItems `OrderItem`s) → the hub's Order.

`LastUpdateDate` is the version (polling by LastUpdatedAfter and ORDER_CHANGE
notifications both deliver the same order many times). A Canceled order cancels all of
it; items with a buyer-requested cancel on a live order are left to Amazon's status.
Amazon withholds the buyer's name and street without a Restricted Data Token: city,
state, postal code and country are what routing needs.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from omnihub.domain.orders import AMAZON_SELLER, Address, CustomerRef, DeliveryMethod, Order, OrderLine


class AmazonPayloadError(ValueError):
    pass


_SERVICE = {"Expedited": DeliveryMethod.EXPRESS, "NextDay": DeliveryMethod.EXPRESS, "SecondDay": DeliveryMethod.EXPRESS,
            "SameDay": DeliveryMethod.SAME_DAY, "Scheduled": DeliveryMethod.STANDARD, "Standard": DeliveryMethod.STANDARD}


def _time(value, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (TypeError, ValueError) as exc:
        raise AmazonPayloadError(f"{name} {value!r} is not an ISO 8601 time") from exc
    if parsed.tzinfo is None:
        raise AmazonPayloadError(f"{name} {value!r} has no time zone")
    return parsed


def _minor(money: dict | None) -> int:
    """Money → minor units; finite, else refused (how large is for domain/limits.py)."""
    if not money:
        return 0
    try:
        value = Decimal(str(money.get("Amount", "0")))
    except InvalidOperation as exc:
        raise AmazonPayloadError(f"amount {money!r} is not a decimal") from exc
    if not value.is_finite():
        raise AmazonPayloadError(f"amount {money!r} is not a decimal")
    return int((value * 100).to_integral_value())


def order_from_sp_api(order: dict, items: list[dict], *, channel: str = AMAZON_SELLER) -> Order:
    """getOrder's `Order` and getOrderItems' `OrderItem`s → Order. A field of the wrong
    shape is an AmazonPayloadError (what the inbox and the poller park for what it says)."""
    try:
        return _order_from_sp_api(order, items, channel)
    except AmazonPayloadError:
        raise
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise AmazonPayloadError(f"not an SP-API order: {type(exc).__name__}: {exc}") from exc


def _order_from_sp_api(order: dict, items: list[dict], channel: str) -> Order:
    if not isinstance(order, dict) or not order.get("AmazonOrderId"):
        raise AmazonPayloadError("not an SP-API order: no AmazonOrderId")
    oid = order["AmazonOrderId"]
    lines = []
    for item in items:
        sku, qty = item.get("SellerSKU"), item.get("QuantityOrdered")
        if not sku or not isinstance(sku, str) or type(qty) is not int:
            raise AmazonPayloadError(f"order {oid}: item {item.get('OrderItemId')} lacks SellerSKU or QuantityOrdered")
        unit = _minor(item.get("ItemPrice")) // qty if qty else 0
        lines.append(OrderLine(line_id=str(item["OrderItemId"]), sku=sku, quantity=qty, unit_price_minor=unit))
    ship = order.get("ShippingAddress") or {}
    address = Address(city=ship.get("City") or "", region=ship.get("StateOrRegion") or "",
                      postal_code=ship.get("PostalCode") or "", country=ship.get("CountryCode") or "") if ship else None
    total = order.get("OrderTotal") or {}
    try:
        return Order(
            channel=channel, external_id=oid, channel_updated_at=_time(order.get("LastUpdateDate"), "LastUpdateDate"),
            placed_at=_time(order["PurchaseDate"], "PurchaseDate") if order.get("PurchaseDate") else None,
            lines=tuple(lines), currency=total.get("CurrencyCode") or "USD",
            customer=CustomerRef(email=(order.get("BuyerInfo") or {}).get("BuyerEmail")), shipping_address=address,
            delivery_method=_SERVICE.get(order.get("ShipmentServiceLevelCategory") or "Standard", DeliveryMethod.STANDARD),
            cancelled=order.get("OrderStatus") == "Canceled",
        )
    except ValueError as exc:
        raise AmazonPayloadError(f"order {oid}: {exc}") from exc
