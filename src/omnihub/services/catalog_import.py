"""Upserting a channel's catalog into the hub, a chunk of products per transaction.

Set-up reads tens of thousands of variants; one transaction per product (or per listing)
would spend the import on commits. Products are buffered until a chunk holds about
`chunk_variants` variants, then one transaction reads what the hub already knows of those
SKUs and GTINs, inserts what is new, updates what changed and re-points the channel's
listing ids. Running it twice changes nothing the second time.

Rules:
- The SKU is the key. A variant without one cannot be sold through the hub: reported.
- A product is matched to the hub product that already holds one of its SKUs (or that an
  earlier chunk of this run made for it), else created.
- A UPC/GTIN whose check digit is wrong, or that another SKU already uses, is reported and
  the variant is imported without it (a known variant keeps the one it had): one bad
  barcode must not keep a product off the shelf.
- The product's first image becomes its image (the hub keeps one per product).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from omnihub.adapters.channels.shopify.catalog_lines import ChannelProduct
from omnihub.adapters.db import tables as t
from omnihub.domain.catalog import validate_gtin


@dataclass
class CatalogImportReport:
    products_read: int = 0
    products_created: int = 0
    products_updated: int = 0
    variants_created: int = 0
    variants_updated: int = 0
    listings: int = 0
    images: int = 0
    rejected: list[str] = field(default_factory=list)  # what was left out or imported without its barcode

    def as_dict(self) -> dict:
        return {"products_read": self.products_read, "products_created": self.products_created,
                "products_updated": self.products_updated, "variants_created": self.variants_created,
                "variants_updated": self.variants_updated, "listings": self.listings, "images": self.images,
                "rejected": len(self.rejected)}


class ChannelCatalogImport:
    def __init__(self, engine: Engine, channel: str, *, chunk_variants: int = 500,
                 on_chunk: Callable[[CatalogImportReport], None] | None = None) -> None:
        self.engine = engine
        self.channel = channel
        self.chunk_variants = chunk_variants
        self.on_chunk = on_chunk
        self.report = CatalogImportReport()
        self._buffer: list[ChannelProduct] = []
        self._buffered_variants = 0
        self._hub_product: dict[str, int] = {}  # channel product id → hub product id, this run

    def add(self, product: ChannelProduct) -> None:
        self._buffer.append(product)
        self._buffered_variants += max(1, len(product.variants))
        if self._buffered_variants >= self.chunk_variants:
            self.flush()

    def reject(self, message: str) -> None:
        self.report.rejected.append(message)

    def flush(self) -> None:
        if not self._buffer:
            return
        chunk, self._buffer, self._buffered_variants = self._buffer, [], 0
        with self.engine.begin() as conn:
            self._upsert(conn, chunk)
        if self.on_chunk:
            self.on_chunk(self.report)

    def finish(self) -> CatalogImportReport:
        self.flush()
        return self.report

    # -- one chunk, one transaction ----------------------------------------------------------
    def _upsert(self, conn: Connection, chunk: list[ChannelProduct]) -> None:
        v, li = t.variants, t.channel_listings
        skus = {x.sku for product in chunk for x in product.variants if x.sku}
        barcodes = {x.barcode for product in chunk for x in product.variants if x.barcode}
        known = {r.sku: r for r in conn.execute(
            sa.select(v.c.id, v.c.sku, v.c.product_id, v.c.title, v.c.gtin).where(v.c.sku.in_(skus)))} if skus else {}
        gtin_owner = dict(conn.execute(sa.select(v.c.gtin, v.c.sku).where(v.c.gtin.in_(barcodes))).all()) if barcodes else {}
        listings: dict[str, dict] = {}
        new_variants: list[dict] = []
        for product in chunk:
            self.report.products_read += 1
            self.report.images += len(product.images)
            sellable = []
            for x in product.variants:
                if not x.sku:
                    self.reject(f"{x.id} ({product.title}): no SKU, not imported")
                elif x.sku in listings:
                    self.reject(f"SKU {x.sku}: on {x.id} and {listings[x.sku]['external_id']}; the first is kept")
                else:
                    sellable.append(x)
                    listings[x.sku] = {"channel": self.channel, "sku": x.sku, "external_id": x.id,
                                       "external_variant_id": x.id, "external_inventory_item_id": x.inventory_item_id}
            if not sellable:
                continue
            pid = self._product_id(conn, product, sellable, known)
            for x in sellable:
                gtin = self._gtin(x.sku, x.barcode, gtin_owner)
                row = known.get(x.sku)
                if row is None:
                    new_variants.append({"product_id": pid, "sku": x.sku, "title": x.title, "gtin": gtin})
                    if gtin:
                        gtin_owner[gtin] = x.sku
                    self.report.variants_created += 1
                    continue
                changes = {}
                if x.title != row.title:
                    changes["title"] = x.title
                if gtin and gtin != row.gtin:
                    changes["gtin"] = gtin
                    gtin_owner[gtin] = x.sku
                if changes:
                    conn.execute(v.update().where(v.c.id == row.id).values(**changes))
                    self.report.variants_updated += 1
        if new_variants:
            conn.execute(v.insert(), new_variants)
        if listings:
            ids = [row["external_id"] for row in listings.values()]
            conn.execute(li.delete().where(li.c.channel == self.channel,
                                           sa.or_(li.c.sku.in_(list(listings)), li.c.external_id.in_(ids))))
            conn.execute(li.insert(), list(listings.values()))
            self.report.listings += len(listings)

    def _product_id(self, conn: Connection, product: ChannelProduct, sellable, known) -> int:
        p = t.products
        values = {"title": product.title, "vendor": product.vendor, "product_type": product.product_type,
                  "image_url": product.images[0].url if product.images else None}
        pid = self._hub_product.get(product.id) or next(
            (known[x.sku].product_id for x in sellable if x.sku in known), None)
        if pid is None:
            pid = conn.execute(p.insert().values(**values).returning(p.c.id)).scalar_one()
            self.report.products_created += 1
        elif product.title:  # a late line carries the header only: refresh, never blank out images
            current = conn.execute(sa.select(p.c.title, p.c.vendor, p.c.product_type, p.c.image_url)
                                   .where(p.c.id == pid)).one()
            if not product.images:
                values["image_url"] = current.image_url
            if tuple(current) != (values["title"], values["vendor"], values["product_type"], values["image_url"]):
                conn.execute(p.update().where(p.c.id == pid).values(**values))
                self.report.products_updated += 1
        self._hub_product[product.id] = pid
        return pid

    def _gtin(self, sku: str | None, barcode: str | None, owner: dict[str, str]) -> str | None:
        if not barcode:
            return None
        try:
            validate_gtin(barcode)
        except ValueError as exc:
            self.reject(f"SKU {sku}: {exc}; imported without it")
            return None
        if owner.get(barcode, sku) != sku:
            self.reject(f"SKU {sku}: GTIN {barcode} already belongs to SKU {owner[barcode]}; imported without it")
            return None
        return barcode
