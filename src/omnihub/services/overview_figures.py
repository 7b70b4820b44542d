"""The figures of the console's overview, read in one go every few seconds: orders taken
in per channel per minute, units oversold, how far behind each channel's stock is, open
discrepancies, dead letters and the brokering queue.

Each is one grouped query over rows the hub keeps for its own work (no figure is
maintained for the screen's sake), bounded by a time window or by an index: the screen
refreshes while orders flow, and must not slow them.

- Sync lag: the age of the oldest change a channel has not acknowledged yet (its oldest
  pending intent's `first_changed_at`); 0 when nothing waits. It is what a shopper sees:
  how stale the channel's figure may be right now.
- Oversold units: the oversell incidents the hub recorded (a sale of units no location
  had, e.g. a POS sale the shelf had but the ledger did not). The target is 0.
- Open discrepancies: differences the latest finished reconciliation run of each channel
  found and could not repair (left for an operator).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from omnihub.adapters.db import tables as t
from omnihub.adapters.db.stored_times import as_utc
from omnihub.services.channel_sync import DEAD, PENDING
from omnihub.services.estate_figures import backlog

MINUTES = 10  # the window of orders per minute


@dataclass(frozen=True, slots=True)
class ChannelSyncFigures:
    channel: str
    pending: int
    dead_letters: int
    lag_s: float  # the oldest unacknowledged change's age


@dataclass(frozen=True, slots=True)
class OverviewFigures:
    at: datetime
    minutes: list[datetime]  # the start of each minute of the window, oldest first
    orders_per_minute: dict[str, list[int]]  # channel → orders placed in each minute
    oversold_units: int
    oversell_incidents: int
    sync: list[ChannelSyncFigures]
    open_discrepancies: dict[str, int]  # channel → findings left for an operator
    brokering_queue: int
    oldest_queued_s: float
    inbox_failures: int
    refused_orders: int
    dead_letters: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "dead_letters", sum(s.dead_letters for s in self.sync))


def _orders_per_minute(conn, now: datetime) -> tuple[list[datetime], dict[str, list[int]]]:
    end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    starts = [end - timedelta(minutes=MINUTES - i) for i in range(MINUTES)]
    o = t.orders
    buckets = [sa.func.sum(sa.case((sa.and_(o.c.placed_at >= s, o.c.placed_at < s + timedelta(minutes=1)), 1),
                                   else_=0)) for s in starts]
    rows = conn.execute(sa.select(o.c.channel, *buckets).where(o.c.placed_at >= starts[0], o.c.placed_at < end)
                        .group_by(o.c.channel).order_by(o.c.channel)).all()
    return starts, {r[0]: [int(n or 0) for n in r[1:]] for r in rows}


def _sync(conn, now: datetime) -> list[ChannelSyncFigures]:
    i = t.sync_intents
    rows = conn.execute(sa.select(i.c.channel, i.c.state, sa.func.count(), sa.func.min(i.c.first_changed_at))
                        .where(i.c.state.in_([PENDING, DEAD])).group_by(i.c.channel, i.c.state)).all()
    channels = sorted(set(conn.execute(sa.select(t.channels.c.code)).scalars()) | {r[0] for r in rows})
    by = {(ch, state): (n, oldest) for ch, state, n, oldest in rows}
    out = []
    for ch in channels:
        pending, oldest = by.get((ch, PENDING), (0, None))
        dead, _ = by.get((ch, DEAD), (0, None))
        lag = max(0.0, (now - as_utc(oldest)).total_seconds()) if pending and oldest is not None else 0.0
        out.append(ChannelSyncFigures(ch, int(pending), int(dead), lag))
    return out


def _open_discrepancies(conn) -> dict[str, int]:
    r, f = t.reconciliation_runs, t.reconciliation_findings
    latest = (sa.select(r.c.channel, sa.func.max(r.c.id).label("run_id")).where(r.c.state == "done")
              .group_by(r.c.channel).subquery())
    rows = conn.execute(sa.select(latest.c.channel, sa.func.count(f.c.id))
                        .select_from(latest.join(f, sa.and_(f.c.run_id == latest.c.run_id, f.c.repaired.is_(False))))
                        .group_by(latest.c.channel)).all()
    return {ch: int(n) for ch, n in rows}


def read_overview(engine: Engine, *, now: datetime | None = None) -> OverviewFigures:
    now = now or datetime.now(UTC)
    q, ov = t.brokering_queue, t.oversell_incidents
    with engine.connect() as conn:
        minutes, per_minute = _orders_per_minute(conn, now)
        units, incidents = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(ov.c.units), 0), sa.func.count())).one()
        queued, oldest = conn.execute(sa.select(sa.func.count(), sa.func.min(q.c.enqueued_at))).one()
        sync = _sync(conn, now)
        discrepancies = _open_discrepancies(conn)
    waiting = backlog(engine)
    return OverviewFigures(
        at=now, minutes=minutes, orders_per_minute=per_minute, oversold_units=int(units), oversell_incidents=int(incidents),
        sync=sync, open_discrepancies=discrepancies, brokering_queue=int(queued),
        oldest_queued_s=max(0.0, (now - as_utc(oldest)).total_seconds()) if oldest is not None else 0.0,
        inbox_failures=waiting["inbox_failed"], refused_orders=waiting["refused"])
