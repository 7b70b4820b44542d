"""Every simulator's sense of time: an injectable base clock plus a time-travel offset.

Channels are full of durations (tokens live an hour or 15 minutes, orders clear or are
released after a while, feeds and transactions sit in queues, rate limits refill).
Tests and demos move through them without waiting, so every part of a simulator asks
its clock, never ``time.time``; each simulator persists the offset in its own store, so
one that travelled forward stays there across a restart.
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


def parse_utc(text: str, what: str = "an ISO 8601 date-time") -> float:
    """An ISO 8601 date or date-time as the channels' APIs accept it (a ``Z`` suffix;
    naive times are UTC). Raises ``ValueError`` naming `what` on anything else, which
    callers answer in their channel's error shape."""
    value = text.strip()
    if not value or not value[0].isdigit():
        raise ValueError(f"not {what}: {text!r}")
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()
