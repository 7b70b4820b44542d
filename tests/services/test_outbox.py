"""Events leave only through the outbox: nothing published that was not committed, and
nothing committed lost if the process dies before publishing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from omnihub.adapters.bus.in_process import InProcessBus, OutboxRelay
from omnihub.adapters.db import tables as t
from omnihub.domain.ledger import LedgerError
from omnihub.hub import Hub
from omnihub.settings import Settings


def test_events_are_published_after_commit_in_order(stocked):
    seen = []
    stocked.bus.subscribe("*", lambda topic, payload: seen.append((topic, payload.get("sku"))))
    stocked.inventory.receive("A", "WH", 5)
    assert seen == []  # committed, not yet relayed: the relay publishes from the outbox
    n = stocked.relay.drain()
    assert n == len(seen) and seen[0] == ("stock.changed", "A")
    assert stocked.relay.drain() == 0  # marked published


def test_a_refused_command_publishes_nothing(stocked):
    seen = []
    stocked.bus.subscribe("*", lambda *a: seen.append(a))
    stocked.relay.drain()
    seen.clear()
    with pytest.raises(LedgerError):
        stocked.inventory.reserve("A", "WH", 1)
    assert stocked.relay.drain() == 0 and seen == []


def test_events_committed_before_a_crash_are_delivered_after_restart(stocked, clean_url):
    stocked.inventory.receive("A", "WH", 5)
    # The process "dies" here: nothing was relayed. A new process starts on the same DB.
    fresh = Hub.open(Settings(database_url=clean_url), run_migrations=False, relay=False)
    try:
        got = []
        fresh.bus.subscribe("stock.changed", lambda topic, p: got.append(p["movement_id"]))
        fresh.relay.drain()
        with fresh.engine.connect() as c:
            ids = c.execute(sa.select(t.movements.c.id)).scalars().all()
        assert got == ids
    finally:
        fresh.close()


def test_a_batch_writes_one_row_per_topic_and_keeps_each_topics_order(stocked):
    """Orders interleave their topics (accepted, state changed, routed, next order...);
    the outbox keeps one row per topic, and every subscriber of a topic sees its events
    in the order they were raised."""
    from datetime import UTC, datetime

    from omnihub.adapters.db.stock_store import write_outbox
    from omnihub.domain.events import OrderAccepted, OrderRouted, OrderStateChanged

    stocked.relay.drain()
    events = []
    for oid in range(1, 6):
        events += [OrderAccepted(oid, "shopify", f"E{oid}", "new", "created"),
                   OrderStateChanged(oid, "shopify", f"E{oid}", "created", "brokering", ""),
                   OrderRouted(oid, "allocated", "r", ())]
    with stocked.engine.begin() as conn:
        before = conn.execute(sa.select(sa.func.count()).select_from(t.outbox)).scalar()
        write_outbox(conn, events, datetime.now(UTC))
        rows = conn.execute(sa.select(t.outbox.c.topic).where(t.outbox.c.id > before).order_by(t.outbox.c.id)).scalars().all()
    assert rows == ["order.accepted", "order.state_changed", "order.routed"]
    seen = []
    stocked.bus.subscribe("*", lambda topic, p: seen.append((topic, p["order_id"])))
    assert stocked.relay.drain() == 15
    for topic in rows:
        assert [oid for tp, oid in seen if tp == topic] == [1, 2, 3, 4, 5]


def test_a_failing_subscriber_does_not_block_the_outbox(stocked):
    bus = InProcessBus()
    ok = []
    bus.subscribe("*", lambda *a: (_ for _ in ()).throw(RuntimeError("boom")))
    bus.subscribe("*", lambda topic, p: ok.append(topic))
    stocked.inventory.receive("A", "WH", 1)
    assert OutboxRelay(stocked.engine, bus).drain() > 0 and ok


def test_the_relay_queues_for_the_file_with_the_stock_writers(tmp_path):
    """On SQLite the relay waits in the same kernel queue as the stock writers: left to
    SQLite's sleeping busy handler it lost nearly every race against a busy writer."""
    import threading

    from omnihub.adapters.db.write_turn import WriteTurn
    from tests.conftest import add_location, add_skus

    hub = Hub.open(Settings(database_url=f"sqlite:///{tmp_path / 'hub.db'}"), relay=False)
    try:
        add_location(hub, "WH")
        add_skus(hub, "A")
        hub.inventory.receive("A", "WH", 5)
        writer_turn = WriteTurn(hub.engine)  # another writer, holding its turn
        done = threading.Event()
        with writer_turn():
            relay = threading.Thread(target=lambda: (hub.relay.drain(), done.set()))
            relay.start()
            assert not done.wait(0.5)  # queued behind the writer
        relay.join(10)
        assert done.is_set()
        writer_turn.close()
    finally:
        hub.close()
