"""A SKU's stock over a window (7, 30 or 90 days), for the console's chart: one grouped
query that sums the SKU's movements inside the window per bucket (and location), then
the levels walked back from today's positions (domain/stock_over_time.py).

Bounded: at most (buckets x locations) rows come back (168 hourly buckets for a week),
and the movements read are the SKU's within the window, found through the ledger's
(sku, id) index. No index was added on the ledger's time for this: every movement the
order path writes would pay for it, and one SKU's window is small.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from omnihub.adapters.db import tables as t
from omnihub.adapters.db.stock_store import positions_by_sku
from omnihub.domain.ledger import Position
from omnihub.domain.stock_over_time import HELD_BACK, SHELF, Levels, StockSeries, series, total, window
from omnihub.domain.stock_over_time import BUCKET_S as WINDOWS
from omnihub.services.catalog import NotFound

__all__ = ["WINDOWS", "stock_over_time"]


def _bucket(conn: Connection, size: int):
    """The bucket number of a movement's time: whole `size`-second steps since the epoch
    (UTC), in the database's own arithmetic."""
    m = t.movements
    if conn.dialect.name == "postgresql":
        return sa.cast(sa.func.floor(sa.extract("epoch", m.c.occurred_at) / size), sa.BigInteger)
    # SQLite keeps the time as UTC text; strftime('%s') reads it as seconds since the epoch.
    return sa.cast(sa.func.strftime("%s", m.c.occurred_at), sa.Integer) // size  # whole steps (/ is true division)


def _signed(column, states: tuple[str, ...]):
    """+1 when the movement enters one of `states`, -1 when it leaves one, else 0."""
    return sa.case((column.in_(states), 1), else_=0)


def _levels(p: Position) -> Levels:
    return Levels(p.on_hand, p.reserved, p.damaged + p.quality_control)


def stock_over_time(engine: Engine, sku: str, days: int, location: str | None = None,
                    now: datetime | None = None) -> StockSeries:
    """On hand, reserved and available of `sku` (at `location`, or summed over every
    location) at the end of each bucket of the last `days` days."""
    if days not in WINDOWS:
        raise ValueError(f"a window of {', '.join(map(str, WINDOWS))} days, not {days}")
    now = now or datetime.now(UTC)
    first, after_last, size = window(days, now.timestamp())
    m = t.movements
    with engine.connect() as conn:
        positions = positions_by_sku(conn, [sku]).get(sku, {})
        if location is not None and location not in positions:
            raise NotFound(f"{sku} has no stock recorded at {location!r}", field="location", code="not_found")
        here = [positions[location]] if location is not None else list(positions.values())
        bucket = _bucket(conn, size).label("bucket")
        q = m.c.quantity
        on_hand = sa.func.sum(q * (_signed(m.c.to_state, SHELF) - _signed(m.c.from_state, SHELF)))
        reserved = sa.func.sum(q * (_signed(m.c.to_state, ("reserved",)) - _signed(m.c.from_state, ("reserved",))))
        held = sa.func.sum(q * (_signed(m.c.to_state, HELD_BACK) - _signed(m.c.from_state, HELD_BACK)))
        where = [m.c.sku == sku, m.c.occurred_at >= datetime.fromtimestamp(first * size, UTC)]
        if location is not None:
            where.append(m.c.location == location)
        rows = conn.execute(sa.select(bucket, on_hand, reserved, held).where(*where).group_by(bucket)).all()
    deltas = {int(r[0]): Levels(int(r[1] or 0), int(r[2] or 0), int(r[3] or 0)) for r in rows}
    return series(total([_levels(p) for p in here]), deltas, first, after_last, size, now_s=int(now.timestamp()))
