"""Initial set-up of a Shopify shop over real HTTP against the sandbox (issue #5, point 2):
the whole catalog by bulk operation (every SKU, UPC, Shopify id, image and title), bad
barcodes reported without stopping the rest, a failed bulk operation as a clear error, the
paged fall-back when Shopify refuses a bulk operation, and the open orders of the chosen
history window, idempotently. The hub learns the shop only through the Admin API; the
tests read the sandbox's control plane to know what the shop holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from omnihub.adapters.channels.shopify import documents as docs
from omnihub.adapters.channels.shopify.bulk_query import BulkOperationFailed
from omnihub.adapters.db import tables as t
from omnihub.services.channel_setup import import_shopify_shop
from omnihub.services.order_history import HistoryWindowError, import_open_orders, window_start
from tests.sync.conftest import SHOPIFY_TOKEN, shopify_config


def _catalog(server) -> dict:
    return httpx.get(server.url + "/_sandbox/catalog", timeout=30).json()


def _admin(server, document: str, variables: dict | None = None) -> dict:
    r = httpx.post(server.url + "/admin/api/2026-10/graphql.json", json={"query": document, "variables": variables or {}},
                   headers={"X-Shopify-Access-Token": SHOPIFY_TOKEN}, timeout=30)
    body = r.json()
    assert r.status_code == 200 and not body.get("errors"), body
    return body["data"]


def _hub_catalog(hub) -> dict[str, dict]:
    v, p, li = t.variants, t.products, t.channel_listings
    with hub.engine.connect() as conn:
        rows = conn.execute(sa.select(v.c.sku, v.c.gtin, v.c.title, p.c.title.label("product_title"), p.c.image_url,
                                      li.c.external_id, li.c.external_inventory_item_id)
                            .join(p, p.c.id == v.c.product_id)
                            .join(li, sa.and_(li.c.sku == v.c.sku, li.c.channel == "shopify"), isouter=True)).mappings()
        return {r["sku"]: dict(r) for r in rows}


def _counts(hub) -> tuple[int, int, int]:
    with hub.engine.connect() as conn:
        return tuple(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
                     for table in (t.products, t.variants, t.channel_listings))


def test_the_bulk_import_brings_every_sku_upc_id_image_and_title(hub, shopify_sandbox, shopify_connector):
    server, _ = shopify_sandbox(catalog_products=300, catalog_variants_per_product=2, catalog_stores=1,
                                catalog_warehouses=0)
    shop = _catalog(server)
    bad, taken = shop["variants"][7], shop["variants"][8]
    bad_barcode = bad["barcode"][:-1] + str((int(bad["barcode"][-1]) + 1) % 10)  # wrong check digit
    for variant, barcode in ((bad, bad_barcode), (taken, shop["variants"][0]["barcode"])):
        r = httpx.post(f"{server.url}/_sandbox/variants/{variant['id']}/updates", json={"barcode": barcode})
        assert r.status_code == 200, r.text
    conn = shopify_connector(server.url)

    summary = import_shopify_shop(hub.catalog, conn.client, read_levels=False)

    assert summary.catalog_source == "bulk"
    assert docs.BULK_RUN_QUERY in conn.client.sent_documents and docs.VARIANTS not in conn.client.sent_documents
    imported = _hub_catalog(hub)
    assert len(shop["variants"]) == 600 and set(imported) == {v["sku"] for v in shop["variants"]}
    images = {p["id"]: p["images"] for p in shop["products"]}
    titles = {p["id"]: p["title"] for p in shop["products"]}
    for v in shop["variants"]:
        row = imported[v["sku"]]
        assert row["external_id"] == v["admin_graphql_api_id"]
        assert row["external_inventory_item_id"] == f"gid://shopify/InventoryItem/{v['inventory_item_id']}"
        assert row["product_title"] == titles[v["product_id"]]
        assert f"{row['product_title']} - {row['title']}" == v["title"]
        assert row["image_url"] == images[v["product_id"]][0]
        if v["id"] not in (bad["id"], taken["id"]):
            assert row["gtin"] == v["barcode"]
    assert imported[bad["sku"]]["gtin"] is None and imported[taken["sku"]]["gtin"] is None
    assert summary.catalog.products_created == 300 and summary.catalog.variants_created == 600
    assert summary.catalog.images == sum(len(urls) for urls in images.values())
    assert len(summary.skipped) == 2
    assert any(bad["sku"] in m and "check digit" in m for m in summary.skipped)
    assert any(taken["sku"] in m and shop["variants"][0]["sku"] in m for m in summary.skipped)

    # A second run finds everything in place: nothing created, nothing changed.
    before = _counts(hub)
    again = import_shopify_shop(hub.catalog, conn.client, read_levels=False)
    assert (again.catalog.products_created, again.catalog.variants_created, again.catalog.products_updated,
            again.catalog.variants_updated) == (0, 0, 0, 0)
    assert _counts(hub) == before and _hub_catalog(hub) == imported


def test_a_failed_bulk_operation_is_a_clear_error(hub, shopify_sandbox, shopify_connector):
    server, _ = shopify_sandbox(bulk_operation_error="INTERNAL_SERVER_ERROR")
    conn = shopify_connector(server.url)
    with pytest.raises(BulkOperationFailed, match=r"ended FAILED \(INTERNAL_SERVER_ERROR\): Shopify failed while running"):
        import_shopify_shop(hub.catalog, conn.client, read_levels=False)
    assert _counts(hub) == (0, 0, 0)


def test_a_shop_busy_with_bulk_operations_is_read_page_by_page(hub, shopify_sandbox, shopify_connector):
    server, _ = shopify_sandbox(max_concurrent_bulk_operations=1, bulk_operation_min_duration_s=3600)
    running = _admin(server, docs.BULK_RUN_QUERY, {"query": "{ products { edges { node { id } } } }"})
    assert running["bulkOperationRunQuery"]["userErrors"] == []  # someone else's export, running for an hour
    conn = shopify_connector(server.url)

    summary = import_shopify_shop(hub.catalog, conn.client, read_levels=False)

    assert summary.catalog_source == "paged"
    shop = _catalog(server)
    imported = _hub_catalog(hub)
    images = {p["id"]: p["images"][0] for p in shop["products"]}
    assert {sku: (r["gtin"], r["external_id"], r["image_url"]) for sku, r in imported.items()} == {
        v["sku"]: (v["barcode"], v["admin_graphql_api_id"], images[v["product_id"]]) for v in shop["variants"]}


# -- open orders of the history window ---------------------------------------------------------

@pytest.fixture
def shop_with_history(tmp_path, serve_simulator):
    """A shop whose orders were placed over the last months: open, closed and cancelled."""
    from omnihub_sandbox.shopify.app import create_app
    from omnihub_sandbox.shopify.clock import TravelClock

    clock = TravelClock()
    server = serve_simulator(create_app(shopify_config(tmp_path, initial_stock_max=40, catalog_products=3), clock=clock))
    sku = _catalog(server)["variants"][0]["sku"]
    now = datetime.now(UTC)

    def sell(days_ago: int) -> str:
        clock.travel(-timedelta(days=days_ago))
        r = httpx.post(server.url + "/_sandbox/orders", json={"lines": [{"sku": sku, "quantity": 1}]})
        assert r.status_code == 201, r.text
        return r.json()["admin_graphql_api_id"]

    orders = {"open_75_days": sell(75), "open_45_days": sell(45), "open_5_days": sell(5),
              "cancelled_4_days": sell(4), "closed_3_days": sell(3)}
    cancel = _admin(server, """mutation($id: ID!) { orderCancel(orderId: $id, reason: CUSTOMER, restock: true,
        refund: false) { orderCancelUserErrors { message } } }""", {"id": orders["cancelled_4_days"]})
    assert cancel["orderCancel"]["orderCancelUserErrors"] == []
    close = _admin(server, "mutation($id: ID!) { orderClose(input: {id: $id}) { userErrors { message } } }",
                   {"id": orders["closed_3_days"]})
    assert close["orderClose"]["userErrors"] == []
    clock.travel(timedelta(0))
    orders["open_today"] = sell(0)
    assert window_start(1, now) < now - timedelta(days=27)
    return server, orders


def _hub_orders(hub) -> set[str]:
    with hub.engine.connect() as conn:
        return {f"gid://shopify/Order/{e}" for e in conn.execute(sa.select(t.orders.c.external_id)).scalars()}


def test_the_history_window_imports_only_open_orders_inside_it(hub, shop_with_history, shopify_connector):
    server, orders = shop_with_history
    conn = shopify_connector(server.url)
    import_shopify_shop(hub.catalog, conn.client, read_levels=False)

    month = import_open_orders(hub.engine, conn.client, hub.orders.ingest_many, months=1)
    assert _hub_orders(hub) == {orders["open_5_days"], orders["open_today"]}
    assert (month.seen, month.new, month.known, month.failed) == (2, 2, 0, 0)

    two = import_open_orders(hub.engine, conn.client, hub.orders.ingest_many, months=2)
    assert _hub_orders(hub) == {orders["open_45_days"], orders["open_5_days"], orders["open_today"]}
    assert (two.new, two.known) == (1, 2)

    again = import_open_orders(hub.engine, conn.client, hub.orders.ingest_many, months=2)
    assert (again.seen, again.new, again.known) == (3, 0, 3)  # the same orders, nothing new
    assert orders["cancelled_4_days"] not in _hub_orders(hub) and orders["closed_3_days"] not in _hub_orders(hub)

    six = import_open_orders(hub.engine, conn.client, hub.orders.ingest_many, months=6)
    assert six.new == 1 and orders["open_75_days"] in _hub_orders(hub)


def test_the_history_window_is_1_2_or_6_months(hub):
    with pytest.raises(HistoryWindowError, match="1, 2 or 6 months"):
        import_open_orders(hub.engine, object(), hub.orders.ingest_many, months=3)
    assert window_start(1, datetime(2026, 3, 31, tzinfo=UTC)) == datetime(2026, 2, 28, tzinfo=UTC)
    assert window_start(6, datetime(2026, 1, 15, 9, tzinfo=UTC)) == datetime(2025, 7, 15, 9, tzinfo=UTC)


def test_polling_takes_over_from_the_import(hub, shop_with_history, shopify_connector):
    """After set-up the order polls start from the import, not a month back: closed and
    cancelled orders left out by the import stay out."""
    from omnihub.services.channel_polling import ShopifyPoller

    server, orders = shop_with_history
    conn = shopify_connector(server.url)
    import_shopify_shop(hub.catalog, conn.client, read_levels=False)
    import_open_orders(hub.engine, conn.client, hub.orders.ingest_many, months=1)
    poller = ShopifyPoller(hub.engine, conn.client, hub.orders.ingest_many)
    poller.poll_orders(field="created_at")
    poller.poll_orders(field="updated_at")
    assert _hub_orders(hub) == {orders["open_5_days"], orders["open_today"]}


def test_the_cli_rejects_other_history_windows():
    from typer.testing import CliRunner

    from omnihub.entrypoints.cli.main import app

    result = CliRunner().invoke(app, ["channels", "import-shopify", "--history-months", "3"], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "1, 2 or 6 months" in " ".join(result.output.split())


def test_the_cli_import_shows_progress_and_a_summary(hub, shop_with_history, shopify_connector):
    from rich.console import Console

    from omnihub.entrypoints.cli.shop_import import run_import

    server, orders = shop_with_history
    conn = shopify_connector(server.url)
    console = Console(record=True, width=200)
    summary = run_import(hub, conn.client, channel="shopify", history_months=1, console=console)
    text = console.export_text()
    assert "objects read" in text and "open orders" in text and "Shopify set-up" in text
    assert summary["catalog_source"] == "bulk" and summary["variants_created"] == 6 and summary["orders_new"] == 2


def test_bulk_lines_are_stitched_to_their_parents_whatever_their_order():
    """Shopify groups children after their parent when asked; a child that comes early or
    late still lands on its product (pure function, no HTTP)."""
    from omnihub.adapters.channels.shopify.catalog_lines import products_from_bulk_lines

    p1, p2 = "gid://shopify/Product/1", "gid://shopify/Product/2"
    lines = [
        {"id": "gid://shopify/ProductVariant/21", "sku": "B-1", "__parentId": p2},  # before its parent
        {"id": p1, "title": "One", "vendor": "V", "productType": "Tee"},
        {"id": "gid://shopify/ProductVariant/11", "sku": "A-1", "barcode": "036000291452",
         "inventoryItem": {"id": "gid://shopify/InventoryItem/11"}, "__parentId": p1},
        {"id": "gid://shopify/MediaImage/12", "mediaContentType": "IMAGE",
         "image": {"url": "https://cdn.shopify.com/one.jpg", "altText": None}, "__parentId": p1},
        {"id": "gid://shopify/Video/13", "mediaContentType": "VIDEO", "__parentId": p1},
        {"id": p2, "title": "Two"},
        {"id": "gid://shopify/ProductVariant/12", "sku": "A-2", "__parentId": p1},  # after the next product began
        {"id": "gid://shopify/ProductVariant/99", "sku": "X", "__parentId": "gid://shopify/Product/404"},
        {"id": "gid://shopify/ProductVariant/31", "sku": 42, "__parentId": p2, "inventoryItem": "not an object"},
    ]
    problems: list[str] = []
    products = list(products_from_bulk_lines(lines, problems.append))
    assert [(p.id, p.title, [v.sku for v in p.variants], [i.url for i in p.images]) for p in products] == [
        (p1, "One", ["A-1"], ["https://cdn.shopify.com/one.jpg"]),
        (p1, "One", ["A-2"], []),
        (p2, "Two", ["B-1"], []),
    ]
    assert products[0].variants[0].inventory_item_id == "gid://shopify/InventoryItem/11"
    assert len(problems) == 2 and "Product/404" in problems[1] and "ProductVariant/31" in problems[0]
