"""The scheduled jobs that read a channel grow with their input, counted, never timed
(tests/sync/job_growth.py): the Shopify level snapshot, reconciliation, the product poll
and the order poll, each run against a real Shopify sandbox over HTTP at N and 4N
products, with pages made small so that both sizes span many pages.

Each job must do about four times the work on four times the input (statements, rows
sent, SKU comparisons) and carry no more rows in one statement or one write transaction
at 4N than at N (it holds the write lock one bounded batch at a time). Memory is judged
where an estate held in memory would show: test_polling_job_memory.py.
"""

from __future__ import annotations

import sqlalchemy as sa

from omnihub.adapters.channels.shopify.reconciliation_reads import ShopifyReader
from omnihub.adapters.db import tables as t
from omnihub.hub import Hub
from omnihub.services import listing_lookup, reconciliation as recon_module
from omnihub.services.catalog_cursors import POLLS, shopify_time
from omnihub.services.catalog_polling import CatalogPoller
from omnihub.services.channel_polling import ShopifyPoller, write_cursor
from omnihub.services.reconciliation import Reconciliation
from omnihub.settings import Settings
from tests.conftest import empty_database
from tests.sync.job_growth import assert_flat, assert_linear, measure
from tests.sync.shop_setup import connect_shopify

SMALL, FACTOR = 5, 4  # products (2 variants each, 2 stores and a warehouse: 6 levels a product)
PAGE = 7  # levels, SKUs, findings per page: both sizes span many pages


class _Shop:
    """A hub connected to a Shopify sandbox of `products` products, every third level
    moved in Shopify (an admin edit the hub never heard of) so each job has differences
    in proportion to the estate."""

    def __init__(self, products: int, *, url: str, tmp_path, shopify_sandbox, shopify_connector) -> None:
        empty_database(url)
        self.hub = Hub.open(Settings(database_url=url), run_migrations=False, relay=False)
        self.server, _ = shopify_sandbox(catalog_products=products, catalog_variants_per_product=2, catalog_stores=2,
                                         catalog_warehouses=1, initial_stock_max=20,
                                         state_path=tmp_path / f"shop-{products}.sqlite3")
        self.connector = shopify_connector(self.server.url)
        connect_shopify(self.hub, self.connector)
        self.hub.relay.drain()
        self.hub.sync.flush()
        self.moved = self._move_every_third_level()

    def _move_every_third_level(self) -> int:
        lv, cl = t.channel_levels, t.channel_locations
        with self.hub.engine.connect() as conn:
            gid = dict(conn.execute(sa.select(cl.c.location, cl.c.external_location_id)).all())
            keys = conn.execute(sa.select(lv.c.sku, lv.c.location).order_by(lv.c.sku, lv.c.location)).all()
        moved = 0
        for sku, code in keys[::3]:
            r = self.control("POST", "/inventory/admin-edits",
                             json={"sku": sku, "location_id": gid[code].rsplit("/", 1)[-1], "delta": 1})
            assert r.status_code == 200, r.text
            moved += 1
        return moved

    def control(self, method: str, path: str, **kw):
        import httpx

        return httpx.request(method, self.server.url + "/_sandbox" + path, timeout=30, **kw)

    def close(self) -> None:
        self.hub.close()


def _at_two_sizes(job, clean_url, tmp_path, shopify_sandbox, shopify_connector):
    """(small counts, small result, large counts, large result) of `job(shop)`."""
    out = []
    for products in (SMALL, SMALL * FACTOR):
        shop = _Shop(products, url=clean_url, tmp_path=tmp_path, shopify_sandbox=shopify_sandbox,
                     shopify_connector=shopify_connector)
        try:
            with measure(shop.hub.engine) as counts:
                result = job(shop)
            out += [counts, result]
        finally:
            shop.close()
    return out


def _small_pages(monkeypatch) -> None:
    monkeypatch.setattr(listing_lookup, "PAGE", PAGE)
    for name in ("LEVEL_PAGE", "ORDER_PAGE", "SKU_PAGE", "FINDINGS_PAGE", "HUB_PAGE"):
        monkeypatch.setattr(recon_module, name, PAGE)


def test_the_level_snapshot_grows_linearly_and_holds_a_page(clean_url, tmp_path, shopify_sandbox, shopify_connector,
                                                            monkeypatch):
    _small_pages(monkeypatch)

    def snapshot(shop: _Shop):
        poller = ShopifyPoller(shop.hub.engine, shop.connector.client, shop.hub.orders.ingest_many,
                               observe_level=lambda *a: None, level_page=PAGE)
        return poller.snapshot_levels()

    small, s_report, large, l_report = _at_two_sizes(snapshot, clean_url, tmp_path, shopify_sandbox, shopify_connector)
    assert s_report.seen == SMALL * 6 and l_report.seen == SMALL * FACTOR * 6, (s_report, l_report)
    assert l_report.differences >= FACTOR * s_report.differences * 0.8 > 0, (s_report, l_report)
    assert_linear(small, large, FACTOR)
    assert_flat(small, large)


def test_reconciliation_grows_linearly_writes_in_pages_and_holds_a_page(clean_url, tmp_path, shopify_sandbox,
                                                                        shopify_connector, monkeypatch):
    _small_pages(monkeypatch)

    def reconcile(shop: _Shop):
        hub = shop.hub
        job = Reconciliation(hub.engine, hub.sync, hub.orders.ingest_many, hub.inventory.record_sale,
                             {"shopify": ShopifyReader(shop.connector.client, page=PAGE)})
        run = job.run("shopify", with_findings=False)
        assert run["state"] == "done", run
        return run

    small, s_run, large, l_run = _at_two_sizes(reconcile, clean_url, tmp_path, shopify_sandbox, shopify_connector)
    assert s_run["levels_compared"] * FACTOR == l_run["levels_compared"], (s_run, l_run)
    assert sum(l_run["summary"].values()) >= FACTOR * sum(s_run["summary"].values()) * 0.8 > 0, (s_run, l_run)
    assert_linear(small, large, FACTOR)
    assert_flat(small, large)


def test_the_product_poll_grows_linearly_with_its_delta(clean_url, tmp_path, shopify_sandbox, shopify_connector,
                                                        monkeypatch):
    def poll_updates(shop: _Shop):
        # The cursor put back before the shop was created: the whole catalog is the delta.
        write_cursor(shop.hub.engine, "shopify", POLLS["updated"].cursor, shopify_time(_long_ago()))
        return CatalogPoller(shop.hub.engine, shop.connector.client, page=PAGE, chunk_variants=PAGE).poll_updates()

    small, s_report, large, l_report = _at_two_sizes(poll_updates, clean_url, tmp_path, shopify_sandbox,
                                                     shopify_connector)
    assert s_report.catalog.products_read * FACTOR == l_report.catalog.products_read > 0, (s_report, l_report)
    assert_linear(small, large, FACTOR)
    assert_flat(small, large)


def test_the_order_poll_grows_linearly_with_the_orders_it_reads(clean_url, tmp_path, shopify_sandbox, shopify_connector):
    def poll(shop: _Shop):
        return ShopifyPoller(shop.hub.engine, shop.connector.client, shop.hub.orders.ingest_many,
                             page=3).poll_orders(since=_long_ago())  # 3 orders a page: under Shopify's cost limit

    def with_orders(job):
        def run(shop: _Shop):
            if not getattr(shop, "ordered", False):
                catalog = shop.control("GET", "/catalog").json()
                skus = sorted(v["sku"] for v in catalog["variants"])
                for sku in skus:  # one order per variant: orders in proportion to the catalog
                    assert shop.control("POST", "/orders", json={"lines": [{"sku": sku, "quantity": 1}]}).status_code == 201
                shop.ordered = True
            return job(shop)
        return run

    small, s_report, large, l_report = _at_two_sizes(with_orders(poll), clean_url, tmp_path, shopify_sandbox,
                                                     shopify_connector)
    assert s_report.seen * FACTOR == l_report.seen > 0, (s_report, l_report)
    assert_linear(small, large, FACTOR)
    assert_flat(small, large)


def _long_ago():
    from datetime import UTC, datetime

    return datetime(2000, 1, 1, tzinfo=UTC)
