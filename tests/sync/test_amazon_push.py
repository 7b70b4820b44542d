"""Amazon over real HTTP: a few changes go by patchListingsItem, many by one
JSON_LISTINGS_FEED; an order notification brings the order in through the inbox; the
clients never hit a 429 (they pace themselves by the usage plans)."""

from __future__ import annotations

import httpx

from omnihub.adapters.channels.amazon.usage_plans import OFFICIAL_PLANS, UsagePlan, UsagePlanLimiter
from omnihub.services.channel_sync import ChannelSync
from tests.conftest import add_location, add_skus


def _world(hub, amazon_sandbox, amazon_connector, skus, *, patch_limit=25):
    server, _, cfg = amazon_sandbox(rate_multiplier=20.0)
    fast = UsagePlanLimiter({op: UsagePlan(p.rate * 20, max(1, int(p.burst * 20))) for op, p in OFFICIAL_PLANS.items()})
    conn = amazon_connector(server.url, cfg, limiter=fast, patch_limit=patch_limit, feed_poll_s=0.1)
    add_location(hub, "WH", kind="warehouse", capabilities=["ship"])
    add_skus(hub, *skus)
    hub.catalog.upsert_channel("amazon_seller", name="Amazon", kind="amazon", feeds={"WH": "ship"})
    for s in skus:
        hub.catalog.set_listing("amazon_seller", s, s)
        assert httpx.put(f"{server.url}/_sandbox/listings/{s}", json={"quantity": 0}).status_code == 200
    sync = ChannelSync(hub.engine)
    sync.register("amazon_seller", conn.pusher)
    sync.attach(hub.bus)
    return server, conn, sync


def _listed(server) -> dict[str, int]:
    return {r["sku"]: r["quantity"] for r in httpx.get(f"{server.url}/_sandbox/listings").json()["listings"]}


def test_few_changes_are_patched(hub, amazon_sandbox, amazon_connector):
    server, conn, sync = _world(hub, amazon_sandbox, amazon_connector, ["A", "B"])
    hub.inventory.receive("A", "WH", 4)
    hub.relay.drain()
    sync.flush()
    sync.run_channel_once("amazon_seller")
    assert _listed(server)["A"] == 4
    assert {op for op, *_ in conn.client.sent} == {"patchListingsItem"}
    assert conn.client.throttled == 0


def test_many_changes_go_in_one_listings_feed(hub, amazon_sandbox, amazon_connector):
    skus = [f"S{n:03d}" for n in range(30)]
    server, conn, sync = _world(hub, amazon_sandbox, amazon_connector, skus, patch_limit=5)
    for n, s in enumerate(skus):
        hub.inventory.receive(s, "WH", n + 1)
    hub.relay.drain()
    sync.flush()
    assert sync.run_channel_once("amazon_seller") == 30
    assert conn.pusher.feeds_submitted == 1
    listed = _listed(server)
    assert {s: listed[s] for s in skus} == {s: n + 1 for n, s in enumerate(skus)}
    assert sync.idle()
    assert conn.client.throttled == 0
