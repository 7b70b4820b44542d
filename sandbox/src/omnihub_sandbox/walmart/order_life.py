"""Walmart's side of an order's life, as facts about time.

- Release: a Created order reaches the seller ``release_delay_seconds`` after checkout;
  only then does it show in the seller's order lists, and PO_CREATED is raised.
- Delivery: a shipped part of a line becomes Delivered ``delivery_after_ship_seconds``
  after its shipment.
- Auto-cancellation: a line still Created or Acknowledged ``autocancel_after_seconds``
  after its estimated ship date is cancelled by Walmart (PO_LINE_AUTOCANCELLED); its
  units are sellable again and back on the seller's shelf.

Each happens at the moment it was due, whoever looks and when (lifecycle.py runs this
before every call and on the background tick).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from .clock import iso
from .context import SandboxContext
from .events import emit
from .order_lines import OPEN
from .shelf import put_back
from .stock import release


def po_payload(sandbox: SandboxContext, db: sqlite3.Connection, order: sqlite3.Row, status: str,
               only_lines: dict[int, int] | None = None) -> dict[str, Any]:
    """The payload of PO_CREATED / PO_LINE_AUTOCANCELLED: the order's lines (or the given
    lines with the given quantities) in the notification's own flat shape."""
    lines = db.execute("SELECT * FROM order_lines WHERE purchase_order_id = ? ORDER BY line_number",
                       (order["purchase_order_id"],)).fetchall()
    node_type = next((n.type for n in sandbox.config.ship_nodes if n.id == order["ship_node"]), "SellerFulfilled")
    return {
        "partnerId": sandbox.config.partner_id,
        "purchaseOrderId": order["purchase_order_id"],
        "customerOrderId": order["customer_order_id"],
        "orderDate": iso(order["order_date"]),
        "estimatedDeliveryDate": iso(order["estimated_delivery"]),
        "estimatedShipDate": iso(order["estimated_ship"]),
        "orderLines": [{
            "lineNumber": str(line["line_number"]), "sku": line["sku"], "productName": line["product_name"],
            "quantity": {"unitOfMeasure": "EACH",
                         "measurementValue": str(only_lines[line["line_number"]] if only_lines else line["quantity"])},
            "status": status, "statusDate": iso(line["status_date"]), "shippingProgramType": "THREE_DAY",
            "shippingMethod": order["method_code"], "shipNodeType": node_type,
        } for line in lines if only_lines is None or line["line_number"] in only_lines],
    }


def release_due_orders(sandbox: SandboxContext) -> int:
    now = sandbox.now()
    with sandbox.store.tx() as db:
        due = db.execute("SELECT * FROM orders WHERE released = 0 AND release_at <= ? ORDER BY release_at, "
                         "purchase_order_id", (now,)).fetchall()
        for order in due:
            db.execute("UPDATE orders SET released = 1, last_modified = ? WHERE purchase_order_id = ?",
                       (order["release_at"], order["purchase_order_id"]))
            emit(db, seed=sandbox.config.seed, seq=sandbox.store.next_sequence("event"), event_type="PO_CREATED",
                 payload=po_payload(sandbox, db, order, "CREATED"), when=order["release_at"])
    return len(due)


def deliver_shipped(sandbox: SandboxContext) -> None:
    now = sandbox.now()
    delay = sandbox.config.delivery_after_ship_seconds
    with sandbox.store.tx() as db:
        due = db.execute("SELECT id, purchase_order_id, line_number, at FROM line_statuses WHERE status = 'Shipped' "
                         "AND at <= ?", (now - delay,)).fetchall()
        for row in due:
            when = row["at"] + delay
            db.execute("UPDATE line_statuses SET status = 'Delivered', at = ? WHERE id = ?", (when, row["id"]))
            db.execute("UPDATE order_lines SET status_date = max(status_date, ?) WHERE purchase_order_id = ? "
                       "AND line_number = ?", (when, row["purchase_order_id"], row["line_number"]))
            db.execute("UPDATE orders SET last_modified = max(last_modified, ?) WHERE purchase_order_id = ?",
                       (when, row["purchase_order_id"]))


def autocancel_late_lines(sandbox: SandboxContext) -> None:
    now = sandbox.now()
    grace = sandbox.config.autocancel_after_seconds
    with sandbox.store.tx() as db:
        late = db.execute("SELECT * FROM orders WHERE released = 1 AND estimated_ship <= ? AND EXISTS (SELECT 1 FROM "
                          "line_statuses s WHERE s.purchase_order_id = orders.purchase_order_id AND s.status IN "
                          "('Created', 'Acknowledged'))", (now - grace,)).fetchall()
        for order in late:
            when = order["estimated_ship"] + grace
            po = order["purchase_order_id"]
            cancelled: dict[int, int] = {}
            for row in db.execute("SELECT s.id, s.line_number, s.quantity, l.sku FROM line_statuses s JOIN order_lines l "
                                  "ON l.purchase_order_id = s.purchase_order_id AND l.line_number = s.line_number "
                                  f"WHERE s.purchase_order_id = ? AND s.status IN {OPEN!r}",  # noqa: S608
                                  (po,)).fetchall():
                db.execute("UPDATE line_statuses SET status = 'Cancelled', at = ? WHERE id = ?", (when, row["id"]))
                db.execute("UPDATE order_lines SET status_date = ? WHERE purchase_order_id = ? AND line_number = ?",
                           (when, po, row["line_number"]))
                release(db, row["sku"], order["ship_node"], row["quantity"], when)
                put_back(db, row["sku"], order["ship_node"], row["quantity"])
                cancelled[row["line_number"]] = cancelled.get(row["line_number"], 0) + row["quantity"]
            db.execute("UPDATE orders SET last_modified = ? WHERE purchase_order_id = ?", (when, po))
            sandbox.store.bump("lines_autocancelled", len(cancelled))
            emit(db, seed=sandbox.config.seed, seq=sandbox.store.next_sequence("event"),
                 event_type="PO_LINE_AUTOCANCELLED", payload=po_payload(sandbox, db, order, "CANCELLED", cancelled),
                 when=when)
