"""Garbage-collector settings for the long-running hub processes (API, worker, benchmarks).

The stock writer allocates about a hundred thousand short-lived containers per batch
(movement rows, positions, events). With CPython's default gen-0 threshold of 700 the
collector runs some 150 times per batch and now and then walks the whole heap: measured
on the ledger benchmark, a quarter of the writer's CPU time. Those objects die by
reference counting anyway; only reference cycles need the collector, and they are rare
here. So: freeze what start-up allocated (imports, settings, caches, never garbage) out
of the collector's sight, and collect the young generation every 50,000 allocations
instead of 700.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager

GEN0_THRESHOLD = 50_000


def tune_for_throughput() -> None:
    """Call once a process has finished starting up (after imports and Hub.open)."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)


@contextmanager
def no_collection_mid_batch() -> Iterator[None]:
    """Keep the collector out of one writer batch; it runs after, when the batch is gone.

    A collection walks every young object still alive. In the middle of a batch that is
    the batch's whole working set (rows, positions, results: tens of thousands of
    objects), walked again at each collection and promoted into older generations that
    are then walked in turn; between batches almost nothing is alive. Measured on the
    ledger benchmark: a fifth of the CPU per movement, and most of its p99. The pause is
    bounded by one batch (tens of milliseconds); anything that dies in it dies by
    reference counting as usual, and reference cycles wait for the collection that
    follows."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class PauseMeter:
    """The collector's pauses while it is installed (`gc.callbacks`): how many, the
    longest and their sum, per generation. Every thread stops for a collection, so its
    pauses land on whatever orders are in flight: a benchmark reports them beside its
    p99."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.longest_ms = [0.0, 0.0, 0.0]
        self.total_ms = [0.0, 0.0, 0.0]
        self._started = 0.0

    def _callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        ms = (time.perf_counter() - self._started) * 1000
        gen = info["generation"]
        self.count[gen] += 1
        self.total_ms[gen] += ms
        self.longest_ms[gen] = max(self.longest_ms[gen], ms)

    def __enter__(self) -> "PauseMeter":
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def as_dict(self) -> dict:
        return {"collections": list(self.count), "longest_ms": [round(x, 2) for x in self.longest_ms],
                "total_ms": [round(x, 2) for x in self.total_ms]}

    @staticmethod
    def merged(meters: list[dict]) -> dict:
        """Several processes' `as_dict`s as one: counts and sums added, the longest kept."""
        return {
            "collections": [sum(m["collections"][g] for m in meters) for g in range(3)],
            "longest_ms": [max((m["longest_ms"][g] for m in meters), default=0.0) for g in range(3)],
            "total_ms": [round(sum(m["total_ms"][g] for m in meters), 2) for g in range(3)],
        }
