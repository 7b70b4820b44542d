"""Delivery promises: when an order will be ready, and when it will arrive.

A promise is built from three facts and a policy:

1. the fulfilling location's order cut-off and opening hours, in its own time zone
   (`zoneinfo`): an order placed after the cut-off starts processing at the next opening;
2. its processing time (`Location.processing_hours`; rush methods and pickup use the
   policy's shorter times, capped by the location's);
3. a transit time looked up by distance band, one table per service level (standard,
   express, same-day), e.g. standard "<= 50 km: next day, <= 300 km: 1-2 days".

The result is UTC datetimes (the API renders them in the customer's zone). A method with
no band covering the distance is not possible from that location (`promise` returns None):
that is how Store Mode decides "express shipping available".

Deliberately simple: calendar days, no carrier holidays or weekend rules, and the delivery
day's window is taken in the location's time zone (the customer is usually in the same or
a neighbouring one for the short bands where it matters). Those refinements belong in the
policy when a merchant needs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, UTC
from functools import lru_cache
from zoneinfo import ZoneInfo

from omnihub.domain.catalog import GeoPoint, Location
from omnihub.domain.orders import DeliveryMethod


@dataclass(frozen=True, slots=True)
class TransitBand:
    max_km: float | None  # None: any distance
    min_days: int  # 0 = same day (a courier run of `courier_hours`)
    max_days: int

    def __post_init__(self) -> None:
        if not 0 <= self.min_days <= self.max_days:
            raise ValueError(f"transit band needs 0 <= min_days <= max_days, got {self.min_days}..{self.max_days}")


@dataclass(frozen=True, slots=True)
class PromisePolicy:
    standard: tuple[TransitBand, ...] = (
        TransitBand(50, 1, 1), TransitBand(300, 1, 2), TransitBand(1000, 2, 4), TransitBand(None, 3, 7),
    )
    express: tuple[TransitBand, ...] = (TransitBand(100, 0, 1), TransitBand(1500, 1, 1))
    same_day: tuple[TransitBand, ...] = (TransitBand(40, 0, 0),)
    opening_local: str = "09:00"
    closing_local: str = "21:00"
    delivery_day_end_local: str = "21:00"
    rush_processing_hours: float = 2.0  # express and same-day
    pickup_processing_hours: float = 2.0  # BOPIS and curbside: "ready in 2 hours"
    courier_hours: float = 3.0  # same-day transit

    def bands(self, method: DeliveryMethod) -> tuple[TransitBand, ...]:
        if method is DeliveryMethod.EXPRESS:
            return self.express
        if method is DeliveryMethod.SAME_DAY:
            return self.same_day
        return self.standard


DEFAULT_POLICY = PromisePolicy()


@dataclass(frozen=True, slots=True)
class DeliveryPromise:
    location_id: int
    method: DeliveryMethod
    ready_at: datetime  # UTC: packed and handed to the carrier, or ready at the pickup counter
    earliest_delivery: datetime | None  # UTC; None for pickup
    latest_delivery: datetime | None
    distance_km: float | None
    band: TransitBand | None


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=64)
def _clock(hhmm: str) -> time:
    h, m = hhmm.split(":")
    return time(int(h), int(m))


def _at(day: date, t: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, t, tzinfo=tz)


def ready_time(location: Location, method: DeliveryMethod, placed_at: datetime,
               policy: PromisePolicy = DEFAULT_POLICY) -> datetime:
    """When the location has the order ready (for the carrier or the customer), in UTC."""
    if placed_at.tzinfo is None:
        raise ValueError("placed_at must be timezone-aware")
    tz = _zone(location.time_zone)
    local = placed_at.astimezone(tz)
    opening, closing = _clock(policy.opening_local), _clock(policy.closing_local)
    if method.is_pickup:
        hours = min(policy.pickup_processing_hours, location.processing_hours)
        cutoff = closing
    elif method in (DeliveryMethod.EXPRESS, DeliveryMethod.SAME_DAY):
        hours = min(policy.rush_processing_hours, location.processing_hours)
        cutoff = _clock(location.cutoff_local)
    else:
        hours = location.processing_hours
        cutoff = _clock(location.cutoff_local)

    if local.time() >= cutoff:
        start = _at(local.date() + timedelta(days=1), opening, tz)
    elif local.time() < opening:
        start = _at(local.date(), opening, tz)
    else:
        start = local
    ready = start + timedelta(hours=hours)
    if method.is_pickup:
        # A pickup counter is only ready while the store is open.
        close_today = _at(ready.date(), closing, tz)
        if ready > close_today:
            ready = _at(ready.date() + timedelta(days=1), opening, tz) + (ready - close_today)
    return ready.astimezone(UTC)


def promise(
    location: Location,
    method: DeliveryMethod,
    placed_at: datetime,
    destination: GeoPoint | None = None,
    policy: PromisePolicy = DEFAULT_POLICY,
) -> DeliveryPromise | None:
    """The promise for fulfilling from `location`, or None when the method cannot reach the
    destination from there (no transit band covers the distance)."""
    ready = ready_time(location, method, placed_at, policy)
    if method.is_pickup:
        return DeliveryPromise(location.id, method, ready, None, None, 0.0, None)
    distance = (
        destination.distance_km(location.geo)
        if destination is not None and location.geo is not None else None
    )
    bands = policy.bands(method)
    if distance is None:
        # Unknown distance: the widest band if it is unbounded, else we cannot promise.
        band = bands[-1] if bands and bands[-1].max_km is None else None
    else:
        band = next((b for b in bands if b.max_km is None or distance <= b.max_km), None)
    if band is None:
        return None
    tz = _zone(location.time_zone)
    ready_local = ready.astimezone(tz)
    day_end = _clock(policy.delivery_day_end_local)
    opening = _clock(policy.opening_local)
    if band.min_days == 0:
        earliest = ready_local + timedelta(hours=policy.courier_hours)
    else:
        earliest = _at(ready_local.date() + timedelta(days=band.min_days), opening, tz)
    latest = _at(ready_local.date() + timedelta(days=band.max_days), day_end, tz)
    if latest < earliest:
        latest = _at(earliest.date(), day_end, tz)
        if latest < earliest:
            latest = _at(earliest.date() + timedelta(days=1), day_end, tz)
    return DeliveryPromise(location.id, method, ready, earliest.astimezone(UTC), latest.astimezone(UTC),
                           None if distance is None else round(distance, 3), band)
