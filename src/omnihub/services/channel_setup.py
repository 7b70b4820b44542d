"""Initial set-up of a Shopify shop (seeds 001/002): import its locations and whole
catalog (SKU, barcode/UPC, Shopify ids, titles), map them to the hub, optionally take
its current levels as the hub's opening stock, and say what was done.

The hub becomes the source of truth afterwards: from then on Shopify's levels are what
the hub pushes, and what Shopify reports is compared, not adopted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from omnihub.adapters.channels.shopify import documents as docs
from omnihub.adapters.channels.shopify.order_mapping import numeric_id
from omnihub.adapters.db import tables as t
from omnihub.domain.catalog import validate_gtin
from omnihub.services.catalog import CatalogService, NotFound


@dataclass
class SetupSummary:
    locations_created: int = 0
    locations_mapped: int = 0
    products_created: int = 0
    variants_created: int = 0
    listings: int = 0
    levels: dict[tuple[str, str], int] = field(default_factory=dict)  # (sku, hub location) → available
    skipped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"locations_created": self.locations_created, "locations_mapped": self.locations_mapped,
                "products_created": self.products_created, "variants_created": self.variants_created,
                "listings": self.listings, "levels": len(self.levels), "skipped": self.skipped[:50]}


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

    with engine.connect() as conn:
        known_skus = set(conn.execute(sa.select(t.variants.c.sku)).scalars())
    after = None
    while True:
        page = client.execute(docs.VARIANTS, {"first": 250, "after": after, "query": None})["productVariants"]
        by_product: dict[str, list[dict]] = {}
        for v in page["nodes"]:
            if not v.get("sku"):
                summary.skipped.append(f"{v['id']}: no SKU")
                continue
            by_product.setdefault(v["product"]["id"], []).append(v)
        for variants in by_product.values():
            product = variants[0]["product"]
            fresh = [v for v in variants if v["sku"] not in known_skus]
            if fresh:
                rows = []
                for v in fresh:
                    gtin = v.get("barcode")
                    try:
                        if gtin:
                            validate_gtin(gtin)
                    except ValueError:
                        gtin = None
                    rows.append({"sku": v["sku"], "title": v.get("title") or "", "gtin": gtin})
                catalog.create_product(product["title"], rows, vendor=product.get("vendor"),
                                       product_type=product.get("productType"))
                known_skus.update(v["sku"] for v in fresh)
                summary.products_created += 1
                summary.variants_created += len(fresh)
            for v in variants:
                catalog.set_listing(channel, v["sku"], v["id"], external_variant_id=v["id"],
                                    external_inventory_item_id=v["inventoryItem"]["id"])
                summary.listings += 1
        if progress:
            progress("variants", summary.listings)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    if read_levels:
        with engine.connect() as conn:
            sku_of = {numeric_id(inv): sku for sku, inv in conn.execute(
                sa.select(t.channel_listings.c.sku, t.channel_listings.c.external_inventory_item_id)
                .where(t.channel_listings.c.channel == channel)) if inv}
        for ext, code in location_codes.items():
            after = None
            while True:
                data = client.execute(docs.LOCATION_LEVELS, {"id": ext, "first": 250, "after": after})
                levels = (data.get("location") or {}).get("inventoryLevels") or {"nodes": [], "pageInfo": {"hasNextPage": False}}
                for node in levels["nodes"]:
                    sku = sku_of.get(numeric_id(node["item"]["id"]))
                    qty = next((q["quantity"] for q in node["quantities"] if q["name"] == "available"), None)
                    if sku is not None and qty is not None:
                        summary.levels[(sku, code)] = qty
                if not levels["pageInfo"]["hasNextPage"]:
                    break
                after = levels["pageInfo"]["endCursor"]
        if progress:
            progress("levels", len(summary.levels))
    return summary
