"""Figures of the estate that the demo's summary and report read from the hub's
database: how many SKUs and orders it holds, which orders of which channels, the
Shopify locations' ids, and the work it has not finished."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from omnihub.adapters.db import tables as t
from omnihub.services.parked_orders import PARKED, TOPIC


def sku_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(t.variants)).scalar() or 0)


def order_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(t.orders)).scalar() or 0)


def channel_location_ids(engine: Engine, channel: str) -> dict[str, str]:
    """Location code → the channel's own id of it (a Shopify location's gid)."""
    cl = t.channel_locations
    with engine.connect() as conn:
        return {loc: ext for loc, ext in conn.execute(sa.select(cl.c.location, cl.c.external_location_id)
                                                      .where(cl.c.channel == channel)).all()}


def orders_of_channels(engine: Engine, channels: Iterable[str]) -> list[tuple[str, str]]:
    """(channel, external id) of every order taken in from these channels."""
    o = t.orders
    with engine.connect() as conn:
        return [(c, e) for c, e in conn.execute(sa.select(o.c.channel, o.c.external_id)
                                                .where(o.c.channel.in_(list(channels)))).all()]


def backlog(engine: Engine) -> dict[str, int]:
    """Work the hub has not finished: deliveries waiting in the inbox, orders waiting to
    be routed, orders it refused (parked), deliveries it could not process."""
    ib, q = t.channel_inbox, t.brokering_queue
    with engine.connect() as conn:
        inbox: dict[str, int] = dict(conn.execute(sa.select(ib.c.state, sa.func.count()).where(ib.c.topic != TOPIC)
                                  .group_by(ib.c.state)).tuples().all())
        parked = conn.execute(sa.select(sa.func.count()).select_from(ib).where(ib.c.topic == TOPIC,
                                                                                 ib.c.state == PARKED)).scalar()
        queued = conn.execute(sa.select(sa.func.count()).select_from(q)).scalar()
    return {"inbox_pending": inbox.get("pending", 0), "inbox_failed": inbox.get("failed", 0) + inbox.get(PARKED, 0),
            "refused": int(parked or 0), "brokering_queue": int(queued or 0)}
