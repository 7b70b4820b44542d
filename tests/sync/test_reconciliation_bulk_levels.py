"""Reconciliation reads a large shop's levels with one Shopify bulk query (over HTTP, the
real sandbox): the same levels the paged read gets, none of the paged calls, and a run on
that road finds what the merchant changed in the admin."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from omnihub.adapters.channels.shopify import documents as docs
from omnihub.adapters.channels.shopify.bulk_levels import LEVELS_BULK_QUERY
from omnihub.adapters.channels.shopify.reconciliation_reads import ShopifyReader
from omnihub.adapters.db import tables as t
from omnihub.services.reconciliation import Reconciliation
from tests.sync.shop_setup import connect_shopify


class _Counting:
    """The connector's client, counting the documents it sends."""

    def __init__(self, client) -> None:
        self.client = client
        self.http = client.http
        self.sent: list[str] = []

    def execute(self, document: str, variables: dict | None = None):
        self.sent.append(variables.get("query") if document == docs.BULK_RUN_QUERY else document)
        return self.client.execute(document, variables)


def _levels(reader: ShopifyReader, locations: list[str], expected: int) -> list[tuple]:
    return sorted((lv.item_id, lv.location_id, lv.available, lv.committed, lv.channel_sku)
                  for lv in reader.levels(locations, expected=expected))


def test_the_bulk_road_reads_what_the_pages_read_and_a_run_on_it_finds_the_drift(hub, shopify_sandbox,
                                                                                 shopify_connector):
    shop, _ = shopify_sandbox(catalog_products=12, catalog_variants_per_product=2, catalog_stores=2,
                              catalog_warehouses=1, initial_stock_max=20)
    connector = shopify_connector(shop.url)
    connect_shopify(hub, connector)
    hub.relay.drain()
    hub.sync.flush()
    cl = t.channel_locations
    with hub.engine.connect() as conn:
        gids = dict(conn.execute(sa.select(cl.c.location, cl.c.external_location_id)).all())
    catalog = httpx.get(shop.url + "/_sandbox/catalog").json()
    edited = []
    for n, variant in enumerate(catalog["variants"][::5]):  # the merchant adds units in the admin
        code = sorted(gids)[n % len(gids)]
        r = httpx.post(shop.url + "/_sandbox/inventory/admin-edits", json={
            "sku": variant["sku"], "location_id": gids[code].rsplit("/", 1)[-1], "delta": 3})
        assert r.status_code == 200, r.text
        edited.append((variant["sku"], code))
    r = httpx.post(shop.url + "/_sandbox/orders", json={"lines": [{"sku": catalog["variants"][1]["sku"], "quantity": 2}]})
    assert r.status_code == 201, r.text  # committed units, which the read must carry too

    paged_client, bulk_client = _Counting(connector.client), _Counting(connector.client)
    paged = _levels(ShopifyReader(paged_client, page=10), list(gids.values()), expected=72)
    bulk = _levels(ShopifyReader(bulk_client, bulk_from=72), list(gids.values()), expected=72)
    assert len(paged) == 72 and any(lv[3] == 2 for lv in paged)
    assert bulk == paged
    assert paged_client.sent.count(docs.RECONCILE_LOCATION_LEVELS) == 9  # 3 locations x 24 levels, 10 a page
    assert bulk_client.sent.count(LEVELS_BULK_QUERY) == 1 and docs.RECONCILE_LOCATION_LEVELS not in bulk_client.sent
    below = _Counting(connector.client)
    _levels(ShopifyReader(below, bulk_from=73), list(gids.values()), expected=72)
    assert LEVELS_BULK_QUERY not in below.sent  # a smaller estate is read page by page

    reader = ShopifyReader(_Counting(connector.client), bulk_from=1)
    job = Reconciliation(hub.engine, hub.sync, hub.orders.ingest_many, hub.inventory.record_sale, {"shopify": reader})
    run = job.run("shopify")
    assert run["state"] == "done", run["error"]
    assert run["levels_compared"] == 72
    assert LEVELS_BULK_QUERY in reader.client.sent
    drift = {(f["sku"], f["location"]) for f in run["findings"] if f["kind"] == "drift_repaired"}
    assert set(edited) <= drift, (edited, run["findings"])
    assert run["summary"]["missed_order"] == 1
