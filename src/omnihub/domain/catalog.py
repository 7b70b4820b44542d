"""Locations, products and variants: the nouns every other part of the hub refers to.

Pure data with validation; no I/O. A location is any place that holds stock and may
fulfil orders (store, warehouse, distribution centre, dark store, drop-shipper).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum


class LocationKind(StrEnum):
    STORE = "store"
    WAREHOUSE = "warehouse"
    DISTRIBUTION_CENTRE = "distribution_centre"
    DARK_STORE = "dark_store"
    DROP_SHIPPER = "drop_shipper"


class Capability(StrEnum):
    SHIP = "ship"
    PICKUP = "pickup"
    CURBSIDE = "curbside"
    SAME_DAY = "same_day"
    EXPRESS = "express"


@dataclass(frozen=True, slots=True)
class GeoPoint:
    lat: float
    lng: float

    def __post_init__(self) -> None:
        if not (-90.0 <= self.lat <= 90.0):
            raise ValueError(f"latitude {self.lat} is outside -90..90")
        if not (-180.0 <= self.lng <= 180.0):
            raise ValueError(f"longitude {self.lng} is outside -180..180")

    def distance_km(self, other: "GeoPoint") -> float:
        """Great-circle distance (haversine), good to well under 1% for routing."""
        r = 6371.0088
        p1, p2 = math.radians(self.lat), math.radians(other.lat)
        dp = p2 - p1
        dl = math.radians(other.lng - self.lng)
        a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
        return 2 * r * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True, slots=True)
class Location:
    """A place that holds stock. `online_selling=False` marks an excluded facility:
    its stock never counts toward online ATP (it may still serve walk-in customers)."""

    id: int
    code: str
    name: str
    kind: LocationKind
    geo: GeoPoint | None = None
    capabilities: frozenset[Capability] = field(default_factory=frozenset)
    priority: int = 100  # lower number = preferred
    cost_per_shipment_minor: int = 0
    daily_order_capacity: int | None = None
    time_zone: str = "UTC"
    online_selling: bool = True
    processing_hours: float = 24.0
    cutoff_local: str = "15:00"  # orders after this local time start processing next day
    groups: frozenset[str] = field(default_factory=frozenset)

    def can(self, capability: Capability) -> bool:
        return capability in self.capabilities


def gtin_check_digit(body: str) -> int:
    """GS1 mod-10 check digit for the digits before the check digit."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = ord(ch) - 48
        total += d * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10


def validate_gtin(code: str) -> str:
    """Validate a UPC-A (12), EAN-8, EAN-13 or GTIN-14 and return it unchanged.

    Raises ValueError with a message a merchandiser can act on.
    """
    if not code.isdigit():
        raise ValueError(f"GTIN {code!r} must contain digits only")
    if len(code) not in (8, 12, 13, 14):
        raise ValueError(f"GTIN {code!r} must have 8, 12, 13 or 14 digits, not {len(code)}")
    expected = gtin_check_digit(code[:-1])
    if int(code[-1]) != expected:
        raise ValueError(f"GTIN {code!r} has check digit {code[-1]}, expected {expected}")
    return code


@dataclass(frozen=True, slots=True)
class Variant:
    """A sellable unit, identified by its SKU (unique across the catalog)."""

    id: int
    sku: str
    product_id: int
    title: str = ""
    gtin: str | None = None
