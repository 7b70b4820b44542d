"""Whether a channel is answering, and the moment it comes back from an outage.

While a channel is down (5xx, timeouts, connection refused) its webhooks are lost too and
its tills keep selling, so the pushes that resume afterwards only put the hub's figures
back: the sales made meanwhile and the orders whose webhooks never came are found by a
reconciliation, which should run at once rather than at the next hourly schedule. A
channel is *down* once every push for `outage_after_s` has failed without an answer
(throttling included: a 429 storm loses webhooks no less); any answer, even a refusal,
means it is up. The moment it answers after being down is its *recovery*.

An operator also wants to read it (the console's channels page): when the channel last
answered and last confirmed a push, and the last error it gave, with when; `state` says
it in one word.
"""

from __future__ import annotations

from datetime import datetime, timedelta

OUTAGE_AFTER_S = 60.0  # a minute without an answer: longer than a throttle's back-off, shorter than any real outage
ERROR_LENGTH = 500  # what is kept of the last error: the channel's message, not a page of HTML

ANSWERING, FAILING, DOWN, NOT_CALLED = "answering", "failing", "down", "not_called"


class ChannelHealth:
    """One channel's pushes that failed without an answer since its last answer: when the
    first was sent and when the latest gave up (a client retries a call for seconds
    before it gives up, so a batch's failure covers the time from its first call)."""

    __slots__ = ("outage_after", "failing_since", "last_failure", "last_answer", "last_confirmed", "last_error",
                 "last_error_at")

    def __init__(self, outage_after_s: float = OUTAGE_AFTER_S) -> None:
        self.outage_after = timedelta(seconds=outage_after_s)
        self.failing_since: datetime | None = None
        self.last_failure: datetime | None = None
        self.last_answer: datetime | None = None  # the channel answered a push (whatever it said)
        self.last_confirmed: datetime | None = None  # it acknowledged one (the figure landed)
        self.last_error: str | None = None
        self.last_error_at: datetime | None = None

    def observe(self, *, answered: bool, sent_at: datetime, now: datetime, confirmed: bool = False,
                error: str | None = None) -> bool:
        """Record a batch's result (`answered`: the channel answered at least one push,
        whatever it said; `confirmed`: it acknowledged one; `error`: one of the batch's
        failures, if any; `sent_at`..`now`: from its first call to its result); True when
        this answer ends an outage: failures since `outage_after` ago or more, the last of
        them just before this batch (after a long pause with nothing to push, nobody
        knows how long the channel was down, and the hourly run covers it)."""
        if error:
            self.last_error, self.last_error_at = error[:ERROR_LENGTH], now
        if not answered:
            if self.failing_since is None:
                self.failing_since = sent_at
            self.last_failure = now
            return False
        self.last_answer = now
        if confirmed:
            self.last_confirmed = now
        recovered = (self.failing_since is not None and self.last_failure is not None
                     and now - self.failing_since >= self.outage_after
                     and sent_at - self.last_failure <= self.outage_after)
        self.failing_since = self.last_failure = None
        return recovered

    def state(self, now: datetime) -> str:
        """`answering`, `failing` (pushes failing, for less than the outage threshold: in
        back-off), `down` (failing for the threshold or longer) or `not_called` (nothing
        pushed yet)."""
        if self.failing_since is not None:
            return DOWN if now - self.failing_since >= self.outage_after else FAILING
        return ANSWERING if self.last_answer is not None else NOT_CALLED
