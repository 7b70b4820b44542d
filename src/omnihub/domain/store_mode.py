"""Store Mode: where near me can I pick this up, how soon, and can it come express?

The product page asks, for a SKU or a basket and a point (the shopper's location or ZIP
code): which pickup stores nearby have it, how many units each can promise, how far they
are and when the order would be ready; and whether express shipping is possible at all.

Pure: the caller passes the locations and the ATP per (SKU, location) (the same mapping
routing uses, already net of safety stock). `min_stock_left` mirrors the routing rule that
keeps a store's last units for walk-in customers, so Store Mode never offers units the
router would refuse to allocate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from omnihub.domain.catalog import Capability, GeoPoint, Location
from omnihub.domain.delivery_promise import DEFAULT_POLICY, DeliveryPromise, PromisePolicy, promise, ready_time
from omnihub.domain.orders import DeliveryMethod
from omnihub.domain.postal_codes import us_zip_point


@dataclass(frozen=True, slots=True)
class StoreAvailability:
    location_id: int
    name: str
    distance_km: float
    available: tuple[tuple[str, int], ...]  # (sku, pickup-available units)
    can_fulfil_basket: bool
    pickup_ready_at: datetime | None  # UTC; None when the store cannot serve the whole basket
    curbside: bool


@dataclass(frozen=True, slots=True)
class ExpressOption:
    location_id: int
    distance_km: float | None
    promise: DeliveryPromise


@dataclass(frozen=True, slots=True)
class StoreModeAvailability:
    point: GeoPoint
    stores: tuple[StoreAvailability, ...]  # nearest first
    express: ExpressOption | None  # None: express shipping not possible for this basket

    @property
    def express_possible(self) -> bool:
        return self.express is not None


def store_availability(
    point: GeoPoint,
    basket: Mapping[str, int] | str,
    locations: Iterable[Location],
    stock: Mapping[tuple[str, int], int],
    now: datetime,
    *,
    radius_km: float = 50.0,
    limit: int = 10,
    min_stock_left: int = 0,
    only_available: bool = False,
    policy: PromisePolicy = DEFAULT_POLICY,
) -> StoreModeAvailability:
    """Pickup stores within `radius_km` of `point`, nearest first, and the express option.

    `basket` is a SKU (one unit) or a mapping SKU → units. With `only_available`, stores
    that cannot serve the whole basket are left out.
    """
    wanted = {basket: 1} if isinstance(basket, str) else {s: q for s, q in basket.items() if q > 0}
    stores: list[StoreAvailability] = []
    express: ExpressOption | None = None
    express_km = float("inf")
    for loc in locations:
        if loc.geo is None:
            continue
        km = point.distance_km(loc.geo)
        avail = tuple((s, max(0, stock.get((s, loc.id), 0) - min_stock_left)) for s in wanted)
        complete = all(a >= wanted[s] for s, a in avail)
        if Capability.PICKUP in loc.capabilities and km <= radius_km and (complete or not only_available):
            ready = ready_time(loc, DeliveryMethod.PICKUP_IN_STORE, now, policy) if complete else None
            stores.append(StoreAvailability(loc.id, loc.name, round(km, 3), avail, complete, ready,
                                            Capability.CURBSIDE in loc.capabilities))
        if complete and Capability.EXPRESS in loc.capabilities and km < express_km:
            p = promise(loc, DeliveryMethod.EXPRESS, now, point, policy)
            if p is not None:
                express, express_km = ExpressOption(loc.id, p.distance_km, p), km
    stores.sort(key=lambda s: (s.distance_km, s.location_id))
    return StoreModeAvailability(point, tuple(stores[:limit]), express)


def resolve_point(
    where: str | tuple[float, float] | GeoPoint,
    zip_lookup: Callable[[str], GeoPoint | None] = us_zip_point,
) -> GeoPoint:
    """A point from a US ZIP code ("10001", "10001-1234"), "lat,lng" text, a (lat, lng)
    pair or a GeoPoint. Raises ValueError with a message the shopper can act on."""
    if isinstance(where, GeoPoint):
        return where
    if isinstance(where, tuple):
        return GeoPoint(float(where[0]), float(where[1]))
    text = where.strip()
    if "," in text:
        lat, _, lng = text.partition(",")
        try:
            return GeoPoint(float(lat), float(lng))
        except ValueError as e:
            raise ValueError(f"{where!r} is not 'latitude,longitude': {e}") from None
    point = zip_lookup(text)
    if point is None:
        raise ValueError(f"{where!r} is not a known US ZIP code")
    return point
