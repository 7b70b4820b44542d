"""A push asked for directly (reconciliation's repairs) becomes an intent in the
database even in a hub that sends nothing itself: `omnihub sync reconcile` and the API
run reconciliation on hubs without pushers, and the worker sends what they ask. Before,
the request was dropped there and the repair waited for the worker's next sweep."""

from __future__ import annotations

import sqlalchemy as sa

from omnihub.adapters.db import tables as t
from tests.conftest import add_location, add_skus


def _intents(hub) -> list[tuple]:
    i = t.sync_intents
    with hub.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(i.c.channel, i.c.sku, i.c.location, i.c.target)
                                               .order_by(i.c.channel, i.c.location))]


def test_a_repair_asked_in_a_hub_without_pushers_is_an_intent_for_the_worker(hub):
    add_location(hub, "WH", kind="warehouse", capabilities=["ship"])
    add_skus(hub, "A")
    hub.catalog.upsert_channel("shopify", name="Shopify", kind="shopify", per_location=True)
    hub.catalog.upsert_channel("amazon", name="Amazon", kind="amazon", feeds={"WH": "ship"})
    assert hub.sync.pushers == {}  # as in the CLI's and the API's hubs
    hub.sync.request("shopify", "A", "WH", 7)   # a per-location channel: at its location
    hub.sync.request("amazon", "A", "", 4)      # an aggregate channel: its one total
    hub.sync.request("shopify", "A", "", 9)     # not a figure Shopify shows: no intent
    hub.sync.request("amazon", "A", "WH", 9)    # nor this one of Amazon's
    hub.sync.request("walmart", "A", "", 3)     # no such channel: nothing
    hub.sync.flush()
    assert _intents(hub) == [("amazon", "A", "", 4), ("shopify", "A", "WH", 7)]
