"""Incremental product polls over real HTTP against the Shopify sandbox (issue #5): after
the initial import, a poll reads only what Shopify created or changed since its cursor
(`created_at:>'…'` / `updated_at:>'…'`), a page when the delta is small and a filtered
bulk operation when it is not; an untouched catalog costs one empty page, never another
export of everything; a poll that dies between reading and applying reads the same delta
again. What the hub asked for is read from the sandbox's own record of bulk operations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from omnihub.adapters.db import tables as t
from omnihub.services.catalog_cursors import NEW, UPDATED, cursor_of, parse_shopify_time
from omnihub.services.catalog_polling import CatalogPoller
from omnihub.services.channel_setup import import_shopify_shop
from tests.sync.conftest import shopify_config

CATALOG_PRODUCTS = 14  # more than one page of the delta query (10)


@pytest.fixture
def shop(tmp_path, serve_simulator):
    """A shop whose catalog was set up an hour ago (so the import's overlap reaches none of it)."""
    from omnihub_sandbox.shopify.app import create_app
    from omnihub_sandbox.shopify.clock import TravelClock

    clock = TravelClock()
    clock.travel(-timedelta(hours=1))
    server = serve_simulator(create_app(shopify_config(tmp_path, catalog_products=CATALOG_PRODUCTS, catalog_stores=1,
                                             catalog_warehouses=0), clock=clock))
    clock.travel(timedelta(0))
    server.clock = clock
    return server


@pytest.fixture
def imported(hub, shop, shopify_connector):
    client = shopify_connector(shop.url).client
    import_shopify_shop(hub.catalog, client, read_levels=False)
    return CatalogPoller(hub.engine, client)


def _control(shop, method: str, path: str, **kw) -> dict | list:
    r = httpx.request(method, shop.url + "/_sandbox" + path, timeout=30, **kw)
    assert r.status_code in (200, 201), r.text
    return r.json()


def _bulk_operations(shop) -> list[dict]:
    return _control(shop, "GET", "/bulk/operations")


def _hub_variants(hub) -> dict[str, dict]:
    v, p, li = t.variants, t.products, t.channel_listings
    with hub.engine.connect() as conn:
        rows = conn.execute(sa.select(v.c.sku, v.c.gtin, v.c.title, p.c.title.label("product_title"), li.c.external_id)
                            .join(p, p.c.id == v.c.product_id)
                            .join(li, sa.and_(li.c.sku == v.c.sku, li.c.channel == "shopify"), isouter=True)).mappings()
        return {r["sku"]: dict(r) for r in rows}


def test_a_new_product_and_an_edited_variant_appear_after_one_poll(hub, shop, imported):
    catalog = _control(shop, "GET", "/catalog")
    assert [op["query"].count("query:") for op in _bulk_operations(shop)] == [0]  # the import: everything, once
    created = _control(shop, "POST", "/products", json={
        "title": "Harbour Raincoat", "image_url": "https://cdn.example/raincoat.jpg",
        "variants": [{"sku": "RAIN-S", "barcode": "036000291452", "title": "S"}, {"sku": "RAIN-M", "title": "M"}]})
    edited = catalog["variants"][3]
    _control(shop, "POST", f"/variants/{edited['id']}/updates",
             json={"sku": "SB-RENAMED", "barcode": "012345678905", "title": "XL / Sand"})

    new = imported.poll_new()

    hub_side = _hub_variants(hub)
    assert new.source == "page" and new.catalog.products_read == 1
    assert hub_side["RAIN-S"]["gtin"] == "036000291452" and hub_side["RAIN-S"]["product_title"] == "Harbour Raincoat"
    assert hub_side["RAIN-M"]["external_id"] == created["variants"][1]["admin_graphql_api_id"]
    assert "SB-RENAMED" not in hub_side  # an edit is not a new product

    updates = imported.poll_updates()

    hub_side = _hub_variants(hub)
    assert updates.source == "page"
    assert hub_side["SB-RENAMED"]["gtin"] == "012345678905" and hub_side["SB-RENAMED"]["title"] == "XL / Sand"
    assert hub_side["SB-RENAMED"]["external_id"] == edited["admin_graphql_api_id"]
    assert hub_side[edited["sku"]]["external_id"] is None  # the old SKU no longer listed on Shopify
    assert len(_bulk_operations(shop)) == 1  # both deltas came as one page each


def test_an_untouched_catalog_costs_one_empty_page_and_no_export(hub, shop, imported):
    cursors = (cursor_of(hub.engine, "shopify", NEW), cursor_of(hub.engine, "shopify", UPDATED))

    reports = [imported.poll_new(), imported.poll_updates(), imported.poll_updates()]

    assert [(r.source, r.catalog.products_read) for r in reports] == [("page", 0)] * 3
    assert reports[0].search.startswith("created_at:>'") and reports[1].search.startswith("updated_at:>'")
    assert len(_bulk_operations(shop)) == 1  # only the initial import's
    assert (cursor_of(hub.engine, "shopify", NEW), cursor_of(hub.engine, "shopify", UPDATED)) == cursors


def test_a_large_delta_is_one_filtered_bulk_operation(hub, shop, imported):
    catalog = _control(shop, "GET", "/catalog")
    for product in catalog["products"][:12]:
        _control(shop, "POST", f"/products/{product['id']}/updates", params={"title": f"Sale {product['title']}"})

    report = imported.poll_updates()

    assert report.source == "bulk" and report.catalog.products_read == 12 and report.catalog.products_updated == 12
    delta = _bulk_operations(shop)[-1]
    assert "updated_at:>" in delta["query"] and delta["root_object_count"] == 12 < CATALOG_PRODUCTS
    with hub.engine.connect() as conn:
        titles = set(conn.execute(sa.select(t.products.c.title)).scalars())
    assert {f"Sale {p['title']}" for p in catalog["products"][:12]} <= titles


def test_a_poll_that_dies_between_reading_and_applying_reads_the_same_delta_again(hub, shop, imported):
    catalog = _control(shop, "GET", "/catalog")
    edited = catalog["variants"][0]
    _control(shop, "POST", f"/variants/{edited['id']}/updates", json={"title": "M / Moss"})
    before = cursor_of(hub.engine, "shopify", UPDATED)

    read = imported.read("updated")
    del read  # the worker died here: nothing applied

    assert cursor_of(hub.engine, "shopify", UPDATED) == before
    assert _hub_variants(hub)[edited["sku"]]["title"] != "M / Moss"
    again = imported.poll_updates()
    assert again.catalog.products_read == 1 and _hub_variants(hub)[edited["sku"]]["title"] == "M / Moss"
    assert parse_shopify_time(cursor_of(hub.engine, "shopify", UPDATED)) >= parse_shopify_time(before)  # same second here


def test_a_product_changed_in_the_cursor_second_is_not_missed(hub, shop, imported):
    """Shopify's times have whole seconds and `>` is strict: without the overlap a change
    in the same second as the newest one applied would never be read."""
    catalog = _control(shop, "GET", "/catalog")
    first, late = catalog["products"][0], catalog["products"][1]
    _control(shop, "POST", f"/products/{first['id']}/updates", params={"title": "First change"})
    assert imported.poll_updates().catalog.products_read == 1
    cursor = parse_shopify_time(cursor_of(hub.engine, "shopify", UPDATED))
    shop.clock.travel(cursor + timedelta(milliseconds=500) - datetime.now(UTC))  # back into the cursor's second
    _control(shop, "POST", f"/products/{late['id']}/updates", params={"title": "Late change"})
    shop.clock.travel(timedelta(0))

    report = imported.poll_updates()

    assert report.catalog.products_updated == 1  # the first product re-read (overlap) changes nothing
    with hub.engine.connect() as conn:
        assert "Late change" in set(conn.execute(sa.select(t.products.c.title)).scalars())
