"""The sandbox's sense of time: a base clock plus a persisted time-travel offset.

Walmart's behaviour is made of durations (a token lives 15 minutes, an order is
released after its checks, a feed is RECEIVED then INPROGRESS, a shipped line is
delivered days later, rate limits refill per minute or hour). Every part of the sandbox
asks this clock, never ``time.time``, so tests and demos move through those durations
without waiting.

Walmart's JSON speaks two time dialects: epoch milliseconds in order and feed bodies,
ISO 8601 in query parameters and webhook payloads; both are here.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Callable


class SandboxClock:
    """``now() = base() + offset``; the offset only grows (time does not go back)."""

    def __init__(self, base: Callable[[], float], offset: float = 0.0) -> None:
        self._base = base
        self._offset = offset
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._base() + self._offset

    @property
    def offset(self) -> float:
        return self._offset

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the sandbox clock cannot go backwards")
        with self._lock:
            self._offset += seconds
            return self._offset


class ManualClock:
    """A base clock that stands still until told to move; for tests."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self.value = start

    def __call__(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds


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
    value = text.strip()
    if not value or not value[0].isdigit():
        raise ValueError(f"not a date: {text!r}")
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()
