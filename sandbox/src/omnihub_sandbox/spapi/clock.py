"""The sandbox's sense of time: an injectable base clock plus a time-travel offset.

Amazon's behaviour is full of durations (an access token lives an hour, a Pending
order clears after a while, a feed sits in a queue, usage plans refill per second).
Tests and demos need to move through those durations without waiting, so every part of
the sandbox asks this clock, never ``time.time`` directly. The clock itself is every
simulator's (:mod:`omnihub_sandbox.sandbox_time`); here are Amazon's timestamp styles.
"""

from __future__ import annotations

from datetime import datetime, timezone

from ..sandbox_time import ManualClock, SandboxClock, parse_utc

__all__ = ["ManualClock", "SandboxClock", "iso", "parse_iso"]


def iso(ts: float, millis: bool = False) -> str:
    """Amazon's timestamp style: UTC with a ``Z``, seconds (or milliseconds) precision."""
    moment = datetime.fromtimestamp(ts, tz=timezone.utc)
    if millis:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> float:
    """Parse an ISO 8601 date-time as SP-API accepts it; naive times are taken as UTC.

    Raises ``ValueError`` on anything that is not a date-time, which callers answer
    with 400 InvalidInput.
    """
    return parse_utc(text)
