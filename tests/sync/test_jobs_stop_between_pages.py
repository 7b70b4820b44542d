"""A stop request ends the sweep and the outbox relay after the page in hand: the page
commits whole, nothing after it starts, and the next run finishes what was left."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from omnihub.adapters.bus.in_process import InProcessBus, OutboxRelay
from omnihub.adapters.db import tables as t
from omnihub.adapters.db.engine import make_engine
from omnihub.domain.events import ChannelAvailabilityChanged
from omnihub.services.channel_sync import ChannelSync
from tests.sync.job_growth import MARKET, SHOP, Estate, Pusher, intents


@pytest.fixture
def engine(clean_url):
    e = make_engine(clean_url)
    yield e
    e.dispose()


def _stop_at_first_commit(engine, flag) -> None:
    def on_commit(conn):
        flag.set()
    event.listen(engine, "commit", on_commit, once=True)


def _unpublished(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(t.outbox).where(t.outbox.c.published_at.is_(None))).scalar()


def test_a_stopped_sweep_ends_after_its_page_and_the_next_sweep_finishes(engine):
    Estate(engine, skus=200, locations=5).build()
    sync = ChannelSync(engine, sweep_page=100)
    sync.register(SHOP, Pusher(per_location=True))
    sync.register(MARKET, Pusher(per_location=False))
    _stop_at_first_commit(engine, sync._stop)
    first = sync.sweep()
    assert 0 < first == intents(engine) <= 100 + 5  # one page of at most sweep_page figures
    sync._stop.clear()
    rest = sync.sweep()
    assert rest > 4 * first and intents(engine) == first + rest
    assert sync.sweep() == 0  # nothing left that differs and has no intent


def test_a_stopped_relay_commits_its_page_with_its_intents_and_leaves_the_rest(engine):
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(t.outbox.insert(), [{
            "topic": ChannelAvailabilityChanged.topic, "key": "", "created_at": now,
            "payload": [{"channel": SHOP, "sku": f"S{r:03d}-{e:02d}", "location": "L000", "old": 0, "new": 2}
                        for e in range(50)]} for r in range(30)])
    bus = InProcessBus()
    sync = ChannelSync(engine)
    sync.register(SHOP, Pusher(per_location=True))
    sync.attach(bus)
    relay = OutboxRelay(engine, bus, page_bytes=12_000)
    _stop_at_first_commit(engine, relay._stop)
    relayed = relay.drain()
    assert 0 < relayed < 30 * 50 and intents(engine) == relayed  # the page's intents committed with it
    assert _unpublished(engine) == 30 - relayed // 50
    relay._stop.clear()
    assert relay.drain() == 30 * 50 - relayed
    assert intents(engine) == 30 * 50 and _unpublished(engine) == 0
