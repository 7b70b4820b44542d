"""The jobs that compare the estate with a channel hold a page, not the estate: their traced
memory peak is flat from N to 4N positions (tests/sync/job_growth.py's `measure`).

Holding the estate shows only at a size where it outweighs a page and the libraries'
own allocations, so these runs use thousands of positions on the test's real database,
with the channel's side served in process by `_Shop`: a stand-in for Shopify's
`location.inventoryLevels` pages only (over HTTP, a sandbox of that size costs minutes;
test_polling_job_growth.py runs these jobs against the real sandbox and counts their
work). The hub's side, the spool and the comparison are the real ones.
"""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime

import sqlalchemy as sa

from omnihub.adapters.channels.shopify import documents as docs
from omnihub.adapters.channels.shopify.reconciliation_reads import ShopifyReader
from omnihub.adapters.db import tables as t
from omnihub.services.channel_polling import ShopifyPoller
from omnihub.services.reconciliation import Reconciliation
from tests.conftest import empty_database
from tests.sync.job_growth import measure

SKUS, LOCATIONS, FACTOR = 1000, 4, 4
SLACK = 1.5  # the peak at 4N may exceed N's by half (allocator noise); holding the estate is 4x


def _shown(n: int, loc: int) -> int:
    return (n + loc) % 17 + (1 if (n + loc) % 5 == 0 else 0)  # every fifth level differs from the hub's


class _Shop:
    """Answers the level read the snapshot and reconciliation make (and an empty order
    read), computing each page from its position: it holds nothing itself."""

    def __init__(self, skus: int) -> None:
        self.skus = skus

    def execute(self, document: str, variables: dict) -> dict:
        if document == docs.ORDERS_UPDATED:
            return {"orders": {"nodes": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}}
        assert document == docs.RECONCILE_LOCATION_LEVELS, document
        loc = int(variables["id"].rsplit("/", 1)[-1]) - 1000
        start = int(variables["after"] or 0)
        end = min(self.skus, start + variables["first"])
        nodes = [{"item": {"id": f"gid://shopify/InventoryItem/{n + 1}", "sku": f"SKU-{n:07d}"},
                  "quantities": [{"name": "available", "quantity": _shown(n, loc)}, {"name": "committed", "quantity": 0}]}
                 for n in range(start, end)]
        return {"location": {"inventoryLevels": {"nodes": nodes, "pageInfo": {"hasNextPage": end < self.skus,
                                                                              "endCursor": str(end)}}}}


def _estate(hub, skus: int) -> None:
    """`skus` SKUs at LOCATIONS stores on a per-location Shopify channel, each level
    confirmed and expected at what the shop shows before its drift."""
    now = datetime.now(UTC)
    codes = [f"L{i}" for i in range(LOCATIONS)]
    with hub.engine.begin() as conn:
        conn.execute(t.channels.insert().values(code="shopify", name="Shopify", kind="shopify", per_location=True))
        conn.execute(t.locations.insert(), [{"code": c, "name": c, "kind": "warehouse", "capabilities": ["ship"], "groups": []}
                                            for c in codes])
        conn.execute(t.channel_locations.insert(), [{"channel": "shopify", "location": c,
                                                     "external_location_id": f"gid://shopify/Location/{1000 + i}"}
                                                    for i, c in enumerate(codes)])
        conn.execute(t.channel_feeds.insert(), [{"channel": "shopify", "location": c, "mode": "ship"} for c in codes])
        pid = conn.execute(t.products.insert().values(title="Estate")).inserted_primary_key[0]
    for start in range(0, skus, 2000):
        names = [(n, f"SKU-{n:07d}") for n in range(start, min(skus, start + 2000))]
        figures = [{"channel": "shopify", "sku": s, "location": c, "n": (n + i) % 17} for n, s in names for i, c in enumerate(codes)]
        with hub.engine.begin() as conn:
            conn.execute(t.variants.insert(), [{"product_id": pid, "sku": s, "title": s} for _, s in names])
            conn.execute(t.channel_listings.insert(), [{"channel": "shopify", "sku": s, "external_id": f"gid://shopify/ProductVariant/{n + 1}",
                                                        "external_inventory_item_id": f"gid://shopify/InventoryItem/{n + 1}"}
                                                       for n, s in names])
            conn.execute(t.channel_levels.insert(), [{**{k: f[k] for k in ("channel", "sku", "location")}, "confirmed": f["n"],
                                                      "confirmed_at": now, "observed_at": now} for f in figures])
            conn.execute(t.channel_availability.insert(), [{**{k: f[k] for k in ("channel", "sku", "location")},
                                                            "quantity": f["n"], "updated_at": now} for f in figures])


def snapshot(hub, skus):
    return ShopifyPoller(hub.engine, _Shop(skus), hub.orders.ingest_many, observe_level=lambda *a: None).snapshot_levels()


def reconcile(hub, skus):
    job = Reconciliation(hub.engine, hub.sync, hub.orders.ingest_many, hub.inventory.record_sale,
                         {"shopify": ShopifyReader(_Shop(skus))})
    run = job.run("shopify", with_findings=False)
    assert run["state"] == "done", run
    return run


def _measured(job_name: str, url: str, skus: int):
    """In a fresh process: the job's traced peak over a hub of its own on `url`. (In the
    test process, threads other tests left running allocate during the measurement: seen
    in CI as a peak 1 MB higher at 4N than the same job alone.)"""
    from omnihub.hub import Hub
    from omnihub.settings import Settings

    hub = Hub.open(Settings(database_url=url), run_migrations=False, relay=False)
    try:
        with measure(hub.engine, memory=True) as counts:
            result = globals()[job_name](hub, skus)
        return counts.peak_bytes, result
    finally:
        hub.close()


def _peaks(job_name: str, hub, clean_url) -> list:
    """(peak, result) of the job at SKUS and FACTOR x SKUS, each run alone in a new
    process (so each pays the same first-run costs: imports, compiled statements)."""
    out = []
    spawn = multiprocessing.get_context("spawn")
    for skus in (SKUS, SKUS * FACTOR):
        empty_database(clean_url)
        _estate(hub, skus)
        with spawn.Pool(1) as pool:
            out += pool.apply(_measured, (job_name, clean_url, skus))
    return out


def test_the_level_snapshot_holds_a_page_not_the_estate(hub, clean_url):
    small, s_report, large, l_report = _peaks("snapshot", hub, clean_url)
    assert (s_report.seen, l_report.seen) == (SKUS * LOCATIONS, SKUS * LOCATIONS * FACTOR)
    assert l_report.differences == FACTOR * s_report.differences > 0
    assert large <= small * SLACK, (small, large)


def test_reconciliation_holds_a_page_not_the_estate(hub, clean_url):
    small, s_run, large, l_run = _peaks("reconcile", hub, clean_url)
    assert l_run["levels_compared"] == FACTOR * s_run["levels_compared"] == FACTOR * SKUS * LOCATIONS
    assert sum(l_run["summary"].values()) == FACTOR * sum(s_run["summary"].values()) > 0, (s_run, l_run)
    assert large <= small * SLACK, (small, large)
    with hub.engine.connect() as conn:  # every finding stored, a page a transaction
        stored = conn.execute(sa.select(sa.func.count()).select_from(t.reconciliation_findings)
                              .where(t.reconciliation_findings.c.run_id == l_run["id"])).scalar()
    assert stored == sum(l_run["summary"].values())
