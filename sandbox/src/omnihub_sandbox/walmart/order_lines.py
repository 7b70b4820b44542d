"""An order line's statuses: its quantity split over Created, Acknowledged, Shipped,
Delivered and Cancelled, as Walmart shows it (``orderLineStatuses`` lists each part).

Every change moves units from some statuses to another: acknowledging moves Created to
Acknowledged, shipping moves Acknowledged to Shipped (each shipment keeps its own
tracking), cancelling moves Created or Acknowledged to Cancelled with its reason,
delivery moves Shipped to Delivered. Units never appear or vanish, so the parts always
add up to the line's quantity.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

OPEN = ("Created", "Acknowledged")
STATUSES = ("Created", "Acknowledged", "Shipped", "Delivered", "Cancelled")


def parts(db: sqlite3.Connection, po: str, line: int) -> list[sqlite3.Row]:
    return db.execute("SELECT * FROM line_statuses WHERE purchase_order_id = ? AND line_number = ? ORDER BY id",
                      (po, line)).fetchall()


def quantity_in(db: sqlite3.Connection, po: str, line: int, statuses: tuple[str, ...]) -> int:
    marks = ",".join("?" * len(statuses))
    row = db.execute(f"SELECT coalesce(sum(quantity), 0) AS q FROM line_statuses WHERE purchase_order_id = ? "  # noqa: S608
                     f"AND line_number = ? AND status IN ({marks})", (po, line, *statuses)).fetchone()
    return int(row["q"])


def move(db: sqlite3.Connection, po: str, line: int, source: tuple[str, ...], target: str, units: int, now: float, *,
         reason: str | None = None, tracking: dict[str, Any] | None = None) -> None:
    """Move `units` of the line from `source` statuses (in that order) to `target`.

    The caller has checked that `source` holds at least `units`."""
    left = units
    for status in source:
        for row in db.execute("SELECT id, quantity FROM line_statuses WHERE purchase_order_id = ? AND line_number = ? "
                              "AND status = ? ORDER BY id", (po, line, status)).fetchall():
            if not left:
                break
            taken = min(left, row["quantity"])
            left -= taken
            if taken == row["quantity"]:
                db.execute("DELETE FROM line_statuses WHERE id = ?", (row["id"],))
            else:
                db.execute("UPDATE line_statuses SET quantity = quantity - ? WHERE id = ?", (taken, row["id"]))
    if left:
        raise ValueError(f"line {line} of {po} holds fewer than {units} unit(s) in {source}")
    add(db, po, line, target, units, now, reason=reason, tracking=tracking)
    db.execute("UPDATE order_lines SET status_date = ? WHERE purchase_order_id = ? AND line_number = ?", (now, po, line))


def add(db: sqlite3.Connection, po: str, line: int, status: str, units: int, now: float, *,
        reason: str | None = None, tracking: dict[str, Any] | None = None) -> None:
    """Add units in a status, merging with a part of the same status, reason and tracking."""
    encoded = json.dumps(tracking) if tracking is not None else None
    same = db.execute("SELECT id FROM line_statuses WHERE purchase_order_id = ? AND line_number = ? AND status = ? "
                      "AND cancellation_reason IS ? AND tracking IS ?", (po, line, status, reason, encoded)).fetchone()
    if same:
        db.execute("UPDATE line_statuses SET quantity = quantity + ?, at = ? WHERE id = ?", (units, now, same["id"]))
    else:
        db.execute("INSERT INTO line_statuses (purchase_order_id, line_number, status, quantity, cancellation_reason, "
                   "tracking, at) VALUES (?, ?, ?, ?, ?, ?, ?)", (po, line, status, units, reason, encoded, now))
