"""Initial set-up of an Amazon seller account: the seller's listings, read through the
SP-API (searchListingsItems, as reconciliation reads them), mapped to the hub's catalog.

- A listing whose seller SKU the hub knows (the same SKU sold on Shopify) is mapped to it.
- A listing whose SKU the hub lacks becomes a product of its own in the hub's catalog
  (one per ASIN, titled as on Amazon) and is mapped: an order for it can then be taken,
  routed and reserved like any other, where it would otherwise be refused as an unknown
  SKU. Its Amazon quantity is reported (`created_levels`) for the operator to take as
  opening stock where it is kept, as the Shopify import reports the shop's levels.

Running it again changes nothing: what is mapped stays mapped, nothing is created twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from omnihub.adapters.channels.amazon.reconciliation_reads import AmazonListing, AmazonReader
from omnihub.adapters.channels.shopify.catalog_lines import ChannelProduct, ChannelVariant
from omnihub.adapters.db import tables as t
from omnihub.services.catalog import CatalogService
from omnihub.services.catalog_import import ChannelCatalogImport


@dataclass
class AmazonSetupSummary:
    listings: int = 0
    already_mapped: int = 0
    mapped: int = 0  # the hub knew the SKU; the listing is now mapped to it
    created: int = 0  # the hub lacked the SKU: a product was created for it
    created_levels: dict[str, int] = field(default_factory=dict)  # created SKU → Amazon's sellable quantity
    rejected: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"listings": self.listings, "already_mapped": self.already_mapped, "mapped": self.mapped,
                "created": self.created, "rejected": self.rejected[:50]}


def import_amazon_listings(engine: Engine, catalog: CatalogService, client, *,
                           channel: str = "amazon_seller") -> AmazonSetupSummary:
    """Map every listing of the seller to the hub's catalog, creating what it lacks."""
    listings = AmazonReader(client, channel=channel).listings()
    return map_amazon_listings(engine, catalog, listings, channel=channel)


def map_amazon_listings(engine: Engine, catalog: CatalogService, listings: list[AmazonListing], *,
                        channel: str = "amazon_seller") -> AmazonSetupSummary:
    summary = AmazonSetupSummary(listings=len(listings))
    skus = [x.sku for x in listings]
    v, li = t.variants, t.channel_listings
    with engine.connect() as conn:
        known = set(conn.execute(sa.select(v.c.sku).where(v.c.sku.in_(skus))).scalars()) if skus else set()
        mapped = set(conn.execute(sa.select(li.c.sku).where(li.c.channel == channel)).scalars())
    importer = ChannelCatalogImport(engine, channel)
    for x in listings:
        if x.sku in mapped:
            summary.already_mapped += 1
        elif x.sku in known:
            catalog.set_listing(channel, x.sku, x.sku)
            summary.mapped += 1
        else:
            title = x.title or x.sku
            importer.add(ChannelProduct(id=f"amazon:{x.asin or x.sku}", title=title, product_type=x.product_type,
                                        variants=[ChannelVariant(id=x.sku, sku=x.sku, title=title)]))
            summary.created_levels[x.sku] = x.quantity
    report = importer.finish()
    summary.created = report.variants_created
    summary.rejected = report.rejected
    return summary
