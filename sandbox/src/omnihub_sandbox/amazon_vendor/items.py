"""The vendor's items as Amazon knows them: vendor SKU (``vendorProductIdentifier``), ASIN
(``buyerProductIdentifier`` / ``amazonProductIdentifier``), title, cost and list price.

Seeded from the shared catalog so that the same seed always names the same items; the
control plane adds or changes items. An item named by a document is found by either
identifier; when both are given they must name the same item.
"""

from __future__ import annotations

import sqlite3

from ..spapi.catalog import generate_catalog

SKU_PREFIX = "VC"


def seed_items(db: sqlite3.Connection, seed: int, size: int) -> list[str]:
    """Insert the seeded items that do not exist yet; return every seeded SKU."""
    skus = []
    for product in generate_catalog(seed, size, 0, prefix=SKU_PREFIX):
        skus.append(product.sku)
        db.execute("INSERT OR IGNORE INTO items (sku, asin, title, cost_cents, list_price_cents) VALUES (?, ?, ?, ?, ?)",
                   (product.sku, product.asin, product.item_name, product.price_cents * 55 // 100, product.price_cents))
    return skus


def upsert_item(db: sqlite3.Connection, sku: str, asin: str, title: str, cost_cents: int, list_price_cents: int) -> None:
    db.execute("INSERT INTO items (sku, asin, title, cost_cents, list_price_cents) VALUES (?, ?, ?, ?, ?) "
               "ON CONFLICT(sku) DO UPDATE SET asin = excluded.asin, title = excluded.title, "
               "cost_cents = excluded.cost_cents, list_price_cents = excluded.list_price_cents",
               (sku, asin, title, cost_cents, list_price_cents))


def item(db: sqlite3.Connection, sku: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = db.execute("SELECT * FROM items WHERE sku = ?", (sku,)).fetchone()
    return row


def find_item(db: sqlite3.Connection, vendor_sku: str | None, asin: str | None) -> sqlite3.Row | str:
    """The item a document names, or why it names none (the sentence for an error)."""
    if not vendor_sku and not asin:
        return "the item names neither a vendorProductIdentifier nor a buyerProductIdentifier"
    by_sku = item(db, vendor_sku) if vendor_sku else None
    by_asin = db.execute("SELECT * FROM items WHERE asin = ?", (asin,)).fetchone() if asin else None
    if vendor_sku and by_sku is None:
        return f"vendorProductIdentifier {vendor_sku} is not an item of this vendor"
    if asin and by_asin is None:
        return f"ASIN {asin} is not an item of this vendor"
    if by_sku is not None and by_asin is not None and by_sku["sku"] != by_asin["sku"]:
        return f"vendorProductIdentifier {vendor_sku} and ASIN {asin} name different items"
    found = by_sku if by_sku is not None else by_asin
    assert found is not None
    return found


def all_skus(db: sqlite3.Connection) -> list[str]:
    return [r["sku"] for r in db.execute("SELECT sku FROM items ORDER BY sku")]
