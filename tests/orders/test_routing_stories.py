"""Routing stories: a channel moving an order's destination, rules that refuse an order,
two people editing the rules, the same order sent twice, and a store's daily capacity
around midnight."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.orders.conftest import NYC_CUSTOMER, order, stock

WAREHOUSES_ONLY = {
    "rules": [{"name": "warehouses-only", "order_filter": {}, "location_filter": {"kinds": ["warehouse"]},
               "sort": ["distance"], "split": {"mode": "no_split"}, "fallback": "queue"}],
    "final_fallback": "queue",
}


def test_two_people_editing_the_rules_cannot_overwrite_each_other(estate):
    """Given two operators who both opened the routing rules at the same version, when the
    first saves, then the second's save from that version is refused with a 409 problem
    naming the version now in force, and the first's rules stay in force; re-read and
    saved from the current version, it goes through."""
    seen = estate.get("/api/v1/routing-rules").json()
    first = estate.put("/api/v1/routing-rules", json={**WAREHOUSES_ONLY, "version": seen["version"]})
    assert first.status_code == 200, first.text
    in_force = first.json()["version"]
    assert in_force == seen["version"] + 1

    second = estate.put("/api/v1/routing-rules", json={**seen, "final_fallback": "backorder"})
    assert second.status_code == 409, second.text
    assert second.headers["content-type"].startswith("application/problem+json")
    problem = second.json()
    assert (problem["status"], problem["code"]) == (409, "version_conflict")
    assert (problem["expected_version"], problem["current_version"]) == (seen["version"], in_force)
    assert problem["errors"][0]["field"] == "version"
    now = estate.get("/api/v1/routing-rules").json()
    assert now["version"] == in_force and [r["name"] for r in now["rules"]] == ["warehouses-only"]
    assert len(estate.get("/api/v1/routing-rules/history").json()) == 1

    again = estate.put("/api/v1/routing-rules", json={**now, "final_fallback": "backorder"})
    assert again.status_code == 200, again.text
    assert again.json()["version"] == in_force + 1


def test_a_stores_daily_capacity_counts_each_order_on_the_day_it_was_routed_around_midnight(estate):
    """Given a Chelsea store that packs one online order a day (its day in New York time),
    when an order is routed there at 23:59 and a second comes a minute before midnight, then
    the second goes to the warehouse (Chelsea's day is full); after midnight Chelsea takes
    one again. The day is read and counted under the same clock: the batch's."""
    import sqlalchemy as sa

    from omnihub.adapters.db import tables as t

    chelsea = {"code": "CHELSEA", "name": "Chelsea store", "kind": "store", "lat": 40.7465, "lng": -74.0014,
               "capabilities": ["ship"], "daily_order_capacity": 1, "time_zone": "America/New_York"}
    assert estate.post("/api/v1/locations", json=chelsea).status_code == 201
    stock(estate, "SHELL-M", "CHELSEA", 5)
    stock(estate, "SHELL-M", "WH-NJ", 5)
    hub = estate.hub
    new_york_evening = datetime(2026, 11, 20, 23, 59, 0, tzinfo=ZoneInfo("America/New_York"))
    at = {"t": new_york_evening}
    hub.orders.clock = lambda: at["t"].astimezone(UTC)

    def routed_to() -> list[str]:
        return [a["location"] for a in order(estate, ("SHELL-M", 1), shipping_address=NYC_CUSTOMER)["assignments"]]

    assert routed_to() == ["CHELSEA"]
    at["t"] = new_york_evening + timedelta(seconds=50)
    assert routed_to() == ["WH-NJ"]  # Chelsea's 20 November is full
    at["t"] = new_york_evening + timedelta(minutes=1, seconds=30)  # 00:00:30 on the 21st
    assert routed_to() == ["CHELSEA"]
    with hub.engine.connect() as conn:
        days = {(r.location, r.day): r.orders for r in conn.execute(sa.select(t.location_daily_orders))}
    assert days == {("CHELSEA", "2026-11-20"): 1, ("CHELSEA", "2026-11-21"): 1}
