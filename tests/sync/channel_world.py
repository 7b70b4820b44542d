"""A whole world for end-to-end tests: Shopify and Amazon sandboxes, the hub's API (webhook
receivers) and a worker, all over loopback HTTP. The hub reads nothing of the sandboxes
but what their APIs answer."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import sqlalchemy as sa
from cryptography.fernet import Fernet

from omnihub.adapters.channels.credentials import CredentialVault
from omnihub.adapters.db import tables as t
from tests.conftest import admin_app
from omnihub.entrypoints.worker import Schedules, Worker
from tests.sync.conftest import SHOPIFY_SECRET, amazon_secrets, shopify_secrets
from tests.sync.shop_setup import connect_shopify

WEBHOOK_TOPICS = ("ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_CANCELLED", "ORDERS_EDITED", "INVENTORY_LEVELS_UPDATE")


@dataclass
class World:
    hub: object
    api: object
    shopify: object
    shopify_app: object
    amazon: object
    amazon_cfg: object
    worker: Worker
    warehouses: list[str]

    def shopify_control(self, method, path, **kw):
        return httpx.request(method, self.shopify.url + "/_sandbox" + path, timeout=30, **kw)

    def amazon_control(self, method, path, **kw):
        return httpx.request(method, self.amazon.url + "/_sandbox" + path, timeout=30, **kw)

    def hub_shows(self, channel: str) -> dict[tuple[str, str], int]:
        av = t.channel_availability
        with self.hub.engine.connect() as conn:
            return {(r.sku, r.location): r.quantity for r in conn.execute(sa.select(av).where(av.c.channel == channel))}

    def location_gids(self) -> dict[str, str]:
        cl = t.channel_locations
        with self.hub.engine.connect() as conn:
            return dict(conn.execute(sa.select(cl.c.location, cl.c.external_location_id).where(cl.c.channel == "shopify")).all())


def build_world(hub, serve, shopify_sandbox, amazon_sandbox, *, faults: dict | None = None, amazon_faults: dict | None = None,
                schedules: Schedules | None = None, amazon_rate_multiplier: float = 50.0,
                secret_key: str | None = None) -> World:
    """`secret_key` encrypts the channels' credentials: pass one to share them with a worker process."""
    hub.vault = CredentialVault(hub.engine, secret_key or Fernet.generate_key().decode())
    api = serve(admin_app(hub))
    shop, shop_app = shopify_sandbox(webhook_faults=faults or {}, catalog_products=6, catalog_variants_per_product=2,
                                     catalog_stores=2, catalog_warehouses=1, initial_stock_max=10)
    amazon, _, amazon_cfg = amazon_sandbox(catalog_size=0, notification_destination=api.url + "/webhooks/amazon",
                                           rate_multiplier=amazon_rate_multiplier, **(amazon_faults or {}))
    hub.vault.put("shopify", shopify_secrets(shop.url))
    hub.vault.put("amazon_seller", amazon_secrets(amazon.url, amazon_cfg))
    worker = Worker.from_vault(hub, schedules=schedules or Schedules(
        new_orders_s=2, order_updates_s=3, new_products_s=3600, product_updates_s=3600, level_snapshot_s=4,
        amazon_orders_s=3, queue_retry_s=2, sweep_s=1))
    hub.sync.reassert_after_s = 10.0  # polls run every 2-3 s here: a lost order is in well before
    setup = connect_shopify(hub, worker.shopify)
    catalog = shop_app.state.shop  # only to find which locations are warehouses: the kind is not in the Admin API
    del catalog
    kinds = httpx.get(shop.url + "/_sandbox/catalog").json()["locations"]
    gid_kind = {loc["admin_graphql_api_id"]: loc["kind"] for loc in kinds}
    warehouses = [code for code, gid in World(hub, api, shop, shop_app, amazon, amazon_cfg, worker, []).location_gids().items()
                  if gid_kind.get(gid) == "warehouse"]
    # Allocation as a merchant sets it so that no unit is offered on two channels at once
    # (two channels selling the same last unit within one push latency is a race no sync
    # speed can win): the warehouse feeds Amazon, the stores feed Shopify online and POS,
    # and routing keeps each channel's orders on its own pool.
    stores = [c for c in World(hub, api, shop, shop_app, amazon, amazon_cfg, worker, []).location_gids() if c not in warehouses]
    for code in warehouses:
        hub.catalog.update_location(code, {"groups": ["amazon-pool"]})
    for code in stores:
        hub.catalog.update_location(code, {"groups": ["shopify-pool"]})
        # A store's last units are kept for walk-in customers (safety stock, as the seeds
        # advise): the till can always sell them, so online must not promise them. With
        # one unit, two till sales racing an online sale of the same SKU within one push
        # still left an order waiting about 1 run in 10; routing does not dip into safety
        # stock (it never assigns more than a location's ATP).
        hub.catalog.set_policy(location=code, safety_stock=2)
    hub.catalog.upsert_channel("shopify", name="Shopify", kind="shopify", per_location=True, feeds={c: "ship" for c in stores})
    hub.catalog.upsert_channel("amazon_seller", name="Amazon", kind="amazon", feeds={w: "ship" for w in warehouses})

    def pool_rule(name, channels, group):
        return {"name": name, "enabled": True, "order_filter": {"channels": channels},
                "location_filter": {"groups": [group]}, "sort": ["fewest_shipments", "priority"],
                "split": {"mode": "split", "max_shipments": 3}, "fallback": "queue"}

    hub.rules.save({"rules": [pool_rule("amazon-from-warehouse", ["amazon_seller"], "amazon-pool"),
                              pool_rule("shopify-from-stores", ["shopify"], "shopify-pool")], "final_fallback": "queue"})
    skus = sorted({s for s, _ in setup["summary"].levels})
    for sku in skus:
        hub.catalog.set_listing("amazon_seller", sku, sku)
        assert httpx.put(f"{amazon.url}/_sandbox/listings/{sku}", json={"quantity": 0}).status_code == 200
    # Shopify shows nothing at the warehouse it does not sell from: the sync sweep pushes 0
    # to mapped locations that do not feed the channel.
    client = worker.shopify.client
    from omnihub.adapters.channels.shopify import documents as docs

    for topic in WEBHOOK_TOPICS:
        data = client.execute(docs.WEBHOOK_SUBSCRIBE, {"topic": topic, "uri": api.url + "/webhooks/shopify"})
        assert not data["webhookSubscriptionCreate"]["userErrors"], data
    return World(hub, api, shop, shop_app, amazon, amazon_cfg, worker, warehouses)


_ = SHOPIFY_SECRET
