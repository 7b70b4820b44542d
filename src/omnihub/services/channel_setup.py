"""Initial set-up of a Shopify shop (seeds 001/002): import its locations and whole
catalog (SKU, barcode/UPC, Shopify ids, titles, images; read with a bulk operation), map
them to the hub, optionally take its current levels as the hub's opening stock, and say
what was done. Open orders are imported separately (services/order_history.py).

The hub becomes the source of truth afterwards: from then on Shopify's levels are what
the hub pushes, and what Shopify reports is compared, not adopted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

import structlog

from omnihub.adapters.channels.shopify import documents as docs
from omnihub.adapters.channels.shopify.bulk_query import BulkOperationBusy, BulkQuery
from omnihub.adapters.channels.shopify.catalog_lines import products_from_bulk_lines, products_from_variant_page
from omnihub.adapters.channels.shopify.location_levels import location_levels
from omnihub.adapters.channels.shopify.order_mapping import numeric_id
from omnihub.adapters.db import tables as t
from omnihub.services.catalog import CatalogService, NotFound
from omnihub.services.catalog_cursors import catalog_read_at, shopify_time
from omnihub.services.catalog_import import CatalogImportReport, ChannelCatalogImport

log = structlog.get_logger(__name__)


@dataclass
class SetupSummary:
    locations_created: int = 0
    locations_mapped: int = 0
    products_created: int = 0
    variants_created: int = 0
    listings: int = 0
    levels: dict[tuple[str, str], int] = field(default_factory=dict)  # (sku, hub location) → available
    skipped: list[str] = field(default_factory=list)
    catalog: CatalogImportReport = field(default_factory=CatalogImportReport)
    catalog_source: str = ""  # "bulk" or "paged" (the fall-back)

    def as_dict(self) -> dict:
        return {"locations_created": self.locations_created, "locations_mapped": self.locations_mapped,
                **self.catalog.as_dict(), "catalog_source": self.catalog_source,
                "levels": len(self.levels), "skipped": self.skipped[:50]}


def import_catalog(engine: Engine, client, *, channel: str = "shopify",
                   progress: Callable[[str, int], None] | None = None) -> tuple[CatalogImportReport, str]:
    """The whole catalog (SKU, barcode, Shopify ids, titles, images) into the hub; returns
    the report and how it was read: "bulk" or "paged".

    A bulk operation is the way: Shopify reads every product itself, at no cost to the
    rate-limit bucket beyond a few points of polling, and the hub streams the result. The paged read stays as the
    fall-back for one case: Shopify refuses to start a bulk operation because the shop's
    limit of concurrent ones is taken (OPERATION_IN_PROGRESS: other apps, or the
    merchant's own exports). Waiting for them could take hours; paging costs points but
    finishes. A bulk operation that starts and then fails is an error, not a fall-back:
    the same query paged would most likely fail the same way, and the operator must know.
    """
    importer = ChannelCatalogImport(engine, channel)
    try:
        started = _bulk_catalog(BulkQuery(client), importer, progress)
        source = "bulk"
    except BulkOperationBusy as exc:
        log.warning("bulk operation refused, reading the catalog page by page", channel=channel, reason=str(exc))
        started = shopify_time(datetime.now(UTC))
        _paged_catalog(client, importer, progress)
        source = "paged"
    report = importer.finish()
    catalog_read_at(engine, channel, started)  # the product polls go on from here (services/catalog_polling.py)
    if progress:
        progress("products", report.products_read)
    return report, source


def _bulk_catalog(bulk: BulkQuery, importer: ChannelCatalogImport, progress) -> str:
    """Returns when Shopify began reading (its clock), for the product polls' cursors."""
    started = bulk.start(docs.CATALOG_BULK_QUERY)
    done = bulk.wait(started.id, on_poll=(lambda op: progress("bulk operation: objects written", op.objectCount))
                     if progress else None)
    read = 0

    def counted(lines):
        nonlocal read
        for line in lines:
            read += 1
            if progress and read % 250 == 0:
                progress("objects read", read)
            yield line

    for product in products_from_bulk_lines(counted(bulk.lines(done.url)), importer.reject):
        importer.add(product)
    if progress:
        progress("objects read", read)
    return done.createdAt or shopify_time(datetime.now(UTC))


def _paged_catalog(client, importer: ChannelCatalogImport, progress) -> None:
    after, read = None, 0
    while True:
        page = client.execute(docs.VARIANTS, {"first": 150, "after": after, "query": None})["productVariants"]
        for product in products_from_variant_page(page["nodes"], importer.reject):
            importer.add(product)
        read += len(page["nodes"])
        if progress:
            progress("variants read", read)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]


def map_location(engine: Engine, channel: str, location: str, external_location_id: str) -> None:
    cl = t.channel_locations
    with engine.begin() as conn:
        conn.execute(cl.delete().where(cl.c.channel == channel, sa.or_(cl.c.location == location,
                                                                      cl.c.external_location_id == external_location_id)))
        conn.execute(cl.insert().values(channel=channel, location=location, external_location_id=external_location_id))


def import_shopify_shop(catalog: CatalogService, client, *, channel: str = "shopify",
                        location_codes: dict[str, str] | None = None, read_levels: bool = True,
                        progress: Callable[[str, int], None] | None = None) -> SetupSummary:
    """`location_codes` maps Shopify location gids to existing hub location codes; other
    active locations are created as `SHOP-<number>`."""
    summary = SetupSummary()
    engine = catalog.engine
    location_codes = dict(location_codes or {})
    existing = {loc["code"] for loc in catalog.list_locations()}
    after = None
    while True:
        page = client.execute(docs.LOCATIONS, {"first": 100, "after": after})["locations"]
        for loc in page["nodes"]:
            if not loc["isActive"]:
                continue
            code = location_codes.get(loc["id"]) or f"SHOP-{numeric_id(loc['id'])}"
            if code not in existing:
                addr = loc.get("address") or {}
                data = {"code": code, "name": loc["name"], "kind": "store",
                        "capabilities": ["ship", "pickup"] if loc["fulfillsOnlineOrders"] else ["pickup"]}
                if addr.get("latitude") is not None and addr.get("longitude") is not None:
                    data.update(lat=addr["latitude"], lng=addr["longitude"])
                catalog.create_location(data)
                existing.add(code)
                summary.locations_created += 1
            map_location(engine, channel, code, loc["id"])
            location_codes[loc["id"]] = code
            summary.locations_mapped += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    if progress:
        progress("locations", summary.locations_mapped)
    try:
        catalog.get_channel(channel)
    except NotFound:  # a new channel: Shopify sells per location, every mapped one ships
        catalog.upsert_channel(channel, name="Shopify", kind="shopify", per_location=True,
                               feeds={code: "ship" for code in location_codes.values()})

    catalog_report, summary.catalog_source = import_catalog(engine, client, channel=channel, progress=progress)
    summary.catalog = catalog_report
    summary.products_created = catalog_report.products_created
    summary.variants_created = catalog_report.variants_created
    summary.listings = catalog_report.listings
    summary.skipped.extend(catalog_report.rejected)

    if read_levels:
        with engine.connect() as conn:
            sku_of = {numeric_id(inv): sku for sku, inv in conn.execute(
                sa.select(t.channel_listings.c.sku, t.channel_listings.c.external_inventory_item_id)
                .where(t.channel_listings.c.channel == channel)) if inv}
        for ext, code in location_codes.items():
            for level in location_levels(client, ext):
                sku = sku_of.get(level.item_id)
                if sku is not None and level.available is not None:
                    summary.levels[(sku, code)] = level.available
        if progress:
            progress("levels", len(summary.levels))
    return summary
