"""A killed worker loses nothing: what it had claimed is leased, and once the lease runs
out another worker (or the restarted one) claims and finishes it."""

from __future__ import annotations

import time

from omnihub.domain.channel_sync import PushOutcome, PushStatus
from omnihub.services.channel_sync import ChannelSync
from omnihub.services.channel_inbox import InboxProcessor


class Acks:
    per_location = False
    max_batch = 100

    def __init__(self):
        self.seen = []

    def push(self, items, mapping):
        self.seen += [(i.sku, i.target) for i in items]
        return [PushOutcome(i.intent_id, PushStatus.OK, landed=i.target) for i in items]


def test_a_dead_workers_claims_are_picked_up_after_the_lease(stocked):
    hub = stocked
    first = ChannelSync(hub.engine, lease_s=0.3, owner="worker-1")
    first.register("amazon", Acks())
    first.request("amazon", "A", "", 7)
    first.flush()
    assert len(first.claim("amazon", 10)) == 1  # ...and then the process dies
    second_pusher = Acks()
    second = ChannelSync(hub.engine, lease_s=0.3, owner="worker-2")
    second.register("amazon", second_pusher)
    assert second.run_channel_once("amazon") == 0  # still leased to worker-1
    time.sleep(0.35)
    assert second.run_channel_once("amazon") == 1
    assert second_pusher.seen == [("A", 7)]
    assert second.idle()


def test_a_dead_workers_inbox_rows_are_picked_up(stocked):
    hub = stocked
    first = InboxProcessor(hub.engine, hub.orders.ingest_many, lease_s=0.3, owner="worker-1")
    first.accept("shopify", "w-1", "products/update", {}, b"{}")
    assert len(first.claim(10)) == 1  # dies here
    second = InboxProcessor(hub.engine, hub.orders.ingest_many, lease_s=0.3, owner="worker-2")
    assert second.process_once() == 0
    time.sleep(0.35)
    assert second.process_once() == 1
