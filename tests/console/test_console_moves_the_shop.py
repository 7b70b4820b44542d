"""A receipt on the console's store screen reaches the shop: a store associate receives
units in a real browser, and the Shopify sandbox's level at that store follows, pushed by
the worker over HTTP (the hub and the sandbox meet only there; the test reads the level
from the sandbox's own control plane)."""

from __future__ import annotations

import httpx
from cryptography.fernet import Fernet

from omnihub.adapters.channels.credentials import CredentialVault
from omnihub.entrypoints.api.app import create_app
from omnihub.entrypoints.worker import Schedules, Worker
from tests.console.pages_client import person
from tests.console.test_console_in_a_browser import Person
from tests.sync.conftest import _served, serve_simulator, shopify_sandbox, shopify_secrets, wait_until  # noqa: F401
from tests.sync.shop_setup import connect_shopify


def test_a_receipt_on_the_store_screen_reaches_the_shop(hub, shopify_sandbox, serve_simulator, chromium, artefacts):  # noqa: F811
    hub.vault = CredentialVault(hub.engine, Fernet.generate_key().decode())
    shop, _ = shopify_sandbox(catalog_products=2, catalog_variants_per_product=1, catalog_stores=1, catalog_warehouses=1,
                              initial_stock_max=5)
    hub.vault.put("shopify", shopify_secrets(shop.url))
    worker = Worker.from_vault(hub, schedules=Schedules(
        new_orders_s=3600, order_updates_s=3600, new_products_s=3600, product_updates_s=3600, level_snapshot_s=3600,
        amazon_orders_s=3600, queue_retry_s=3600, sweep_s=1))
    setup = connect_shopify(hub, worker.shopify)
    catalog = httpx.get(shop.url + "/_sandbox/catalog").json()
    store_gid = next(loc["admin_graphql_api_id"] for loc in catalog["locations"] if loc["kind"] != "warehouse")
    codes = {gid: code for code, gid in _location_ids(hub).items()}
    store, sku = codes[store_gid], sorted({s for s, _ in setup["summary"].levels})[0]

    def shop_level() -> int:
        return httpx.get(shop.url + "/_sandbox/inventory", params={"sku": sku, "location_id": store_gid},
                         timeout=10).json()["available"]

    person(hub, "sam@shop.example", "store_associate", [store])
    worker.start()
    try:
        from tests.live_server import LiveServer

        with LiveServer(create_app(hub=hub)) as live:
            assert wait_until(hub.sync.idle, 30)
            before = shop_level()
            sam = Person(chromium, live.url, artefacts, phone=True)
            sam.sign_in("sam@shop.example")
            sam.page.goto(f"/console/store/{store}/receive")
            sam.page.get_by_label("SKU or barcode").fill(sku)
            sam.page.get_by_label("Units received").fill("7")
            sam.page.get_by_role("button", name="Receive").click()
            assert f"Received 7 × {sku}" in sam.page.locator("#receipt").inner_text()
            assert wait_until(lambda: shop_level() == before + 7, 30), (before, shop_level(), hub.sync.pending())
            sam.close()
    finally:
        worker.stop()


def _location_ids(hub) -> dict[str, str]:
    from omnihub.services.estate_figures import channel_location_ids

    return channel_location_ids(hub.engine, "shopify")
