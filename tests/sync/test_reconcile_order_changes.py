"""An order edited on the channel, its webhook lost, is brought into line by
reconciliation (issue 19, point 3), over real HTTP against the Shopify sandbox.

The worker is not running, so the orders/edited and orders/updated webhooks wait in the
inbox, as good as lost. The run finds the newer version of the order and ingests it
through the pipeline: the units taken off the order on the channel are released in the
hub (on hand for the next order), and the units left stay reserved.
"""

from __future__ import annotations

import time

import sqlalchemy as sa

from omnihub.adapters.db import tables as t
from tests.sync.channel_world import build_world
from tests.sync.test_reconciliation import _settle, _start_and_wait
from tests.sync.test_till_sale_counted_once import _process_inbox


def _reserved(hub, external_id: str) -> int:
    oa, o = t.order_assignments, t.orders
    with hub.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.coalesce(sa.func.sum(oa.c.quantity), 0)).join(
            o, o.c.id == oa.c.order_id).where(o.c.external_id == external_id, oa.c.state == "reserved")).scalar_one())


def test_an_edit_on_the_channel_whose_webhook_was_lost_releases_the_units_taken_off(hub, serve, shopify_sandbox,
                                                                                   amazon_sandbox):
    world = build_world(hub, serve, shopify_sandbox, amazon_sandbox)
    _settle(hub, "shopify", "amazon_seller")
    shows = world.hub_shows("shopify")
    sku = next(s for (s, _loc), q in sorted(shows.items()) if q >= 3)
    placed = world.shopify_control("POST", "/orders", json={"lines": [{"sku": sku, "quantity": 3}]})
    assert placed.status_code == 201, placed.text
    order_id = str(placed.json()["order_id"])
    _process_inbox(hub, world)  # orders/create arrives: 3 units reserved
    assert _reserved(hub, order_id) == 3

    time.sleep(1.1)  # Shopify's updatedAt counts whole seconds: the edit is a later version
    line = world.shopify_control("GET", f"/orders/{order_id}").json()["order"]["line_items"][0]
    edited = world.shopify_control("POST", f"/orders/{order_id}/edits", json={"line_item_id": line["id"], "quantity": 1})
    assert edited.status_code == 200, edited.text
    world.shopify_control("POST", "/webhooks/wait-idle")  # delivered to the inbox, never processed: lost

    run = _start_and_wait(world, "shopify")
    assert run["state"] == "done", run
    found = [f for f in run["findings"] if f["external_id"] == order_id]
    assert [(f["kind"], f["repaired"]) for f in found] == [("missed_order_update", True)], run["findings"]
    assert _reserved(hub, order_id) == 1

    again = _start_and_wait(world, "shopify")  # in line now: nothing more to do for it
    assert not [f for f in again["findings"] if f["external_id"] == order_id], again["findings"]
    assert _reserved(hub, order_id) == 1
