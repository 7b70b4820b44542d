"""Delivery promises and Store Mode, as stories told in local time."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from omnihub.domain.catalog import GeoPoint
from omnihub.domain.delivery_promise import PromisePolicy, TransitBand, promise, ready_time
from omnihub.domain.orders import DeliveryMethod
from omnihub.domain.store_mode import resolve_point, store_availability

from order_builders import (
    BROOKLYN, CURBSIDE, EXPRESS, JERSEY_CITY, MANHATTAN, PHILADELPHIA, PICKUP, SHIP, STAMFORD, store, warehouse,
)

NY = ZoneInfo("America/New_York")


def ny(y, mo, d, h, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=NY)


WH = warehouse(5, PHILADELPHIA, SHIP, EXPRESS, time_zone="America/New_York", processing_hours=4, cutoff_local="15:00")


def test_given_an_order_before_the_cutoff_then_it_ships_today_and_arrives_within_the_distance_band():
    p = promise(WH, DeliveryMethod.STANDARD, ny(2026, 11, 23, 10), destination=MANHATTAN)
    assert p.ready_at == ny(2026, 11, 23, 14).astimezone(UTC)
    assert p.band == TransitBand(300, 1, 2)  # Philadelphia → Manhattan ≈ 130 km
    assert p.earliest_delivery == ny(2026, 11, 24, 9).astimezone(UTC)
    assert p.latest_delivery == ny(2026, 11, 25, 21).astimezone(UTC)


def test_given_an_order_after_the_cutoff_in_the_locations_time_zone_then_processing_starts_next_morning():
    # 15:30 in New York is 20:30 UTC: after the cut-off, though a UTC clock would say otherwise.
    placed = datetime(2026, 11, 23, 20, 30, tzinfo=UTC)
    assert ready_time(WH, DeliveryMethod.STANDARD, placed) == ny(2026, 11, 24, 13).astimezone(UTC)
    la = warehouse(6, PHILADELPHIA, SHIP, time_zone="America/Los_Angeles", processing_hours=4)
    assert ready_time(la, DeliveryMethod.STANDARD, placed) == datetime(2026, 11, 23, 16, 30, tzinfo=ZoneInfo("America/Los_Angeles")).astimezone(UTC)


def test_given_express_beyond_its_last_band_then_no_promise_is_made():
    policy = PromisePolicy(express=(TransitBand(100, 0, 1),))
    assert promise(WH, DeliveryMethod.EXPRESS, ny(2026, 11, 23, 10), MANHATTAN, policy) is None
    near = promise(WH, DeliveryMethod.EXPRESS, ny(2026, 11, 23, 10), GeoPoint(39.96, -75.15), policy)
    assert near.ready_at == ny(2026, 11, 23, 12).astimezone(UTC)  # rush processing: 2 h
    assert near.earliest_delivery == ny(2026, 11, 23, 15).astimezone(UTC)  # courier: 3 h


def test_given_a_bopis_order_late_in_the_evening_then_it_is_ready_the_next_morning():
    shop = store(1, MANHATTAN, SHIP, PICKUP, time_zone="America/New_York")
    assert ready_time(shop, DeliveryMethod.PICKUP_IN_STORE, ny(2026, 11, 23, 11)) == ny(2026, 11, 23, 13).astimezone(UTC)
    assert ready_time(shop, DeliveryMethod.PICKUP_IN_STORE, ny(2026, 11, 23, 22)) == ny(2026, 11, 24, 11).astimezone(UTC)
    p = promise(shop, DeliveryMethod.CURBSIDE, ny(2026, 11, 23, 6))
    assert p.ready_at == ny(2026, 11, 23, 11).astimezone(UTC) and p.earliest_delivery is None


def test_given_a_shopper_in_manhattan_when_store_mode_is_asked_for_a_basket_then_nearby_stores_come_nearest_first():
    locs = [
        store(1, MANHATTAN, SHIP, PICKUP, name="Herald Square", time_zone="America/New_York"),
        store(2, BROOKLYN, SHIP, PICKUP, CURBSIDE, name="Brooklyn", time_zone="America/New_York"),
        store(3, JERSEY_CITY, SHIP, PICKUP, name="Jersey City", time_zone="America/New_York"),
        store(4, PHILADELPHIA, SHIP, PICKUP, name="Philly", time_zone="America/New_York"),  # too far
        warehouse(9, STAMFORD, SHIP, EXPRESS, time_zone="America/New_York"),
    ]
    stock = {("TENT", 1): 1, ("TENT", 2): 4, ("STOVE", 2): 2, ("TENT", 3): 3, ("STOVE", 3): 3,
             ("TENT", 9): 50, ("STOVE", 9): 50, ("TENT", 4): 9, ("STOVE", 4): 9}
    now = ny(2026, 11, 23, 12)
    a = store_availability(resolve_point("10001"), {"TENT": 1, "STOVE": 1}, locs, stock, now,
                           min_stock_left=1)
    assert [s.location_id for s in a.stores] == [1, 3, 2]
    by_id = {s.location_id: s for s in a.stores}
    assert by_id[1].can_fulfil_basket is False and by_id[1].pickup_ready_at is None  # last tent kept
    assert dict(by_id[2].available) == {"TENT": 3, "STOVE": 1} and by_id[2].curbside
    assert by_id[3].pickup_ready_at == ny(2026, 11, 23, 14).astimezone(UTC)
    assert a.express_possible and a.express.location_id == 9
    only = store_availability(MANHATTAN, "STOVE", locs, stock, now, only_available=True)
    assert [s.location_id for s in only.stores] == [3, 2]


def test_resolve_point_accepts_zip_latlng_and_refuses_rubbish():
    assert resolve_point("10001-0001") == GeoPoint(40.7484, -73.9967)
    assert resolve_point("40.5, -74") == GeoPoint(40.5, -74.0)
    assert resolve_point((1.0, 2.0)) == GeoPoint(1.0, 2.0)
    assert resolve_point("12345", zip_lookup=lambda z: GeoPoint(0, 0)) == GeoPoint(0, 0)
    with pytest.raises(ValueError, match="ZIP"):
        resolve_point("00000")
    with pytest.raises(ValueError):
        resolve_point("north, pole")
