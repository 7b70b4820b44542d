"""Reconciliation over real HTTP: the world's channels drift from the hub in every way a
lost webhook or an operator can make them drift, and one run per channel classifies each
difference and repairs what the hub can repair.

The worker is not started, so every webhook and notification the sandboxes send lands
in the hub's inbox and is never processed: as good as lost. The sync senders are run by
hand, so a queued push stays queued until the test says so.
"""

from __future__ import annotations

import time

import httpx
import sqlalchemy as sa

from omnihub.adapters.db import tables as t
from omnihub.services.channel_sync import DEAD
from tests.sync.channel_world import build_world
from tests.sync.conftest import wait_until


def _settle(hub, *channels: str) -> None:
    """Relay the outbox, queue what differs, and push until nothing is due."""
    hub.relay.drain()
    hub.sync.sweep()
    for _ in range(50):
        if not sum(hub.sync.run_channel_once(c) for c in channels):
            return
    raise AssertionError("pushes never settled")


def _shopify_available(world, sku: str, location_gid: str) -> dict:
    number = location_gid.rsplit("/", 1)[-1]
    return world.shopify_control("GET", "/inventory", params={"sku": sku, "location_id": number}).json()


def _on_hand(hub, sku: str, location: str) -> int:
    p = t.positions
    with hub.engine.connect() as conn:
        return conn.execute(sa.select(p.c.on_hand).where(p.c.sku == sku, p.c.location == location)).scalar_one()


def _by_key(run: dict) -> dict[tuple, dict]:
    return {(f["kind"], f["sku"], f["location"], f["external_id"]): f for f in run["findings"]}


def _start_and_wait(world, channel: str) -> dict:
    started = httpx.post(world.api.url + "/api/v1/reconciliation/runs", json={"channel": channel}, timeout=30)
    assert started.status_code == 202, started.text
    href = world.api.url + started.headers["Location"]
    return wait_until(lambda: (r := httpx.get(href, timeout=30).json())["state"] != "running" and r, 60, 0.1)


def test_every_kind_of_difference_is_classified_and_repaired(hub, serve, shopify_sandbox, amazon_sandbox):
    world = build_world(hub, serve, shopify_sandbox, amazon_sandbox)
    _settle(hub, "shopify", "amazon_seller")
    gids = world.location_gids()
    shows = {k: q for k, q in world.hub_shows("shopify").items() if k[1] in gids and k[1] not in world.warehouses}
    stocked = sorted((k for k, q in shows.items() if q >= 1), key=lambda k: (-shows[k], k))
    skus = sorted({s for s, _ in shows})
    (drift_sku, drift_loc), (till_sku, till_loc) = stocked[0], next(k for k in stocked if k[0] != stocked[0][0])
    order_sku = next(s for s, _ in stocked if s not in (drift_sku, till_sku))
    pending_sku = next(s for s in skus if s not in (drift_sku, till_sku, order_sku))
    parked_sku = next(s for s in skus if s not in (drift_sku, till_sku, order_sku, pending_sku))

    # An edit in Shopify admin (its webhook lost): the store shows 5 more than the hub allows.
    before = _shopify_available(world, drift_sku, gids[drift_loc])["available"]
    world.shopify_control("POST", "/inventory/admin-edits", json={
        "sku": drift_sku, "location_id": gids[drift_loc].rsplit("/", 1)[-1], "available": before + 5})
    # A unit leaves the store's shelf at the till with no order behind it; its
    # inventory_levels/update webhook is lost.
    till_on_hand = _on_hand(hub, till_sku, till_loc)
    world.shopify_control("POST", "/inventory/admin-edits", json={
        "sku": till_sku, "location_id": gids[till_loc].rsplit("/", 1)[-1], "delta": -1, "shelf_too": True})
    # Goods received in the hub: a push is queued and not sent yet.
    pending_loc = sorted(c for c in gids if c not in world.warehouses)[0]
    hub.inventory.receive(pending_sku, pending_loc, 4)
    hub.relay.drain()
    hub.sync.flush()
    # A push that kept failing, parked for an operator.
    hub.inventory.receive(parked_sku, pending_loc, 2)
    hub.relay.drain()
    hub.sync.flush()
    with hub.engine.begin() as conn:
        conn.execute(sa.update(t.sync_intents).where(t.sync_intents.c.sku == parked_sku).values(
            state=DEAD, attempts=8, last_error="CHANGE_FROM_QUANTITY_STALE after 8 attempts"))
    # A shopper checks out online; orders/create is lost.
    placed = world.shopify_control("POST", "/orders", json={"lines": [{"sku": order_sku, "quantity": 1}]})
    assert placed.status_code == 201, placed.text
    order_id = str(placed.json()["order_id"])

    shopify = _start_and_wait(world, "shopify")
    assert shopify["state"] == "done", shopify
    found = _by_key(shopify)
    drift = found[("drift_repaired", drift_sku, drift_loc, None)]
    assert (drift["hub_quantity"], drift["channel_quantity"], drift["repaired"]) == (shows[(drift_sku, drift_loc)], before + 5, True)
    till = found[("missed_pos_sale", till_sku, till_loc, None)]
    assert till["repaired"] and "till sale of 1" in till["action"]
    assert _on_hand(hub, till_sku, till_loc) == till_on_hand - 1  # recorded as sold at that store
    assert found[("push_pending", pending_sku, pending_loc, None)]["repaired"] is False
    assert "dead-letters" in found[("dead_letter", parked_sku, pending_loc, None)]["action"]
    assert found[("missed_order", None, None, order_id)]["repaired"]
    with hub.engine.connect() as conn:
        assert conn.execute(sa.select(t.orders.c.id).where(t.orders.c.external_id == order_id)).first() is not None
    assert [f for f in shopify["findings"] if f["kind"] == "missed_pos_sale"] == [till]  # no phantom till sale
    assert shopify["summary"]["drift_repaired"] >= 1 and shopify["levels_compared"] > 0

    # The repairs land: the store shows the hub's figure again.
    hub.relay.drain()
    for _ in range(10):
        hub.sync.run_channel_once("shopify")
    assert _shopify_available(world, drift_sku, gids[drift_loc])["available"] == world.hub_shows("shopify")[(drift_sku, drift_loc)]

    # Amazon: a listing the hub never mapped, a hub SKU mapped to a listing Amazon lacks, a
    # buyer's order whose notification is lost.
    listings = world.amazon_control("GET", "/listings").json()["listings"]
    listed = [r["sku"] for r in listings if r["quantity"] > 0]
    assert world.amazon_control("PUT", "/listings/STRAY-LISTING-1", json={"quantity": 3}).status_code == 200
    remapped = next(r["sku"] for r in listings if r["sku"] not in listed) if len(listed) < len(listings) else listed[-1]
    hub.catalog.set_listing("amazon_seller", remapped, "NOT-ON-AMAZON-1")
    placed = world.amazon_control("POST", "/orders", json={"lines": [{"sku": listed[0], "quantity": 1}],
                                                          "ship_to": {"postal_code": "10001"}})
    assert placed.status_code == 201, placed.text
    amazon_order = placed.json()["amazon_order_id"]
    world.amazon_control("POST", "/clock/advance", json={"seconds": 180})
    time.sleep(0.6)  # Pending → Unshipped in the sandbox's own time

    amazon = _start_and_wait(world, "amazon_seller")
    assert amazon["state"] == "done", amazon
    found = _by_key(amazon)
    assert found[("unknown_sku", "STRAY-LISTING-1", None, "STRAY-LISTING-1")]["channel_quantity"] == 3
    assert ("unsold_on_channel", remapped, None, None) in found
    assert ("unknown_sku", remapped, None, remapped) in found  # its old listing is now unmapped
    assert found[("missed_order", None, None, amazon_order)]["repaired"]

    runs = httpx.get(world.api.url + "/api/v1/reconciliation/runs", timeout=30).json()["runs"]
    assert [r["channel"] for r in runs] == ["amazon_seller", "shopify"]
    assert runs[1]["summary"] == shopify["summary"]


def test_api_problems(hub, serve):
    from tests.conftest import admin_app
    from omnihub.services.reconciliation import Reconciliation

    api = serve(admin_app(hub))
    missing = httpx.get(api.url + "/api/v1/reconciliation/runs/999")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    unknown = httpx.post(api.url + "/api/v1/reconciliation/runs", json={"channel": "walmart"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "channel_not_connected"
    invalid = httpx.post(api.url + "/api/v1/reconciliation/runs", json={"channel": ""})
    assert invalid.status_code == 422 and invalid.json()["errors"][0]["field"] == "channel"

    class _Reader:  # a run already going is refused before any reader is used
        channel, order_channels = "shopify", ("shopify",)

    from cryptography.fernet import Fernet

    from omnihub.adapters.channels.credentials import CredentialVault

    hub.vault = CredentialVault(hub.engine, Fernet.generate_key().decode())
    hub.vault.put("shopify", {"shop_url": "http://127.0.0.1:9", "access_token": "x", "client_secret": "y"})
    Reconciliation(hub.engine, hub.sync, hub.orders.ingest_many, hub.inventory.record_sale,
                   {"shopify": _Reader()}).open_run("shopify", "schedule")
    busy = httpx.post(api.url + "/api/v1/reconciliation/runs", json={"channel": "shopify"})
    assert busy.status_code == 409 and busy.json()["code"] == "run_in_progress"


def test_cli_reconciles_a_channel_and_lists_runs(hub, clean_url, shopify_sandbox, shopify_connector, monkeypatch):
    from cryptography.fernet import Fernet
    from typer.testing import CliRunner

    from omnihub.adapters.channels.credentials import CredentialVault
    from omnihub.entrypoints.cli.main import app
    from omnihub.settings import get_settings
    from tests.sync.conftest import shopify_secrets
    from tests.sync.shop_setup import connect_shopify

    shop, _ = shopify_sandbox(catalog_products=2, catalog_variants_per_product=1, catalog_stores=1, catalog_warehouses=0)
    connect_shopify(hub, shopify_connector(shop.url))
    key = Fernet.generate_key().decode()
    CredentialVault(hub.engine, key).put("shopify", shopify_secrets(shop.url))
    catalog = httpx.get(shop.url + "/_sandbox/catalog").json()
    sku, store = catalog["variants"][0]["sku"], catalog["locations"][0]["id"]
    httpx.post(shop.url + "/_sandbox/inventory/admin-edits", json={"sku": sku, "location_id": store, "delta": 7})
    monkeypatch.setenv("OMNIHUB_SECRET_KEY", key)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["sync", "reconcile", "shopify", "--database-url", clean_url], env={"COLUMNS": "200"})
        listed = CliRunner().invoke(app, ["sync", "reconciliations", "--database-url", clean_url], env={"COLUMNS": "200"})
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "drift_repaired" in result.output and sku in result.output and "levels and" in result.output
    assert "drift_repaired 1" in listed.output and "cli" in listed.output


def test_the_worker_reconciles_each_connected_channel_on_its_schedule(hub, shopify_sandbox, shopify_connector):
    from omnihub.entrypoints.worker import Schedules, Worker

    shop, _ = shopify_sandbox(catalog_products=1, catalog_variants_per_product=1, catalog_stores=1, catalog_warehouses=0)
    worker = Worker(hub, shopify=shopify_connector(shop.url), schedules=Schedules(reconcile_s=120))
    worker._schedule()
    job = worker.scheduler.get_job("reconcile_shopify")
    assert job is not None and job.trigger.interval.total_seconds() == 120


def test_amazon_listings_are_read_in_pages_as_the_official_model_documents(amazon_sandbox, amazon_connector):
    from omnihub.adapters.channels.amazon.reconciliation_reads import AmazonReader
    from tests.conftest import require_shared
    from spapi_contract import find_operation

    server, _, cfg = amazon_sandbox(catalog_size=45)
    connector = amazon_connector(server.url, cfg)
    listings = AmazonReader(connector.client).listings()  # set-up's read (reconciliation's is the report)
    assert len({x.sku for x in listings}) == 45  # three pages of 20
    require_shared("contracts", "amazon")
    path, verb, op = find_operation("listingsItems_2021-08-01.json", "searchListingsItems")
    documented = {p["name"]: p for p in op["parameters"]}
    for name, method, sent_path, params, _body in connector.client.sent:
        assert (name, method) == ("searchListingsItems", verb.upper())
        assert sent_path == path.replace("{sellerId}", cfg.seller_id)
        assert set(params) <= set(documented)
        assert set(params["includedData"].split(",")) <= set(documented["includedData"]["items"]["enum"])
        assert int(params["pageSize"]) <= documented["pageSize"]["maximum"]
