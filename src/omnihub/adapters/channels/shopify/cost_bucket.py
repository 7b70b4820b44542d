"""A local mirror of Shopify's cost-based leaky bucket, so the client waits before a call
instead of being THROTTLED by it.

Shopify tells us the truth after every call (`extensions.cost.throttleStatus`:
maximumAvailable, currentlyAvailable, restoreRate); between calls the bucket refills at
the restore rate. Before a call we reserve its expected cost; if the bucket (minus a kept
reserve, so other apps' and the merchant's own calls still fit) cannot hold it, we sleep
exactly as long as the refill needs. Concurrent callers share one mirror.

The size and rate we start with are only a guess (today's plans' bucket sizes are not
published): the first answer replaces them, and what is available is Shopify's figure
less what our calls still in flight will take, never a figure capped by the guess. A
bucket larger than guessed is used as it is; one smaller than a reserved call never
leaves that call waiting for room the bucket cannot have. Until the first answer, calls
go one at a time, so a smaller bucket than guessed is not overdrawn by a burst.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass
class BucketStats:
    calls: int = 0
    throttled: int = 0
    points_spent: float = 0.0
    peak_used_pct: float = 0.0
    waited_s: float = 0.0


class CostBucket:
    def __init__(self, *, restore_rate: float = 100.0, maximum: float | None = None, max_use: float = 0.8,
                 clock=time.monotonic, sleep=time.sleep) -> None:
        if not 0 < max_use <= 1:
            raise ValueError("max_use must be in (0, 1]")
        self.restore_rate = restore_rate
        self.maximum = maximum if maximum is not None else 20.0 * restore_rate
        self.available = self.maximum
        self.max_use = max_use
        self._at = clock()
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self.stats = BucketStats()
        self._in_flight = 0.0  # points reserved by calls sent and not yet answered
        self._learned = False  # whether Shopify has told us the bucket's size yet

    def _refill(self, now: float) -> None:
        self.available = min(self.maximum, self.available + (now - self._at) * self.restore_rate)
        self._at = now

    def reserve(self, cost: float) -> float:
        """Block until `cost` points fit while keeping (1 - max_use) of the bucket free.
        Returns the points reserved (at most what the bucket as last reported can give):
        hand them back to `settle` or `throttled`."""
        while True:
            with self._lock:
                self._refill(self._clock())
                take = min(cost, self.maximum * self.max_use)  # the size may have changed while we slept
                floor = self.maximum * (1 - self.max_use)
                if not self._learned and self._in_flight > 0:
                    wait = 0.005  # the first answer tells the size: until then one call at a time
                elif self.available - take >= floor:
                    self.available -= take
                    self._in_flight += take
                    used = 100.0 * (self.maximum - self.available) / self.maximum
                    self.stats.peak_used_pct = max(self.stats.peak_used_pct, used)
                    return take
                else:
                    wait = (take + floor - self.available) / self.restore_rate
                    self.stats.waited_s += wait
            self._sleep(max(wait, 0.001))

    def used_pct(self) -> float:
        """The share of the bucket spent and not yet restored, now (what the console shows)."""
        with self._lock:
            self._refill(self._clock())
            return 100.0 * (self.maximum - self.available) / self.maximum

    def _answered(self, reserved: float) -> None:
        self._in_flight = max(0.0, self._in_flight - reserved)

    def _adopt(self, status: dict) -> float | None:
        """Take the bucket's size, rate and level from a throttleStatus; returns the level."""
        if not status:
            return None
        maximum = _positive(status.get("maximumAvailable"))
        rate = _positive(status.get("restoreRate"))
        if maximum is not None:
            self.maximum = maximum
            self._learned = True
        if rate is not None:
            self.restore_rate = rate
        reported = _number(status.get("currentlyAvailable"))
        self._at = self._clock()
        if reported is None:
            self.available = min(self.available, self.maximum)
            return None
        # Shopify's figure is after this call; our other calls still in flight may not be
        # in it yet, so count them as spent.
        self.available = max(0.0, min(self.maximum, reported - self._in_flight))
        return reported

    def settle(self, reserved: float, cost: dict | None) -> None:
        """Record what Shopify said after the call (actual cost, bucket state)."""
        with self._lock:
            self.stats.calls += 1
            self._answered(reserved)
            if not cost:
                return
            actual = float(cost.get("actualQueryCost") or cost.get("requestedQueryCost") or reserved)
            self.stats.points_spent += actual
            reported = self._adopt(cost.get("throttleStatus") or {})
            if reported is not None:
                used = 100.0 * (self.maximum - reported) / self.maximum
                self.stats.peak_used_pct = max(self.stats.peak_used_pct, used)

    def throttled(self, cost: dict | None, reserved: float = 0.0) -> float:
        """A THROTTLED answer: align the mirror and return how long to wait."""
        with self._lock:
            self.stats.throttled += 1
            self._answered(reserved)
            if self._adopt((cost or {}).get("throttleStatus") or {}) is None:
                self.available = 0.0
                self._at = self._clock()
            requested = min(float((cost or {}).get("requestedQueryCost") or 50), self.maximum)
            return max(0.05, (requested - self.available) / self.restore_rate)


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _positive(value) -> float | None:
    number = _number(value)
    return number if number is not None and number > 0 else None
