"""The bulk road over real HTTP against the Shopify sandbox: many due intents go as one
bulk mutation (staged upload, bulkOperationRunMutation, the result file folded back line
by line) and every level lands; a stale line is re-read and resent by the per-call road
and lands once; a failed bulk operation falls back to the per-call road, and no level is
applied twice. "Applied" is counted from the sandbox's own adjustment records."""

from __future__ import annotations

import json
from collections import Counter

import httpx
import sqlalchemy as sa

from omnihub.adapters.channels.connectors import build_shopify
from omnihub.adapters.channels.shopify import documents as docs
from omnihub.adapters.channels.shopify.inventory_push import gid
from omnihub.adapters.db import tables as t
from omnihub.services.channel_sync import ChannelSync
from omnihub.services.erp_snapshot import import_snapshot
from tests.sync.conftest import shopify_secrets
from tests.sync.shop_setup import connect_shopify

BULK_FROM = 100


def _world(hub, shopify_sandbox, **sandbox):
    server, app = shopify_sandbox(catalog_products=40, catalog_variants_per_product=5, catalog_stores=2,
                                  catalog_warehouses=1, initial_stock_max=12, **sandbox)
    conn = build_shopify("shopify", {**shopify_secrets(server.url), "bulk_from": BULK_FROM})
    setup = connect_shopify(hub, conn)
    sync = ChannelSync(hub.engine)
    sync.register("shopify", conn.pusher)
    sync.attach(hub.bus)
    return server, app, conn, setup, sync


def _snapshot(hub, levels: dict[tuple[str, str], int]) -> None:
    lines = ["sku,location,on_hand"] + [f"{s},{c},{q}" for (s, c), q in sorted(levels.items())]
    assert not import_snapshot(hub.writer, "\n".join(lines) + "\n", actor="test").errors
    hub.relay.drain()


def _hub_shows(hub) -> dict[tuple[str, str], int]:
    av = t.channel_availability
    with hub.engine.connect() as c:
        return {(r.sku, r.location): r.quantity for r in c.execute(sa.select(av).where(av.c.channel == "shopify"))}


def _shopify_shows(sync, conn, keys) -> dict[tuple[str, str], int]:
    mapping = sync.mapping("shopify", max_age_s=0)
    pairs = {(gid("InventoryItem", mapping.items[s]), gid("Location", mapping.locations[c])): (s, c) for s, c in keys}
    read = conn.pusher.read_levels(list(pairs))
    return {pairs[p]: q for p, q in read.items()}


def _app_changes(app) -> Counter:
    """How many times the app (the hub) moved each level, from the sandbox's own records."""
    rows = app.state.shop.store.all(
        "SELECT c.inventory_item_id AS item, c.location_id AS loc FROM adjustment_changes c"
        " JOIN adjustment_groups g ON g.id = c.group_id WHERE g.reference_document_uri = 'omnihub://sync'"
        " AND c.name = 'available'")
    return Counter((r["item"], r["loc"]) for r in rows)


def _operations(server) -> list[dict]:
    return [op for op in httpx.get(server.url + "/_sandbox/bulk/operations").json() if op["type"] == "MUTATION"]


def _drain(sync, rounds: int = 20) -> None:
    sync.flush()
    for _ in range(rounds):
        if not sync.run_channel_once("shopify"):
            return


def test_a_large_batch_goes_by_one_bulk_mutation_and_every_level_lands(hub, shopify_sandbox):
    server, app, conn, setup, sync = _world(hub, shopify_sandbox)
    opening = setup["summary"].levels
    assert len(opening) >= 3 * BULK_FROM
    _snapshot(hub, {k: q + 7 for k, q in opening.items()})
    sync.flush()
    handled = sync.run_channel_once("shopify")
    assert handled >= len(opening)  # one round took them all
    [op] = _operations(server)
    assert op["status"] == "COMPLETED" and int(op["object_count"]) == -(-handled // 250)
    shows = _hub_shows(hub)
    assert _shopify_shows(sync, conn, opening) == {k: shows.get(k, 0) for k in opening}
    assert sync.idle()
    # No level went by the per-call road, and the bucket never throttled.
    assert docs.INVENTORY_SET_QUANTITIES not in conn.client.sent_documents
    assert conn.client.bucket.stats.throttled == 0
    assert set(_app_changes(app).values()) == {1}  # each level applied once


def test_few_due_intents_keep_the_per_call_road(hub, shopify_sandbox):
    server, _, conn, setup, sync = _world(hub, shopify_sandbox)
    few = dict(list(sorted(setup["summary"].levels.items()))[:BULK_FROM - 1])
    _snapshot(hub, {k: q + 3 for k, q in few.items()})
    _drain(sync)
    assert _operations(server) == []
    assert _shopify_shows(sync, conn, few) == {k: _hub_shows(hub)[k] for k in few}


def test_a_stale_line_is_reread_and_resent_by_the_per_call_road_and_lands_once(hub, shopify_sandbox):
    server, app, conn, setup, sync = _world(hub, shopify_sandbox)
    opening = setup["summary"].levels
    (sku, code), before = sorted(opening.items())[5]
    location_gid = sync.mapping("shopify").locations[code]
    # A merchant raises the level in Shopify's admin; the hub has not heard of it.
    edit = httpx.post(server.url + "/_sandbox/inventory/admin-edits",
                      json={"sku": sku, "location_id": location_gid, "available": before + 40})
    assert edit.status_code in (200, 201), edit.text
    _snapshot(hub, {k: q + 7 for k, q in opening.items()})
    _drain(sync)
    [op] = _operations(server)
    assert op["status"] == "COMPLETED"
    url = conn.client.execute(docs.BULK_OPERATION, {"id": op["id"]})["node"]["url"]
    lines = [json.loads(line) for line in httpx.get(url).text.splitlines()]
    refused = [line["__lineNumber"] for line in lines
               if line["data"]["inventorySetQuantities"]["userErrors"]]
    assert len(refused) == 1 and {e["code"] for e in lines[refused[0]]["data"]["inventorySetQuantities"]["userErrors"]} \
        == {"CHANGE_FROM_QUANTITY_STALE"}
    # That line's levels went by the per-call road after the re-read.
    assert docs.INVENTORY_SET_QUANTITIES in conn.client.sent_documents
    shows = _hub_shows(hub)
    assert _shopify_shows(sync, conn, opening) == {k: shows.get(k, 0) for k in opening}
    assert sync.idle()
    assert set(_app_changes(app).values()) == {1}
    assert conn.client.bucket.stats.throttled == 0


def test_a_failed_bulk_operation_falls_back_to_the_per_call_road(hub, shopify_sandbox):
    server, app, conn, setup, sync = _world(hub, shopify_sandbox)
    assert httpx.put(server.url + "/_sandbox/bulk/faults", json={"error_code": "INTERNAL_SERVER_ERROR"}).status_code == 200
    opening = setup["summary"].levels
    _snapshot(hub, {k: max(0, q - 2) for k, q in opening.items()})
    _drain(sync)
    [op] = _operations(server)
    assert op["status"] == "FAILED"
    shows = _hub_shows(hub)
    assert _shopify_shows(sync, conn, opening) == {k: shows.get(k, 0) for k in opening}
    assert sync.idle()
    # The failed operation ran lines it did not report; the per-call road's compare-and-
    # swap found them done and moved nothing twice.
    assert set(_app_changes(app).values()) <= {1}
    assert sum(_app_changes(app).values()) == sum(1 for k in opening if shows.get(k, 0) != opening[k])


def test_the_sender_keeps_its_claim_while_shopify_runs_a_long_file(hub, shopify_sandbox):
    import threading
    import time

    server, app, conn, setup, sync = _world(hub, shopify_sandbox, bulk_operation_min_duration_s=3000)  # 3 s here
    sync.lease_s = 1.0
    opening = setup["summary"].levels
    _snapshot(hub, {k: q + 1 for k, q in opening.items()})
    sync.flush()
    sender = threading.Thread(target=sync.run_channel_once, args=("shopify",))
    sender.start()
    time.sleep(2.0)  # past the lease, while Shopify still runs the file
    other = ChannelSync(hub.engine, owner="another-worker")
    assert sender.is_alive() and other.claim("shopify", 10_000) == []
    sender.join(30)
    shows = _hub_shows(hub)
    assert _shopify_shows(sync, conn, opening) == {k: shows.get(k, 0) for k in opening}
    assert sync.idle() and set(_app_changes(app).values()) == {1}
