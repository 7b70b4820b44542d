"""Cost-based leaky bucket, one per (app access token, shop), as Shopify meters GraphQL.

The bucket holds ``maximum_available`` points and refills at ``restore_rate`` points per
second. A query may start only when its *requested* cost fits in what is available; after
it runs, the difference to the *actual* cost is given back. Time comes from an injectable
clock, so tests can measure the allowed rate exactly.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from .clock import Clock


@dataclass
class ThrottleStatus:
    maximum_available: float
    currently_available: float
    restore_rate: float

    def as_json(self) -> dict:
        return {
            "maximumAvailable": float(self.maximum_available),
            "currentlyAvailable": int(self.currently_available),
            "restoreRate": float(self.restore_rate),
        }


class LeakyBucket:
    def __init__(self, maximum_available: float, restore_rate: float, clock: Clock) -> None:
        if maximum_available <= 0 or restore_rate <= 0:
            raise ValueError("bucket size and restore rate must be positive")
        self.maximum_available = float(maximum_available)
        self.restore_rate = float(restore_rate)
        self._clock = clock
        self._available = float(maximum_available)
        self._stamp = clock.monotonic()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock.monotonic()
        elapsed = max(0.0, now - self._stamp)
        self._available = min(self.maximum_available, self._available + elapsed * self.restore_rate)
        self._stamp = now

    def try_take(self, cost: float) -> bool:
        """Take ``cost`` points if they are there; never partially."""
        with self._lock:
            self._refill()
            if cost > self._available:
                return False
            self._available -= cost
            return True

    def refund(self, points: float) -> None:
        if points <= 0:
            return
        with self._lock:
            self._refill()
            self._available = min(self.maximum_available, self._available + points)

    def status(self) -> ThrottleStatus:
        with self._lock:
            self._refill()
            return ThrottleStatus(self.maximum_available, self._available, self.restore_rate)


class Throttle:
    """All buckets of one shop, keyed by app access token."""

    def __init__(self, maximum_available: float, restore_rate: float, clock: Clock) -> None:
        self.maximum_available = maximum_available
        self.restore_rate = restore_rate
        self._clock = clock
        self._buckets: dict[tuple[str, str], LeakyBucket] = {}
        self._lock = threading.Lock()

    def bucket(self, token: str, shop: str) -> LeakyBucket:
        with self._lock:
            key = (token, shop)
            if key not in self._buckets:
                self._buckets[key] = LeakyBucket(self.maximum_available, self.restore_rate, self._clock)
            return self._buckets[key]
