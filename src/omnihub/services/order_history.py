"""The open orders a shop already has when it is connected (set-up, seeds 001/002).

The merchant chooses how far back to look: 1, 2 or 6 months. Only orders still open
(`status:open`: neither closed/archived nor cancelled) and created inside that window are
read: those are the ones whose units are still promised to customers and must count
against ATP from the first minute. Everything else is history the hub does not need.

They go through the same idempotent ingest as webhooks and polling, so running the
import twice (or a webhook racing it) changes nothing the second time.

Polling takes over where the import stops: when the channel has no order cursors yet,
they start at the moment the import began (an order placed or changed during the import
is read again by the next poll, which is harmless). Without that, the first poll would
reach back its default month and bring in the closed and cancelled orders left out here.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from omnihub.domain.orders import Order
from omnihub.services.channel_polling import PollReport, ShopifyPoller, read_cursor, write_cursor

HISTORY_MONTHS = (1, 2, 6)


class HistoryWindowError(ValueError):
    """The merchant asked for a window the set-up does not offer."""


def window_start(months: int, now: datetime) -> datetime:
    """`months` calendar months before `now` (31 March minus one month is 28/29 February)."""
    if months not in HISTORY_MONTHS:
        raise HistoryWindowError(f"the order history window is 1, 2 or 6 months, not {months!r}")
    month_index = now.year * 12 + now.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(now.day, calendar.monthrange(year, month + 1)[1])
    return now.replace(year=year, month=month + 1, day=day)


@dataclass
class OrderHistoryReport:
    months: int
    since: datetime
    seen: int = 0
    new: int = 0  # orders the hub did not have
    known: int = 0  # already in the hub (an earlier run, a webhook): nothing new
    failed: int = 0

    def as_dict(self) -> dict:
        return {"months": self.months, "since": self.since.isoformat(), "orders_seen": self.seen,
                "orders_new": self.new, "orders_known": self.known, "orders_failed": self.failed}


def import_open_orders(engine: Engine, client, ingest_many: Callable[[Sequence[Order]], list], *, months: int,
                       channel: str = "shopify", now: datetime | None = None,
                       progress: Callable[[str, int], None] | None = None) -> OrderHistoryReport:
    started = now or datetime.now(UTC)
    since = window_start(months, started)
    report = OrderHistoryReport(months=months, since=since)

    def ingest(orders: Sequence[Order]) -> list:
        results = ingest_many(orders)
        for result in results:
            if isinstance(result, Exception):
                continue
            if result.verdict == "new":
                report.new += 1
            else:
                report.known += 1
        if progress:
            progress("open orders", report.new + report.known)
        return results

    poll = PollReport()
    search = f"status:open AND created_at:>='{since.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}'"
    ShopifyPoller(engine, client, ingest, channel=channel).read_orders(search, poll, time_field="createdAt")
    report.seen, report.failed = poll.seen, poll.failed
    stamp = started.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for cursor in ("orders.created_at", "orders.updated_at"):
        if read_cursor(engine, channel, cursor) is None:
            write_cursor(engine, channel, cursor, stamp)
    return report
