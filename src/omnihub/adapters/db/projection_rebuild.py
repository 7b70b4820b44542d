"""Rebuild the channel projection (pools and what each channel shows) from positions.

Run after any rule change (channels, feeds, allocation, safety stock, threshold, a
location joining or leaving online selling): every SKU is recomputed from scratch with
`explain_channel_atp`, page by page so memory stays flat however large the catalog, and
a ChannelAvailabilityChanged is raised for every figure that moved.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from omnihub.adapters.db import tables as t
from omnihub.adapters.db.channel_config import load_config, policies_for, rules_for_sku
from omnihub.adapters.db.bulk_sql import db_time, upsert_many
from omnihub.adapters.db.stock_store import TOTAL_COLUMNS, positions_by_sku, write_outbox
from omnihub.adapters.db.writer_cache import stamp_stock_epoch
from omnihub.domain.atp import explain_channel_atp
from omnihub.domain.channel_projection import TOTAL
from omnihub.domain.events import ChannelAvailabilityChanged

PAGE = 500


def rebuild_page(conn: Connection, skus: list[str]) -> int:
    """Recompute one page of SKUs inside the caller's transaction; returns events raised."""
    cfg = load_config(conn)
    now = datetime.now(UTC)
    positions = positions_by_sku(conn, skus, for_update=True)
    policies = policies_for(conn, skus)
    d = t.sku_demand
    queued = {r.sku: r.queued for r in conn.execute(sa.select(d).where(d.c.sku.in_(skus)))}
    ca = t.channel_availability
    shown = {
        (r.channel, r.sku, r.location): r.quantity
        for r in conn.execute(sa.select(ca.c.channel, ca.c.sku, ca.c.location, ca.c.quantity).where(ca.c.sku.in_(skus)))
    }
    shown_by_sku: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for key in shown:
        shown_by_sku.setdefault((key[0], key[1]), []).append(key)
    totals, rows, events = [], [], []
    ts = db_time(conn, now)
    for sku in skus:
        rules = rules_for_sku(policies, sku)
        by_loc = positions.get(sku, {})
        for alloc in cfg.channels:
            exp = explain_channel_atp(sku, by_loc, rules, cfg.online, queued.get(sku, 0), alloc, cfg.location_priority)
            totals.append((alloc.channel, sku, TOTAL, exp.atp, exp.pool, ts))  # the pool is always written
            want = {(alloc.channel, sku, TOTAL): exp.atp}
            for term in exp.locations:  # per-location channels: each location's figure
                if term.shown is not None:
                    want[(alloc.channel, sku, term.location)] = term.shown
            # A location that no longer feeds the channel now shows nothing there.
            for key in shown_by_sku.get((alloc.channel, sku), ()):
                want.setdefault(key, 0)
            for key, new in want.items():
                old = shown.get(key, 0)
                if key[2] != TOTAL and (old != new or key not in shown):
                    rows.append((*key, new, ts))
                if old != new:
                    events.append(ChannelAvailabilityChanged(channel=key[0], sku=key[1], location=key[2], old=old, new=new))
    upsert_many(conn, "channel_availability", TOTAL_COLUMNS, ("channel", "sku", "location"), totals)
    upsert_many(conn, "channel_availability", ("channel", "sku", "location", "quantity", "updated_at"),
                ("channel", "sku", "location"), rows)
    write_outbox(conn, events, now)
    stamp_stock_epoch(conn)  # the stock writer's cached pools and figures are stale now
    return len(events)


def rebuild_all(engine: Engine, progress=None) -> int:
    """Recompute every SKU that has stock anywhere, a page per transaction."""
    events = 0
    after = ""
    while True:
        with engine.connect() as conn:
            skus = list(
                conn.execute(
                    sa.select(t.positions.c.sku).where(t.positions.c.sku > after).group_by(t.positions.c.sku)
                    .order_by(t.positions.c.sku).limit(PAGE)
                ).scalars()
            )
            conn.rollback()
        if not skus:
            return events
        with engine.begin() as conn:
            events += rebuild_page(conn, skus)
        if progress:
            progress(len(skus))
        after = skus[-1]
