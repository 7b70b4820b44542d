"""Shopify orders (REST webhook JSON, GraphQL `Order` nodes) → the hub's one Order model.

- Online store orders become channel `shopify`; POS sales (`source_name` "pos") become
  `shopify_pos`, rung up and handed over at the register's store (`location_id` mapped to
  the hub location), so the pipeline fulfils them on the spot.
- Edits and refunds lower `current_quantity`: the difference to `quantity` is the line's
  cancelled quantity, which is how partial cancellations reach the hub (seeds 001/002:
  found by `updated_at`). `cancelled_at` set cancels the whole order.
- `updated_at` is the version: late and repeated deliveries of older versions are ignored
  by the pipeline.
Money is converted to integer minor units from Shopify's decimal strings (never floats).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation

from pydantic import AwareDatetime, TypeAdapter, ValidationError

from omnihub.domain.catalog import GeoPoint
from omnihub.domain.orders import SHOPIFY, SHOPIFY_POS, Address, CustomerRef, DeliveryMethod, Order, OrderLine

#: Shopify location id (numeric or gid) → hub location id, or None when unmapped.
LocationLookup = Callable[[str], "int | None"]


class ShopifyPayloadError(ValueError):
    """A payload that cannot be an order: kept in the inbox with this message."""


def numeric_id(value) -> str:
    """`gid://shopify/Order/123` or 123 → '123'."""
    if value is None:
        return ""
    text = str(value)
    return text.rsplit("/", 1)[-1].split("?", 1)[0]


def _time(value, name: str) -> datetime:
    if not value:
        raise ShopifyPayloadError(f"{name} is missing")
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise ShopifyPayloadError(f"{name} {value!r} is not an ISO 8601 time") from exc
    if parsed.tzinfo is None:
        raise ShopifyPayloadError(f"{name} {value!r} has no time zone")
    return parsed


def _minor(amount) -> int:
    """A decimal amount (Shopify sends strings) → minor units. How large it may be is the
    hub's limits' business (domain/limits.py, checked at ingest for every channel); here
    it only has to be a finite number."""
    if isinstance(amount, bool) or not isinstance(amount, (str, int, float, type(None))):
        raise ShopifyPayloadError(f"amount {amount!r} is not a decimal")
    try:
        value = Decimal(str(amount or "0"))
    except InvalidOperation as exc:
        raise ShopifyPayloadError(f"amount {amount!r} is not a decimal") from exc
    if not value.is_finite():
        raise ShopifyPayloadError(f"amount {amount!r} is not a decimal")
    return int((value * 100).to_integral_value())


def _whole(value, name: str) -> int:
    """A count as Shopify sends it: a JSON integer (a string of digits is taken too). A
    float, a boolean or text is refused, never rounded into a quantity."""
    if type(value) is int:
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise ShopifyPayloadError(f"{name} {value!r} is not a whole number")


def _items(value, name: str) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ShopifyPayloadError(f"{name} is not a list of line items")
    return value


def _geo(lat, lng) -> GeoPoint | None:
    try:
        return GeoPoint(float(lat), float(lng)) if lat is not None and lng is not None else None
    except (TypeError, ValueError):
        return None


def _channel_for(source_name: str | None) -> str:
    return SHOPIFY_POS if (source_name or "").lower() == "pos" else SHOPIFY


def _finish(*, channel: str, external_id: str, updated: datetime, placed: datetime | None, lines: list[OrderLine],
            currency: str, customer: CustomerRef, address: Address | None, tags: frozenset[str], note: str,
            cancelled: bool, retail_location: str | None, locations: LocationLookup) -> Order:
    origin = None
    method = DeliveryMethod.STANDARD
    if channel == SHOPIFY_POS:
        origin = locations(retail_location) if retail_location else None
        if origin is None:
            raise ShopifyPayloadError(f"POS order {external_id}: location {retail_location!r} is not mapped to a hub location")
        method = DeliveryMethod.PICKUP_IN_STORE
    try:
        return Order(channel=channel, external_id=external_id, channel_updated_at=updated, placed_at=placed,
                     lines=tuple(lines), currency=currency or "USD", customer=customer, shipping_address=address,
                     delivery_method=method, origin_location_id=origin, pickup_location_id=origin, tags=tags,
                     notes=note or "", cancelled=cancelled)
    except ValueError as exc:
        raise ShopifyPayloadError(str(exc)) from exc


def _understood(mapping: Callable[[dict, LocationLookup], Order]) -> Callable[[dict, LocationLookup], Order]:
    """A body whose fields have the wrong shape (an address that is a string, tags that are
    a list...) is a ShopifyPayloadError like any other that cannot be an order: the inbox
    parks it for what it says, instead of taking a TypeError for a passing failure."""
    def mapped(payload: dict, locations: LocationLookup) -> Order:
        try:
            return mapping(payload, locations)
        except ShopifyPayloadError:
            raise
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ShopifyPayloadError(f"not a Shopify order: {type(exc).__name__}: {exc}") from exc
    mapped.__doc__, mapped.__name__ = mapping.__doc__, mapping.__name__
    return mapped


@_understood
def order_from_rest(payload: dict, locations: LocationLookup) -> Order:
    """An `orders/*` webhook body (REST shape) → Order."""
    if not isinstance(payload, dict) or "id" not in payload:
        raise ShopifyPayloadError("not a Shopify order: no id")
    external_id = numeric_id(payload["id"])
    lines = []
    for item in _items(payload.get("line_items"), f"order {external_id}: line_items"):
        if not item.get("sku") or not isinstance(item["sku"], str):
            raise ShopifyPayloadError(f"order {external_id}: line {item.get('id')} has no SKU")
        quantity = _whole(item.get("quantity", 0), f"order {external_id}: line {item.get('id')} quantity")
        current = _whole(item.get("current_quantity", quantity), f"order {external_id}: line {item.get('id')} current_quantity")
        try:
            lines.append(OrderLine(line_id=numeric_id(item["id"]), sku=item["sku"], quantity=quantity,
                                   cancelled_quantity=max(0, min(quantity, quantity - current)),
                                   unit_price_minor=_minor(item.get("price"))))
        except (KeyError, ValueError) as exc:
            raise ShopifyPayloadError(f"order {external_id}: {exc}") from exc
    ship = payload.get("shipping_address") or None
    address = None
    if ship:
        address = Address(line1=ship.get("address1") or "", line2=ship.get("address2") or "", city=ship.get("city") or "",
                          region=ship.get("province_code") or "", postal_code=ship.get("zip") or "",
                          country=ship.get("country_code") or "", geo=_geo(ship.get("latitude"), ship.get("longitude")))
    cust = payload.get("customer") or {}
    customer = CustomerRef(channel_customer_id=numeric_id(cust.get("id")) or None,
                           email=payload.get("email") or cust.get("email"), phone=payload.get("phone"))
    tags = frozenset(t.strip() for t in (payload.get("tags") or "").split(",") if t.strip())
    return _finish(channel=_channel_for(payload.get("source_name")), external_id=external_id,
                   updated=_time(payload.get("updated_at"), "updated_at"),
                   placed=_time(payload["created_at"], "created_at") if payload.get("created_at") else None,
                   lines=lines, currency=payload.get("currency") or "USD", customer=customer, address=address, tags=tags,
                   note=payload.get("note") or "", cancelled=bool(payload.get("cancelled_at")),
                   retail_location=str(payload["location_id"]) if payload.get("location_id") else None, locations=locations)


@_understood
def order_from_graphql(node: dict, locations: LocationLookup) -> Order:
    """An `Order` node of the ORDERS_UPDATED query → Order."""
    if not isinstance(node, dict) or not node.get("id"):
        raise ShopifyPayloadError("not a Shopify order node")
    external_id = numeric_id(node["id"])
    if ((node.get("lineItems") or {}).get("pageInfo") or {}).get("hasNextPage"):
        raise ShopifyPayloadError(f"order {external_id} has more than 50 lines: left to its webhook and an operator")
    lines = []
    for item in _items((node.get("lineItems") or {}).get("nodes"), f"order {external_id}: lineItems"):
        if not item.get("sku") or not isinstance(item["sku"], str):
            raise ShopifyPayloadError(f"order {external_id}: line {item.get('id')} has no SKU")
        quantity = _whole(item.get("quantity"), f"order {external_id}: line {item.get('id')} quantity")
        current = _whole(item.get("currentQuantity", quantity), f"order {external_id}: line {item.get('id')} currentQuantity")
        price = ((item.get("originalUnitPriceSet") or {}).get("shopMoney") or {}).get("amount")
        try:
            lines.append(OrderLine(line_id=numeric_id(item["id"]), sku=item["sku"], quantity=quantity,
                                   cancelled_quantity=max(0, min(quantity, quantity - current)),
                                   unit_price_minor=_minor(price)))
        except (KeyError, ValueError) as exc:
            raise ShopifyPayloadError(f"order {external_id}: {exc}") from exc
    ship = node.get("shippingAddress") or None
    address = None
    if ship:
        address = Address(line1=ship.get("address1") or "", line2=ship.get("address2") or "", city=ship.get("city") or "",
                          region=ship.get("provinceCode") or "", postal_code=ship.get("zip") or "",
                          country=ship.get("countryCodeV2") or "", geo=_geo(ship.get("latitude"), ship.get("longitude")))
    retail = (node.get("retailLocation") or {}).get("id")
    return _finish(channel=_channel_for(node.get("sourceName")), external_id=external_id,
                   updated=_time(node.get("updatedAt"), "updatedAt"),
                   placed=_time(node["createdAt"], "createdAt") if node.get("createdAt") else None, lines=lines,
                   currency=node.get("currencyCode") or "USD",
                   customer=CustomerRef(email=node.get("email"), phone=node.get("phone")), address=address,
                   tags=frozenset(node.get("tags") or ()), note=node.get("note") or "",
                   cancelled=bool(node.get("cancelledAt")), retail_location=numeric_id(retail) if retail else None,
                   locations=locations)


def inventory_level_time(payload: dict) -> datetime | None:
    """An `inventory_levels/update` body's `updated_at` (whole seconds, with an offset):
    when Shopify's figure was true. Missing or unreadable: unknown."""
    try:
        return _LEVEL_TIME.validate_python(payload.get("updated_at"))
    except ValidationError:
        return None


_LEVEL_TIME = TypeAdapter(AwareDatetime)


def inventory_level_update(payload: dict) -> tuple[str, str, int]:
    """An `inventory_levels/update` body → (inventory item id, location id, available)."""
    try:
        return (numeric_id(payload["inventory_item_id"]), numeric_id(payload["location_id"]), int(payload["available"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ShopifyPayloadError(f"not an inventory level: {exc}") from exc
