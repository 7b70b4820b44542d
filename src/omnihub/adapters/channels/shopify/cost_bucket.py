"""A local mirror of Shopify's cost-based leaky bucket, so the client waits before a call
instead of being THROTTLED by it.

Shopify tells us the truth after every call (`extensions.cost.throttleStatus`:
maximumAvailable, currentlyAvailable, restoreRate); between calls the bucket refills at
the restore rate. Before a call we reserve its expected cost; if the bucket (minus a kept
reserve, so other apps' and the merchant's own calls still fit) cannot hold it, we sleep
exactly as long as the refill needs. Concurrent callers share one mirror.
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

    def _refill(self, now: float) -> None:
        self.available = min(self.maximum, self.available + (now - self._at) * self.restore_rate)
        self._at = now

    def reserve(self, cost: float) -> None:
        """Block until `cost` points fit while keeping (1 - max_use) of the bucket free."""
        cost = min(cost, self.maximum * self.max_use)
        while True:
            with self._lock:
                now = self._clock()
                self._refill(now)
                floor = self.maximum * (1 - self.max_use)
                if self.available - cost >= floor:
                    self.available -= cost
                    used = 100.0 * (self.maximum - self.available) / self.maximum
                    self.stats.peak_used_pct = max(self.stats.peak_used_pct, used)
                    return
                wait = (cost + floor - self.available) / self.restore_rate
            self.stats.waited_s += wait
            self._sleep(max(wait, 0.001))

    def settle(self, reserved: float, cost: dict | None) -> None:
        """Record what Shopify said after the call (actual cost, bucket state)."""
        with self._lock:
            self.stats.calls += 1
            if not cost:
                return
            actual = float(cost.get("actualQueryCost") or cost.get("requestedQueryCost") or reserved)
            self.stats.points_spent += actual
            status = cost.get("throttleStatus") or {}
            if status:
                self.maximum = float(status.get("maximumAvailable", self.maximum))
                self.restore_rate = float(status.get("restoreRate", self.restore_rate))
                # Shopify's figure is after this call; other in-flight reservations of ours
                # may not be in it yet, so never believe more than our own estimate.
                reported = float(status.get("currentlyAvailable", self.available))
                self._refill(self._clock())
                self.available = min(self.available, reported)
                used = 100.0 * (self.maximum - reported) / self.maximum
                self.stats.peak_used_pct = max(self.stats.peak_used_pct, used)

    def throttled(self, cost: dict | None) -> float:
        """A THROTTLED answer: align the mirror and return how long to wait."""
        with self._lock:
            self.stats.throttled += 1
            status = (cost or {}).get("throttleStatus") or {}
            if status:
                self.available = float(status.get("currentlyAvailable", 0.0))
                self.maximum = float(status.get("maximumAvailable", self.maximum))
                self.restore_rate = float(status.get("restoreRate", self.restore_rate))
            else:
                self.available = 0.0
            self._at = self._clock()
            requested = float((cost or {}).get("requestedQueryCost") or 50)
            return max(0.05, (requested - self.available) / self.restore_rate)
