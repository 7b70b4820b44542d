"""Time, injectable: the throttle and timestamps read it, so tests can be exact and fast."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def now(self) -> datetime: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class TravelClock(SystemClock):
    """Real time, shifted by an offset that can be set: a rehearsal builds a shop with
    months of history (orders placed 'three months ago') by travelling back, selling, and
    coming home. The monotonic clock is never shifted, so rate limits keep real time."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset

    def travel(self, offset: timedelta) -> None:
        """From now on the shop's time is real time + offset (negative: the past)."""
        self.offset = offset


class ManualClock:
    """A clock that only moves when told to (``advance``)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._mono = 1000.0
        self._start = start or datetime(2026, 10, 1, 12, 0, tzinfo=timezone.utc)

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def now(self) -> datetime:
        with self._lock:
            return self._start + timedelta(seconds=self._mono - 1000.0)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time does not go back")
        with self._lock:
            self._mono += seconds


def iso_storage(moment: datetime) -> str:
    """Fixed-width UTC text that sorts like time (microseconds kept for ordering)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_api(stored: str | None) -> str | None:
    """GraphQL DateTime as Shopify prints it: second precision, UTC, 'Z'."""
    if stored is None:
        return None
    return stored[:19] + "Z"


def iso_rest(stored: str | None) -> str | None:
    """REST (webhook body) timestamps carry an explicit offset."""
    if stored is None:
        return None
    return stored[:19] + "+00:00"


def parse_timestamp(text: str) -> datetime:
    """Parse the dates Shopify accepts in search queries ('2024-01-01', ISO with offset or Z)."""
    cleaned = text.strip().strip("'\"")
    if cleaned.endswith("Z"):
        cleaned = cleaned[:-1] + "+00:00"
    moment = datetime.fromisoformat(cleaned)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment
