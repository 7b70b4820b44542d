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
