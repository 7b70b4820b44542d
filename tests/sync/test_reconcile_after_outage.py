"""A channel that comes back from an outage is reconciled at once, not at the next
hourly schedule: while it was down its webhooks were lost and its tills kept selling.

The Shopify link goes down (every call answered 503) while the hub has stock changes to
push; once pushes have failed for longer than the outage threshold and the link is back,
the first answer starts a reconciliation run of that channel (trigger `recovered`),
which finishes; a failure shorter than the threshold starts none.
"""

from __future__ import annotations

import random
import time

import sqlalchemy as sa

from omnihub.adapters.db import tables as t
from omnihub.entrypoints.worker import Schedules, Worker
from tests.sync.conftest import wait_until
from tests.sync.test_end_to_end import _amazon_converged
from tests.sync.test_worker_kill import _receive_stock, _world_behind_slow_links


def _runs(hub, trigger: str) -> list[tuple[str, str]]:
    r = t.reconciliation_runs
    with hub.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.select(r.c.channel, r.c.state).where(r.c.trigger == trigger))]


def _failed_pushes(hub) -> int:
    i = t.sync_intents
    with hub.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(i).where(i.c.channel == "shopify", i.c.attempts > 0,
                                                                           i.c.last_error.is_not(None))).scalar()


def test_a_channel_back_from_an_outage_is_reconciled_at_once(hub, serve, shopify_sandbox, amazon_sandbox):
    world, _key, links = _world_behind_slow_links(hub, serve, shopify_sandbox, amazon_sandbox)
    worker = Worker.from_vault(hub, schedules=Schedules(
        new_orders_s=3600, order_updates_s=3600, new_products_s=3600, product_updates_s=3600, level_snapshot_s=3600,
        amazon_orders_s=3600, queue_retry_s=3600, sweep_s=1, reconcile_s=3600))
    hub.sync.outage_after_s = 3.0
    hub.sync.backoff_base_s, hub.sync.backoff_cap_s = 0.2, 0.5  # failed pushes come back within the outage
    rng = random.Random(7)
    skus = sorted({s for s, _ in world.hub_shows("shopify")})
    worker.start()
    try:
        assert wait_until(lambda: not _amazon_converged(world), 20), _amazon_converged(world)
        # A blip: the link fails for less than the threshold while there is stock to push.
        links["shopify"].down = True
        _receive_stock(world, rng, skus, 5)
        time.sleep(0.8)
        links["shopify"].down = False
        assert wait_until(lambda: not _pending(hub), 20), _pending(hub)
        time.sleep(1.0)
        assert _runs(hub, "recovered") == [], "a blip shorter than the threshold is no outage"
        # An outage: every push fails for longer than the threshold.
        links["shopify"].down = True
        started = time.monotonic()
        _receive_stock(world, rng, skus, 20)
        assert wait_until(lambda: _failed_pushes(hub) > 0, 15)
        while time.monotonic() - started < hub.sync.outage_after_s + 1.0:
            _receive_stock(world, rng, skus, 1)  # pushes keep failing throughout
            time.sleep(0.3)
        assert _runs(hub, "recovered") == [], "no run while the channel is still down"
        links["shopify"].down = False
        assert wait_until(lambda: ("shopify", "done") in _runs(hub, "recovered"), 30), _runs(hub, "recovered")
        assert [ch for ch, _ in _runs(hub, "recovered")] == ["shopify"], "one run, of the channel that was down"
        assert wait_until(lambda: not _pending(hub), 30), _pending(hub)
    finally:
        worker.stop()


def _pending(hub) -> int:
    i = t.sync_intents
    with hub.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(i).where(i.c.channel == "shopify",
                                                                           i.c.state == "pending")).scalar()
