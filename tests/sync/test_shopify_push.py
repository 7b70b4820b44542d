"""The Shopify push over real HTTP against the sandbox: a hub stock change lands on the
right Shopify location, and a merchant's edit between read and write is caught by the
compare-and-swap and put right."""

from __future__ import annotations

import sqlalchemy as sa

from omnihub.adapters.db import tables as t
from omnihub.services.channel_sync import ChannelSync
from tests.sync.shop_setup import connect_shopify


def _available(server_url: str, sku: str, location_gid: str) -> int:
    import httpx

    r = httpx.get(f"{server_url}/_sandbox/inventory", params={"sku": sku, "location_id": location_gid})
    assert r.status_code == 200, r.text
    return r.json()["available"]


def _hub_shows(hub, channel, sku, location) -> int | None:
    av = t.channel_availability
    with hub.engine.connect() as conn:
        return conn.execute(sa.select(av.c.quantity).where(av.c.channel == channel, av.c.sku == sku,
                                                           av.c.location == location)).scalar()


def _location_gid(hub, channel, code) -> str:
    cl = t.channel_locations
    with hub.engine.connect() as conn:
        return conn.execute(sa.select(cl.c.external_location_id).where(cl.c.channel == channel, cl.c.location == code)).scalar()


def test_a_hub_change_lands_on_shopify(hub, shopify_sandbox, shopify_connector):
    server, _ = shopify_sandbox()
    conn = shopify_connector(server.url)
    setup = connect_shopify(hub, conn)
    sync = ChannelSync(hub.engine)
    sync.register("shopify", conn.pusher)
    sync.attach(hub.bus)
    sku, code = sorted(setup["summary"].levels)[0]
    hub.inventory.receive(sku, code, 5)
    hub.relay.drain()
    sync.flush()
    assert sync.run_channel_once("shopify") >= 1
    expected = _hub_shows(hub, "shopify", sku, code)
    assert _available(server.url, sku, _location_gid(hub, "shopify", code)) == expected
    assert sync.idle()
    assert conn.client.bucket.stats.throttled == 0
