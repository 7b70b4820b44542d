"""Routing stories: a channel moving an order's destination, rules that refuse an order,
two people editing the rules, the same order sent twice, and a store's daily capacity
around midnight."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from omnihub.adapters.db import tables as t
from omnihub.domain.ledger import Movement, Reason, StockState, fold
from tests.orders.conftest import NYC_CUSTOMER, order, position, state_changes, stock

WAREHOUSES_ONLY = {
    "rules": [{"name": "warehouses-only", "order_filter": {}, "location_filter": {"kinds": ["warehouse"]},
               "sort": ["distance"], "split": {"mode": "no_split"}, "fallback": "queue"}],
    "final_fallback": "queue",
}


def ledger_agrees(hub, sku: str) -> None:
    """Every position of `sku` is the fold of its ledger, and what it holds reserved is
    exactly the reserved (picked, packed) assignments of the orders."""
    with hub.engine.connect() as c:
        moves = c.execute(sa.select(t.movements).where(t.movements.c.sku == sku).order_by(t.movements.c.id)).all()
        stored = {p.location: p for p in c.execute(sa.select(t.positions).where(t.positions.c.sku == sku))}
        held = c.execute(sa.select(t.order_assignments.c.location, sa.func.sum(t.order_assignments.c.quantity))
                         .where(t.order_assignments.c.sku == sku,
                                t.order_assignments.c.state.in_(["reserved", "picked", "packed"]))
                         .group_by(t.order_assignments.c.location)).all()
    for loc, p in stored.items():
        f = fold([Movement(m.sku, m.location, m.quantity, StockState(m.from_state), StockState(m.to_state), Reason(m.reason))
                  for m in moves if m.location == loc])
        assert (p.on_hand, p.reserved, p.version) == (f.on_hand, f.reserved, f.version), loc
    assert {loc: p.reserved for loc, p in stored.items() if p.reserved} == {loc: n for loc, n in held if n}


def test_a_pickup_moved_to_another_store_on_the_channel_moves_its_reservation(estate):
    """Given a customer picking up boots in SoHo, reserved there, when the channel sends a
    newer version of the order with the pickup moved to the Upper East Side, then SoHo's
    boot is released (back on its shelf for walk-in customers) and the UES reserves one;
    the ledger says both moves and the order is allocated at the UES."""
    stock(estate, "BOOT-42", "SOHO", 1)
    stock(estate, "BOOT-42", "UES", 1)
    v1 = order(estate, ("BOOT-42", 1), external_id="#3001", channel_updated_at="2026-11-20T10:00:00Z",
               delivery_method="pickup_in_store", pickup_location="SOHO")
    assert [a["location"] for a in v1["assignments"]] == ["SOHO"] and v1["state"] == "allocated"
    assert position(estate, "BOOT-42", "SOHO")["reserved"] == 1

    v2 = order(estate, ("BOOT-42", 1), external_id="#3001", channel_updated_at="2026-11-20T10:20:00Z",
               delivery_method="pickup_in_store", pickup_location="UES")
    assert (v2["order_id"], v2["verdict"], v2["state"]) == (v1["order_id"], "updated", "allocated")
    assert [a["location"] for a in v2["assignments"]] == ["UES"]
    assert position(estate, "BOOT-42", "SOHO")["reserved"] == 0
    assert position(estate, "BOOT-42", "UES")["reserved"] == 1
    got = estate.get(f"/api/v1/orders/{v1['order_id']}").json()
    assert [(a["location"], a["state"]) for a in got["assignments"]] == [("UES", "reserved")]
    assert got["brokering_queue"] is None
    assert estate.get("/api/v1/atp/BOOT-42").json()["brokering_queue"] == 0
    assert state_changes(estate.hub, v1["order_id"])[-2:] == [("allocated", "brokering"), ("brokering", "allocated")]
    ledger_agrees(estate.hub, "BOOT-42")


def test_a_new_address_routes_again_only_what_is_still_on_a_shelf(estate):
    """Given an order split between the warehouse and SoHo, whose warehouse parcel already
    shipped, when the customer moves the delivery address on the channel, then the shipped
    parcel stays shipped and only SoHo's reservation is routed again: to the Upper East
    Side, the store nearest the new address."""
    stock(estate, "BOOT-42", "WH-NJ", 1)
    stock(estate, "SHELL-M", "SOHO", 1)
    stock(estate, "SHELL-M", "UES", 1)
    downtown = {"country": "US", "lat": 40.7209, "lng": -74.0007}
    uptown = {"country": "US", "lat": 40.7794, "lng": -73.9532}
    v1 = order(estate, ("BOOT-42", 1), ("SHELL-M", 1), external_id="#3002", channel_updated_at="2026-11-20T10:00:00Z",
               shipping_address=downtown)
    assert {(a["sku"], a["location"]) for a in v1["assignments"]} == {("BOOT-42", "WH-NJ"), ("SHELL-M", "SOHO")}
    oid = v1["order_id"]
    assert estate.post(f"/api/v1/orders/{oid}/shipments", json={"location": "WH-NJ"}).status_code == 201

    v2 = order(estate, ("BOOT-42", 1), ("SHELL-M", 1), external_id="#3002", channel_updated_at="2026-11-20T11:00:00Z",
               shipping_address=uptown)
    assert v2["verdict"] == "updated" and v2["state"] == "partly_shipped"
    got = estate.get(f"/api/v1/orders/{oid}").json()
    assert sorted((a["sku"], a["location"], a["state"]) for a in got["assignments"]) == [
        ("BOOT-42", "WH-NJ", "shipped"), ("SHELL-M", "UES", "reserved")]
    assert (position(estate, "SHELL-M", "SOHO")["reserved"], position(estate, "SHELL-M", "UES")["reserved"]) == (0, 1)
    ledger_agrees(estate.hub, "SHELL-M")
    ledger_agrees(estate.hub, "BOOT-42")


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


def test_the_same_order_sent_again_changes_nothing(estate):
    """Given an order typed in at the desk (no channel version: the hub stamps its arrival),
    when the very same order is sent again (a retried request), then the answer is
    `unchanged`: no event is raised, nothing is routed or reserved again, and the order
    keeps when it was placed and when the hub last changed it."""
    stock(estate, "BOOT-42", "WH-NJ", 5)
    body = {"external_id": "DESK-7", "channel": "manual", "shipping_address": NYC_CUSTOMER,
            "lines": [{"sku": "BOOT-42", "quantity": 2}]}
    first = estate.post("/api/v1/orders", json=body)
    assert first.status_code == 201, first.text
    oid, placed = first.json()["order_id"], first.json()["order"]
    with estate.hub.engine.connect() as c:
        events_before = c.execute(sa.select(sa.func.count()).select_from(t.outbox)).scalar()
        moves_before = c.execute(sa.select(sa.func.count()).select_from(t.movements)).scalar()

    again = estate.post("/api/v1/orders", json=body)
    assert again.status_code in (200, 201), again.text
    assert (again.json()["order_id"], again.json()["verdict"], again.json()["state"]) == (oid, "unchanged", "allocated")
    got = estate.get(f"/api/v1/orders/{oid}").json()
    assert (got["placed_at"], got["updated_at"]) == (placed["placed_at"], placed["updated_at"])
    assert got["document"]["placed_at"] == placed["document"]["placed_at"]
    assert len(got["routing"]) == 1 and len(got["assignments"]) == 1
    with estate.hub.engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(t.outbox)).scalar() == events_before
        assert c.execute(sa.select(sa.func.count()).select_from(t.movements)).scalar() == moves_before
    assert position(estate, "BOOT-42", "WH-NJ")["reserved"] == 2


def test_a_late_older_version_after_an_unchanged_resend_stays_stale(estate):
    """The channel sent version 1, then version 3 saying the same as version 1; version 2
    (three boots) arrives last. Version 3 is the newest the channel has: version 2 is stale,
    though version 3 changed nothing."""
    stock(estate, "BOOT-42", "WH-NJ", 5)
    v1 = order(estate, ("BOOT-42", 1), external_id="#3003", channel_updated_at="2026-11-20T10:00:00Z",
               shipping_address=NYC_CUSTOMER)
    v3 = order(estate, ("BOOT-42", 1), external_id="#3003", channel_updated_at="2026-11-20T10:30:00Z",
               shipping_address=NYC_CUSTOMER)
    v2 = order(estate, ("BOOT-42", 3), external_id="#3003", channel_updated_at="2026-11-20T10:15:00Z",
               shipping_address=NYC_CUSTOMER)
    assert (v1["verdict"], v3["verdict"], v2["verdict"]) == ("new", "unchanged", "stale")
    assert v3["order"]["document"]["channel_updated_at"].startswith("2026-11-20T10:30")
    assert position(estate, "BOOT-42", "WH-NJ")["reserved"] == 1


WAREHOUSE_OR_REFUSE = {
    "rules": [{"name": "warehouse-or-refuse", "order_filter": {}, "location_filter": {"kinds": ["warehouse"]},
               "sort": ["priority"], "split": {"mode": "no_split"}, "fallback": "reject"}],
    "final_fallback": "queue",
}


def test_an_order_the_rules_refuse_is_held_for_an_operator_and_not_routed_by_the_queue(estate, clean_url):
    """Given rules that ship only from the warehouse and refuse what it cannot ship whole,
    when an order for shells the warehouse does not hold arrives, then it leaves the
    brokering queue and is held with the rules' reason (in the API and `omnihub orders
    show`); when shells arrive, neither the queue's retry nor a newer channel version routes
    it; when an operator releases it, it is routed under the rules and reserved."""
    from typer.testing import CliRunner

    from omnihub.entrypoints.cli.main import app

    assert estate.put("/api/v1/routing-rules", json=WAREHOUSE_OR_REFUSE).status_code == 200
    stock(estate, "SHELL-L", "SOHO", 3)  # a store has them; the rules do not ship from stores
    r = order(estate, ("SHELL-L", 1), external_id="#3004", channel_updated_at="2026-11-20T10:00:00Z",
              shipping_address=NYC_CUSTOMER)
    oid = r["order_id"]
    assert (r["state"], r["outcome"], r["assignments"]) == ("held", "rejected", [])
    (hold,) = r["holds"]
    assert hold.startswith("routing_rejected: rule 'warehouse-or-refuse': ")
    got = estate.get(f"/api/v1/orders/{oid}").json()
    assert (got["state"], got["holds"], got["brokering_queue"]) == ("held", [hold], None)
    assert got["routing"][-1]["outcome"] == "rejected"
    assert state_changes(estate.hub, oid) == [("created", "held")]
    shown = CliRunner().invoke(app, ["orders", "show", str(oid), "--database-url", clean_url], env={"COLUMNS": "300"})
    assert shown.exit_code == 0, shown.output
    assert "held" in shown.output and "routing_rejected: rule 'warehouse-or-refuse'" in shown.output

    stock(estate, "SHELL-L", "WH-NJ", 2)
    retried = estate.hub.orders.retry_queue(now=datetime.now(UTC) + timedelta(days=1))
    assert all(x.order_id != oid for x in retried if not isinstance(x, Exception))
    newer = order(estate, ("SHELL-L", 1), external_id="#3004", channel_updated_at="2026-11-20T10:10:00Z",
                  shipping_address=NYC_CUSTOMER, notes="gift")
    assert (newer["verdict"], newer["state"], newer["assignments"]) == ("updated", "held", [])
    assert position(estate, "BOOT-42", "WH-NJ") == {} and position(estate, "SHELL-L", "WH-NJ")["reserved"] == 0

    released = estate.post(f"/api/v1/orders/{oid}/release")
    assert released.status_code == 200, released.text
    assert (released.json()["state"], [a["location"] for a in released.json()["assignments"]]) == ("allocated", ["WH-NJ"])
    got = estate.get(f"/api/v1/orders/{oid}").json()
    assert (got["holds"], got["brokering_queue"]) == ([], None)
    assert position(estate, "SHELL-L", "WH-NJ")["reserved"] == 1
    ledger_agrees(estate.hub, "SHELL-L")


def test_a_refused_order_released_while_the_rules_still_refuse_it_is_held_again(estate):
    """The operator releases too early (the warehouse still has none): the rules refuse it
    again, it is held again with one reason, and it still waits outside the queue."""
    assert estate.put("/api/v1/routing-rules", json=WAREHOUSE_OR_REFUSE).status_code == 200
    r = order(estate, ("SHELL-L", 1), shipping_address=NYC_CUSTOMER)
    again = estate.post(f"/api/v1/orders/{r['order_id']}/release")
    assert again.status_code == 200, again.text
    assert again.json()["state"] == "held" and len(again.json()["holds"]) == 1
    got = estate.get(f"/api/v1/orders/{r['order_id']}").json()
    assert got["brokering_queue"] is None and got["state"] == "held"
    assert state_changes(estate.hub, r["order_id"]) == [("created", "held"), ("held", "brokering"), ("brokering", "held")]
    assert estate.get("/api/v1/atp/SHELL-L").json()["brokering_queue"] == 1  # the customer still wants it


def test_the_rest_of_a_partly_shipped_order_the_rules_refuse_waits_for_an_operator(estate):
    """Given an order whose boots shipped while its shell waited, when the rules now refuse
    the shell, then the order stays partly shipped (a parcel is on its way: it cannot be
    `held`) but carries the routing hold and leaves the queue, so no retry routes it; when
    the rules allow stores again and an operator releases it, the shell is reserved."""
    stock(estate, "BOOT-42", "WH-NJ", 1)
    r = order(estate, ("BOOT-42", 1), ("SHELL-L", 1), shipping_address=NYC_CUSTOMER)
    oid = r["order_id"]
    assert estate.post(f"/api/v1/orders/{oid}/shipments", json={"location": "WH-NJ"}).json()["state"] == "partly_shipped"
    default_rules = estate.get("/api/v1/routing-rules").json()
    assert estate.put("/api/v1/routing-rules", json=WAREHOUSE_OR_REFUSE).status_code == 200
    stock(estate, "SHELL-L", "SOHO", 1)

    estate.hub.orders.retry_queue(now=datetime.now(UTC) + timedelta(days=1))
    got = estate.get(f"/api/v1/orders/{oid}").json()
    assert got["state"] == "partly_shipped" and got["brokering_queue"] is None
    assert [h.split(":")[0] for h in got["holds"]] == ["routing_rejected"]
    assert estate.hub.orders.retry_queue(now=datetime.now(UTC) + timedelta(days=2)) == []

    current = estate.get("/api/v1/routing-rules").json()["version"]
    assert estate.put("/api/v1/routing-rules", json={**default_rules, "version": current}).status_code == 200
    released = estate.post(f"/api/v1/orders/{oid}/release")
    assert released.status_code == 200, released.text
    assert (released.json()["state"], [a["location"] for a in released.json()["assignments"]]) == ("partly_shipped", ["SOHO"])
    assert estate.get(f"/api/v1/orders/{oid}").json()["holds"] == []
    assert position(estate, "SHELL-L", "SOHO")["reserved"] == 1
    ledger_agrees(estate.hub, "SHELL-L")
