"""When each fault of the chaos day strikes, drawn from the seed: the same seed, the same day.

Kinds in the issue's priority order; `--faults` may name fewer. Times are in simulated
hours from midnight; a fault with a duration ends by itself (an outage, a storm, the
database's restart), one without is an instant (a kill -9, an edit). A new kind is drawn
after the older ones, so that a seed keeps the days it gave before. Webhook chaos (loss, duplicates, reordering,
late deliveries) runs from the start until the last hour, so that settling sees a clean
channel.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

KINDS = ("webhook_chaos", "worker_kill", "admin_edit", "erp_snapshot", "cycle_count", "shopify_outage",
         "amazon_429_storm", "api_kill", "database_restart")
#: Kinds that only a backend can suffer: SQLite is a file in the hub's own processes.
BACKEND_KINDS = {"database_restart": ("postgresql",)}
OUTAGE_H = 10 / 60  # the 10-minute Shopify outage
STORM_H = 15 / 60
DATABASE_DOWN_H = 10 / 3600  # a restart: about 10 s with nothing answering


@dataclass(frozen=True)
class Fault:
    kind: str
    at_h: float
    duration_h: float = 0.0

    @property
    def ends_h(self) -> float:
        return self.at_h + self.duration_h


def fault_schedule(seed: int, hours: float, kinds: tuple[str, ...] = KINDS) -> list[Fault]:
    """Every fault of the day, by time. The snapshot falls in the first half (a morning) and
    its cycle count after it; the instants fall inside the day's middle 80%, away from the
    edges where nothing would be in flight."""
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
    if hours <= 0:
        raise ValueError("the day needs hours")
    rng = random.Random(seed)
    span = lambda lo, hi: hours * rng.uniform(lo, hi)  # noqa: E731
    faults: list[Fault] = []
    snapshot_at = span(0.1, 0.4)
    for kind in KINDS:  # draw every kind whatever is asked: one seed gives one day
        if kind == "webhook_chaos":
            fault = Fault(kind, 0.0, hours * 0.8)
        elif kind == "erp_snapshot":
            fault = Fault(kind, snapshot_at)
        elif kind == "cycle_count":
            fault = Fault(kind, snapshot_at + hours * rng.uniform(0.15, 0.35))
        elif kind == "shopify_outage":
            fault = Fault(kind, span(0.1, 0.7), min(OUTAGE_H, hours * 0.1))
        elif kind == "amazon_429_storm":
            fault = Fault(kind, span(0.1, 0.7), min(STORM_H, hours * 0.1))
        elif kind == "database_restart":
            fault = Fault(kind, span(0.1, 0.9), DATABASE_DOWN_H)
        else:
            fault = Fault(kind, span(0.1, 0.9))
        if kind in kinds:
            faults.append(fault)
    return sorted(faults, key=lambda f: (f.at_h, KINDS.index(f.kind)))


def kinds_for(backend: str, kinds: tuple[str, ...] = KINDS) -> tuple[str, ...]:
    """The kinds a day on `backend` suffers (a PostgreSQL restart only on PostgreSQL)."""
    return tuple(k for k in kinds if backend in BACKEND_KINDS.get(k, (backend,)))
