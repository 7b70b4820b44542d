"""How long many changed levels take to show on Shopify by each road: the per-call road
(`inventorySetQuantities`, 250 levels a call, paced by the bucket) and the bulk file
(one bulk mutation), on the sandbox's Plus plan.

The sandbox runs in a child process with `levels` SKU-locations (every variant stocked at
every store, all at 0); the hub is connected to it as an operator would (locations and
catalog from the shop, all levels confirmed at 0). Then, once per road: an ERP snapshot
changes every level, its intents are written, and the sender runs until none is due; the
time is from the first claim to the last acknowledgement. What Shopify shows afterwards is
read back with a bulk query (the sandbox's own figures) and compared with the hub's.

    python -m omnihub.benchmarks.push_paths --levels 100000 --json var/push_paths.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa

from omnihub.adapters.channels.connectors import build_shopify
from omnihub.adapters.channels.shopify import documents as docs
from omnihub.adapters.channels.shopify.bulk_inventory_push import ShopifyBulkInventoryPush
from omnihub.adapters.channels.shopify.bulk_query import BulkQuery
from omnihub.adapters.channels.shopify.order_mapping import numeric_id
from omnihub.adapters.db import tables as t
from omnihub.benchmarks.scratch_db import peak_rss_mb, scratch_database
from omnihub.benchmarks.sync import SECRET, TOKEN, _spawn
from omnihub.domain.push_policy import PushPolicy
from omnihub.hub import Hub
from omnihub.services.channel_setup import import_shopify_shop
from omnihub.services.channel_sync import ChannelSync
from omnihub.services.erp_snapshot import import_snapshot
from omnihub.settings import Settings

LEVELS_QUERY = """
{
  locations {
    edges { node { id inventoryLevels { edges { node { item { id } quantities(names: ["available"]) { name quantity } } } } } }
  }
}
"""


def _shown(client) -> dict[tuple[str, str], int]:
    """(item number, location number) → available, as Shopify shows it (one bulk query)."""
    bulk = BulkQuery(client, first_poll_s=0.2)
    operation = bulk.wait(bulk.start(LEVELS_QUERY).id)
    out: dict[tuple[str, str], int] = {}
    for line in bulk.lines(operation.url):
        if "item" in line:
            qty = next(q["quantity"] for q in line["quantities"] if q["name"] == "available")
            out[(numeric_id(line["item"]["id"]), numeric_id(line["__parentId"]))] = int(qty)
    return out


def _hub_shows(hub: Hub) -> dict[tuple[str, str], int]:
    av = t.channel_availability
    with hub.engine.connect() as c:
        return {(r.sku, r.location): r.quantity for r in c.execute(
            sa.select(av.c.sku, av.c.location, av.c.quantity).where(av.c.channel == "shopify"))}


def _last_operation_s(client, shop_url: str) -> float | None:
    """How long Shopify ran the last bulk mutation (its createdAt to completedAt)."""
    operations = [op for op in httpx.get(shop_url + "/_sandbox/bulk/operations").json() if op["type"] == "MUTATION"]
    if not operations:
        return None
    node = client.execute(docs.BULK_OPERATION, {"id": operations[-1]["id"]})["node"]
    if not node.get("completedAt"):
        return None
    span = datetime.fromisoformat(node["completedAt"].replace("Z", "+00:00")) - datetime.fromisoformat(
        node["createdAt"].replace("Z", "+00:00"))
    return round(span.total_seconds(), 2)


def _road(hub: Hub, sync: ChannelSync, conn, road: str, targets: dict[tuple[str, str], int], bulk_from: int) -> dict:
    conn.pusher.bulk = ShopifyBulkInventoryPush(conn.pusher, policy=PushPolicy(bulk_from=bulk_from, max_bulk=200_000)) \
        if road == "bulk" else None
    lines = ["sku,location,on_hand"] + [f"{s},{c},{q}" for (s, c), q in sorted(targets.items())]
    t_snapshot = time.monotonic()
    import_snapshot(hub.writer, "\n".join(lines) + "\n", actor="bench")
    hub.relay.drain()
    sync.flush()
    written_s = time.monotonic() - t_snapshot
    bucket = conn.client.bucket
    bucket.reserve(1)  # refresh the mirror, then let earlier spending refill
    time.sleep(min(30.0, (bucket.maximum - bucket.available) / bucket.restore_rate + 0.5))
    calls, throttled, points = bucket.stats.calls, bucket.stats.throttled, bucket.stats.points_spent
    acked = [0]
    sync.ack_listeners[:] = [lambda a: acked.__setitem__(0, acked[0] + 1)]
    t0 = time.monotonic()
    while sync.run_channel_once("shopify"):
        pass
    seconds = time.monotonic() - t0
    return {"road": road, "seconds": round(seconds, 2), "levels_per_s": round(acked[0] / max(seconds, 1e-9), 1),
            "acknowledged": acked[0], "api_calls": bucket.stats.calls - calls,
            "throttled": bucket.stats.throttled - throttled, "points_spent": round(bucket.stats.points_spent - points, 1),
            "bulk_files": conn.pusher.bulk.files_sent if conn.pusher.bulk else 0,
            "intents_written_s": round(written_s, 2), "left_pending": sync.pending().get("shopify", {}).get("pending", 0)}


def bench_push_paths(backend: str = "sqlite", *, levels: int = 100_000, stores: int = 5, variants_per_product: int = 5,
                     roads: tuple[str, ...] = ("per_call", "bulk"), sizes: tuple[int, ...] = (),
                     base_url: str | None = None) -> dict:
    """`sizes`: how many levels change in each run (each road runs once per size); all of
    them by default."""
    products = max(1, levels // (stores * variants_per_product))
    with tempfile.TemporaryDirectory(prefix="omnihub-bench-push-") as tmp, scratch_database(backend, base_url) as url:
        t_start = time.monotonic()
        proc, shop_url = _spawn("shopify", {
            "state_path": str(Path(tmp) / "shopify.sqlite3"), "plan": "plus", "access_tokens": [TOKEN],
            "client_secret": SECRET, "catalog_products": products, "catalog_variants_per_product": variants_per_product,
            "catalog_stores": stores, "catalog_warehouses": 0, "initial_stock_max": 0}, "/_sandbox/health")
        hub = Hub.open(Settings(database_url=url))
        try:
            conn = build_shopify("shopify", {"shop_url": shop_url, "access_token": TOKEN, "client_secret": SECRET,
                                             "plan": "plus"})
            setup = import_shopify_shop(hub.catalog, conn.client, channel="shopify", read_levels=False)
            sync = hub.sync
            sync.register("shopify", conn.pusher)
            mapping = sync.mapping("shopify", max_age_s=0)
            keys = [(sku, code) for sku in sorted(mapping.items) for code in sorted(mapping.locations)]
            now = datetime.now(UTC)
            with hub.engine.begin() as c:  # the shop starts empty: every level confirmed at 0
                for start in range(0, len(keys), 5000):
                    ChannelSync._upsert_levels(c, [{"channel": "shopify", "sku": s, "location": loc, "confirmed": 0,
                                                    "confirmed_at": now} for s, loc in keys[start:start + 5000]])
            setup_s = time.monotonic() - t_start
            results = []
            current = {k: 0 for k in keys}
            runs = [(size, road) for size in sorted(set(sizes or (len(keys),))) for road in roads]
            for n, (size, road) in enumerate(runs):
                changed = keys[:min(size, len(keys))]
                targets = {k: current[k] % 40 + 1 for k in changed}  # each changed level moves
                current.update(targets)
                result = _road(hub, sync, conn, road, targets, bulk_from=1 if road == "bulk" else 10**9)
                result["changed"] = len(changed)
                if road == "bulk":
                    result["operation_s"] = _last_operation_s(conn.client, shop_url)
                shown = _shown(conn.client)
                hub_shows = _hub_shows(hub)
                item_of = {sku: numeric_id(mapping.items[sku]) for sku in mapping.items}
                loc_of = {code: numeric_id(mapping.locations[code]) for code in mapping.locations}
                result["wrong_on_shopify"] = sum(1 for s, c in keys
                                                 if shown.get((item_of[s], loc_of[c])) != hub_shows.get((s, c), 0))
                results.append(result)
            return {"backend": backend, "plan": "plus", "sku_locations": len(keys), "skus": len(mapping.items),
                    "locations": len(mapping.locations), "restore_rate": conn.client.bucket.restore_rate,
                    "bucket_size": conn.client.bucket.maximum, "setup_s": round(setup_s, 1),
                    "catalog_variants": setup.variants_created, "roads": results, "peak_rss_mb": peak_rss_mb()}
        finally:
            hub.close()
            proc.terminate()
            proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="sqlite")
    parser.add_argument("--levels", type=int, default=100_000)
    parser.add_argument("--stores", type=int, default=5)
    parser.add_argument("--roads", default="per_call,bulk")
    parser.add_argument("--sizes", default="", help="levels changed per run, comma-separated (default: all)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    sizes = tuple(int(n) for n in args.sizes.split(",") if n)
    result = bench_push_paths(args.backend, levels=args.levels, stores=args.stores, roads=tuple(args.roads.split(",")),
                              sizes=sizes)
    text = json.dumps(result, indent=2)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
