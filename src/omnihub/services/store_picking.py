"""A store's pick list: the ship-from-store and pickup orders routed to it, line by line
(SKU, title, units), to take off the shelf; then what is picked and waits for a parcel.

Picking goes through OrderOperations.pick (a short pick sends the missing units back to
routing, see there). A pickup order whose every unit is picked is ready for its customer:
its pickup code is issued by the pickup desk. A ship-from-store order picked here leaves
through OrderOperations.ship with its carrier and tracking number, and the fulfilment job
tells the channel (services/fulfilment_sync.py).

The store has no bins in the hub (a location holds a SKU, not a shelf place), so the
list is sorted by the order's age, oldest first, and within it by line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from omnihub.adapters.db import tables as t
from omnihub.adapters.db.stored_times import as_utc
from omnihub.domain.orders import DeliveryMethod
from omnihub.services.order_operations import OrderOperations
from omnihub.services.order_pipeline import OrderError, OrderResult
from omnihub.services.pickup_desk import PickupDesk, title_of

#: assignment rows read for one store's list (the oldest orders first): a store's day
ROWS_SHOWN = 2000


@dataclass(frozen=True, slots=True)
class PickLine:
    line_id: str
    sku: str
    title: str
    units: int  # to pick (or picked, on the list of parcels to ship)


@dataclass(frozen=True, slots=True)
class StoreOrder:
    order_id: int
    channel: str
    external_id: str
    delivery_method: str
    placed_at: datetime
    lines: tuple[PickLine, ...]

    @property
    def is_pickup(self) -> bool:
        return DeliveryMethod(self.delivery_method).is_pickup

    @property
    def curbside(self) -> bool:
        return self.delivery_method == DeliveryMethod.CURBSIDE.value

    @property
    def units(self) -> int:
        return sum(ln.units for ln in self.lines)


@dataclass(frozen=True, slots=True)
class PickList:
    to_pick: tuple[StoreOrder, ...]  # units reserved here, still on the shelf
    to_ship: tuple[StoreOrder, ...]  # ship-from-store orders picked here, waiting for their parcel
    pickups_waiting: int  # pickup orders picked here, waiting for their customer (the hand-over list)


class StorePicking:
    def __init__(self, read_engine: Engine, order_ops: OrderOperations, desk: PickupDesk) -> None:
        self.read_engine = read_engine
        self.order_ops = order_ops
        self.desk = desk

    def pick_list(self, location: str) -> PickList:
        a, o, v, pr = t.order_assignments, t.orders, t.variants, t.products
        q = (sa.select(a.c.order_id, a.c.line_id, a.c.sku, sa.func.sum(a.c.quantity).label("units"), a.c.state,
                       o.c.channel, o.c.external_id, o.c.delivery_method, o.c.placed_at,
                       pr.c.title.label("product_title"), v.c.title.label("variant_title"))
             .join(o, o.c.id == a.c.order_id)
             .outerjoin(v, v.c.sku == a.c.sku).outerjoin(pr, pr.c.id == v.c.product_id)
             .where(a.c.location == location, a.c.state.in_(("reserved", "picked")))
             .group_by(a.c.order_id, a.c.line_id, a.c.sku, a.c.state, o.c.channel, o.c.external_id,
                       o.c.delivery_method, o.c.placed_at, pr.c.title, v.c.title)
             .order_by(o.c.placed_at, a.c.order_id, a.c.line_id).limit(ROWS_SHOWN))
        with self.read_engine.connect() as conn:
            rows = conn.execute(q).all()
        groups: dict[tuple[str, int], list] = {}
        for r in rows:
            groups.setdefault((r.state, r.order_id), []).append(r)

        def order_of(rs: list) -> StoreOrder:
            first = rs[0]
            return StoreOrder(first.order_id, first.channel, first.external_id, first.delivery_method,
                              as_utc(first.placed_at),
                              tuple(PickLine(r.line_id, r.sku, title_of(r.product_title, r.variant_title, r.sku),
                                             int(r.units)) for r in rs))

        to_pick = [order_of(rs) for (state, _), rs in groups.items() if state == "reserved"]
        picked = [order_of(rs) for (state, _), rs in groups.items() if state == "picked"]
        return PickList(tuple(to_pick), tuple(o for o in picked if not o.is_pickup),
                        sum(1 for o in picked if o.is_pickup))

    def order_here(self, order_id: int, location: str, state: str = "reserved") -> StoreOrder | None:
        """One order's lines in `state` at the store (None: it has none there)."""
        a, o, v, pr = t.order_assignments, t.orders, t.variants, t.products
        q = (sa.select(a.c.line_id, a.c.sku, sa.func.sum(a.c.quantity).label("units"), o.c.channel, o.c.external_id,
                       o.c.delivery_method, o.c.placed_at, pr.c.title.label("product_title"),
                       v.c.title.label("variant_title"))
             .join(o, o.c.id == a.c.order_id)
             .outerjoin(v, v.c.sku == a.c.sku).outerjoin(pr, pr.c.id == v.c.product_id)
             .where(a.c.order_id == order_id, a.c.location == location, a.c.state == state)
             .group_by(a.c.line_id, a.c.sku, o.c.channel, o.c.external_id, o.c.delivery_method, o.c.placed_at,
                       pr.c.title, v.c.title)
             .order_by(a.c.line_id))
        with self.read_engine.connect() as conn:
            rows = conn.execute(q).all()
        if not rows:
            return None
        first = rows[0]
        return StoreOrder(order_id, first.channel, first.external_id, first.delivery_method, as_utc(first.placed_at),
                          tuple(PickLine(r.line_id, r.sku, title_of(r.product_title, r.variant_title, r.sku),
                                         int(r.units)) for r in rows))

    def pick(self, order_id: int, location: str, found: dict[str, int], *, reason: str = "",
             actor: str | None = None) -> OrderResult:
        """Record the pick (see OrderOperations.pick); a pickup order now wholly picked is
        ready for its customer (its code issued)."""
        result = self.order_ops.pick(order_id, location, found, reason=reason, actor=actor)
        if result.state in ("picked", "packed"):
            o = t.orders
            with self.read_engine.connect() as conn:
                method = conn.execute(sa.select(o.c.delivery_method).where(o.c.id == order_id)).scalar_one()
            if DeliveryMethod(method).is_pickup:
                self.desk.ready(order_id, location)
        return result

    def ship(self, order_id: int, location: str, *, carrier: str | None, tracking: str | None,
             actor: str | None = None) -> OrderResult:
        """The parcel of a ship-from-store order picked here leaves (OrderOperations.ship)."""
        here = self.order_here(order_id, location, "picked")
        if here is None:
            raise OrderError(f"order {order_id} has nothing picked at {location} to ship: pick it first",
                             field="order_id", code="nothing_to_ship")
        if here.is_pickup:
            raise OrderError(f"order {order_id} is collected by its customer here: hand it over, do not ship it",
                             field="order_id", code="pickup_order")
        return self.order_ops.ship(order_id, location, carrier=carrier, tracking=tracking, actor=actor)
