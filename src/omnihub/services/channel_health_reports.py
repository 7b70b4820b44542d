"""Whether each channel answers, from the worker to the console.

The worker's sync senders know it (domain/channel_health.py: answering, failing, down,
when the channel last answered and last confirmed a push, its last error), in their
memory. Every few seconds, with the budgets (services/channel_budgets.py), the worker
writes what each shows (`report`); the console's channels page reads it (`read`) in
another process. A report older than `STALE_AFTER` says the worker is not reporting, and
the page says so instead of showing an old state as current.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from omnihub.adapters.db import tables as t
from omnihub.adapters.db.stored_times import as_utc
from omnihub.domain.channel_health import NOT_CALLED, ChannelHealth
from omnihub.services.channel_budgets import STALE_AFTER


@dataclass(frozen=True, slots=True)
class HealthReport:
    channel: str
    state: str  # answering | failing | down | not_called
    failing_since: datetime | None = None
    last_answer_at: datetime | None = None
    last_confirmed_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    reported_at: datetime | None = None

    def stale(self, now: datetime) -> bool:
        return self.reported_at is None or now - self.reported_at > STALE_AFTER


def of_health(channel: str, health: ChannelHealth | None, now: datetime) -> HealthReport:
    """A sender's health as a report (None: it has pushed nothing since the worker started)."""
    if health is None:
        return HealthReport(channel, NOT_CALLED)
    return HealthReport(channel, health.state(now), health.failing_since, health.last_answer, health.last_confirmed,
                        health.last_error, health.last_error_at)


def report(engine: Engine, reports: list[HealthReport], *, now: datetime | None = None) -> None:
    """Replace each channel's report with the worker's latest."""
    if not reports:
        return
    now = now or datetime.now(UTC)
    h = t.channel_health
    rows = [{"channel": r.channel, "state": r.state, "failing_since": r.failing_since, "last_answer_at": r.last_answer_at,
             "last_confirmed_at": r.last_confirmed_at, "last_error": r.last_error, "last_error_at": r.last_error_at,
             "reported_at": now} for r in reports]
    with engine.begin() as conn:
        conn.execute(h.delete().where(h.c.channel.in_([r["channel"] for r in rows])))
        conn.execute(h.insert(), rows)


def read(engine: Engine) -> dict[str, HealthReport]:
    h = t.channel_health
    with engine.connect() as conn:
        rows = conn.execute(sa.select(h)).mappings().all()
    return {r["channel"]: HealthReport(r["channel"], r["state"], as_utc(r["failing_since"]), as_utc(r["last_answer_at"]),
                                       as_utc(r["last_confirmed_at"]), r["last_error"], as_utc(r["last_error_at"]),
                                       as_utc(r["reported_at"])) for r in rows}
