"""What Amazon sells per warehouse, beside what the vendor declared, and the oversells.

Two numbers per (warehouse, item):

- ``sellable``: the stock Amazon sells from. An inventory update sets it when its
  transaction succeeds (after its processing time), to the quantity the update said;
  a full update sets every item it leaves out to 0. Each order Amazon sends takes its
  units off. Amazon never sells more than it holds as sellable.
- ``declared``: what the vendor had declared available, as of the moment it said so:
  an update that will succeed sets it when submitted, and each order takes its units
  off, whichever number Amazon sold from.

The two part while an update is Processing: Amazon goes on selling from the old
number. An order for units beyond ``declared`` is an oversell the simulator counts
itself (``oversells``): units the vendor never declared available were sold anyway. A
hub that keeps a buffer against its updates' processing time sees none. Orders made
through the Sandbox Data API are test orders: they take no stock and are not counted.
"""

from __future__ import annotations

import random
import sqlite3
from typing import Any


def seed_stock(db: sqlite3.Connection, warehouses: list[str], skus: list[str], seed: int, most: int, now: float) -> None:
    rng = random.Random(f"amazon-vendor-stock:{seed}")
    for warehouse in warehouses:
        for sku in skus:
            units = rng.randint(0, most) if most else 0
            db.execute("INSERT OR IGNORE INTO stock (warehouse, sku, sellable, sellable_since, declared, declared_at) "
                       "VALUES (?, ?, ?, ?, ?, ?)", (warehouse, sku, units, now, units, now))


def _row(db: sqlite3.Connection, warehouse: str, sku: str, now: float) -> sqlite3.Row:
    db.execute("INSERT OR IGNORE INTO stock (warehouse, sku, sellable, sellable_since, declared, declared_at) "
               "VALUES (?, ?, 0, ?, 0, ?)", (warehouse, sku, now, now))
    row: sqlite3.Row = db.execute("SELECT * FROM stock WHERE warehouse = ? AND sku = ?", (warehouse, sku)).fetchone()
    return row


def _targets(db: sqlite3.Connection, warehouse: str, quantities: dict[str, int], full: bool) -> dict[str, int]:
    """The quantity each item ends with: those named, and (full update) 0 for every other."""
    if not full:
        return dict(quantities)
    every = {r["sku"]: 0 for r in db.execute("SELECT sku FROM items")}
    every.update({r["sku"]: 0 for r in db.execute("SELECT sku FROM stock WHERE warehouse = ?", (warehouse,))})
    every.update(quantities)
    return every


def declare(db: sqlite3.Connection, warehouse: str, quantities: dict[str, int], full: bool, at: float) -> None:
    """The vendor said so at `at` (an update that will succeed, as it is submitted)."""
    for sku, units in _targets(db, warehouse, quantities, full).items():
        _row(db, warehouse, sku, at)
        db.execute("UPDATE stock SET declared = ?, declared_at = ? WHERE warehouse = ? AND sku = ?",
                   (units, at, warehouse, sku))


def apply_update(db: sqlite3.Connection, warehouse: str, quantities: dict[str, int], full: bool,
                 submitted_at: float) -> int:
    """Amazon applies a succeeded update: sellable becomes what it said, unless a later
    submitted update was applied already (Amazon keeps the newest). Returns the items set."""
    changed = 0
    for sku, units in _targets(db, warehouse, quantities, full).items():
        row = _row(db, warehouse, sku, submitted_at)
        if row["sellable_since"] > submitted_at:
            continue
        db.execute("UPDATE stock SET sellable = ?, sellable_since = ? WHERE warehouse = ? AND sku = ?",
                   (units, submitted_at, warehouse, sku))
        changed += 1
    return changed


def sellable(db: sqlite3.Connection, warehouse: str, sku: str) -> int:
    row = db.execute("SELECT sellable FROM stock WHERE warehouse = ? AND sku = ?", (warehouse, sku)).fetchone()
    return int(row["sellable"]) if row else 0


def take(db: sqlite3.Connection, warehouse: str, sku: str, units: int, po_number: str, at: float) -> int:
    """An order's units leave Amazon's sellable stock; returns how many the vendor had
    not declared available (and records them as oversold)."""
    row = _row(db, warehouse, sku, at)
    oversold = max(0, units - max(0, row["declared"]))
    db.execute("UPDATE stock SET sellable = sellable - ?, declared = declared - ? WHERE warehouse = ? AND sku = ?",
               (units, units, warehouse, sku))
    if oversold:
        db.execute("INSERT INTO oversells (po_number, warehouse, sku, units, at) VALUES (?, ?, ?, ?, ?)",
                   (po_number, warehouse, sku, oversold, at))
    return oversold


def stock_report(db: sqlite3.Connection) -> dict[str, Any]:
    rows = db.execute("SELECT * FROM stock ORDER BY warehouse, sku").fetchall()
    warehouses: dict[str, dict[str, dict[str, int]]] = {}
    for r in rows:
        warehouses.setdefault(r["warehouse"], {})[r["sku"]] = {"sellable": r["sellable"], "declared": r["declared"]}
    return {"warehouses": warehouses}


def oversell_report(db: sqlite3.Connection) -> dict[str, Any]:
    total = db.execute("SELECT coalesce(sum(units), 0) AS units, count(*) AS events FROM oversells").fetchone()
    by_sku = {r["sku"]: r["units"] for r in db.execute("SELECT sku, sum(units) AS units FROM oversells GROUP BY sku")}
    by_warehouse = {r["warehouse"]: r["units"]
                    for r in db.execute("SELECT warehouse, sum(units) AS units FROM oversells GROUP BY warehouse")}
    return {"units": total["units"], "events": total["events"], "by_sku": by_sku, "by_warehouse": by_warehouse}
