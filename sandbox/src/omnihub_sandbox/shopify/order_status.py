"""An order's fulfillment status, from its lines: FULFILLED when every unit still on it
shipped, PARTIALLY_FULFILLED when some did, else UNFULFILLED (fulfillments, edits, refunds
of unfulfilled units and returns all change what is left on an order)."""

from __future__ import annotations

import sqlite3


def refresh_fulfillment_status(conn: sqlite3.Connection, order_id: int, now_iso: str) -> str:
    totals = conn.execute(
        "SELECT sum(current_quantity) AS wanted, sum(min(fulfilled_quantity, current_quantity)) AS done"
        " FROM line_items WHERE order_id = ?", (order_id,)).fetchone()
    wanted, done = totals["wanted"] or 0, totals["done"] or 0
    status = "FULFILLED" if wanted and done >= wanted else ("PARTIALLY_FULFILLED" if done else "UNFULFILLED")
    conn.execute("UPDATE orders SET fulfillment_status = ?, updated_at = ? WHERE id = ?", (status, now_iso, order_id))
    return status
