"""SP-API usage plans, mirrored client-side as one token bucket per operation so that the
hub waits for a token instead of being answered 429.

Rates and bursts are the published defaults (each operation's "Usage Plan" in
amzn/selling-partner-api-models). A bucket starts full at the burst and refills at the
rate. `x-amzn-RateLimit-Limit` on an answer, when present, is the seller's actual rate and
replaces ours.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class UsagePlan:
    rate: float
    burst: int


OFFICIAL_PLANS: dict[str, UsagePlan] = {
    "getOrders": UsagePlan(0.0167, 20),
    "getOrder": UsagePlan(0.5, 30),
    "getOrderItems": UsagePlan(0.5, 30),
    "confirmShipment": UsagePlan(2, 10),
    "getListingsItem": UsagePlan(5, 10),
    "searchListingsItems": UsagePlan(5, 5),
    "patchListingsItem": UsagePlan(5, 5),
    "createFeedDocument": UsagePlan(0.5, 15),
    "createFeed": UsagePlan(0.0083, 15),
    "getFeed": UsagePlan(2, 15),
    "getFeedDocument": UsagePlan(0.0222, 10),
    "createReport": UsagePlan(0.0167, 15),
    "getReport": UsagePlan(2, 15),
    "getReportDocument": UsagePlan(0.0167, 15),
}


class UsagePlanLimiter:
    def __init__(self, plans: dict[str, UsagePlan] | None = None, *, safety: float = 0.9, clock=time.monotonic,
                 sleep=time.sleep) -> None:
        self.plans = {op: UsagePlan(p.rate * safety, max(1, p.burst - 1)) for op, p in (plans or OFFICIAL_PLANS).items()}
        self.safety = safety
        self._clock = clock
        self._sleep = sleep
        self._tokens: dict[str, float] = {}
        self._at: dict[str, float] = {}
        self._lock = threading.Lock()

    def _refill(self, op: str, now: float) -> None:
        plan = self.plans[op]
        if op not in self._tokens:
            self._tokens[op], self._at[op] = float(plan.burst), now
        self._tokens[op] = min(plan.burst, self._tokens[op] + (now - self._at[op]) * plan.rate)
        self._at[op] = now

    def available(self, op: str) -> float:
        with self._lock:
            self._refill(op, self._clock())
            return self._tokens[op]

    def used_pct(self) -> float:
        """The fullest use of any operation's burst so far, now: 100 when one must wait."""
        with self._lock:
            now = self._clock()
            used = 0.0
            for op in list(self._tokens):
                self._refill(op, now)
                burst = self.plans[op].burst
                used = max(used, 100.0 * (burst - self._tokens[op]) / burst)
            return used

    def wait_time(self, op: str) -> float:
        with self._lock:
            self._refill(op, self._clock())
            missing = 1.0 - self._tokens[op]
            return 0.0 if missing <= 0 else missing / self.plans[op].rate

    def acquire(self, op: str, *, max_wait: float | None = None) -> bool:
        """Take one token, sleeping until there is one (False if that exceeds max_wait)."""
        while True:
            with self._lock:
                self._refill(op, self._clock())
                if self._tokens[op] >= 1.0:
                    self._tokens[op] -= 1.0
                    return True
                wait = (1.0 - self._tokens[op]) / self.plans[op].rate
            if max_wait is not None and wait > max_wait:
                return False
            self._sleep(max(wait, 0.001))

    def drained(self, op: str) -> None:
        """A 429 came anyway: our bucket was optimistic; empty it."""
        with self._lock:
            self._refill(op, self._clock())
            self._tokens[op] = 0.0

    def observe_limit(self, op: str, header: str | None) -> None:
        try:
            rate = float(header) if header else None
        except ValueError:
            return
        if rate and rate > 0 and abs(rate * self.safety - self.plans[op].rate) > 1e-9:
            with self._lock:
                self.plans[op] = UsagePlan(rate * self.safety, self.plans[op].burst)
