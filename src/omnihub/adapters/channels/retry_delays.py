"""Exponential back-off with full jitter, for every call a channel may refuse.

Full jitter (a random delay between zero and the exponential cap) spreads the retries of
many workers that failed together, so they do not hammer the channel again in step.
"""

from __future__ import annotations

import random


def backoff_delay(attempt: int, *, base: float = 1.0, cap: float = 300.0, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number `attempt` (1 = first retry)."""
    ceiling = min(cap, base * (2 ** max(0, attempt - 1)))
    return (rng or random).uniform(ceiling / 2, ceiling)
