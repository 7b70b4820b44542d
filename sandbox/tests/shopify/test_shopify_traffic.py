"""The traffic generator places the asked number of online orders and POS sales, in the
asked mix (the rate it reached on the wall clock is a benchmark's business, not a test's)."""

from __future__ import annotations

import asyncio

from omnihub_sandbox.shopify.traffic import ShopperTraffic, TrafficMix


def test_traffic_places_the_asked_orders_in_the_mix_and_never_sells_below_zero(live_sandbox):
    client, app = live_sandbox(initial_stock_max=5, catalog_products=4)
    traffic = ShopperTraffic(client.base_url, rate_per_s=60, mix=TrafficMix(pos_share=0.4), seed=3)
    summary = asyncio.run(traffic.run(1.5))
    assert summary.attempted == 90 and summary.errors == 0
    pos = summary.pos_placed + summary.pos_refused
    assert 0.2 < pos / summary.attempted < 0.6
    assert summary.online_refused + summary.pos_refused > 0  # small stock: the deny policy bites
    negative = app.state.shop.store.one("SELECT count(*) AS n FROM inventory_levels WHERE available < 0")["n"]
    assert negative == 0
    orders = client.data('{ orders(first: 250) { nodes { sourceName } } }')["orders"]["nodes"]
    assert len(orders) == summary.online_placed + summary.pos_placed
    assert sum(o["sourceName"] == "pos" for o in orders) == summary.pos_placed
