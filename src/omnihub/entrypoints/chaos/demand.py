"""Shoppers' demand over a Black-Friday day: a midnight doorbuster, a dead small hours
trough, a lunchtime bump and the evening peak, the peak at least 20 times the trough.

Rates are a share of the peak (0-1] by hour of the day; the chaos day multiplies them by
its peak orders per second (real seconds, after compression by --speed).
"""

from __future__ import annotations

import math

TROUGH_SHARE = 1 / 24  # of the peak: the small hours
# (hour of the day, height as a share of the peak, width in hours): Black Friday's shape
_BUMPS = ((0.5, 0.75, 0.8), (12.5, 0.45, 1.5), (20.0, 1.0, 2.2))


def demand_share(hour: float) -> float:
    """Share of the peak rate at `hour` (any real number; the day repeats every 24 h)."""
    h = hour % 24.0
    bump = 0.0
    for centre, height, width in _BUMPS:
        for wrapped in (centre - 24.0, centre, centre + 24.0):
            bump = max(bump, height * math.exp(-((h - wrapped) / width) ** 2 / 2))
    return TROUGH_SHARE + (1 - TROUGH_SHARE) * bump


def hourly_rates(hours: int, peak_orders_per_s: float) -> list[float]:
    """Orders per real second in each hour of the day, from midnight, taken at the hour's middle."""
    return [peak_orders_per_s * demand_share(h + 0.5) for h in range(hours)]
