"""The merchant deletes a product in the admin: the product, its variants, media, inventory
items and their levels go. ``products/delete`` fires (``{"id"}``, as Shopify's sample) and
``inventory_items/delete`` for each of its items. Orders keep their line items (title, SKU,
price), whose variant and product then read as gone, as Shopify's do."""

from __future__ import annotations

import sqlite3

from . import rest_payloads
from .events import Event


def delete_product(conn: sqlite3.Connection, product_id: int, now_iso: str) -> list[Event] | None:
    """The events, or None when there is no such product."""
    if conn.execute("SELECT 1 FROM products WHERE id = ?", (product_id,)).fetchone() is None:
        return None
    items = [r["inventory_item_id"] for r in conn.execute(
        "SELECT inventory_item_id FROM variants WHERE product_id = ? ORDER BY position, id", (product_id,))]
    for item_id in items:
        conn.execute("DELETE FROM inventory_levels WHERE inventory_item_id = ?", (item_id,))
        conn.execute("DELETE FROM inventory_items WHERE id = ?", (item_id,))
    conn.execute("DELETE FROM variants WHERE product_id = ?", (product_id,))
    conn.execute("DELETE FROM product_media WHERE product_id = ?", (product_id,))
    conn.execute("DELETE FROM products WHERE id = ?", (product_id,))
    return [Event("products/delete", {"id": product_id}, now_iso)] + [
        Event("inventory_items/delete", rest_payloads.inventory_item_deleted(item_id), now_iso) for item_id in items]
