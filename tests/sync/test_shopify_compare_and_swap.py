"""Compare-and-swap on Shopify (2026-04 `changeFromQuantity`): a merchant edits stock in
the Shopify admin between the engine's read and its write; Shopify refuses the push as
CHANGE_FROM_QUANTITY_STALE; the engine re-reads the level, re-decides and lands the right
number."""

from __future__ import annotations

import time

import httpx

from omnihub.domain.channel_sync import PushStatus
from omnihub.services.channel_sync import ChannelSync
from tests.sync.conftest import wait_until
from tests.sync.shop_setup import connect_shopify
from tests.sync.test_shopify_push import _available, _hub_shows, _location_gid


class MerchantEditsBetweenReadAndWrite:
    """Wraps the real pusher: just before the first write, the merchant edits the level."""

    def __init__(self, pusher, edit) -> None:
        self.inner = pusher
        self.edit = edit
        self.per_location = pusher.per_location
        self.max_batch = pusher.max_batch
        self.outcomes: list[list] = []

    def push(self, items, mapping):
        if self.edit:
            self.edit()
            self.edit = None
        out = self.inner.push(items, mapping)
        self.outcomes.append([o.status for o in out])
        return out


def _setup(hub, shopify_sandbox, shopify_connector, edit_body, **sync_kw):
    server, _ = shopify_sandbox()
    conn = shopify_connector(server.url)
    setup = connect_shopify(hub, conn)
    sku, code = sorted(setup["summary"].levels)[0]
    loc_gid = _location_gid(hub, "shopify", code)

    def edit():
        r = httpx.post(f"{server.url}/_sandbox/inventory/admin-edits",
                       json={"sku": sku, "location_id": loc_gid, **edit_body})
        assert r.status_code == 200, r.text

    pusher = MerchantEditsBetweenReadAndWrite(conn.pusher, edit)
    sync = ChannelSync(hub.engine, **sync_kw)
    sync.register("shopify", pusher)
    sync.attach(hub.bus)
    hub.inventory.receive(sku, code, 3)
    hub.relay.drain()
    sync.flush()
    return server, sync, pusher, sku, code, loc_gid


def test_stale_push_is_reread_and_the_hub_figure_lands(hub, shopify_sandbox, shopify_connector):
    server, sync, pusher, sku, code, loc_gid = _setup(hub, shopify_sandbox, shopify_connector, {"available": 50})
    sync.run_channel_once("shopify")
    assert PushStatus.STALE in pusher.outcomes[0], pusher.outcomes
    assert pusher.outcomes[-1] == [PushStatus.OK]
    hub_figure = _hub_shows(hub, "shopify", sku, code)
    assert _available(server.url, sku, loc_gid) == hub_figure
    assert sync.idle()


def test_an_unexplained_drop_is_held_then_the_hub_figure_is_reasserted(hub, shopify_sandbox, shopify_connector):
    server, sync, pusher, sku, code, loc_gid = _setup(hub, shopify_sandbox, shopify_connector, {"delta": -2},
                                                      reassert_after_s=0.3)
    before = _available(server.url, sku, loc_gid)
    sync.run_channel_once("shopify")
    assert PushStatus.STALE in pusher.outcomes[0]
    # Shopify may have sold those 2 units: never raise it above what it shows yet.
    assert _available(server.url, sku, loc_gid) == before - 2  # what the merchant left
    assert not sync.idle()
    time.sleep(0.35)
    sync.run_channel_once("shopify")
    assert _available(server.url, sku, loc_gid) == _hub_shows(hub, "shopify", sku, code)
    assert wait_until(sync.idle, 2)
