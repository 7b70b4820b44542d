"""How much of each channel's rate-limit budget is in use, from the worker to the console.

The budget is spent where the calls are made: the worker's Shopify cost bucket and
Amazon usage plans (adapters/channels/...), in its memory. Every few seconds the worker
writes what each shows (`report`); the console's overview reads it (`read`) in another
process. A report older than `STALE_AFTER` says the worker is not reporting (stopped, or
not running), and the console says so instead of showing an old figure as current.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from omnihub.adapters.db import tables as t
from omnihub.adapters.db.stored_times import as_utc

STALE_AFTER = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class BudgetUse:
    channel: str
    used_pct: float
    peak_used_pct: float | None = None  # since the worker started; None where the channel's mirror keeps none
    throttled: int = 0  # calls the channel refused for its rate limit, since the worker started
    reported_at: datetime | None = None

    def stale(self, now: datetime) -> bool:
        return self.reported_at is None or now - self.reported_at > STALE_AFTER


def report(engine: Engine, uses: list[BudgetUse], *, now: datetime | None = None) -> None:
    """Replace each channel's figure with the worker's latest."""
    if not uses:
        return
    now = now or datetime.now(UTC)
    b = t.channel_budgets
    rows = [{"channel": u.channel, "used_pct": round(max(0.0, min(100.0, u.used_pct)), 2),
             "peak_used_pct": None if u.peak_used_pct is None else round(u.peak_used_pct, 2),
             "throttled": u.throttled, "reported_at": now} for u in uses]
    with engine.begin() as conn:
        conn.execute(b.delete().where(b.c.channel.in_([r["channel"] for r in rows])))
        conn.execute(b.insert(), rows)


def read(engine: Engine) -> dict[str, BudgetUse]:
    b = t.channel_budgets
    with engine.connect() as conn:
        rows = conn.execute(sa.select(b)).mappings().all()
    return {r["channel"]: BudgetUse(r["channel"], r["used_pct"], r["peak_used_pct"], r["throttled"],
                                    as_utc(r["reported_at"])) for r in rows}
