"""A SKU's stock over time, read back from the ledger: on hand, reserved and available
at the end of each bucket (an hour, six hours, a day) of a window.

Why backwards from now: a position is the fold of its ledger (domain/ledger.py), so the
level at the end of a bucket is today's level less what every later bucket changed. The
database then only sums the movements *inside the window*, per bucket (a few hundred
rows at most, whatever the ledger's length before it), instead of folding the SKU's
whole history forward from its first receipt.

The change a movement makes to each balance is the fold's own rule: units entering or
leaving the shelf (on hand, reserved, damaged, quality control) change on hand;
reserved, damaged and quality control are parts of it. Available is what the fold calls
free: on hand less reserved, damaged and quality control (before any safety stock).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from omnihub.domain.ledger import ON_SHELF, StockState

#: States whose units are on the shelf but not free to sell (parts of on hand).
HELD_BACK = (StockState.DAMAGED.value, StockState.QUALITY_CONTROL.value)
SHELF = tuple(s.value for s in ON_SHELF)

#: The windows offered, in days, and the bucket each is drawn with (seconds).
BUCKET_S: Mapping[int, int] = {7: 3600, 30: 6 * 3600, 90: 86400}


@dataclass(frozen=True, slots=True)
class Levels:
    on_hand: int = 0
    reserved: int = 0
    held_back: int = 0  # damaged and quality control

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved - self.held_back

    def minus(self, delta: "Levels") -> "Levels":
        return Levels(self.on_hand - delta.on_hand, self.reserved - delta.reserved, self.held_back - delta.held_back)


@dataclass(frozen=True, slots=True)
class StockSeries:
    """Levels at the end of each bucket, oldest first (`ends` in seconds since the epoch)."""

    ends: list[int]
    on_hand: list[int]
    reserved: list[int]
    available: list[int]
    bucket_s: int

    def as_chart(self) -> dict[str, object]:
        return {"t": self.ends, "on_hand": self.on_hand, "reserved": self.reserved, "available": self.available,
                "bucket_s": self.bucket_s}


def window(days: int, now_s: float) -> tuple[int, int, int]:
    """(first bucket, bucket after the last, bucket size in s) of a window ending now: the
    last bucket is the one now falls in."""
    size = BUCKET_S[days]
    last = int(now_s // size)
    return last + 1 - days * 86400 // size, last + 1, size


def series(now: Levels, deltas: Mapping[int, Levels], first: int, after_last: int, size: int,
           now_s: int | None = None) -> StockSeries:
    """The levels at the end of buckets first .. after_last-1, from the levels now and each
    bucket's summed change (`deltas`, by bucket number; a bucket at or after `after_last`
    is a movement stamped after now, taken off first). The last bucket is still running:
    its point is drawn at `now_s` when given, not at its end in the future."""
    level = now
    for b in sorted((b for b in deltas if b >= after_last), reverse=True):
        level = level.minus(deltas[b])
    out: list[Levels] = []
    for b in range(after_last - 1, first - 1, -1):
        out.append(level)
        d = deltas.get(b)
        if d is not None:
            level = level.minus(d)
    out.reverse()
    ends = [(b + 1) * size for b in range(first, after_last)]
    if now_s is not None and ends:
        ends[-1] = min(ends[-1], now_s)
    return StockSeries(ends, [x.on_hand for x in out], [x.reserved for x in out], [x.available for x in out], size)


def total(levels: Sequence[Levels]) -> Levels:
    return Levels(sum(x.on_hand for x in levels), sum(x.reserved for x in levels), sum(x.held_back for x in levels))
