"""Per-API rate limits: one token bucket per API, refilled gradually.

Walmart meters each API on its own ("rate limits vary by API") and replenishes an
allotment gradually: with 20 calls an hour, one call comes back every three minutes.
So each bucket holds at most ``calls`` tokens, gains one every ``per_seconds / calls``,
and a call that finds none is answered 429 REQUEST_THRESHOLD_VIOLATED and costs nothing.
Every metered answer says where its bucket stands, as Walmart's do:
``X-Current-Token-Count`` (whole tokens left) and ``X-Next-Replenishment-Time`` (epoch
milliseconds when the next token arrives). Time comes from the sandbox clock.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Callable

from .config import ApiLimit


@dataclass
class BucketState:
    allowed: bool
    tokens_left: int
    next_replenishment: float  # sandbox time (seconds) when one more token is in
    retry_after: float  # seconds until a refused call could pass


class TokenBucket:
    def __init__(self, limit: ApiLimit, now: float) -> None:
        self.capacity = float(limit.calls)
        self.interval = limit.per_seconds / limit.calls  # seconds per token
        self.tokens = self.capacity
        self.updated = now

    def take(self, now: float) -> BucketState:
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) / self.interval)
            self.updated = now
        allowed = self.tokens >= 1.0
        if allowed:
            self.tokens -= 1.0
        missing = 1.0 - (self.tokens % 1.0) if self.tokens < self.capacity else 0.0
        next_token = now + missing * self.interval if missing else now
        retry = 0.0 if allowed else (1.0 - self.tokens) * self.interval
        return BucketState(allowed, int(math.floor(self.tokens + 1e-9)), next_token, retry)


class RateLimiter:
    """All buckets of one sandbox, keyed by (client, API); in memory, as Walmart's are to a client."""

    def __init__(self, clock: Callable[[], float], limits: dict[str, ApiLimit]) -> None:
        self._clock = clock
        self._limits = dict(limits)
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()
        self.storm_until = 0.0

    def limit(self, api: str) -> ApiLimit:
        return self._limits[api]

    def set_limit(self, api: str, limit: ApiLimit) -> None:
        """Change one API's limit from now on (control plane); its bucket starts full."""
        if api not in self._limits:
            raise KeyError(api)
        with self._lock:
            self._limits[api] = limit
            for key in [k for k in self._buckets if k[1] == api]:
                del self._buckets[key]

    def limits(self) -> dict[str, ApiLimit]:
        return dict(self._limits)

    def storm(self, seconds: float) -> float:
        """Every metered call is refused for `seconds` (Walmart shedding load)."""
        self.storm_until = self._clock() + seconds
        return self.storm_until

    def take(self, client: str, api: str) -> BucketState:
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get((client, api))
            if bucket is None:
                bucket = self._buckets[(client, api)] = TokenBucket(self._limits[api], now)
            if now < self.storm_until:
                return BucketState(False, 0, self.storm_until, self.storm_until - now)
            return bucket.take(now)

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
