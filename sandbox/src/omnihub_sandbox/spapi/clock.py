"""The sandbox's sense of time: an injectable base clock plus a time-travel offset.

Amazon's behaviour is full of durations (an access token lives an hour, a Pending
order clears after a while, a feed sits in a queue, usage plans refill per second).
Tests and demos need to move through those durations without waiting, so every part of
the sandbox asks this clock, never ``time.time`` directly. The offset is persisted by
the store, so a sandbox that travelled forward stays there across a restart.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Callable


class SandboxClock:
    """``now() = base() + offset``; the offset only ever grows (time does not go back)."""

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
    """A base clock that stands still until told to move; for tests and replays."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self.value = start

    def __call__(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds


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
    value = text.strip()
    if not value or not value[0].isdigit():
        raise ValueError(f"not an ISO 8601 date-time: {text!r}")
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()
