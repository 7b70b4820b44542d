"""What Amazon cannot know: the seller's physical units of each merchant-fulfilled SKU.

Amazon sells up to the quantity the seller last sent; it never sees the seller's
shelves. The sandbox keeps them anyway, as the Shopify sandbox keeps its physical shelf,
so that it can say what no party in the deal would: how many units it sold that the
seller did not have. Each accepted order takes its units off the shelf at once (a
merchant-fulfilled order is a promise to ship those units); the units missing are counted
as oversold. A buyer's cancellation puts them back.

A listing seeded with the catalog starts with its quantity on the shelf. A listing made
through the control plane has a shelf only if one is given (``PUT /_sandbox/listings``
with ``shelf``): without one its sales are not checked (``unchecked_units``).
"""

from __future__ import annotations

import sqlite3


def shelf_quantity(db: sqlite3.Connection, sku: str) -> int | None:
    row = db.execute("SELECT quantity FROM shelf WHERE sku = ?", (sku,)).fetchone()
    return None if row is None else row["quantity"]


def set_shelf(db: sqlite3.Connection, sku: str, quantity: int, now: float) -> None:
    db.execute("INSERT INTO shelf (sku, quantity, updated_at) VALUES (?, ?, ?) ON CONFLICT(sku) DO UPDATE SET "
               "quantity = excluded.quantity, updated_at = excluded.updated_at", (sku, max(0, quantity), now))


def take_from_shelf(db: sqlite3.Connection, sku: str, units: int, order_id: str, now: float) -> int | None:
    """The units of an accepted order leave the seller's stock; returns how many were not
    there (None: this SKU's shelf is unknown, nothing was checked)."""
    on_shelf = shelf_quantity(db, sku)
    if on_shelf is None:
        db.execute("INSERT INTO stats (name, value) VALUES ('unchecked_units', ?) "
                   "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value", (units,))
        return None
    oversold = max(0, units - on_shelf)
    set_shelf(db, sku, on_shelf - units, now)
    if oversold:
        db.execute("INSERT INTO oversells (amazon_order_id, sku, units, at) VALUES (?, ?, ?, ?)",
                   (order_id, sku, oversold, now))
    return oversold


def put_back(db: sqlite3.Connection, sku: str, units: int, now: float) -> None:
    """A cancelled order's units were never shipped: they are the seller's again."""
    on_shelf = shelf_quantity(db, sku)
    if on_shelf is not None:
        set_shelf(db, sku, on_shelf + units, now)


def oversell_report(db: sqlite3.Connection) -> dict:
    total = db.execute("SELECT coalesce(sum(units), 0) AS units, count(*) AS events FROM oversells").fetchone()
    by_sku = {r["sku"]: r["units"] for r in db.execute("SELECT sku, sum(units) AS units FROM oversells GROUP BY sku")}
    unchecked = db.execute("SELECT value FROM stats WHERE name = 'unchecked_units'").fetchone()
    return {"units": total["units"], "events": total["events"], "by_sku": by_sku,
            "unchecked_units": unchecked["value"] if unchecked else 0}
