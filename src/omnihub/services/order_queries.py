"""Reads of orders for the API, the CLI and the console: one order with its assignments, routing
decisions (their explanations expanded for a reader) and place in the brokering queue; a
page of orders; where an order is assigned. Reads only, from the read engine."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from omnihub.adapters.db import tables as t
from omnihub.domain.routing import expand_record
from omnihub.services.catalog import NotFound


def read_order(engine: Engine, order_id: int) -> dict[str, Any]:
    """The order as the API shows it; NotFound (field `order_id`) when there is none."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(t.orders).where(t.orders.c.id == order_id)).mappings().first()
        if row is None:
            raise NotFound(f"no order {order_id}", field="order_id", code="not_found")
        assignments = [dict(r) for r in conn.execute(
            sa.select(t.order_assignments).where(t.order_assignments.c.order_id == order_id)
            .order_by(t.order_assignments.c.id)).mappings()]
        decisions = [dict(r) for r in conn.execute(
            sa.select(t.routing_decisions).where(t.routing_decisions.c.order_id == order_id)
            .order_by(t.routing_decisions.c.id)).mappings()]
        for d in decisions:  # stored compactly; rendered for the reader
            exp = d["explanation"]
            d["explanation"] = expand_record(json.loads(exp) if isinstance(exp, str) else exp)
        queued = conn.execute(sa.select(t.brokering_queue).where(t.brokering_queue.c.order_id == order_id)).mappings().first()
    return {
        "id": row["id"], "channel": row["channel"], "external_id": row["external_id"], "state": row["state"],
        "holds": row["holds"], "order_value_minor": row["order_value_minor"], "currency": row["currency"],
        "customer_id": row["customer_id"], "placed_at": row["placed_at"], "updated_at": row["updated_at"],
        "document": row["document"], "assignments": assignments, "routing": decisions,
        "brokering_queue": dict(queued) if queued else None,
    }


def list_orders(engine: Engine, *, state: str | None = None, channel: str | None = None,
                customer_id: int | None = None, at_locations: Collection[str] = (), after_id: int = 0,
                limit: int = 50) -> list[dict[str, Any]]:
    """Orders in id order after `after_id`; with `at_locations`, only those assigned there
    (a store associate's)."""
    o = t.orders
    q = sa.select(o.c.id, o.c.channel, o.c.external_id, o.c.state, o.c.order_value_minor, o.c.currency,
                  o.c.customer_id, o.c.placed_at).where(o.c.id > after_id)
    if state:
        q = q.where(o.c.state == state)
    if channel:
        q = q.where(o.c.channel == channel)
    if customer_id is not None:
        q = q.where(o.c.customer_id == customer_id)
    if at_locations:
        a = t.order_assignments
        q = q.where(o.c.id.in_(sa.select(a.c.order_id).where(a.c.location.in_(sorted(at_locations)))))
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(q.order_by(o.c.id).limit(limit)).mappings()]


def latest_orders(engine: Engine, *, state: str | None = None, channel: str | None = None,
                  limit: int = 20) -> list[Any]:
    """The newest orders first (the CLI's list): id, channel, external id, state, value,
    currency, placed at."""
    o = t.orders
    q = sa.select(o.c.id, o.c.channel, o.c.external_id, o.c.state, o.c.order_value_minor, o.c.currency, o.c.placed_at)
    if state:
        q = q.where(o.c.state == state)
    if channel:
        q = q.where(o.c.channel == channel)
    with engine.connect() as conn:
        return list(conn.execute(q.order_by(o.c.id.desc()).limit(limit)).all())


def order_locations(engine: Engine, order_id: int) -> list[str]:
    """The locations an order is assigned to (any state)."""
    a = t.order_assignments
    with engine.connect() as conn:
        return list(conn.execute(sa.select(a.c.location).where(a.c.order_id == order_id).distinct()).scalars())


def orders_by_state(engine: Engine, *, channel: str | None = None, at_locations: Collection[str] = ()) -> dict[str, int]:
    """How many orders are in each state (the console's pipeline); with `at_locations`,
    only those assigned there."""
    o = t.orders
    q = sa.select(o.c.state, sa.func.count()).group_by(o.c.state)
    if channel:
        q = q.where(o.c.channel == channel)
    if at_locations:
        a = t.order_assignments
        q = q.where(o.c.id.in_(sa.select(a.c.order_id).where(a.c.location.in_(sorted(at_locations)))))
    with engine.connect() as conn:
        return {state: int(n) for state, n in conn.execute(q).all()}


def newest_orders(engine: Engine, *, state: str | None = None, channel: str | None = None,
                  at_locations: Collection[str] = (), before_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Orders newest first, before `before_id` (a page of the console's order list)."""
    o = t.orders
    q = sa.select(o.c.id, o.c.channel, o.c.external_id, o.c.state, o.c.delivery_method, o.c.order_value_minor,
                  o.c.currency, o.c.holds, o.c.placed_at)
    if before_id is not None:
        q = q.where(o.c.id < before_id)
    if state:
        q = q.where(o.c.state == state)
    if channel:
        q = q.where(o.c.channel == channel)
    if at_locations:
        a = t.order_assignments
        q = q.where(o.c.id.in_(sa.select(a.c.order_id).where(a.c.location.in_(sorted(at_locations)))))
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(q.order_by(o.c.id.desc()).limit(limit)).mappings()]
