"""`omnihub bench reconcile`: one reconciliation of a large estate against a sandbox Shopify,
with a known set of differences of every class, each of which must be found once and
classed right, and nothing else found.

The estate is `skus` SKUs stocked at `locations` locations, held by the Shopify sandbox
(a child process, real HTTP) and connected to a scratch hub as `bench estate` connects it
(catalog and locations imported from the shop, the shop's levels taken as opening stock
and as what Shopify confirmed). Then, at SKUs drawn at random from `seed`, one SKU per
difference, `per_class` differences of each class are made the way the world makes them:

- drift_repaired: the merchant adds units in the Shopify admin (its webhook lost);
- missed_pos_sale: units leave a store's shelf at the till with no order (webhook lost);
- push_pending: goods received in the hub, the push queued and not sent;
- dead_letter: the same, the push parked after failing;
- missed_order: a shopper checks out online, orders/create lost. The SKU is first left
  stocked at one location only (in the shop and the hub alike, before the opening stock
  is read), so Shopify and the hub's routing take the units from the same place and the
  order explains every level it moves;
- unknown_sku: a product created in the Shopify admin, never imported;
- unsold_on_channel: a SKU mapped in the hub to a listing Shopify does not have.

No worker runs, so nothing the sandbox sends is processed: as good as lost. The
reconciliation runs in a child process (`_RECONCILE_CHILD`), as `omnihub sync reconcile`
would, so its peak RSS is the hub process's own, not the seeding's; `seconds` is that
run alone. Findings are then matched against the injected set by class and key.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa

from omnihub import CORE_BUILD
from omnihub.adapters.db import tables as t
from omnihub.benchmarks.estate import Progress, ShopView, _no_progress, _opening_stock, _stop, _wait_healthy, start_shop
from omnihub.benchmarks.scratch_db import peak_rss_mb, scratch_database

TOKEN, SECRET, DOMAIN = "shpat_reconcile", "shpss_reconcile_secret", "omnihub-reconcile.myshopify.com"
CHANNEL = "shopify"
SECONDS_GOAL, RSS_GOAL_MB = 60.0, 1024
CLASSES = ("drift_repaired", "missed_pos_sale", "push_pending", "dead_letter", "missed_order", "unknown_sku",
           "unsold_on_channel")

_RECONCILE_CHILD = """
import json, os, sys, time
from omnihub.entrypoints.reconciliation_wiring import connect
from omnihub.hub import Hub
from omnihub.settings import Settings
hub = Hub.open(Settings(database_url=sys.argv[1], secret_key=sys.argv[2]), run_migrations=False, relay=False)
job, close = connect(hub, sys.argv[3])
profile = os.environ.get("OMNIHUB_BENCH_PROFILE")  # a file for cProfile's figures of the run
try:
    t0 = time.perf_counter()
    if profile:
        import cProfile
        cProfile.run('run = job.run(sys.argv[3], trigger="bench", with_findings=False)', profile)
    else:
        run = job.run(sys.argv[3], trigger="bench", with_findings=False)
    seconds = time.perf_counter() - t0
finally:
    close()
    hub.close()
print(json.dumps({"run": run, "seconds": seconds}, default=str))
"""


def _key(kind: str, sku: str | None, location: str | None, external_id: str | None) -> tuple:
    """What names a difference: the order for a missed order, else its SKU (and location
    for a level); an unknown item by the SKU Shopify shows for it."""
    if kind == "missed_order":
        return (kind, external_id)
    return (kind, sku, location)


class _Injector:
    """Makes the differences, keeping the set the run must find."""

    def __init__(self, hub, shop_url: str, location_ids: dict[str, int], fulfils: set[str]) -> None:
        self.hub = hub
        self.shop = httpx.Client(base_url=shop_url + "/_sandbox", timeout=60)
        self.location_ids = location_ids  # hub code -> Shopify location number
        self.fulfils = fulfils  # hub codes of locations that fulfil online orders
        self.injected: list[tuple] = []

    def close(self) -> None:
        self.shop.close()

    def _edit(self, sku: str, code: str, **change) -> dict:
        r = self.shop.post("/inventory/admin-edits", json={"sku": sku, "location_id": self.location_ids[code], **change})
        r.raise_for_status()
        return r.json()

    def only_at_one_location(self, sku: str, keep: str) -> None:
        """Before the opening stock: the SKU's units at `keep` only (at least 2 of them)."""
        for code in self.location_ids:
            self._edit(sku, code, available=5 if code == keep else 0, shelf_too=True)

    def drift(self, sku: str, code: str, rng: random.Random) -> None:
        self._edit(sku, code, delta=rng.randrange(1, 6))
        self.injected.append(_key("drift_repaired", sku, code, None))

    def till_sale(self, sku: str, code: str, shown: int, rng: random.Random) -> None:
        self._edit(sku, code, delta=-rng.randrange(1, shown + 1), shelf_too=True)
        self.injected.append(_key("missed_pos_sale", sku, code, None))

    def pending_push(self, sku: str, code: str, rng: random.Random, *, dead: bool) -> None:
        self.hub.inventory.receive(sku, code, rng.randrange(1, 6))
        self.injected.append(_key("dead_letter" if dead else "push_pending", sku, code, None))

    def online_order(self, sku: str) -> None:
        r = self.shop.post("/orders", json={"lines": [{"sku": sku, "quantity": 1}]})
        r.raise_for_status()
        self.injected.append(_key("missed_order", None, None, str(r.json()["order_id"])))

    def new_product(self, n: int) -> None:
        sku = f"ADMIN-ONLY-{n:05d}"
        r = self.shop.post("/products", json={"title": f"Made in the admin {n}", "variants": [{"sku": sku}]})
        r.raise_for_status()
        self.injected.append(_key("unknown_sku", sku, None, None))

    def unlisted(self, n: int) -> None:
        sku = f"HUB-ONLY-{n:05d}"
        self.hub.catalog.create_product(f"Only in the hub {n}", [{"sku": sku, "title": sku}])
        self.hub.catalog.set_listing(CHANNEL, sku, f"gid://shopify/ProductVariant/{9_000_000_000 + n}",
                                     external_inventory_item_id=f"gid://shopify/InventoryItem/{9_000_000_000 + n}")
        self.injected.append(_key("unsold_on_channel", sku, None, None))


def _run_child(url: str, key: str, env: dict) -> tuple[dict, float, float]:
    """One run in a child process: (the run, its seconds, the child's peak RSS in MiB)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-c", _RECONCILE_CHILD, url, key, CHANNEL], stdout=out, stderr=err,
                                env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise RuntimeError(f"the reconciliation failed ({proc.returncode}): {err.read()[-3000:]}")
        result = json.loads(out.read().strip().splitlines()[-1])
    return result["run"], result["seconds"], round(usage.ru_maxrss / 1024, 1)


def _bulk_query_seconds(shop_url: str, secrets: dict) -> float | None:
    """How long Shopify took over the run's bulk query of levels, by its own clock
    (createdAt to completedAt); None when the run read page by page."""
    from omnihub.adapters.channels.connectors import build_shopify
    from omnihub.adapters.channels.shopify import documents as docs

    queries = [op for op in httpx.get(shop_url + "/_sandbox/bulk/operations", timeout=30).json()
               if op["type"] == "QUERY" and "inventoryLevels" in op["query"]]
    if not queries:
        return None
    client = build_shopify(CHANNEL, secrets).client
    try:
        node = client.execute(docs.BULK_OPERATION, {"id": queries[-1]["id"]})["node"]
    finally:
        client.close()
    if not node.get("completedAt"):
        return None
    span = (datetime.fromisoformat(node["completedAt"].replace("Z", "+00:00"))
            - datetime.fromisoformat(node["createdAt"].replace("Z", "+00:00")))
    return round(span.total_seconds(), 2)


def _findings(engine, run_id: int) -> list[tuple]:
    fi = t.reconciliation_findings
    with engine.connect() as conn:
        return [_key(r.kind, r.sku, r.location, r.external_id) for r in conn.execute(
            sa.select(fi.c.kind, fi.c.sku, fi.c.location, fi.c.external_id).where(fi.c.run_id == run_id))]


def bench_reconcile(backend: str = "sqlite", *, skus: int = 20_000, locations: int = 50, per_class: int = 20,
                    seed: int = 7, base_url: str | None = None, progress: Progress | None = None) -> dict:
    from cryptography.fernet import Fernet

    from omnihub.adapters.channels.connectors import build_shopify
    from omnihub.adapters.channels.shopify.order_mapping import numeric_id
    from omnihub.hub import Hub
    from omnihub.services.channel_setup import import_shopify_shop
    from omnihub.services.channel_sync import DEAD
    from omnihub.settings import Settings

    say = progress or _no_progress
    if skus < 5 * per_class + 1:
        raise ValueError(f"{skus} SKUs cannot hold {per_class} differences of each level class on SKUs of their own")
    warehouses = max(1, locations // 10) if locations > 1 else 0
    timings: dict[str, float] = {}
    rng = random.Random(seed)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="omnihub-reconcile-") as tmp, scratch_database(backend, base_url) as url:
        key = Fernet.generate_key().decode()
        env = {**os.environ, "OMNIHUB_DATABASE_URL": url, "OMNIHUB_SECRET_KEY": key, "OMNIHUB_LOG_LEVEL": "WARNING"}
        shop_path = Path(tmp) / "shopify.sqlite3"
        say(f"seeding the Shopify sandbox: {skus:,} products at {locations} locations")
        t0 = time.monotonic()
        shop, shop_url = start_shop(shop_path, env, skus=skus, locations=locations, warehouses=warehouses,
                                    seed=seed, domain=DOMAIN, token=TOKEN, secret=SECRET)
        view = injector = None
        try:
            _wait_healthy(shop, shop_url + "/_sandbox/health", 3600, "the Shopify sandbox")
            timings["shop_seed_s"] = time.monotonic() - t0
            t0 = time.monotonic()
            hub = Hub.open(Settings(database_url=url, secret_key=key), relay=False)
            try:
                secrets = {"shop_url": shop_url, "access_token": TOKEN, "client_secret": SECRET, "plan": "plus",
                           "shop_domain": DOMAIN}
                hub.vault.put(CHANNEL, secrets)
                connector = build_shopify(CHANNEL, secrets)
                import_shopify_shop(hub.catalog, connector.client, channel=CHANNEL, read_levels=False,
                                    progress=lambda what, n: say(f"importing the shop: {what}", n, None))
                hub.sync.register(CHANNEL, connector.pusher)  # intents are queued for it; nothing sends them
                cl = t.channel_locations
                with hub.engine.connect() as conn:
                    mapped = dict(conn.execute(sa.select(cl.c.location, cl.c.external_location_id)
                                               .where(cl.c.channel == CHANNEL)).all())
                location_ids = {code: int(numeric_id(gid)) for code, gid in mapped.items()}
                catalog = httpx.get(shop_url + "/_sandbox/catalog", timeout=120).json()
                fulfils = {code for code, i in location_ids.items()
                           if any(loc["id"] == i and loc.get("fulfills_online_orders", True)
                                  for loc in catalog.get("locations", []))} or set(location_ids)
                codes = sorted(location_ids)
                picked = rng.sample(sorted(v["sku"] for v in catalog["variants"]), 5 * per_class)
                drift, till, pending, dead, ordered = (picked[i * per_class:(i + 1) * per_class] for i in range(5))
                injector = _Injector(hub, shop_url, location_ids, fulfils)
                say("leaving the ordered SKUs at one location each")
                for sku in ordered:
                    injector.only_at_one_location(sku, rng.choice(sorted(fulfils)))
                timings["shop_import_s"] = time.monotonic() - t0

                t0 = time.monotonic()
                view = ShopView(shop_path, location_ids)
                code_of = {i: code for code, i in location_ids.items()}
                _opening_stock(hub.engine, view, code_of, say, skus * locations)
                with hub.engine.begin() as conn:  # the channel already shows these figures
                    conn.execute(t.outbox.update().where(t.outbox.c.published_at.is_(None))
                                 .values(published_at=datetime.now(UTC)))
                timings["opening_stock_s"] = time.monotonic() - t0

                say("making the differences")
                t0 = time.monotonic()
                for sku in drift:
                    injector.drift(sku, rng.choice(codes), rng)
                for sku in till:
                    shown = {code: q for code in codes if (q := view.shown(code, [sku]).get(sku, 0)) > 0}
                    if shown:  # every location is a store to the hub (imported as such): a shortfall is a till sale
                        code = rng.choice(sorted(shown))
                        injector.till_sale(sku, code, shown[code], rng)
                for sku in pending + dead:
                    injector.pending_push(sku, rng.choice(codes), rng, dead=sku in dead)
                hub.relay.drain()
                hub.sync.flush()
                si = t.sync_intents
                with hub.engine.begin() as conn:
                    conn.execute(si.update().where(si.c.channel == CHANNEL, si.c.sku.in_(dead)).values(
                        state=DEAD, attempts=8, last_error="CHANGE_FROM_QUANTITY_STALE after 8 attempts (bench)"))
                for sku in ordered:
                    injector.online_order(sku)
                for n in range(per_class):
                    injector.new_product(n)
                    injector.unlisted(n)
                injected = list(injector.injected)
                timings["differences_s"] = time.monotonic() - t0
            finally:
                connector.client.close()
                hub.close()
            setup_s = time.monotonic() - started

            say(f"reconciling {skus * locations:,} SKU-locations")
            run, seconds, rss = _run_child(url, key, env)
            channel_s = _bulk_query_seconds(shop_url, secrets)
            engine = sa.create_engine(url)
            try:
                found = _findings(engine, int(run["id"]))
            finally:
                engine.dispose()
        finally:
            if view:
                view.close()
            if injector:
                injector.close()
            _stop(shop, 20)
    want, got = Counter(injected), Counter(found)
    missed = sorted((want - got).elements())
    false = sorted((got - want).elements())
    return {
        "benchmark": "reconcile",
        "backend": backend,
        "skus": skus,
        "locations": locations,
        "sku_locations": skus * locations,
        "seconds": round(seconds, 2),
        "channel_bulk_query_s": channel_s,  # of `seconds`: Shopify running the bulk query (the sandbox's clock)
        "peak_rss_mb": rss,
        "state": run["state"],
        "error": run.get("error"),
        "levels_compared": run["levels_compared"],
        "orders_compared": run["orders_compared"],
        "findings_by_class": dict(sorted(Counter(k[0] for k in found).items())),
        "injected_by_class": dict(sorted(Counter(k[0] for k in injected).items())),
        "missed": len(missed),
        "false_findings": len(false),
        "missed_examples": [list(k) for k in missed[:20]],
        "false_examples": [list(k) for k in false[:20]],
        "goals": {"seconds": SECONDS_GOAL, "peak_rss_mb": RSS_GOAL_MB},
        "setup": {"seconds": round(setup_s, 1), **{k: round(v, 1) for k, v in timings.items()}},
        "seed": seed,
        "bench_peak_rss_mb": peak_rss_mb(),
        "core_build": CORE_BUILD,
    }
