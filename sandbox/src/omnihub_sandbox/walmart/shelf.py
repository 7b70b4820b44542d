"""What Walmart cannot know: the units the seller physically holds at each ship node.

Walmart sells up to the quantity it was last told; it never sees the seller's shelves.
The sandbox keeps them anyway, as the other simulators do, to say what no party to the
sale would: how many units it sold that the seller did not have. Each accepted order
takes its units off the shelf at once (a promise to ship them); units missing are
counted as oversold, and the shelf goes below zero by as many (units owed that do not
exist). A cancellation puts its units back, so a shelf of 2 oversold by 3 and then
cancelled is a shelf of 2 again.

A seeded item starts with its quantity on the shelf; an item set through the control
plane has a shelf only if one is given, and sales of an item without one are counted as
unchecked rather than guessed at.
"""

from __future__ import annotations

import sqlite3
from typing import Any


def shelf_quantity(db: sqlite3.Connection, sku: str, ship_node: str) -> int | None:
    row = db.execute("SELECT quantity FROM shelf WHERE sku = ? AND ship_node = ?", (sku, ship_node)).fetchone()
    return None if row is None else int(row["quantity"])


def set_shelf(db: sqlite3.Connection, sku: str, ship_node: str, quantity: int) -> None:
    db.execute("INSERT INTO shelf (sku, ship_node, quantity) VALUES (?, ?, ?) "
               "ON CONFLICT(sku, ship_node) DO UPDATE SET quantity = excluded.quantity", (sku, ship_node, max(0, quantity)))


def take_from_shelf(db: sqlite3.Connection, sku: str, ship_node: str, units: int, order_id: str, now: float) -> int | None:
    """An accepted order's units leave the seller's stock; returns how many were not there
    (None: this shelf is unknown, nothing was checked)."""
    on_shelf = shelf_quantity(db, sku, ship_node)
    if on_shelf is None:
        db.execute("INSERT INTO stats (name, value) VALUES ('unchecked_units', ?) "
                   "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value", (units,))
        return None
    oversold = max(0, units - max(0, on_shelf))
    db.execute("UPDATE shelf SET quantity = ? WHERE sku = ? AND ship_node = ?", (on_shelf - units, sku, ship_node))
    if oversold:
        db.execute("INSERT INTO oversells (purchase_order_id, sku, ship_node, units, at) VALUES (?, ?, ?, ?, ?)",
                   (order_id, sku, ship_node, oversold, now))
    return oversold


def put_back(db: sqlite3.Connection, sku: str, ship_node: str, units: int) -> None:
    db.execute("UPDATE shelf SET quantity = quantity + ? WHERE sku = ? AND ship_node = ?", (units, sku, ship_node))


def oversell_report(db: sqlite3.Connection) -> dict[str, Any]:
    total = db.execute("SELECT coalesce(sum(units), 0) AS units, count(*) AS events FROM oversells").fetchone()
    by_sku = {r["sku"]: r["units"] for r in db.execute("SELECT sku, sum(units) AS units FROM oversells GROUP BY sku")}
    by_node = {r["ship_node"]: r["units"]
               for r in db.execute("SELECT ship_node, sum(units) AS units FROM oversells GROUP BY ship_node")}
    unchecked = db.execute("SELECT value FROM stats WHERE name = 'unchecked_units'").fetchone()
    return {"units": total["units"], "events": total["events"], "by_sku": by_sku, "by_ship_node": by_node,
            "unchecked_units": unchecked["value"] if unchecked else 0}
