"""Which road a channel's pending changes take: one call per batch, or one bulk file.

Each channel has two ways to take many levels. The per-call road (Shopify
`inventorySetQuantities`, Amazon `patchListingsItem`) answers in a fraction of a second
per batch but spends the channel's rate budget on every batch; the bulk road (Shopify's
bulk mutation, Amazon's JSON_LISTINGS_FEED) costs almost nothing from the budget but has
a fixed price in time (upload, queue, polling, the result file) whatever its size. So the
bulk road is worth it only past the size where the per-call road's time exceeds that fixed
price: `break_even` says where that is from the two roads' measured figures, and a
channel's policy keeps the result as its threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum


class PushPath(str, Enum):
    PER_CALL = "per_call"
    BULK = "bulk"


def break_even(per_call_rate: float, bulk_overhead_s: float, bulk_rate: float) -> int:
    """The smallest number of changes for which the bulk road is no slower: n / per_call
    ≥ overhead + n / bulk. Rates are changes a second; a bulk road no faster per change
    than the per-call one never pays back its overhead."""
    if per_call_rate <= 0 or bulk_rate <= 0 or bulk_overhead_s < 0:
        raise ValueError("rates must be positive and the overhead not negative")
    gain_per_change = 1 / per_call_rate - 1 / bulk_rate
    if gain_per_change <= 0:
        raise ValueError("the bulk road is not faster per change: it never pays back its overhead")
    return max(1, math.ceil(bulk_overhead_s / gain_per_change))


@dataclass(frozen=True, slots=True)
class PushPolicy:
    """`bulk_from`: pending changes from which the bulk road is taken; `max_bulk`: the most
    one bulk file carries (the rest waits for the next round, or the next file)."""

    bulk_from: int
    max_bulk: int = 100_000

    def __post_init__(self) -> None:
        if self.bulk_from < 1 or self.max_bulk < 1:
            raise ValueError("bulk_from and max_bulk must be at least 1")

    def path_for(self, pending: int) -> PushPath:
        return PushPath.BULK if pending >= self.bulk_from else PushPath.PER_CALL

    def bulk_size(self, pending: int) -> int:
        """How many changes the next bulk file takes (0: none, the per-call road goes)."""
        return min(pending, self.max_bulk) if self.path_for(pending) is PushPath.BULK else 0


#: Shopify, from `python -m omnihub.benchmarks.push_paths` on the sandbox's Plus shop (SQLite,
#: 2 cores under load): seconds to the last acknowledgement, per-call road vs bulk file, for
#: 1,000 levels 0.5-1.0 vs 0.6-0.8; 2,500: 1.85 vs 1.75; 5,000: 3.8-5.5 vs 3.1-3.6; 20,000:
#: 22.4 vs 15.4; 100,000: 80-95 vs 66-77 (0 throttled either way; 4,000 points vs ~33).
#: Below 2,500 the roads are within noise of each other, and the per-call road keeps each
#: level's lag its own (a file settles nothing until Shopify has run it whole); from 2,500
#: the bulk file is faster in every run and spends a hundredth of the points.
SHOPIFY_POLICY = PushPolicy(bulk_from=2_500)
