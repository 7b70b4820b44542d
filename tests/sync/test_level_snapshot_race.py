"""The level snapshot reads a page of Shopify's levels, then the hub's confirmed figures
for it. A push acknowledged between the two (the worker's senders run beside the
snapshot, and during a morning's catch-up they always do) made the page's older figure
look like a drift: it was recorded as confirmed over the push's newer one, and the
hub's raise, which Shopify already showed, was held back to be pushed again after the
re-assert hold. The page's figures are as of when the page was asked for, so the newer
acknowledgement wins. Over real HTTP against the sandbox, read back from it."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from omnihub.adapters.channels.shopify import documents as docs
from omnihub.adapters.db import tables as t
from omnihub.services.channel_polling import ShopifyPoller
from omnihub.services.channel_sync import ChannelSync
from tests.sync.shop_setup import connect_shopify


class _PushAfterFirstPage:
    """A Shopify client whose first levels page is answered, and then, before the
    snapshot sees it, the hub's pending push runs and lands."""

    def __init__(self, client, push) -> None:
        self.client = client
        self.push = push
        self.pushed = 0

    def execute(self, document, variables=None, **kw):
        data = self.client.execute(document, variables, **kw)
        if document == docs.RECONCILE_LOCATION_LEVELS and not self.pushed:
            self.pushed = self.push()
        return data

    def __getattr__(self, name):
        return getattr(self.client, name)


def test_a_push_landing_while_the_snapshot_reads_stays_confirmed(hub, shopify_sandbox, shopify_connector):
    server, _ = shopify_sandbox()
    connector = shopify_connector(server.url)
    setup = connect_shopify(hub, connector)
    sync = ChannelSync(hub.engine, reassert_after_s=3600)
    sync.register("shopify", connector.pusher)
    sync.attach(hub.bus)
    sku, code = sorted(setup["summary"].levels)[0]
    hub.inventory.receive(sku, code, 5)  # a raise the channel must show
    hub.relay.drain()
    sync.flush()
    av, lv, cl, i = t.channel_availability, t.channel_levels, t.channel_locations, t.sync_intents
    with hub.engine.connect() as conn:
        hub_figure = conn.execute(sa.select(av.c.quantity).where(av.c.channel == "shopify", av.c.sku == sku,
                                                                 av.c.location == code)).scalar()
        gid = conn.execute(sa.select(cl.c.external_location_id).where(cl.c.channel == "shopify",
                                                                      cl.c.location == code)).scalar()
    client = _PushAfterFirstPage(connector.client, lambda: sync.run_channel_once("shopify"))
    poller = ShopifyPoller(hub.engine, client, hub.orders.ingest_many, channel="shopify",
                           observe_level=sync.observe_level)
    poller.poll_orders = lambda *a, **kw: None  # the sales behind differences: none here, and not this test's
    poller.snapshot_levels()

    assert client.pushed == 1
    shown = httpx.get(f"{server.url}/_sandbox/inventory", params={"sku": sku, "location_id": gid}).json()["available"]
    assert shown == hub_figure  # the push landed
    with hub.engine.connect() as conn:
        confirmed = conn.execute(sa.select(lv.c.confirmed).where(lv.c.channel == "shopify", lv.c.sku == sku,
                                                                 lv.c.location == code)).scalar()
        held = conn.execute(sa.select(i.c.target).where(i.c.channel == "shopify", i.c.sku == sku)).all()
    assert confirmed == shown  # not the page's older figure
    assert held == []  # nothing held back to be pushed again
    sync.flush()
    assert sync.idle()
