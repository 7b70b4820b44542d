"""The sync engine's background jobs grow no faster than their work, and none holds the
write lock for more than one bounded page, whatever the size of the estate.

Each job runs at two sizes, N and 4N; the counts (tests/sync/job_growth.py) must grow
about 4x, what one transaction writes must not grow, and the sweep's peak memory must
stay flat. Counted, never timed.
"""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from omnihub.adapters.bus.in_process import InProcessBus, OutboxRelay
from omnihub.adapters.db import tables as t
from omnihub.adapters.db.engine import make_engine
from omnihub.domain.events import ChannelAvailabilityChanged
from omnihub.services.channel_sync import ChannelSync
from tests.sync.job_growth import (
    MARKET, SHOP, Counts, CountingSku, Estate, Pusher, assert_flat, assert_linear, intents, measure)

FACTOR = 4


@pytest.fixture
def engine(clean_url):
    e = make_engine(clean_url)
    yield e
    e.dispose()


def _empty(engine) -> None:
    Estate(engine, 0, 0).clear()


# -- the intake's flush ------------------------------------------------------------------------

def _flush(engine, n: int):
    """n buffered intents over 5 locations; half already show their target on the channel
    (nothing to push: the check that drops them used to scan a list per key)."""
    now = datetime.now(UTC)
    keys = [(SHOP, CountingSku(f"SKU-{i:07d}"), f"L{i % 5:03d}") for i in range(n)]
    with engine.begin() as conn:
        conn.execute(t.channel_levels.insert(), [{"channel": c, "sku": s, "location": loc, "confirmed": 5,
                                                  "confirmed_at": now} for c, s, loc in keys[::2]])
    sync = ChannelSync(engine, flush_page=250)
    sync.register(SHOP, Pusher(per_location=True))
    for i, (c, s, loc) in enumerate(keys):
        sync.request(c, s, loc, 5 if i % 2 == 0 else 6)
    with measure(engine) as counts:
        assert sync.flush() == n
    assert intents(engine) == n // 2
    _empty(engine)
    return counts


def test_flushing_intents_is_linear_and_writes_one_page_per_transaction(engine):
    small, large = _flush(engine, 1000), _flush(engine, FACTOR * 1000)
    assert_linear(small, large, FACTOR)
    assert_flat(small, large)
    assert large.max_rows_per_write <= 250 and large.write_transactions >= FACTOR * 1000 // 2 // 250


# -- the sweep -----------------------------------------------------------------------------------

def _swept(url: str) -> tuple[Counts, int]:
    """In a fresh process: one sweep of the estate at `url`, counted and its memory
    traced. (In the test process, threads other tests left running allocate during the
    measurement: seen in CI's full run as a peak of 1.19 MB at 8N against 0.31 MB at N.)
    Both sizes start cold alike: imports done, no statement compiled yet."""
    engine = make_engine(url)
    try:
        sync = ChannelSync(engine, sweep_page=100)
        sync.register(SHOP, Pusher(per_location=True))
        sync.register(MARKET, Pusher(per_location=False))
        with measure(engine, memory=True) as counts:
            queued = sync.sweep()
        counts._open = {}
        return counts, queued
    finally:
        engine.dispose()


def _sweep(engine, url: str, skus: int) -> Counts:
    estate = Estate(engine, skus=skus, locations=5).build()
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        counts, queued = pool.apply(_swept, (url,))
    assert queued == intents(engine) > skus  # every listed figure that differs, and only once
    estate.clear()
    return counts


def test_the_sweep_is_linear_pages_its_writes_and_keeps_memory_flat(engine, clean_url):
    factor = 2 * FACTOR  # memory is noisy (garbage waits for the collector): a wider gap
    small, large = _sweep(engine, clean_url, 250), _sweep(engine, clean_url, factor * 250)
    assert_linear(small, large, factor, what=("statements", "rows_sent"))
    assert_flat(small, large)
    assert large.max_rows_per_write <= 100 + 5  # a page of SKUs holds at most sweep_page figures
    assert large.peak_bytes <= small.peak_bytes * 2, (small.peak_bytes, large.peak_bytes)


# -- the outbox relay ----------------------------------------------------------------------------

def _relay(engine, rows: int, events_per_row: int = 50):
    """`rows` outbox rows of availability changes, as the stock writer writes them (one
    row per batch, each a run of events), relayed into the sync intake."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(t.outbox.insert(), [{
            "topic": ChannelAvailabilityChanged.topic, "key": "", "created_at": now,
            "payload": [{"channel": SHOP, "sku": f"SKU-{r:05d}-{e:03d}", "location": "L000", "old": 0, "new": 3}
                        for e in range(events_per_row)]} for r in range(rows)])
    bus = InProcessBus()
    sync = ChannelSync(engine)
    sync.register(SHOP, Pusher(per_location=True))
    sync.attach(bus)
    relay = OutboxRelay(engine, bus, page_bytes=12_000)  # a few rows a page
    with measure(engine) as counts:
        assert relay.drain() == rows * events_per_row
    assert intents(engine) == rows * events_per_row  # written with the pages that carried them
    with engine.connect() as conn:
        assert not conn.execute(sa.select(sa.func.count()).select_from(t.outbox)
                                .where(t.outbox.c.published_at.is_(None))).scalar()
    _empty(engine)
    return counts


def test_the_relay_is_linear_and_commits_a_bounded_page_with_its_intents(engine):
    small, large = _relay(engine, 20), _relay(engine, FACTOR * 20)
    assert_linear(small, large, FACTOR, what=("statements", "rows_sent"))
    assert_flat(small, large)
    assert large.max_rows_per_write <= 4 * 50 + 1  # intents of the page's rows, and its published mark
