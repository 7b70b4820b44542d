"""Whether a channel is answering, and the moment it comes back from an outage.

While a channel is down (5xx, timeouts, connection refused) its webhooks are lost too and
its tills keep selling, so the pushes that resume afterwards only put the hub's figures
back: the sales made meanwhile and the orders whose webhooks never came are found by a
reconciliation, which should run at once rather than at the next hourly schedule. A
channel is *down* once every push for `outage_after_s` has failed without an answer
(throttling included: a 429 storm loses webhooks no less); any answer, even a refusal,
means it is up. The moment it answers after being down is its *recovery*.
"""

from __future__ import annotations

from datetime import datetime, timedelta

OUTAGE_AFTER_S = 60.0  # a minute without an answer: longer than a throttle's back-off, shorter than any real outage


class ChannelHealth:
    """One channel's pushes that failed without an answer since its last answer: when the
    first was sent and when the latest gave up (a client retries a call for seconds
    before it gives up, so a batch's failure covers the time from its first call)."""

    __slots__ = ("outage_after", "failing_since", "last_failure")

    def __init__(self, outage_after_s: float = OUTAGE_AFTER_S) -> None:
        self.outage_after = timedelta(seconds=outage_after_s)
        self.failing_since: datetime | None = None
        self.last_failure: datetime | None = None

    def observe(self, *, answered: bool, sent_at: datetime, now: datetime) -> bool:
        """Record a batch's result (`answered`: the channel answered at least one push,
        whatever it said; `sent_at`..`now`: from its first call to its result); True when
        this answer ends an outage: failures since `outage_after` ago or more, the last of
        them just before this batch (after a long pause with nothing to push, nobody
        knows how long the channel was down, and the hourly run covers it)."""
        if not answered:
            if self.failing_since is None:
                self.failing_since = sent_at
            self.last_failure = now
            return False
        recovered = (self.failing_since is not None and self.last_failure is not None
                     and now - self.failing_since >= self.outage_after
                     and sent_at - self.last_failure <= self.outage_after)
        self.failing_since = self.last_failure = None
        return recovered
