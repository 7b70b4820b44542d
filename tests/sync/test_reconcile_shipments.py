"""Shipped in the hub but not marked on the channel (issue 19, point 3), over real HTTP.

A Shopify order and an Amazon order are shipped in the hub, and the fulfilment job
believes it told both channels, but neither shows them shipped: the calls were lost on
the way (a stand-in notifier answers "told" without calling, as an answer that never
reached the channel would leave things). One reconciliation run per channel finds each
shipment the channel still shows unshipped and makes it due again; the real fulfilment
job then tells the channels, and a second run finds nothing.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from omnihub.adapters.db import tables as t
from omnihub.domain.channel_fulfilment import Told
from omnihub.entrypoints.reconciliation_wiring import reconciliation
from omnihub.services.fulfilment_sync import FulfilmentSync
from tests.sync.channel_world import build_world
from tests.sync.test_fulfilment_sync import FAST, SHOPIFY_STATE, _hub_order, _reserved_at, orders_reserved_on_both


class _LostOnTheWay:
    """Answers as a channel that took the shipment would, and tells no one."""

    def tell(self, notice):
        return Told(None)


def _states(hub) -> dict[str, str]:
    cf = t.channel_fulfilments
    with hub.engine.connect() as conn:
        return dict(conn.execute(sa.select(cf.c.channel, cf.c.state)).all())


def test_a_shipment_the_channel_never_marked_is_told_again(hub, serve, shopify_sandbox, amazon_sandbox):
    world = build_world(hub, serve, shopify_sandbox, amazon_sandbox, schedules=FAST)
    world.worker.start()
    try:
        shopify_id, amazon_id = orders_reserved_on_both(hub, world)
        _ship_lose_and_tell_again(hub, world, shopify_id, amazon_id)
    finally:
        world.worker.stop()


def _ship_lose_and_tell_again(hub, world, shopify_id: str, amazon_id: str) -> None:
    for (channel, ext), carrier, tracking in ((("shopify", shopify_id), "UPS", "1Z999AA10123456784"),
                                              (("amazon_seller", amazon_id), "USPS", "9400111899223197428490")):
        oid = _hub_order(hub, channel, ext).id
        for location in _reserved_at(hub, oid):
            hub.order_ops.ship(oid, location, carrier=carrier, tracking=tracking)
    lost = FulfilmentSync(hub.engine, {"shopify": _LostOnTheWay(), "amazon_seller": _LostOnTheWay()}).run_once()
    assert (lost.discovered, lost.sent) == (2, 2) and _states(hub) == {"shopify": "sent", "amazon_seller": "sent"}
    client = world.worker.shopify.client
    assert client.execute(SHOPIFY_STATE, {"id": f"gid://shopify/Order/{shopify_id}"})["order"][
        "displayFulfillmentStatus"] == "UNFULFILLED"
    assert world.worker.amazon.client.get_order(amazon_id)["OrderStatus"] == "Unshipped"

    job = reconciliation(hub, shopify=world.worker.shopify, amazon=world.worker.amazon)
    job.shipment_grace = timedelta(0)  # told just now: checked at once here
    for channel, ext in (("shopify", shopify_id), ("amazon_seller", amazon_id)):
        run = job.run(channel, trigger="cli")
        assert run["state"] == "done", run
        unmarked = [f for f in run["findings"] if f["kind"] == "shipment_unmarked"]
        assert [(f["external_id"], f["repaired"]) for f in unmarked] == [(ext, True)], run["findings"]
    assert _states(hub) == {"shopify": "pending", "amazon_seller": "pending"}

    told = world.worker.fulfilments.run_once()
    assert (told.sent, told.dead) == (2, 0), told
    shown = client.execute(SHOPIFY_STATE, {"id": f"gid://shopify/Order/{shopify_id}"})["order"]
    assert shown["displayFulfillmentStatus"] == "FULFILLED"
    assert [ti["number"] for f in shown["fulfillments"] for ti in f["trackingInfo"]] == ["1Z999AA10123456784"]
    assert world.worker.amazon.client.get_order(amazon_id)["OrderStatus"] == "Shipped"

    for channel in ("shopify", "amazon_seller"):  # marked now: nothing found, nothing told again
        again = job.run(channel, trigger="cli")
        assert not [f for f in again["findings"] if f["kind"] == "shipment_unmarked"], again["findings"]
    assert _states(hub) == {"shopify": "sent", "amazon_seller": "sent"}
