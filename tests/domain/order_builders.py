"""Small builders for order-management domain tests: readable stories, few keystrokes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from omnihub.domain.catalog import Capability, GeoPoint, Location, LocationKind
from omnihub.domain.orders import Address, DeliveryMethod, Order, OrderLine

T0 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)

SHIP = Capability.SHIP
PICKUP = Capability.PICKUP
CURBSIDE = Capability.CURBSIDE
EXPRESS = Capability.EXPRESS
SAME_DAY = Capability.SAME_DAY

# A few real places around New York City, for distances that read naturally.
MANHATTAN = GeoPoint(40.7484, -73.9967)
BROOKLYN = GeoPoint(40.6782, -73.9442)
JERSEY_CITY = GeoPoint(40.7178, -74.0431)
STAMFORD = GeoPoint(41.0534, -73.5387)
NEWARK_NJ = GeoPoint(40.7357, -74.1724)
PHILADELPHIA = GeoPoint(39.9526, -75.1652)


def store(id: int, geo: GeoPoint, *caps: Capability, **kw) -> Location:
    return Location(
        id=id, code=f"S{id}", name=kw.pop("name", f"Store {id}"), kind=LocationKind.STORE,
        geo=geo, capabilities=frozenset(caps or (SHIP, PICKUP)), **kw,
    )


def warehouse(id: int, geo: GeoPoint, *caps: Capability, **kw) -> Location:
    return Location(
        id=id, code=f"W{id}", name=kw.pop("name", f"Warehouse {id}"), kind=LocationKind.WAREHOUSE,
        geo=geo, capabilities=frozenset(caps or (SHIP,)), **kw,
    )


def line(line_id: str, sku: str, quantity: int, price: int = 1000, **kw) -> OrderLine:
    return OrderLine(line_id=line_id, sku=sku, quantity=quantity, unit_price_minor=price, **kw)


def order(
    *lines: OrderLine,
    external_id: str = "1001",
    channel: str = "shopify",
    to: GeoPoint | None = MANHATTAN,
    method: DeliveryMethod = DeliveryMethod.STANDARD,
    at: datetime = T0,
    **kw,
) -> Order:
    address = kw.pop("shipping_address", Address(city="New York", country="US", geo=to))
    return Order(
        channel=channel, external_id=external_id, channel_updated_at=at, lines=tuple(lines),
        shipping_address=address, delivery_method=method, **kw,
    )


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)
