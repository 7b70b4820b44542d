"""The sandbox's sense of time: a base clock plus a persisted time-travel offset.

Walmart's behaviour is made of durations (a token lives 15 minutes, an order is
released after its checks, a feed is RECEIVED then INPROGRESS, a shipped line is
delivered days later, rate limits refill per minute or hour). Every part of the sandbox
asks this clock, never ``time.time``, so tests and demos move through those durations
without waiting.

The clock itself is every simulator's (:mod:`omnihub_sandbox.sandbox_time`).
Walmart's JSON speaks two time dialects: epoch milliseconds in order and feed bodies,
ISO 8601 in query parameters and webhook payloads; both are here.
"""

from __future__ import annotations

from datetime import datetime, timezone

from ..sandbox_time import ManualClock, SandboxClock, parse_utc

__all__ = ["ManualClock", "SandboxClock", "epoch_ms", "iso", "parse_query_date"]


def epoch_ms(ts: float) -> int:
    """Walmart's JSON date-times: integer milliseconds since the Unix epoch."""
    return int(round(ts * 1000))


def iso(ts: float) -> str:
    """ISO 8601 in UTC with milliseconds and a ``Z``, as webhook payloads carry it."""
    moment = datetime.fromtimestamp(ts, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_query_date(text: str) -> float:
    """A date query parameter as Walmart takes it: ``yyyy-MM-dd`` or an ISO 8601 date-time
    (naive ones are UTC). Raises ``ValueError`` on anything else."""
    return parse_utc(text, "a date")
