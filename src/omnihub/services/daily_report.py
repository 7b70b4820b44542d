"""The daily multi-marketplace report's figures: one retailer's day (00:00 to 24:00 in its
time zone) read from the hub's tables by small queries that return plain data, so the page,
the CSV files and the tests all see the same numbers. Rendering is elsewhere (reports/)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from omnihub.adapters.db.tables import (
    order_assignments,
    orders,
    oversell_incidents,
    positions,
    reconciliation_findings,
    reconciliation_runs,
)
from omnihub.domain.orders import DeliveryMethod


@dataclass(frozen=True)
class Day:
    """One local day as the UTC instants [start, end) the database compares with."""

    day: date
    zone: str
    start: datetime
    end: datetime


def local_day(day: date, zone: str) -> Day:
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(timezone.utc)
    return Day(day, zone, start, end)


@dataclass
class DailyFigures:
    day: Day
    per_channel: list[dict] = field(default_factory=list)  # channel, orders, units, revenue_minor, currency
    per_location: list[dict] = field(default_factory=list)  # location, orders, units
    orders: int = 0
    split_orders: int = 0
    pickup_orders: int = 0
    ship_orders: int = 0
    cancelled_orders: int = 0
    units_ordered: int = 0
    units_allocated: int = 0
    oversells: list[dict] = field(default_factory=list)  # sku, location, channel, units
    discrepancies: list[dict] = field(default_factory=list)  # channel, kind, found, fixed
    top_sellers: list[dict] = field(default_factory=list)  # sku, units_7d, on_hand, days_of_cover, stocked_out

    @property
    def empty(self) -> bool:
        return self.orders == 0

    @property
    def fill_rate(self) -> float:
        """Units allocated to a location over units ordered."""
        return self.units_allocated / self.units_ordered if self.units_ordered else 0.0

    @property
    def split_rate(self) -> float:
        return self.split_orders / self.orders if self.orders else 0.0


def _orders_of_day(conn, day: Day) -> list:
    return conn.execute(
        sa.select(orders.c.id, orders.c.channel, orders.c.document, orders.c.state, orders.c.delivery_method,
                  orders.c.order_value_minor, orders.c.currency)
        .where(orders.c.placed_at >= day.start, orders.c.placed_at < day.end)).all()


def _assignments_of(conn, order_ids: list[int]) -> list:
    if not order_ids:
        return []
    return conn.execute(sa.select(order_assignments.c.order_id, order_assignments.c.location,
                                  order_assignments.c.quantity)
                        .where(order_assignments.c.order_id.in_(order_ids))).all()


def _oversells(conn, day: Day) -> list[dict]:
    """The hub's oversell incidents that day: units sold that were not there."""
    i = oversell_incidents.c
    return [dict(r._mapping) for r in conn.execute(
        sa.select(i.sku, i.location, i.channel, sa.func.sum(i.units).label("units"))
        .where(i.occurred_at >= day.start, i.occurred_at < day.end)
        .group_by(i.sku, i.location, i.channel).order_by(i.sku, i.location, i.channel))]


def _discrepancies(conn, day: Day) -> list[dict]:
    """Reconciliation runs started that day: differences found and repaired, per channel and class."""
    r, f = reconciliation_runs.c, reconciliation_findings.c
    rows = conn.execute(
        sa.select(r.channel, f.kind, sa.func.count().label("found"),
                  sa.func.sum(sa.case((f.repaired, 1), else_=0)).label("fixed"))
        .select_from(reconciliation_findings.join(reconciliation_runs, f.run_id == r.id))
        .where(r.started_at >= day.start, r.started_at < day.end)
        .group_by(r.channel, f.kind).order_by(r.channel, f.kind))
    return [{"channel": x.channel, "kind": x.kind, "found": int(x.found), "fixed": int(x.fixed or 0)} for x in rows]


TOP_SELLERS = 10


def _top_sellers(conn, day: Day) -> list[dict]:
    """The SKUs most sold (units ordered, cancelled orders left out) in the 7 days ending with
    the day, with units on hand now across locations: days of cover = on hand / average daily
    units sold; a stock-out is none on hand."""
    week = conn.execute(sa.select(orders.c.document)
                        .where(orders.c.placed_at >= day.end - timedelta(days=7), orders.c.placed_at < day.end,
                               orders.c.state != "cancelled")).scalars()
    sold: dict[str, int] = defaultdict(int)
    for document in week:
        for ln in (document or {}).get("lines", []):
            sold[ln["sku"]] += ln["quantity"]
    top = sorted(sold.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_SELLERS]
    if not top:
        return []
    on_hand = dict(conn.execute(sa.select(positions.c.sku, sa.func.sum(positions.c.on_hand))
                                .where(positions.c.sku.in_([sku for sku, _ in top])).group_by(positions.c.sku)).all())
    out = []
    for sku, units in top:
        have = int(on_hand.get(sku) or 0)
        out.append({"sku": sku, "units_7d": units, "on_hand": have, "days_of_cover": round(have / (units / 7), 1),
                    "stocked_out": have <= 0})
    return out


def daily_figures(engine: sa.Engine, day: date, zone: str) -> DailyFigures:
    """Orders, units and revenue per channel and per location; split, pickup against ship,
    cancellations, for the orders placed that local day; that day's oversell incidents and
    reconciliation findings."""
    window = local_day(day, zone)
    with engine.connect() as conn:
        rows = _orders_of_day(conn, window)
        assigned = _assignments_of(conn, [r.id for r in rows])
        oversells = _oversells(conn, window)
        discrepancies = _discrepancies(conn, window)
        top_sellers = _top_sellers(conn, window)
    units_of: dict[int, int] = defaultdict(int)
    locations_of: dict[int, set[str]] = defaultdict(set)
    by_location: dict[str, dict] = {}
    for a in assigned:
        units_of[a.order_id] += a.quantity
        locations_of[a.order_id].add(a.location)
        loc = by_location.setdefault(a.location, {"location": a.location, "orders": set(), "units": 0})
        loc["orders"].add(a.order_id)
        loc["units"] += a.quantity
    by_channel: dict[tuple[str, str], dict] = {}
    figures = DailyFigures(window, orders=len(rows), oversells=oversells, discrepancies=discrepancies,
                           top_sellers=top_sellers)
    for r in rows:
        ch = by_channel.setdefault((r.channel, r.currency), {"channel": r.channel, "orders": 0, "units": 0,
                                                             "units_allocated": 0, "revenue_minor": 0, "currency": r.currency})
        ch["orders"] += 1
        ordered = sum(ln["quantity"] for ln in (r.document or {}).get("lines", []))
        ch["units"] += ordered
        ch["units_allocated"] += units_of[r.id]
        figures.units_ordered += ordered
        figures.units_allocated += units_of[r.id]
        ch["revenue_minor"] += r.order_value_minor
        figures.split_orders += len(locations_of[r.id]) > 1
        pickup = DeliveryMethod(r.delivery_method).is_pickup
        figures.pickup_orders += pickup
        figures.ship_orders += not pickup
        figures.cancelled_orders += r.state == "cancelled"
    figures.per_channel = sorted(by_channel.values(), key=lambda c: (c["channel"], c["currency"]))
    figures.per_location = [{"location": v["location"], "orders": len(v["orders"]), "units": v["units"]}
                            for _, v in sorted(by_location.items())]
    return figures
