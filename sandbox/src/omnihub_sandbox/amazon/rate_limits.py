"""SP-API usage plans: one token bucket per (selling partner, application, operation).

The rates and bursts are the defaults published in each operation's description in
amzn/selling-partner-api-models (the "Usage Plan" table). A bucket starts full at the
burst, refills continuously at the rate, and each call takes one token; a call that
finds less than one token is answered 429 QuotaExceeded and costs nothing. Time comes
from the sandbox clock so tests can measure a 30-second window in microseconds.

``rate_multiplier`` scales rate and burst together for tests that need to move fast;
the ``x-amzn-RateLimit-Limit`` header then reports the scaled rate, as Amazon reports a
seller's own (possibly raised) plan.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class UsagePlan:
    rate: float  # requests per second
    burst: int


#: Published default usage plans of the operations the sandbox serves.
USAGE_PLANS: dict[str, UsagePlan] = {
    # Orders v0
    "getOrders": UsagePlan(0.0167, 20),
    "getOrder": UsagePlan(0.5, 30),
    "getOrderItems": UsagePlan(0.5, 30),
    "confirmShipment": UsagePlan(2, 10),
    # Listings Items 2021-08-01
    "getListingsItem": UsagePlan(5, 10),
    "searchListingsItems": UsagePlan(5, 5),
    "patchListingsItem": UsagePlan(5, 5),
    # Feeds 2021-06-30
    "createFeedDocument": UsagePlan(0.5, 15),
    "createFeed": UsagePlan(0.0083, 15),
    "getFeed": UsagePlan(2, 15),
    "getFeedDocument": UsagePlan(0.0222, 10),
    # Reports 2021-06-30
    "getReports": UsagePlan(0.0222, 10),
    "createReport": UsagePlan(0.0167, 15),
    "getReport": UsagePlan(2, 15),
    "cancelReport": UsagePlan(0.0222, 10),
    "getReportDocument": UsagePlan(0.0167, 15),
}


class TokenBucket:
    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.updated = now

    def take(self, now: float) -> bool:
        if now > self.updated:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class RateLimiter:
    """All buckets of one sandbox; thread-safe, in memory (as Amazon's are to a client)."""

    def __init__(self, clock: Callable[[], float], multiplier: float = 1.0) -> None:
        self._clock = clock
        self._multiplier = multiplier
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()
        self.storm_until = 0.0  # a 429 storm (control plane): every call refused until then

    def storm(self, seconds: float) -> float:
        """Amazon answers 429 QuotaExceeded to every call for `seconds` (what a seller sees when
        SP-API sheds load, whatever their buckets hold); returns when it ends."""
        self.storm_until = self._clock() + seconds
        return self.storm_until

    def plan(self, operation: str) -> UsagePlan:
        base = USAGE_PLANS[operation]
        if self._multiplier == 1.0:
            return base
        return UsagePlan(base.rate * self._multiplier, max(1, math.ceil(base.burst * self._multiplier)))

    def header_value(self, operation: str) -> str:
        return repr(float(round(self.plan(operation).rate, 6)))

    def try_acquire(self, principal: str, operation: str) -> bool:
        plan = self.plan(operation)
        now = self._clock()
        if now < self.storm_until:
            return False
        with self._lock:
            bucket = self._buckets.get((principal, operation))
            if bucket is None:
                bucket = self._buckets[(principal, operation)] = TokenBucket(plan.rate, plan.burst, now)
            return bucket.take(now)

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
