"""`omnihub demo`: the whole thing on one laptop in one command.

Starts the Shopify and Amazon sandboxes on loopback, the hub's API and worker on the
embedded default (SQLite), connects both channels the way an operator would (credentials
in the encrypted vault, the shop's catalog, locations and opening stock imported, the
warehouse feeding Amazon and the stores feeding Shopify, webhooks subscribed), prints
where to look, and runs until Ctrl-C. Everything meets over HTTP, as in production.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table

console = Console()
WEBHOOK_TOPICS = ("ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_CANCELLED", "ORDERS_EDITED", "INVENTORY_LEVELS_UPDATE")


def demo(
    state_dir: Annotated[Path, typer.Option(help="hub database and sandbox state (wiped at start)")] = Path("var/demo"),
    api_port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    shopify_port: Annotated[int, typer.Option(min=1, max=65535)] = 8701,
    amazon_port: Annotated[int, typer.Option(min=1, max=65535)] = 8702,
    products: Annotated[int, typer.Option(min=1, max=1000)] = 10,
    fulfilments_s: Annotated[float, typer.Option(min=5, help="fulfilment batch period (seeds: 1800)")] = 60,
    run_for: Annotated[float, typer.Option(min=0, help="stop after this many seconds (0: until Ctrl-C)")] = 0,
) -> None:
    """Sandboxes + hub API + worker on SQLite, channels connected; Ctrl-C stops everything."""
    import shutil

    from cryptography.fernet import Fernet

    from omnihub.entrypoints.api.app import create_app
    from omnihub.entrypoints.worker import Schedules, Worker
    from omnihub.hub import Hub
    from omnihub.logs import configure_logging
    from omnihub.sandbox.amazon.app import create_app as create_amazon
    from omnihub.sandbox.amazon.config import AmazonSandboxConfig
    from omnihub.sandbox.cli import _ServerThread
    from omnihub.sandbox.shopify.app import create_app as create_shopify
    from omnihub.sandbox.shopify.config import ShopifySandboxConfig
    from omnihub.settings import get_settings

    if len({api_port, shopify_port, amazon_port}) != 3:
        raise typer.BadParameter("the API, Shopify and Amazon need three different ports")
    configure_logging("WARNING", False)
    shutil.rmtree(state_dir, ignore_errors=True)
    state_dir.mkdir(parents=True)
    host, api = "127.0.0.1", f"http://127.0.0.1:{api_port}"
    settings = get_settings().model_copy(update={"database_url": f"sqlite:///{(state_dir / 'omnihub.db').resolve()}",
                                                 "secret_key": get_settings().secret_key or Fernet.generate_key().decode()})
    servers: list[_ServerThread] = []
    hub = Hub.open(settings, relay=False)
    worker = None
    try:
        with console.status("starting the sandboxes and the hub"):
            shop_cfg = ShopifySandboxConfig(state_path=state_dir / "shopify.sqlite3", plan="plus", catalog_products=products,
                                            catalog_stores=2, catalog_warehouses=1)
            amazon_cfg = AmazonSandboxConfig(state_path=state_dir / "amazon.sqlite3",
                                             notification_destination=api + "/webhooks/amazon")
            for app, port in ((create_shopify(shop_cfg), shopify_port), (create_amazon(amazon_cfg), amazon_port),
                              (create_app(settings, hub=hub), api_port)):
                servers.append(_ServerThread(app, host, port))
                servers[-1].start()
            shop, amazon = f"http://{host}:{shopify_port}", f"http://{host}:{amazon_port}"
            hub.vault.put("shopify", {"shop_url": shop, "access_token": shop_cfg.access_tokens[0],
                                      "client_secret": shop_cfg.client_secret, "plan": "plus"})
            hub.vault.put("amazon_seller", {"endpoint": amazon, "lwa_url": amazon + "/auth/o2/token",
                                            "client_id": amazon_cfg.lwa_client_id, "client_secret": amazon_cfg.lwa_client_secret,
                                            "refresh_token": amazon_cfg.lwa_refresh_token, "seller_id": amazon_cfg.seller_id,
                                            "marketplace_id": amazon_cfg.marketplace_id,
                                            "notification_secret": amazon_cfg.notification_signing_secret})
            worker = Worker.from_vault(hub, schedules=Schedules(new_orders_s=60, order_updates_s=120, level_snapshot_s=300,
                                                                amazon_orders_s=60, fulfilments_s=fulfilments_s))
            skus = _connect(hub, worker, shop, amazon, api)
            worker.start()
        _print_where(api, shop, amazon, shop_cfg, state_dir, len(skus), fulfilments_s)
        deadline = time.monotonic() + run_for if run_for else float("inf")
        while all(s.thread.is_alive() for s in servers) and time.monotonic() < deadline:
            time.sleep(0.2)
    except KeyboardInterrupt:
        console.print("stopping...")
    finally:
        if worker:
            worker.stop()
        for s in reversed(servers):
            s.stop()
        hub.close()


def _connect(hub, worker, shop: str, amazon: str, api: str) -> list[str]:
    """What an operator does once: import the shop, take its levels as opening stock, let the
    warehouse feed Amazon and the stores feed Shopify, list the SKUs on Amazon, subscribe."""
    from omnihub.adapters.channels.shopify import documents as docs
    from omnihub.services.channel_setup import import_shopify_shop
    from omnihub.services.erp_snapshot import import_snapshot

    summary = import_shopify_shop(hub.catalog, worker.shopify.client, channel="shopify")
    lines = ["sku,location,on_hand"] + [f"{s},{c},{q}" for (s, c), q in sorted(summary.levels.items())]
    import_snapshot(hub.writer, "\n".join(lines) + "\n", actor="demo-setup")
    kinds = {loc["admin_graphql_api_id"]: loc["kind"] for loc in httpx.get(shop + "/_sandbox/catalog").json()["locations"]}
    import sqlalchemy as sa

    from omnihub.adapters.db import tables as t

    cl = t.channel_locations
    with hub.engine.connect() as conn:
        mapped = dict(conn.execute(sa.select(cl.c.location, cl.c.external_location_id).where(cl.c.channel == "shopify")).all())
    warehouses = [c for c, gid in mapped.items() if kinds.get(gid) == "warehouse"]
    stores = [c for c in mapped if c not in warehouses]
    hub.catalog.upsert_channel("shopify", name="Shopify", kind="shopify", per_location=True, feeds={c: "ship" for c in stores})
    hub.catalog.upsert_channel("amazon_seller", name="Amazon", kind="amazon", feeds={w: "ship" for w in warehouses})
    skus = sorted({s for s, _ in summary.levels})
    for sku in skus:
        hub.catalog.set_listing("amazon_seller", sku, sku)
        httpx.put(f"{amazon}/_sandbox/listings/{sku}", json={"quantity": 0})
    for topic in WEBHOOK_TOPICS:
        worker.shopify.client.execute(docs.WEBHOOK_SUBSCRIBE, {"topic": topic, "uri": api + "/webhooks/shopify"})
    return skus


def _print_where(api: str, shop: str, amazon: str, shop_cfg, state_dir: Path, skus: int, fulfilments_s: float) -> None:
    table = Table(title=f"omnihub demo: {skus} SKUs, Shopify (online + POS) and Amazon connected", show_lines=True)
    table.add_column("what", style="bold")
    table.add_column("where", overflow="fold")
    for what, where in [
        ("hub API (docs)", f"{api}/api/v1/docs"),
        ("what Amazon may sell", f"curl -s '{api}/api/v1/channels/amazon_seller/availability?sku=<SKU>'"),
        ("orders in the hub", f"{api}/api/v1/orders"),
        ("metrics", f"{api}/metrics"),
        ("Shopify admin GraphQL", f"{shop}/admin/api/2026-10/graphql.json (token {shop_cfg.access_tokens[0]})"),
        ("Shopify control plane", f"{shop}/docs"),
        ("Amazon SP-API / control plane", f"{amazon}  /  {amazon}/docs"),
        ("send shoppers", f"omnihub sandbox traffic --shopify-url {shop} --amazon-url {amazon} --amazon-share 0.3"
                          " --orders-per-s 2 --duration 60"),
        ("fulfilments to channels", f"every {fulfilments_s:g} s, or: omnihub sync fulfilments "
                                    f"--database-url sqlite:///{(state_dir / 'omnihub.db').resolve()}"),
        ("state", str(state_dir.resolve())),
    ]:
        table.add_row(what, where)
    console.print(table)
    console.print("[dim]Ctrl-C stops the worker, the API and the sandboxes.[/dim]")
