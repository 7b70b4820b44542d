"""What Walmart believes each ship node holds of each SKU, and what its customers took.

The seller tells Walmart a quantity per SKU and ship node (``inputQty``); customers'
orders reserve units until they ship (``reservedQty``); Walmart sells only what is left
(``availToSellQty = inputQty - reservedQty``), whatever the seller really holds. A
shipment takes its units out of ``inputQty`` and the reservation; a cancellation frees
the reservation. A later update from the seller replaces ``inputQty`` and Walmart sells
from that figure from then on: it sells from the stock it was last told.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class NodeStock:
    sku: str
    ship_node: str
    input_qty: int
    reserved: int

    @property
    def avail_to_sell(self) -> int:
        return max(0, self.input_qty - self.reserved)


def node_stock(db: sqlite3.Connection, sku: str, ship_node: str) -> NodeStock | None:
    row = db.execute("SELECT * FROM stock WHERE sku = ? AND ship_node = ?", (sku, ship_node)).fetchone()
    return None if row is None else NodeStock(row["sku"], row["ship_node"], row["input_qty"], row["reserved"])


def stock_of(db: sqlite3.Connection, sku: str) -> list[NodeStock]:
    rows = db.execute("SELECT * FROM stock WHERE sku = ? ORDER BY ship_node", (sku,)).fetchall()
    return [NodeStock(r["sku"], r["ship_node"], r["input_qty"], r["reserved"]) for r in rows]


def set_input(db: sqlite3.Connection, sku: str, ship_node: str, quantity: int, now: float) -> tuple[int, int]:
    """The seller's figure replaces Walmart's; returns (available before, available after)."""
    before = node_stock(db, sku, ship_node)
    db.execute("INSERT INTO stock (sku, ship_node, input_qty, reserved, updated_at) VALUES (?, ?, ?, 0, ?) "
               "ON CONFLICT(sku, ship_node) DO UPDATE SET input_qty = excluded.input_qty, updated_at = excluded.updated_at",
               (sku, ship_node, quantity, now))
    after = node_stock(db, sku, ship_node)
    assert after is not None
    return (before.avail_to_sell if before else 0), after.avail_to_sell


def reserve(db: sqlite3.Connection, sku: str, ship_node: str, units: int, now: float) -> None:
    db.execute("UPDATE stock SET reserved = reserved + ?, updated_at = ? WHERE sku = ? AND ship_node = ?",
               (units, now, sku, ship_node))


def release(db: sqlite3.Connection, sku: str, ship_node: str, units: int, now: float) -> None:
    """A cancelled reservation: the units are sellable again."""
    db.execute("UPDATE stock SET reserved = max(0, reserved - ?), updated_at = ? WHERE sku = ? AND ship_node = ?",
               (units, now, sku, ship_node))


def ship_out(db: sqlite3.Connection, sku: str, ship_node: str, units: int, now: float) -> None:
    """Shipped units leave the node: out of the reservation and out of inputQty."""
    db.execute("UPDATE stock SET reserved = max(0, reserved - ?), input_qty = max(0, input_qty - ?), updated_at = ? "
               "WHERE sku = ? AND ship_node = ?", (units, units, now, sku, ship_node))
